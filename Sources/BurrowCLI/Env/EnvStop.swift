import ArgumentParser
import BurrowCore
import Foundation

struct EnvStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Shut an environment down cleanly (forced after $BURROW_STOP_TIMEOUT seconds).",
        discussion: "Examples:\n  burrow stop dev\n  burrow stop --force dev\n  burrow stop --suspend dev"
    )

    @Argument(help: "Environment name.") var name: String
    @OptionGroup var choice: StopChoice
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, choice, connection) = (name, choice, connection)
        try await runCommand {
            try await choice.apply(to: name, service: try await CommandContext.open().environments(connection))
        }
    }
}

/// How `stop` and `down` end an environment: a clean shutdown, a forced one, or a suspend,
/// which `BURROW_STOP_SUSPENDS=1` makes the default (except for GPU environments, which cannot
/// suspend, and with `--force`).
struct StopChoice: ParsableArguments {
    @Flag(help: "Power it off at once, without a clean shutdown.") var force = false
    @Flag(help: "Save its memory instead of shutting down (default with BURROW_STOP_SUSPENDS=1).") var suspend = false

    func validate() throws {
        if force && suspend { throw ValidationError("--force powers off and --suspend saves the memory: give one of them") }
    }

    func apply(to name: String, service: EnvironmentService) async throws {
        let suspendByDefault = ProcessInfo.processInfo.environment["BURROW_STOP_SUSPENDS"] == "1" && !force
        // An explicit --suspend of a GPU environment is refused by suspend itself; the default gives way.
        if try suspend || (suspendByDefault && service.existing(name).gpuRequest == nil) {
            try await service.suspend(name)
            print("\(name) is suspended. Resume it with: burrow start \(name)")
        } else {
            try await service.stop(name, force: force)
            print("\(name) is stopped.")
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
