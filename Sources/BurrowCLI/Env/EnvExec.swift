import ArgumentParser
import BurrowCore

struct EnvExec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command in an environment (starting it if needed); exits with the command's status.",
        discussion: """
            stdin, stdout and stderr are streamed. Examples:
              burrow exec dev -- cat /etc/os-release
              echo hi | burrow exec dev -- sh -c 'cat > /tmp/x'
            """
    )

    @Argument(help: "Environment name.") var name: String
    @Flag(name: .customShort("t"), help: "Give the command a terminal.") var tty = false
    @OptionGroup var connection: ConnectionOptions
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String]

    func run() async throws {
        let (name, command, tty, connection) = (name, command, tty, connection)
        guard !command.isEmpty else { throw ValidationError("give the command after --, e.g. burrow exec \(name) -- uname -a") }
        try await runCommand {
            let context = try await CommandContext.open()
            try await context.environments(connection).start(name)
            let remote = command.map(SSHTools.shellQuote).joined(separator: " ")
            try execSSH(SSHTools(home: context.home).clientArguments(environment: name, tty: tty) + ["--", remote])
        }
    }
}

struct EnvShell: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "Open an interactive login shell in an environment (starting it if needed).",
        discussion: "Example: burrow shell dev"
    )

    @Argument(help: "Environment name.") var name: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, connection) = (name, connection)
        try await runCommand {
            let context = try await CommandContext.open()
            try await context.environments(connection).start(name)
            try execSSH(SSHTools(home: context.home).clientArguments(environment: name, tty: true))
        }
    }
}
