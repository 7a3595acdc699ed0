import BurrowStore
import Foundation

/// What `burrow up` did.
public struct ProjectLaunch: Sendable {
    public enum Outcome: Sendable { case alreadyRunning, started, created }

    public let environment: EnvironmentRecord
    public let outcome: Outcome
    /// Provisioning steps that ran now; the others came from cached layers.
    public let stepsRun: Int
    public let stepsCached: Int
}

/// Brings a project's environment up: if it exists it is started (or left alone when running);
/// otherwise its image is found or pulled, its provisioning steps are built as a chain of cached
/// layers (each keyed by the recipe up to that step, so an unchanged prefix is reused by any
/// project with the same recipe), and the environment is created on the last layer with the
/// project's folders, ports and variables, then started.
public struct ProjectLauncher: Sendable {
    let service: EnvironmentService
    let home: BurrowHome
    let database: BurrowDatabase
    let hypervisor: Hypervisor
    let runner: ProcessRunner
    let notices: @Sendable (String) -> Void

    public init(service: EnvironmentService, home: BurrowHome, database: BurrowDatabase, hypervisor: Hypervisor,
                runner: ProcessRunner = ProcessRunner(), notices: @escaping @Sendable (String) -> Void) {
        self.service = service
        self.home = home
        self.database = database
        self.hypervisor = hypervisor
        self.runner = runner
        self.notices = notices
    }

    public func up(_ config: ProjectConfig, pullImage: @Sendable (String) async throws -> Void) async throws -> ProjectLaunch {
        if let existing = try database.environment(named: config.name) {
            let running = try hypervisor.state(ofDomain: existing.domainName) == .running
            if !running { try await service.start(config.name) }
            return ProjectLaunch(environment: existing, outcome: running ? .alreadyRunning : .started, stepsRun: 0, stepsCached: 0)
        }
        let imageName = try await image(for: config, pullImage: pullImage)
        guard let image = try database.image(named: imageName), let base = try database.baseImage(digest: image.digest) else {
            throw BurrowError(.notFound, "no image named '\(imageName)'", hint: "Import it: burrow image import \(imageName) TARBALL")
        }
        let kernel = try KernelStore(home: home, runner: runner).current()
        let accelerator = AcceleratorProbe().choose(explicit: nil).accelerator
        let provisioner = GuestProvisioner(home: home, database: database, hypervisor: hypervisor, runner: runner, progress: notices)
        // The recipe's steps go on the image's guest-ready (and, with `cuda:`, CUDA) layer.
        let readyLayer = try await service.environmentLayer(for: base, cuda: config.cuda, kernel: kernel, accelerator: accelerator)

        let steps = config.provision.steps
        let keys = try config.provision.keys(parent: readyLayer ?? base.digest)
        var parentKey = readyLayer
        var ran = 0
        for (index, (step, key)) in zip(steps, keys).enumerated() {
            let layer = LayerRecord(
                key: key, parentDigest: base.digest, parentKey: parentKey, kind: .provisioned,
                purpose: "step \(index + 1) of \(config.name)'s provisioning", createdAt: Date()
            )
            if try provisioner.isBuilt(layer) {
                notices("provisioning step \(index + 1)/\(steps.count): cached")
            } else {
                notices("provisioning step \(index + 1)/\(steps.count): running")
                let parentFile = try home.backingFile(digest: base.digest, layerKey: parentKey, database: database)
                try await provisioner.build(
                    layer, on: parentFile, script: try Self.script(for: step), kernel: kernel, accelerator: accelerator,
                    memoryMiB: 1024, timeout: GuestProvisioner.timeout(accelerator)
                )
                ran += 1
            }
            parentKey = key
        }

        var options = CreateOptions(
            name: config.name, image: imageName, cpus: config.cpus ?? 2, memoryMiB: Int((config.memory ?? (2 << 30)) >> 20), diskBytes: config.disk,
            sharedFolders: config.mounts.map { SharedFolder(host: $0.host, guest: $0.guest, readOnly: $0.readOnly) },
            ports: config.ports.map { PortRule(host: $0.host, guest: $0.guest) }, variables: config.env,
            projectRoot: config.root.path, layerKey: parentKey
        )
        options.gpu = config.gpu
        options.cuda = config.cuda
        let record = try await service.create(options)
        try await service.start(config.name)
        return ProjectLaunch(environment: record, outcome: .created, stepsRun: ran, stepsCached: steps.count - ran)
    }

    /// The image a project names, pulling a catalog distro the first time.
    private func image(for config: ProjectConfig, pullImage: @Sendable (String) async throws -> Void) async throws -> String {
        switch config.base {
        case .image(let name)?:
            return name
        case .distro(let distro)?:
            if try database.image(named: distro) == nil { try await pullImage(distro) }
            return distro
        case nil:
            let distro = ProjectTemplate.defaultDistro
            if try database.image(named: distro) == nil { try await pullImage(distro) }
            return distro
        }
    }

    /// The shell script that performs one step inside the guest (as root, in provisioning mode).
    static func script(for step: ProvisionStep) throws -> String {
        switch step {
        case .run(let text):
            return "set -eu\n" + text + "\n"
        case .script(let file):
            // Carried as a file and run directly, so its own #! line picks the interpreter.
            return "set -eu\n" + (try embed(file.url, at: "/tmp/burrow-step")) + "/tmp/burrow-step\nrm -f /tmp/burrow-step\n"
        case .copy(let file, let destination):
            return "set -eu\nmkdir -p \"$(dirname \(SSHTools.shellQuote(destination)))\"\n" + (try embed(file.url, at: destination))
        }
    }

    /// Shell lines that recreate a host file at `destination` in the guest, mode included.
    static func embed(_ file: URL, at destination: String) throws -> String {
        let data = try Data(contentsOf: file)
        let mode = ((try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? NSNumber)?.intValue ?? 0o644) & 0o7777
        let encoded = data.base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
        let target = SSHTools.shellQuote(destination)
        return "base64 -d > \(target) <<'BURROW_FILE_END'\n\(encoded)\nBURROW_FILE_END\nchmod \(String(mode, radix: 8)) \(target)\n"
    }
}
