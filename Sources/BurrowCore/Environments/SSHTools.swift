import Foundation

/// Host-side SSH material and client invocations: key generation with ssh-keygen, per-environment
/// known_hosts with the pinned host key, the `Include`-able client config, and the exact `ssh`
/// arguments burrow uses itself (strict host key checking, never trust-on-first-use).
public struct SSHTools: Sendable {
    let home: BurrowHome
    let runner: ProcessRunner

    public init(home: BurrowHome, runner: ProcessRunner = ProcessRunner()) {
        self.home = home
        self.runner = runner
    }

    public var directory: URL { home.root.appendingPathComponent("ssh") }
    public var configFile: URL { directory.appendingPathComponent("config") }
    public var userKey: URL { directory.appendingPathComponent("id_ed25519") }

    /// Creates the user's key pair once; every environment authorises it.
    public func ensureUserKey() async throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: userKey.path) {
            // Concurrent first commands must agree on one pair, not interleave two.
            let lock = try await FileLock.acquire(directory.appendingPathComponent(".keygen.lock"), what: "the SSH key", timeout: 60)
            defer { lock.release() }
            if !FileManager.default.fileExists(atPath: userKey.path) {
                try await generateKey(at: userKey, comment: "burrow")
            }
        }
        return try String(contentsOf: userKey.appendingPathExtension("pub"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Generates an ed25519 key pair (private at `url`, public at `url.pub`), atomically.
    public func generateKey(at url: URL, comment: String) async throws {
        let staging = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid())")
        try? FileManager.default.removeItem(at: staging)
        try? FileManager.default.removeItem(at: staging.appendingPathExtension("pub"))
        try await runner.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", staging.path], what: "generating an SSH key")
        try? FileManager.default.removeItem(at: url.appendingPathExtension("pub"))
        try FileManager.default.moveItem(at: staging.appendingPathExtension("pub"), to: url.appendingPathExtension("pub"))
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: staging, to: url)
    }

    public static func hostAlias(_ environment: String) -> String { "burrow-\(environment)" }

    /// Where the shared connections to the guests listen (see `hostBlock`).
    public var multiplexDirectory: URL { directory.appendingPathComponent("mux") }

    /// A Unix socket path must fit in `sun_path` (108 bytes) with the 17-character suffix ssh
    /// appends while it sets the socket up.
    static let longestControlPath = 90

    /// The client config block for one environment. Logins share one connection per guest
    /// (`ControlMaster`), kept two minutes after its last session: a login costs an emulated
    /// guest a second of key exchange and session set-up, a session on a shared connection
    /// almost nothing. The first connection is made with the pinned host key as always. Homes
    /// too deep for a socket path go without. Key exchange is plain curve25519 (with classic
    /// fallbacks for old guests): the post-quantum hybrid OpenSSH picks by default costs an
    /// emulated guest 0.15 s more per login, and these connections never leave the host. The
    /// list is spelled out, as clients before OpenSSH 8.2 cannot read a `^` prefix.
    public func hostBlock(environment: String, port: Int, user: String, knownHosts: URL) -> String {
        let controlPath = multiplexDirectory.appendingPathComponent(environment).path
        let multiplexing = controlPath.utf8.count <= Self.longestControlPath
            ? "\n  ControlMaster auto\n  ControlPath \"\(controlPath)\"\n  ControlPersist 120" : ""
        return """
            Host \(Self.hostAlias(environment))
              HostName 127.0.0.1
              Port \(port)
              User \(user)
              IdentityFile "\(userKey.path)"
              IdentitiesOnly yes
              UserKnownHostsFile "\(knownHosts.path)"
              StrictHostKeyChecking yes
              HostKeyAlgorithms ssh-ed25519
              KexAlgorithms \(Self.keyExchanges)
              LogLevel ERROR
              ServerAliveInterval 15\(multiplexing)

            """
    }

    static let keyExchanges = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256"

    /// A known_hosts line pinning an environment's host key to its forwarded port.
    public static func knownHostsLine(port: Int, hostPublicKey: String) -> String {
        let fields = hostPublicKey.split(separator: " ")
        let key = fields.count >= 2 ? "\(fields[0]) \(fields[1])" : hostPublicKey
        return "[127.0.0.1]:\(port) \(key)\n"
    }

    /// Writes the config for all environments; callers keep the list complete.
    public func writeConfig(blocks: [String]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createDirectory(at: multiplexDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let header = "# Written by burrow; add `Include \(configFile.path)` to ~/.ssh/config to use `ssh burrow-NAME`.\n\n"
        try Data((header + blocks.joined()).utf8).write(to: configFile, options: .atomic)
    }

    /// Arguments for `ssh` to reach an environment through the generated config.
    public func clientArguments(environment: String, tty: Bool, extra: [String] = []) -> [String] {
        ["-F", configFile.path, tty ? "-t" : "-T"] + extra + [Self.hostAlias(environment)]
    }

    /// Arguments for burrow's own non-interactive commands in a guest: never prompt, and give up
    /// on the connection after `connectTimeout` seconds when one is given. Such a command makes
    /// its own connection: a session on the shared one would wait out its keepalives (45 s) on a
    /// guest that hangs. `mayOpenShared` lets it become the shared connection instead, for a
    /// command that knows none exists yet (the first after a resume).
    public func batchArguments(environment: String, connectTimeout: Int? = nil, mayOpenShared: Bool = false) -> [String] {
        let bounded = connectTimeout.map { ["-o", "ConnectTimeout=\($0)"] + (mayOpenShared ? [] : ["-o", "ControlPath=none"]) } ?? []
        return clientArguments(environment: environment, tty: false, extra: ["-o", "BatchMode=yes"] + bounded)
    }

    /// Arguments for `ssh` to ask whether the environment's shared connection is open: exit
    /// status 0 when it is.
    public func sharedConnectionCheckArguments(environment: String) -> [String] {
        ["-F", configFile.path, "-O", "check", Self.hostAlias(environment)]
    }

    /// An `scp` operand: `ENV:PATH` names a path in environment ENV (text before the first ':'
    /// with no '/' in it, as scp itself decides), anything else a host path. Returns the
    /// environment, if any, and the operand rewritten for burrow's SSH config.
    public static func copyOperand(_ operand: String) -> (environment: String?, scpOperand: String) {
        guard let colon = operand.firstIndex(of: ":"), colon != operand.startIndex, !operand[..<colon].contains("/") else {
            return (nil, operand)
        }
        let environment = String(operand[..<colon])
        return (environment, hostAlias(environment) + operand[colon...])
    }

    /// Arguments for `scp` through the generated config (which names each `burrow-ENV` host).
    public func copyArguments(recursive: Bool, operands: [String]) -> [String] {
        ["-F", configFile.path] + (recursive ? ["-r"] : []) + ["--"] + operands
    }

    /// Quotes one argument for the remote POSIX shell that sshd runs commands through.
    public static func shellQuote(_ argument: String) -> String {
        if !argument.isEmpty, argument.utf8.allSatisfy({ $0 < 128 && (isalnum(Int32($0)) != 0 || "-_./=:@%+,".utf8.contains($0)) }) {
            return argument
        }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
