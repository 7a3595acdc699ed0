import Archive
import Foundation

/// Per-environment data handed to the guest at every boot, read by burrow's initramfs
/// (`Templates/initramfs/init`): identity, network, user and keys. It is a plain tar archive on a
/// raw virtio disk with serial `burrow-seed`, so no filesystem has to be made for it.
public struct Seed: Sendable, Equatable {
    public enum Mode: String, Sendable { case run, provision }

    public var hostname: String
    public var machineID: String
    public var user: String
    public var uid: Int
    public var gid: Int
    public var mode: Mode
    public var hostPrivateKey: String
    public var hostPublicKey: String
    public var authorizedKeys: [String]
    public var provisionScript: String?
    /// Lines for the guest's /etc/fstab (shared folders).
    public var fstab: [String] = []
    /// Variables for the guest's /etc/environment.
    public var environment: [String: String] = [:]

    /// slirp's fixed addresses: the guest is always 10.0.2.15 behind qemu's user-mode NAT.
    public static let address = "10.0.2.15/24"
    public static let gateway = "10.0.2.2"
    public static let dns = "10.0.2.3"

    public init(
        hostname: String, machineID: String, user: String, uid: Int, gid: Int, mode: Mode, hostPrivateKey: String, hostPublicKey: String,
        authorizedKeys: [String], provisionScript: String? = nil
    ) {
        self.hostname = hostname
        self.machineID = machineID
        self.user = user
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.hostPrivateKey = hostPrivateKey
        self.hostPublicKey = hostPublicKey
        self.authorizedKeys = authorizedKeys
        self.provisionScript = provisionScript
    }

    /// `seed.env`: only `BURROW_*='value'` lines, values without single quotes.
    public var environmentFile: String {
        let values: [(String, String)] = [
            ("BURROW_HOSTNAME", hostname), ("BURROW_MACHINE_ID", machineID), ("BURROW_USER", user),
            ("BURROW_UID", String(uid)), ("BURROW_GID", String(gid)), ("BURROW_MODE", mode.rawValue),
            ("BURROW_NET_ADDRESS", Self.address), ("BURROW_NET_GATEWAY", Self.gateway), ("BURROW_NET_DNS", Self.dns),
        ]
        return values.map { "\($0)='\($1.replacingOccurrences(of: "'", with: ""))'\n" }.joined()
    }

    /// Writes the seed archive to `url`.
    public func write(to url: URL) throws {
        let writer = try ArchiveWriter(path: url.path)
        func add(_ path: String, _ text: String, mode: UInt32) throws {
            try writer.append(ArchiveEntry(path: Array(path.utf8), kind: .regular, permissions: mode), contents: Array(text.utf8))
        }
        try writer.append(ArchiveEntry(path: Array("burrow/".utf8), kind: .directory, permissions: 0o755))
        try writer.append(ArchiveEntry(path: Array("burrow/ssh/".utf8), kind: .directory, permissions: 0o700))
        try add("burrow/seed.env", environmentFile, mode: 0o644)
        try add("burrow/ssh/ssh_host_ed25519_key", hostPrivateKey, mode: 0o600)
        try add("burrow/ssh/ssh_host_ed25519_key.pub", hostPublicKey, mode: 0o644)
        try add("burrow/ssh/authorized_keys", authorizedKeys.map { $0 + "\n" }.joined(), mode: 0o600)
        if !fstab.isEmpty {
            try add("burrow/fstab", fstab.map { $0 + "\n" }.joined(), mode: 0o644)
        }
        if !environment.isEmpty {
            try add("burrow/environment", Self.environmentLines(environment), mode: 0o644)
        }
        if let provisionScript {
            try add("burrow/provision.sh", provisionScript, mode: 0o755)
        }
        try writer.finish()
    }

    /// `/etc/environment` lines; values are double-quoted with quotes and backslashes escaped,
    /// and names that are not shell identifiers are dropped (pam_env would misread them).
    static func environmentLines(_ variables: [String: String]) -> String {
        variables.keys.sorted().compactMap { name -> String? in
            guard let first = name.unicodeScalars.first, first == "_" || CharacterSet.letters.contains(first),
                  name.unicodeScalars.allSatisfy({ $0 == "_" || CharacterSet.alphanumerics.contains($0) }), name.unicodeScalars.allSatisfy(\.isASCII),
                  let value = variables[name], !value.contains("\n")
            else { return nil }
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\(name)=\"\(escaped)\"\n"
        }.joined()
    }

    /// A hostname made from an environment name ('_' and '.' are not valid in host labels).
    public static func hostname(for environment: String) -> String {
        String(environment.map { $0 == "_" || $0 == "." ? "-" : $0 })
    }

    public static func randomMachineID() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
