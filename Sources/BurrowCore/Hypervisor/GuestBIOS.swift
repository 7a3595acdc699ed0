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

    /// The ROM and why it is the one; a nil ROM is qemu's default.
    public static func choose(uri: String, environment: [String: String] = ProcessInfo.processInfo.environment, fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) -> (rom: String?, reason: String) {
        switch environment["BURROW_BIOS"] {
        case let choice? where choice == "seabios" || choice == "default":
            return (nil, "BURROW_BIOS=\(choice) asks for qemu's default")
        case let path? where !path.isEmpty:
            return (path, "BURROW_BIOS names it")
        default:
            guard isLocal(uri) else { return (nil, "\(uri) is on another host, whose qemu burrow cannot look into") }
            guard let qboot = qbootPaths.first(where: fileExists) else { return (nil, "this host's qemu has no qboot.rom (\(qbootPaths.joined(separator: ", ")))") }
            return (qboot, "qemu's qboot, the quickest to the kernel")
        }
    }

    /// The ROM guests on `uri` start with (nil: qemu's default). A ROM that `BURROW_BIOS` names
    /// must exist where burrow can look, since libvirt would only fail the start without a hint.
    public static func rom(uri: String, environment: [String: String] = ProcessInfo.processInfo.environment, fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) throws(BurrowError) -> String? {
        let choice = choose(uri: uri, environment: environment, fileExists: fileExists)
        if let rom = choice.rom, isLocal(uri), !fileExists(rom) {
            throw BurrowError(.invalidInput, "BURROW_BIOS names \(TerminalText.sanitized(rom)), which does not exist; guests cannot start with it", hint: "Point BURROW_BIOS at a BIOS ROM, or unset it to let burrow choose.")
        }
        return choice.rom
    }

    /// Whether the URI names a libvirt on this host: no host part (`qemu:///system`, `qemu+unix:///session`).
    static func isLocal(_ uri: String) -> Bool {
        guard let separator = uri.range(of: "://") else { return false }
        return uri[separator.upperBound...].hasPrefix("/")
    }
}
