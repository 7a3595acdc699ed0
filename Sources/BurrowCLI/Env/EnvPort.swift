import ArgumentParser
import BurrowCore
import BurrowStore

/// `burrow port ENV add|rm|ls`: 127.0.0.1 ports forwarded to an environment.
struct EnvPort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "port",
        abstract: "Forward 127.0.0.1 ports to an environment while it runs.",
        discussion: """
            A forward added to a running environment works at once and is kept for
            later boots.
            Examples:
              burrow port dev add 8080:80
              burrow port dev ls
              burrow port dev rm 8080
            """
    )

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case add, rm, ls
    }

    @Argument(help: "Environment name.") var name: String
    @Argument(help: "add, rm or ls.") var action: Action = .ls
    @Argument(help: "For add: HOST:GUEST (or one port for both); for rm: the host port.") var rule: String?
    @Flag(help: "With ls: print the forwards as JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        if action != .ls, rule == nil { throw ValidationError("give the port: burrow port \(name) \(action.rawValue) \(action == .add ? "HOST:GUEST" : "HOST")") }
    }

    func run() async throws {
        let (name, action, rule, json, connection) = (name, action, rule, json, connection)
        try await runCommand {
            let service = try await CommandContext.open().environments(connection)
            switch action {
            case .add:
                let parsed = try ShareOptions.portRule(rule ?? "")
                try await service.addPort(parsed, to: name)
                print("127.0.0.1:\(parsed.host) → \(name):\(parsed.guest)")
            case .rm:
                guard let hostPort = rule.flatMap(Int.init) else { throw BurrowError(.invalidInput, "'\(rule ?? "")' is not a port number") }
                try await service.removePort(hostPort, from: name)
                print("No longer forwarding 127.0.0.1:\(hostPort) to \(name).")
            case .ls:
                let record = try service.existing(name)
                if json {
                    print(try JSONOutput.encode(record.ports))
                } else {
                    let rows = [["127.0.0.1:\(record.sshPort)", "22", "ssh"]] + record.ports.map { ["127.0.0.1:\($0.host)", String($0.guest), ""] }
                    print(Table(header: ["HOST", "GUEST", ""], rows: rows).render())
                }
            }
        }
    }
}
