import ArgumentParser
import BurrowCore
import BurrowStore
import Foundation

struct EnvList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List environments with their live state (asked of libvirt).",
        discussion: "Example: burrow ls --json | jq '.[] | select(.state == \"running\") | .name'",
        aliases: ["list"]
    )

    @Flag(help: "Print the environments as a JSON array.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (json, connection) = (json, connection)
        try await runCommand {
            let context = try await CommandContext.open()
            let statuses = try context.environments(connection).list()
            if json {
                print(try JSONOutput.encode(statuses.map { EnvironmentSummary($0, home: context.home) }))
                return
            }
            guard !statuses.isEmpty else {
                print("No environments yet. Create one: burrow create dev --image debian-12")
                return
            }
            let rows = statuses.map { status in
                let record = status.record
                return [
                    record.name, status.state.rawValue, record.imageName, String(record.cpus), "\(record.memoryMiB)M",
                    ByteCountFormatter.string(fromByteCount: status.diskUsage, countStyle: .binary), "127.0.0.1:\(record.sshPort)", record.accelerator,
                    status.shareDriver.map { "\($0.rawValue) (\(record.sharedFolders.count))" } ?? "-",
                ]
            }
            print(Table(header: ["NAME", "STATE", "IMAGE", "CPUS", "MEMORY", "DISK USED", "SSH", "ACCEL", "SHARES"], rows: rows).render())
        }
    }
}

/// One environment as the `--json` outputs print it.
struct EnvironmentSummary: Encodable {
    let name: String
    let state: String
    let image: String
    let cpus: Int
    let memoryMiB: Int
    let diskUsage: Int64
    let sshHost: String
    let sshPort: Int
    let sshAlias: String
    let user: String
    let accelerator: String
    let domain: String
    let disk: String
    let shares: [SharedFolder]
    let shareDriver: String?
    let ports: [PortRule]
    let createdAt: Date

    init(_ status: EnvironmentStatus, home: BurrowHome) {
        let record = status.record
        name = record.name
        state = status.state.rawValue
        image = record.imageName
        cpus = record.cpus
        memoryMiB = record.memoryMiB
        diskUsage = status.diskUsage
        sshHost = "127.0.0.1"
        sshPort = record.sshPort
        sshAlias = SSHTools.hostAlias(record.name)
        user = record.guestUser
        accelerator = record.accelerator
        domain = record.domainName
        disk = home.diskPath(id: record.diskID).path
        shares = record.sharedFolders
        shareDriver = status.shareDriver?.rawValue
        ports = record.ports
        createdAt = record.createdAt
    }
}
