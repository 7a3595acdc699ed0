import ArgumentParser
import BurrowCore
import Foundation

struct EnvLogs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print an environment's console output (kernel, init, services) from its last boot.",
        discussion: "Example: burrow logs dev | tail"
    )

    @Argument(help: "Environment name.") var name: String

    func run() async throws {
        let name = name
        try await runCommand {
            let context = try await CommandContext.open()
            guard try context.database.environment(named: name) != nil else {
                throw BurrowError(.notFound, "no environment named '\(name)'", hint: "See them with: burrow ls")
            }
            let log = EnvironmentPaths(home: context.home, name: name).consoleLog
            guard let data = FileManager.default.contents(atPath: log.path) else {
                print("(\(name) has not booted yet)")
                return
            }
            FileHandle.standardOutput.write(data)
        }
    }
}
