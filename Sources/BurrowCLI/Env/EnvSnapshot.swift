import ArgumentParser
import BurrowCore
import Foundation

/// `burrow snapshot …`: named points an environment can return to, kept as qcow2 layers.
struct EnvSnapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Take, list and remove snapshots of an environment (running or stopped).",
        discussion: """
            Examples:
              burrow snapshot dev before-upgrade
              burrow snapshot ls dev
              burrow restore dev before-upgrade
              burrow snapshot rm dev before-upgrade
            """,
        subcommands: [SnapshotTake.self, SnapshotList.self, SnapshotRemove.self],
        defaultSubcommand: SnapshotTake.self
    )
}

struct SnapshotTake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "take", abstract: "Snapshot an environment (the default action).",
        discussion: "Without a snapshot name, the time (UTC) names it.\nExamples:\n  burrow snapshot dev before-upgrade\n  burrow snapshot take dev"
    )

    @Argument(help: "Environment name.") var name: String
    @Argument(help: "Snapshot name (default: the UTC time).") var snapshot: String?
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, snapshot, connection) = (name, snapshot, connection)
        try await runCommand {
            let record = try await CommandContext.open().environments(connection).snapshot(name, as: snapshot)
            print("Snapshot \(record.name) of \(name) taken. Return to it with: burrow restore \(name) \(record.name)")
        }
    }
}

struct SnapshotList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List an environment's snapshots.",
        discussion: "Example: burrow snapshot ls dev --json", aliases: ["list"]
    )

    @Argument(help: "Environment name.") var name: String
    @Flag(help: "Print them as JSON.") var json = false

    func run() async throws {
        let (name, json) = (name, json)
        try await runCommand {
            let context = try await CommandContext.open()
            guard try context.database.environment(named: name) != nil else {
                throw BurrowError(.notFound, "no environment named '\(name)'", hint: "See them with: burrow ls")
            }
            let snapshots = try context.database.snapshots(of: name)
            if json {
                struct Row: Encodable { let name: String; let createdAt: Date }
                print(try JSONOutput.encode(snapshots.map { Row(name: $0.name, createdAt: $0.createdAt) }))
            } else if snapshots.isEmpty {
                print("\(name) has no snapshots. Take one: burrow snapshot \(name) NAME")
            } else {
                print(Table(header: ["NAME", "CREATED"], rows: snapshots.map { [$0.name, $0.createdAt.formatted(date: .abbreviated, time: .standard)] }).render())
            }
        }
    }
}

struct SnapshotRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove a snapshot (its layer goes once nothing needs it).",
        discussion: "Example: burrow snapshot rm dev before-upgrade", aliases: ["remove"]
    )

    @Argument(help: "Environment name.") var name: String
    @Argument(help: "Snapshot name.") var snapshot: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, snapshot, connection) = (name, snapshot, connection)
        try await runCommand {
            try await CommandContext.open().environments(connection).removeSnapshot(name, snapshot)
            print("Removed snapshot \(snapshot) of \(name).")
        }
    }
}

struct EnvRestore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put an environment back to a snapshot, discarding what changed since.",
        discussion: "A running environment is stopped and started again.\nExample: burrow restore dev before-upgrade"
    )

    @Argument(help: "Environment name.") var name: String
    @Argument(help: "Snapshot name.") var snapshot: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, snapshot, connection) = (name, snapshot, connection)
        try await runCommand {
            try await CommandContext.open().environments(connection).restore(name, to: snapshot)
            print("\(name) is back at snapshot \(snapshot).")
        }
    }
}

struct EnvSuspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Save a running environment's memory to disk and stop it; start, exec or shell resume it.",
        discussion: "Example: burrow suspend dev && burrow exec dev -- uptime"
    )

    @Argument(help: "Environment name.") var name: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, connection) = (name, connection)
        try await runCommand {
            try await CommandContext.open().environments(connection).suspend(name)
            print("\(name) is suspended. Resume it with: burrow start \(name)")
        }
    }
}
