import ArgumentParser
import BurrowCore
import Foundation

struct EnvStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Shut an environment down cleanly (forced after $BURROW_STOP_TIMEOUT seconds).",
        discussion: "Examples:\n  burrow stop dev\n  burrow stop --force dev"
    )

    @Argument(help: "Environment name.") var name: String
    @Flag(help: "Power it off at once, without a clean shutdown.") var force = false
    @Flag(help: "Save its memory instead of shutting down (default with BURROW_STOP_SUSPENDS=1).") var suspend = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, force, explicitSuspend, connection) = (name, force, suspend, connection)
        let suspendByDefault = ProcessInfo.processInfo.environment["BURROW_STOP_SUSPENDS"] == "1" && !force
        try await runCommand {
            let service = try await CommandContext.open().environments(connection)
            // GPU environments cannot suspend: the default gives way, an explicit --suspend is refused.
            if try explicitSuspend || (suspendByDefault && service.existing(name).gpuRequest == nil) {
                try await service.suspend(name)
                print("\(name) is suspended. Resume it with: burrow start \(name)")
            } else {
                try await service.stop(name, force: force)
                print("\(name) is stopped.")
            }
        }
    }
}

struct EnvRestart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Stop then start an environment.", discussion: "Example: burrow restart dev")

    @Argument(help: "Environment name.") var name: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, connection) = (name, connection)
        try await runCommand {
            let service = try await CommandContext.open().environments(connection)
            try await service.stop(name)
            try await service.start(name)
            print("\(name) is running again.")
        }
    }
}
