import ArgumentParser
import BurrowCore

struct EnvCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy files between the host and environments (scp, starting them if needed).",
        discussion: """
            Name a path inside an environment as ENV:PATH; other paths are the host's
            (write ./a:b for a host file whose name has a colon). Examples:
              burrow cp notes.txt dev:/tmp/
              burrow cp -r dev:/var/log/apt ./apt-logs
              burrow cp dev:/etc/os-release other:/tmp/dev-os-release
            """
    )

    @Flag(name: .short, help: "Copy folders and what they hold.") var recursive = false
    @Argument(help: "Sources, then the destination; at least one is ENV:PATH.") var paths: [String]
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard paths.count >= 2 else { throw ValidationError("give at least one source and a destination, e.g. burrow cp notes.txt dev:/tmp/") }
        guard paths.contains(where: { SSHTools.copyOperand($0).environment != nil }) else {
            throw ValidationError("no path names an environment; write the guest's side as ENV:PATH, e.g. dev:/tmp/")
        }
    }

    func run() async throws {
        let (recursive, paths, connection) = (recursive, paths, connection)
        try await runCommand {
            let context = try await CommandContext.open()
            let service = try context.environments(connection)
            let operands = paths.map(SSHTools.copyOperand)
            for environment in Set(operands.compactMap(\.environment)).sorted() {
                try await service.start(environment)
            }
            try execTool("scp", SSHTools(home: context.home).copyArguments(recursive: recursive, operands: operands.map(\.scpOperand)), package: "openssh-client")
        }
    }
}
