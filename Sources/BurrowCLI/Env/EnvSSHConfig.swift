import ArgumentParser
import BurrowCore
import Foundation

struct EnvSSHConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh-config",
        abstract: "Write the SSH client config for environments (host burrow-NAME) and print how to use it.",
        discussion: """
            The file pins each environment's host key, so `ssh burrow-NAME` and VS Code
            Remote-SSH connect with strict host key checking. Examples:
              burrow ssh-config            # writes the file and prints the Include line
              burrow ssh-config dev        # prints the block for dev
              ssh -F "$(burrow ssh-config --path)" burrow-dev
            """
    )

    @Argument(help: "Print only this environment's host block.") var name: String?
    @Flag(help: "Print only the path of the config file.") var path = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, path, connection) = (name, path, connection)
        try await runCommand {
            let context = try await CommandContext.open()
            let service = try context.environments(connection)
            try service.writeSSHConfig()
            let tools = SSHTools(home: context.home)
            if path {
                print(tools.configFile.path)
            } else if let name {
                let record = try service.existing(name)
                print(tools.hostBlock(environment: name, port: record.sshPort, user: record.guestUser, knownHosts: EnvironmentPaths(home: context.home, name: name).knownHosts), terminator: "")
            } else {
                print("Wrote \(tools.configFile.path). Add this line to the top of ~/.ssh/config:\n  Include \(tools.configFile.path)\nthen: ssh burrow-NAME")
            }
        }
    }
}

struct EnvCode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "code",
        abstract: "Open VS Code on an environment over Remote-SSH (starting it if needed).",
        discussion: "Needs `code` on PATH and `Include` of burrow's ssh config (see burrow ssh-config). Example: burrow code dev /home/me/project"
    )

    @Argument(help: "Environment name.") var name: String
    @Argument(help: "Folder inside the environment to open.") var folder: String?
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, folder, connection) = (name, folder, connection)
        try await runCommand {
            let context = try await CommandContext.open()
            let service = try context.environments(connection)
            let record = try await service.start(name)
            guard let code = ProcessRunner.which("code") else {
                throw BurrowError(.notFound, "VS Code's `code` command is not on PATH", hint: "Install VS Code with the Remote-SSH extension, or connect any SSH client: ssh -F \(SSHTools(home: context.home).configFile.path) burrow-\(name)")
            }
            let target = folder ?? (record.guestUser == "root" ? "/root" : "/home/\(record.guestUser)")
            try await ProcessRunner().run(code, ["--remote", "ssh-remote+\(SSHTools.hostAlias(name))", target], what: "opening VS Code")
        }
    }
}
