import Foundation

/// Picks the BIOS ROM a guest's qemu runs before the kernel it was given with `-kernel`.
///
/// qemu's default, SeaBIOS, prepares a whole PC (option ROMs, boot menu, disk probing) and only
/// then loads the kernel; qboot, which qemu ships beside it, sets up memory, PCI and the ACPI
/// tables and hands over at once. Under TCG a guest reached burrow's `/init` 0.2–0.4 s sooner
/// with it (eight alternated runs, qemu 7.2). It is chosen where burrow can see that qemu has
/// it: a libvirt on this host (`qemu:///…`) and qboot.rom in one of qemu's data folders.
/// `BURROW_BIOS` overrides the choice: `seabios` (or `default`) for qemu's own, or the path of
/// a ROM. nil means qemu's default.
public enum GuestBIOS {
    static let qbootPaths = ["/usr/share/qemu/qboot.rom", "/usr/share/qemu-kvm/qboot.rom", "/usr/local/share/qemu/qboot.rom"]

    public static func rom(uri: String, environment: [String: String] = ProcessInfo.processInfo.environment, fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) -> String? {
        switch environment["BURROW_BIOS"] {
        case "seabios"?, "default"?:
            return nil
        case let path? where !path.isEmpty:
            return path
        default:
            guard isLocal(uri) else { return nil }
            return qbootPaths.first(where: fileExists)
        }
    }

    /// Whether the URI names a libvirt on this host: no host part (`qemu:///system`, `qemu+unix:///session`).
    static func isLocal(_ uri: String) -> Bool {
        guard let separator = uri.range(of: "://") else { return false }
        return uri[separator.upperBound...].hasPrefix("/")
    }
}
