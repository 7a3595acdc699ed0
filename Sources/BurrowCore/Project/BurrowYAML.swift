import Foundation
import Yams

extension ProjectConfig {
    /// Every top-level key burrow.yaml may hold.
    static let burrowYAMLKeys = [
        "name", "image", "distro", "cpus", "memory", "disk", "workspace", "mounts", "ports", "gpu", "cuda", "env", "provision",
    ]

    /// Parses and validates burrow.yaml's text. Strict: an unknown key or a value of the wrong
    /// type anywhere is an error naming its path and line. A document of only comments is all
    /// defaults.
    init(burrowYAML text: String, context: ProjectContext) throws {
        let root = try context.document(text)
        try root.allowOnly(Self.burrowYAMLKeys)

        let workspace = try Self.workspace(root.optionalValue("workspace"), context: context)
        var mounts = workspace.map { [context.workspaceMount(at: $0)] } ?? []
        if let list = root.optionalValue("mounts") {
            for item in try list.sequence(expected: "a list of mounts") {
                try context.append(Self.mount(item, context: context), at: item, to: &mounts)
            }
        }
        var ports: [PortForward] = []
        if let list = root.optionalValue("ports") {
            for item in try list.sequence(expected: "a list of ports") {
                try context.append(Self.port(item, context: context), at: item, to: &ports)
            }
        }
        let steps = try root.optionalValue("provision")?.sequence(expected: "a list of steps").map {
            try Self.step($0, context: context)
        }

        self.init(
            context: context,
            name: try root.optionalValue("name").map { try context.validName(at: $0, what: "environment") } ?? context.defaultName(),
            base: try Self.base(root, context: context),
            cpus: try root.optionalValue("cpus").map { try context.cpus(at: $0) },
            memory: try root.optionalValue("memory").map { try context.size(at: $0) },
            disk: try root.optionalValue("disk").map { try context.size(at: $0) },
            mounts: mounts,
            workspace: workspace,
            ports: ports,
            gpu: try root.optionalValue("gpu").map(Self.gpu),
            cuda: try root.optionalValue("cuda").map(Self.cuda),
            env: try root.optionalValue("env").map(Self.environment) ?? [:],
            provision: ProvisionRecipe(steps: steps ?? []),
            warnings: [])
    }

    private static func base(_ root: YAMLMapping, context: ProjectContext) throws -> ProjectBase? {
        let image = root.optionalValue("image"), distro = root.optionalValue("distro")
        if let distro {
            guard image == nil else { throw distro.invalid("give image or distro, not both") }
            return .distro(try distro.string())
        }
        return try image.map { .image(try context.validName(at: $0, what: "image")) }
    }

    /// The workspace's guest path: the project root's own path unless `workspace` says
    /// otherwise; nil for `workspace: false`.
    private static func workspace(_ value: YAMLValue?, context: ProjectContext) throws -> String? {
        guard let value else { return context.root.path }
        switch value.node {
        case .scalar where value.tag == .bool:
            return try value.bool() ? context.root.path : nil
        case .mapping:
            let mapping = try value.mapping()
            try mapping.allowOnly(["path"])
            let path = try mapping.value("path")
            return try context.guestPath(path.string(), at: path)
        default:
            throw value.wrongType(expected: "true, false or {path: /guest/path}")
        }
    }

    /// `"HOST"`, `"HOST:GUEST"`, `"HOST:GUEST:ro"` or `{host, guest, read_only}`; the guest path
    /// defaults to the host folder's absolute path.
    private static func mount(_ item: YAMLValue, context: ProjectContext) throws -> ProjectMount {
        switch item.node {
        case .scalar where item.tag == .str:
            let parts = try item.string().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (1...3).contains(parts.count), !parts.contains(""), parts.count < 3 || ["ro", "rw"].contains(parts[2]) else {
                throw item.invalid("'\(item.scalarText ?? "")' is not HOST, HOST:GUEST or HOST:GUEST:ro")
            }
            let host = try context.hostFolder(parts[0], at: item)
            let guest = try parts.count > 1 ? context.guestPath(parts[1], at: item) : host
            return ProjectMount(host: host, guest: guest, readOnly: parts.count == 3 && parts[2] == "ro")
        case .mapping:
            let mapping = try item.mapping()
            try mapping.allowOnly(["host", "guest", "read_only"])
            let hostValue = try mapping.value("host")
            let host = try context.hostFolder(hostValue.string(), at: hostValue)
            let guest = try mapping.optionalValue("guest").map { try context.guestPath($0.string(), at: $0) } ?? host
            return ProjectMount(host: host, guest: guest, readOnly: try mapping.optionalValue("read_only")?.bool() ?? false)
        default:
            throw item.wrongType(expected: "\"HOST:GUEST\" or {host: …, guest: …}")
        }
    }

