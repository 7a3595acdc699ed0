import Foundation

/// What a project's environment is built from: an image already in burrow's cache, or a
/// catalog distro to pull (see `Distros/`).
public enum ProjectBase: Sendable, Equatable {
    case image(String)
    case distro(String)
}

/// A host folder shared into the guest. `host` and `guest` are absolute, normalised paths.
public struct ProjectMount: Sendable, Equatable {
    public let host: String
    public let guest: String
    public let readOnly: Bool

    public init(host: String, guest: String, readOnly: Bool) {
        self.host = host
        self.guest = guest
        self.readOnly = readOnly
    }
}

/// A TCP port on the host's loopback forwarded to a guest port; both are in 1–65535.
public struct PortForward: Sendable, Equatable {
    public let host: Int
    public let guest: Int

    public init(host: Int, guest: Int) {
        self.host = host
        self.guest = guest
    }
}

/// A project's environment settings, decoded from `burrow.yaml` (or mapped from a
/// devcontainer.json) and fully validated: the name follows burrow's name rules, at most one of
/// image and distro is set, sizes are bytes, every path is absolute, ports are in range, guest
/// paths and host ports are unique, and every file a provisioning step names existed when the
/// settings were loaded. A value that exists is safe to act on.
public struct ProjectConfig: Sendable, Equatable {
    /// The project folder, absolute and normalised.
    public let root: URL
    /// The settings file, relative to `root` (`burrow.yaml`, `.devcontainer/devcontainer.json`).
    public let file: String
    /// The environment's name; defaults to the folder's name made valid.
    public let name: String
    /// Nil when the file names neither; the caller picks a default or asks.
    public let base: ProjectBase?
    /// Nil fields keep burrow's defaults.
    public let cpus: Int?
    public let memory: Int64?
    public let disk: Int64?
    /// The workspace mount (the project root) first, when there is one, then the listed mounts.
    public let mounts: [ProjectMount]
    /// Where the project root appears in the guest, so shells can start there; nil with
    /// `workspace: false`.
    public let workspace: String?
    public let ports: [PortForward]
    /// GPU selection as written (`1`, `all`, a PCI address or a model), for `GPUSelector`.
    public let gpu: String?
    /// CUDA version to install, e.g. `12.4`.
    public let cuda: String?
    public let env: [String: String]
    public let provision: ProvisionRecipe
    /// Settings read but without effect (devcontainer.json has many container-only keys);
    /// callers show them, so nothing is dropped silently.
    public let warnings: [String]

    /// The settings file names burrow looks for, in order of preference.
    public static let fileNames = ["burrow.yaml", "burrow.yml", ".devcontainer/devcontainer.json", ".devcontainer.json"]

    /// Reads the project's `burrow.yaml` (or `burrow.yml`), or, when there is none, its
    /// `.devcontainer/devcontainer.json` (or `.devcontainer.json`).
    ///
    /// Throws `BurrowError(.invalidInput)` naming the file, key path and line for anything
    /// invalid, and `.notFound` when the folder has no settings file.
    public static func load(
        projectRoot: URL, homeDirectory: URL = FileManager.default.homeDirectoryForCurrentUser
    ) throws -> ProjectConfig {
        let root = projectRoot.absoluteURL.standardizedFileURL
        let present = fileNames.filter { FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path) }
        if present.contains("burrow.yaml"), present.contains("burrow.yml") {
            throw BurrowError(.invalidInput, "\(root.path) has both burrow.yaml and burrow.yml", hint: "Keep one of them.")
        }
        guard let file = present.first else {
            throw BurrowError(
                .notFound, "no burrow.yaml in \(root.path)",
                hint: "Write one with: burrow init \(SSHTools.shellQuote(root.path))")
        }
        let context = ProjectContext(root: root, file: file, homeDirectory: homeDirectory)
        let text = try context.read(root.appendingPathComponent(file))
        if file.hasSuffix(".json") {
            return try ProjectConfig(devcontainerJSON: text, context: context)
        }
        return try ProjectConfig(burrowYAML: text, context: context)
    }

    init(
        context: ProjectContext, name: String, base: ProjectBase?, cpus: Int?, memory: Int64?, disk: Int64?,
        mounts: [ProjectMount], workspace: String?, ports: [PortForward], gpu: String?, cuda: String?,
        env: [String: String], provision: ProvisionRecipe, warnings: [String]
    ) {
        self.root = context.root
        self.file = context.file
        self.name = name
        self.base = base
        self.cpus = cpus
        self.memory = memory
        self.disk = disk
        self.mounts = mounts
        self.workspace = workspace
        self.ports = ports
        self.gpu = gpu
        self.cuda = cuda
        self.env = env
        self.provision = provision
        self.warnings = warnings
    }
}
