import ArgumentParser
import BurrowCore

struct EnvRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove an environment: its domain, disk, keys and record.",
        discussion: "Refused while it runs unless --force. Examples:\n  burrow rm dev\n  burrow rm --force dev",
        aliases: ["remove"]
    )

    @Argument(help: "Environment name.") var name: String
    @Flag(help: "Power it off first if it is running.") var force = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, force, connection) = (name, force, connection)
        try await runCommand {
            let service = try await CommandContext.open().environments(connection)
            try await service.remove(name, force: force)
            print("Removed \(name).")
        }
    }
}