    /// `8080` (the same port on both sides), `"8080:80"` or `{host: 8080, guest: 80}`.
    private static func port(_ item: YAMLValue, context: ProjectContext) throws -> PortForward {
        if case .mapping = item.node {
            let mapping = try item.mapping()
            try mapping.allowOnly(["host", "guest"])
            let host = try mapping.value("host"), guest = try mapping.value("guest")
            return PortForward(host: try context.port(host.int(), at: host), guest: try context.port(guest.int(), at: guest))
        }
        // Text rather than the resolved type: YAML 1.1 reads an unquoted 8080:22 as a
        // base-60 integer.
        guard [.int, .str].contains(item.tag), let text = item.scalarText else {
            throw item.wrongType(expected: "\"HOST:GUEST\" or a port number")
        }
        let numbers = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        switch numbers.count {
        case 1:
            if let port = numbers[0] { return PortForward(host: try context.port(port, at: item), guest: port) }
        case 2:
            if let host = numbers[0], let guest = numbers[1] {
                return PortForward(host: try context.port(host, at: item), guest: try context.port(guest, at: item))
            }
        default:
            break
        }
        throw item.invalid("'\(text)' is not HOST:GUEST or a port number")
    }

    /// A count, `all`, a PCI address or a model, kept as written for `GPUSelector`.
    private static func gpu(_ value: YAMLValue) throws -> String {
        guard [.int, .str].contains(value.tag) else {
            throw value.wrongType(expected: "a GPU count, all, a PCI address or a model name")
        }
        return try value.string()
    }

    /// A version such as `12.4`; written unquoted it reads as a number, so the text is kept.
    private static func cuda(_ value: YAMLValue) throws -> String {
        guard [.int, .float, .str].contains(value.tag), let text = value.scalarText else {
            throw value.wrongType(expected: "a CUDA version such as \"12.4\"")
        }
        guard CUDAVersion.isValid(text) else {
            throw value.invalid("'\(text)' is not a CUDA version such as 12.4")
        }
        return text
    }

    private static func environment(_ value: YAMLValue) throws -> [String: String] {
        var environment: [String: String] = [:]
        for (name, item) in try value.mapping().entries {
            let variable = try ProjectContext.environmentVariable(name, item)
            environment[variable.name] = variable.value
        }
        return environment
    }

    private static let stepKinds = ["run", "script", "copy"]

    private static func step(_ item: YAMLValue, context: ProjectContext) throws -> ProvisionStep {
        guard case .mapping = item.node else {
            throw item.wrongType(expected: "a step: {run: …}, {script: …} or {copy: …, to: …}")
        }
        let step = try item.mapping()
        try step.allowOnly(stepKinds + ["to"])
        let kinds = step.keys.filter(stepKinds.contains)
        guard kinds.count == 1, let kind = kinds.first else {
            let found = kinds.isEmpty ? "none" : kinds.joined(separator: " and ")
            throw item.invalid("a step has exactly one of run, script or copy; found \(found)")
        }
        try step.allowOnly(kind == "copy" ? ["copy", "to"] : [kind])
        switch kind {
        case "run":
            return .run(try step.string("run"))
        case "script":
            return .script(try context.projectFile(at: step.value("script")))
        default:
            let destination = try step.value("to")
            return .copy(try context.projectFile(at: step.value("copy")), to: try context.guestPath(destination.string(), at: destination))
        }
    }
}
