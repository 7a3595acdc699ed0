import ArgumentParser
import BurrowCore

struct EnvClone: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone",
        abstract: "Clone an environment, stopped or running, in constant time.",
        discussion: """
            The source's disk becomes a shared read-only layer and both sides continue
            on fresh overlays; the clone gets its own hostname, machine-id, SSH host
            key, MAC and port.
            Examples:
              burrow clone dev dev-experiment
              burrow clone gpu-base gpu-2 && burrow shell gpu-2
            """
    )

    @Argument(help: "The environment to copy.") var source: String
    @Argument(help: "Name of the new environment.") var target: String
    @Flag(help: "Print the new environment as JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (source, target, json, connection) = (source, target, json, connection)
        try await runCommand {
            let context = try await CommandContext.open()
            let service = try context.environments(connection)
            let record = try await service.clone(source, to: target)
            if json {
                print(try JSONOutput.encode(EnvironmentSummary(try service.status(record), home: context.home)))
            } else {
                print("Cloned \(source) into \(target). Enter it with: burrow shell \(target)")
            }
        }
    }
}
