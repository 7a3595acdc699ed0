import Foundation
import Yams

extension ProjectConfig {
    /// Keys that describe a container image, which has no meaning for a VM.
    private static let containerImageKeys = ["image", "build", "dockerFile", "dockerComposeFile"]

    /// Maps a devcontainer.json onto burrow's settings: `name`, `forwardPorts`,
    /// `postCreateCommand`, `containerEnv` and `remoteEnv`, and `hostRequirements`. Mapped keys
    /// are checked strictly; every other key (devcontainer.json has many that only make sense
    /// for containers) becomes a warning rather than an error or silence.
    init(devcontainerJSON text: String, context: ProjectContext) throws {
        let document: Node
        do {
            document = try JSONC.decode(text)
        } catch {
            throw BurrowError(.invalidInput, "\(context.place(error.line)): not valid JSON: \(error.reason)")
        }
        let root = try YAMLValue(node: document, path: "", report: context.report).mapping()

        var name: String?
        var ports: [PortForward] = []
        var steps: [ProvisionStep] = []
        var requirements = HostRequirements()
        var warnings: [String] = []
        for (key, value) in root.entries {
            switch key {
            case "name":
                name = ProjectContext.sanitisedName(try value.string())
            case "forwardPorts":
                for item in try value.sequence(expected: "a list of ports") {
                    let port = try Self.forwardedPort(item, context: context)
                    try context.append(PortForward(host: port, guest: port), at: item, to: &ports)
                }
            case "postCreateCommand":
                steps = try Self.commands(value)
            case "hostRequirements":
                requirements = try HostRequirements(value, context: context, warnings: &warnings)
            case "containerEnv", "remoteEnv":
                break  // below, so remoteEnv wins wherever it is written
            case _ where Self.containerImageKeys.contains(key):
                warnings.append(
                    "\(context.file): \(key) is ignored: burrow builds a VM from a distro image, not a container image; "
                        + "choose one with image: or distro: in a burrow.yaml")
            default:
                warnings.append("\(context.file): \(key) is not used by burrow and is ignored")
            }
        }

        var env: [String: String] = [:]
        for key in ["containerEnv", "remoteEnv"] {
            guard let value = root.optionalValue(key) else { continue }
            for (variable, item) in try value.mapping().entries {
                // remoteEnv may set a variable to null to unset it.
                if key == "remoteEnv", item.isNull {
                    env[variable] = nil
                    continue
                }
                let (name, text) = try ProjectContext.environmentVariable(variable, item)
                env[name] = text
            }
        }

        self.init(
            context: context,
            name: try name ?? context.defaultName(),
            base: nil,
            cpus: requirements.cpus,
            memory: requirements.memory,
            disk: requirements.storage,
            mounts: [context.workspaceMount(at: context.root.path)],
            workspace: context.root.path,
            ports: ports,
            gpu: requirements.gpu,
            cuda: nil,
            env: env,
            provision: ProvisionRecipe(steps: steps),
            warnings: warnings)
    }

    /// A port number, or `"host:port"` naming a port of some host the container could see
    /// (`localhost:3000`); either way the same port on both sides.
    private static func forwardedPort(_ item: YAMLValue, context: ProjectContext) throws -> Int {
        switch item.tag {
        case .int:
            return try context.port(item.int(), at: item)
        case .str:
            let text = try item.string()
            guard let port = text.split(separator: ":", omittingEmptySubsequences: false).last.flatMap({ Int($0) }) else {
                throw item.invalid("'\(text)' is not a port or HOST:PORT")
            }
            return try context.port(port, at: item)
        default:
            throw item.wrongType(expected: "a port number or \"HOST:PORT\"")
        }
    }

    /// A command string, an argument list (run without a shell in containers, so quoted here),
    /// or an object of named commands, each becoming one `run` step in the order written.
    private static func commands(_ value: YAMLValue) throws -> [ProvisionStep] {
        switch value.node {
        case .scalar where value.tag == .str:
            return [.run(try value.string())]
        case .sequence:
            let arguments = try value.sequence().map { try $0.string() }
            return [.run(arguments.map(SSHTools.shellQuote).joined(separator: " "))]
        case .mapping:
            return try value.mapping().entries.flatMap { _, command -> [ProvisionStep] in
                if case .mapping = command.node { throw command.wrongType(expected: "a command string or a list of arguments") }
                return try commands(command)
            }
        default:
            throw value.wrongType(expected: "a command string, a list of arguments or an object of named commands")
        }
    }
}

/// What devcontainer.json's `hostRequirements` asks of the machine.
private struct HostRequirements {
    var cpus: Int?
    var memory: Int64?
    var storage: Int64?
    var gpu: String?

    init() {}

    init(_ value: YAMLValue, context: ProjectContext, warnings: inout [String]) throws {
        for (key, item) in try value.mapping().entries {
            switch key {
            case "cpus": cpus = try context.cpus(at: item)
            case "memory": memory = try context.size(at: item)
            case "storage": storage = try context.size(at: item)
            case "gpu": gpu = try Self.gpu(item)
            default: warnings.append("\(context.file): \(item.path) is not used by burrow and is ignored")
            }
        }
    }

    /// `true`, `"optional"` or `{cores, memory}` ask for one GPU; `false` for none.
    private static func gpu(_ value: YAMLValue) throws -> String? {
        switch value.node {
        case .scalar where value.tag == .bool:
            return try value.bool() ? "1" : nil
        case .scalar where value.scalarText == "optional", .mapping:
            return "1"
        default:
            throw value.wrongType(expected: "true, false, \"optional\" or {cores, memory}")
        }
    }
}
