/// What an imported rootfs already has for burrow's guest side, found while importing it:
/// an init system, an SSH server, kernel-module tools, and which package manager could add
/// what is missing. A rootfs lacking any of the first three is provisioned once before use.
public struct GuestTraits: Codable, Equatable, Sendable {
    public var hasInit: Bool
    public var hasSSHServer: Bool
    public var hasModuleTools: Bool
    /// apt, dnf, apk or pacman; nil when none was recognised.
    public var packageManager: String?

    public init(hasInit: Bool, hasSSHServer: Bool, hasModuleTools: Bool, packageManager: String?) {
        self.hasInit = hasInit
        self.hasSSHServer = hasSSHServer
        self.hasModuleTools = hasModuleTools
        self.packageManager = packageManager
    }

    public var isReady: Bool { hasInit && hasSSHServer && hasModuleTools }

    /// Judges a rootfs by the paths it contains: `resolve` maps an absolute path to the one it
    /// leads to in the image, following the image's own symlinks, or to nil where it leads nowhere.
    public static func detect(resolve: (String) -> String?) -> GuestTraits {
        func any(_ paths: [String]) -> Bool {
            paths.contains { path in resolve(path) != nil || resolve("/usr" + path) != nil }
        }
        // SysV init, runit and the like start what their own configuration names; busybox's
        // applet there (docker-style images) is no init system, and a link that leads nowhere
        // (systemd removed, its /sbin/init left) none either.
        let classicInit = ["/sbin/init", "/usr/sbin/init"].contains { path in
            resolve(path).map { !$0.hasSuffix("/busybox") } ?? false
        }
        let managers: [(String, [String])] = [("apt", ["/bin/apt-get"]), ("dnf", ["/bin/dnf", "/bin/dnf5", "/bin/microdnf"]), ("apk", ["/sbin/apk"]), ("pacman", ["/bin/pacman"])]
        return GuestTraits(
            hasInit: classicInit || any(["/lib/systemd/systemd", "/sbin/openrc-init", "/sbin/openrc"]),
            hasSSHServer: any(["/sbin/sshd"]),
            hasModuleTools: any(["/sbin/modprobe", "/bin/kmod"]),
            packageManager: managers.first { any($0.1) }?.0
        )
    }
}
