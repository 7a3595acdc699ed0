import ArgumentParser
import BurrowCore

struct EnvStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start an environment and wait until it answers on SSH.",
        discussion: "The wait is bounded by $BURROW_BOOT_TIMEOUT seconds.\nExample: burrow start dev"
    )

    @Argument(help: "Environment name.") var name: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, connection) = (name, connection)
        try await runCommand {
            let service = try await CommandContext.open().environments(connection)
            try await service.start(name)
            print("\(name) is running. Enter it with: burrow shell \(name)")
        }
    }
}
