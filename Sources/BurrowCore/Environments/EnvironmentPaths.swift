import Foundation

/// Where one environment's files live: `$BURROW_HOME/envs/<name>/`.
public struct EnvironmentPaths: Sendable {
    public let directory: URL

    public init(home: BurrowHome, name: String) {
        directory = home.environments.appendingPathComponent(name)
    }

    public var seed: URL { directory.appendingPathComponent("seed.tar") }
    public var hostKey: URL { directory.appendingPathComponent("ssh_host_ed25519_key") }
    public var hostPublicKey: URL { hostKey.appendingPathExtension("pub") }
    public var knownHosts: URL { directory.appendingPathComponent("known_hosts") }
    public var consoleLog: URL { directory.appendingPathComponent("console.log") }
}

extension BurrowHome {
    public var environments: URL { root.appendingPathComponent("envs") }

    /// libvirt domain names are global to a connection, so they carry a short hash of this
    /// BURROW_HOME: two homes (two users, or parallel test runs) never collide.
    public func domainName(for environment: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in root.path.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return "burrow-\(String(hash & 0xffffff, radix: 16))-\(environment)"
    }
}
