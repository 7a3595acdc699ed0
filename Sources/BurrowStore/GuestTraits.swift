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

    /// Judges a rootfs by the paths it contains (absolute, as in the image).
    public static func detect(contains: (String) -> Bool) -> GuestTraits {
        func any(_ paths: [String]) -> Bool {
            paths.contains { path in contains(path) || contains("/usr" + path) }
        }
        let managers: [(String, [String])] = [("apt", ["/bin/apt-get"]), ("dnf", ["/bin/dnf", "/bin/dnf5", "/bin/microdnf"]), ("apk", ["/sbin/apk"]), ("pacman", ["/bin/pacman"])]
        return GuestTraits(
            hasInit: any(["/lib/systemd/systemd", "/sbin/openrc-init", "/sbin/openrc"]),
            hasSSHServer: any(["/sbin/sshd"]),
            hasModuleTools: any(["/sbin/modprobe", "/bin/kmod"]),
            packageManager: managers.first { any($0.1) }?.0
        )
    }
}
