import BurrowStore
import Foundation

/// What `burrow create` asks for.
public struct CreateOptions: Sendable {
    public var name: String
    public var image: String
    public var cpus: Int
    public var memoryMiB: Int
    /// The disk's virtual size; nil keeps the image's size.
    public var diskBytes: Int64?
    public var accelerator: Accelerator?
    /// Host folders to share; relative host paths are not accepted here (callers resolve them).
    public var sharedFolders: [SharedFolder]
    public var ports: [PortRule]
    public var variables: [String: String]
    public var projectRoot: String?
    /// Build the disk on this layer (a provisioned recipe's last layer) instead of the image.
    public var layerKey: String?
    /// `--gpu` as typed (all, a count, a PCI address, a model); GPUs are chosen at each start.
    public var gpu: String?
    /// `--cuda`: the CUDA toolkit version baked into a cached layer under the disk (`12.4`).
    public var cuda: String?

    public init(
        name: String, image: String, cpus: Int = 2, memoryMiB: Int = 2048, diskBytes: Int64? = nil, accelerator: Accelerator? = nil,
        sharedFolders: [SharedFolder] = [], ports: [PortRule] = [], variables: [String: String] = [:], projectRoot: String? = nil, layerKey: String? = nil
    ) {
        self.name = name
        self.image = image
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.diskBytes = diskBytes
        self.accelerator = accelerator
        self.sharedFolders = sharedFolders
        self.ports = ports
        self.variables = variables
        self.projectRoot = projectRoot
        self.layerKey = layerKey
    }
}

/// An environment with the state libvirt reports for it right now.
public struct EnvironmentStatus: Sendable {
    public let record: EnvironmentRecord
    public let state: DomainState
    /// Bytes the environment's own overlay takes on the host (its base image is shared).
    public let diskUsage: Int64
    /// How its shared folders reach the guest; nil without shared folders.
    public let shareDriver: ShareDriver?
}

/// The environment lifecycle: create (one overlay, one seed, one domain, one row), start and
/// wait for SSH, stop cleanly then forcibly, remove everything. Multi-step changes run under a
/// journal entry, so an interrupted create or remove is rolled back by the next command.
public struct EnvironmentService: Sendable {
    let home: BurrowHome
    let database: BurrowDatabase
    let hypervisor: Hypervisor
    let runner: ProcessRunner
    let ssh: SSHTools
    let kernels: KernelStore
    let notices: @Sendable (String) -> Void
    /// Where GPUs are discovered (`BURROW_SYSFS`…); tests point it at fixture trees.
    var gpuHostPaths = GPUHostPaths.fromEnvironment()

    public init(home: BurrowHome, database: BurrowDatabase, hypervisor: Hypervisor, runner: ProcessRunner = ProcessRunner(), notices: @escaping @Sendable (String) -> Void = { _ in }) {
        self.home = home
        self.database = database
        self.hypervisor = hypervisor
        self.runner = runner
        self.ssh = SSHTools(home: home, runner: runner)
        self.kernels = KernelStore(home: home, runner: runner)
        self.notices = notices
    }

    // MARK: - Create

    public func create(_ options: CreateOptions) async throws -> EnvironmentRecord {
        try Names.validate(options.name, what: "environment")
        guard (1...256).contains(options.cpus) else { throw BurrowError(.invalidInput, "--cpus must be between 1 and 256") }
        guard options.memoryMiB >= 256 else { throw BurrowError(.invalidInput, "--memory must be at least 256M") }
        try Self.validateGPUOptions(options)
        let lock = try await home.lockEnvironment(options.name)
        defer { lock.release() }
        if try database.environment(named: options.name) != nil { throw Self.exists(options.name) }
        guard let image = try database.image(named: options.image), let base = try database.baseImage(digest: image.digest) else {
            throw BurrowError(.notFound, "no image named '\(options.image)'", hint: "Import one first: burrow image pull debian-12 (or burrow image import NAME TARBALL)")
        }
        let kernel = try kernels.current()
        let verdict = AcceleratorProbe().choose(explicit: options.accelerator)
        if verdict.accelerator == .tcg, let reason = verdict.reason { announceTCGOnce(reason) }
        let identity = GuestIdentity.current()
        try identity.validate()
        let userKey = try await ssh.ensureUserKey()

        let scratch = try home.makeScratchDirectory(purpose: "create")
        defer { scratch.release() }
        let operation = try database.beginOperation(kind: "create", subject: options.name, scratchPath: scratch.url.path)
        defer { try? database.endOperation(operation) }

        try Self.validateShares(options.sharedFolders)
        try validatePorts(options.ports, for: options.name)
        let layerKey: String?
        if let projectLayer = options.layerKey {
            layerKey = projectLayer
        } else {
            layerKey = try await environmentLayer(for: base, cuda: options.cuda, kernel: kernel, accelerator: verdict.accelerator)
        }
        let record = try claimName(options, image: image, identity: identity, accelerator: verdict.accelerator, layerKey: layerKey)
        CrashPoint.reach("create.claimed")
        do {
            let backing = try home.backingFile(digest: base.digest, layerKey: layerKey, database: database)
            try await makeDisk(id: record.diskID, on: backing, size: max(options.diskBytes ?? 0, base.virtualSize))
            CrashPoint.reach("create.disk-made")
            try await giveIdentity(to: record, kernel: kernel, userKey: userKey)
            return record
        } catch {
            try? rollBack(record)
            throw error
        }
    }

    /// Inserts the row first: the store's unique constraints decide races on the name and port.
    /// A new writable qcow2 overlay `disks/<id>.qcow2` on `backing`; `size` nil keeps the backing size.
    func makeDisk(id: String, on backing: URL, size: Int64?) async throws {
        try FileManager.default.createDirectory(at: home.disks, withIntermediateDirectories: true)
        try await runner.run(
            "qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", backing.path, home.diskPath(id: id).path] + (size.map { [String($0)] } ?? []),
            what: "creating a disk"
        )
    }

    func claimName(_ options: CreateOptions, image: ImageRecord, identity: GuestIdentity, accelerator: Accelerator, layerKey: String?) throws -> EnvironmentRecord {
        for _ in 0..<20 {
            guard let port = PortPicker.candidate(excluding: try database.usedSSHPorts()) else {
                throw BurrowError(.failure, "no free TCP port on 127.0.0.1 in \(PortPicker.range)")
            }
            let record = EnvironmentRecord(
                name: options.name, imageName: image.name, domainName: home.domainName(for: options.name), connectURI: hypervisor.uri,
                cpus: options.cpus, memoryMiB: options.memoryMiB, diskBytes: options.diskBytes ?? 0, sshPort: port,
                macAddress: Self.randomMAC(), guestUser: identity.user, guestUID: identity.uid, guestGID: identity.gid,
                accelerator: accelerator.rawValue, diskID: Self.newDiskID(), layerKey: layerKey,
                sharedFolders: options.sharedFolders, ports: options.ports, variables: options.variables, projectRoot: options.projectRoot,
                createdAt: Date(), gpuRequest: options.gpu
            )
            do {
                try database.insertEnvironment(record)
                return record
            } catch StoreError.environmentExists {
                throw Self.exists(options.name)
            } catch StoreError.portTaken {
                continue
            }
        }
        throw BurrowError(.failure, "could not reserve an SSH port after 20 tries")
    }

    func domainSpec(for record: EnvironmentRecord, kernel: KernelCore, paths: EnvironmentPaths) -> DomainSpec {
        let systemMode = hypervisor.uri.hasSuffix("/system")
        // qemu runs as burrow's user either way: under system through `runAs`, under session
        // as the session daemon's user.
        let qemuUser = ProcessOwner(uid: Int(getuid()), gid: Int(getgid()))
        let accelerator = Accelerator(rawValue: record.accelerator) ?? .tcg
        var spec = DomainSpec(
            name: record.domainName, environment: record.name, memoryMiB: record.memoryMiB, cpus: record.cpus, accelerator: accelerator,
            kernel: kernel.bootKernel.path, initrd: kernel.initrd.path, kernelArguments: Self.kernelArguments(for: accelerator),
            disks: [
                DiskSpec(path: home.diskPath(id: record.diskID).path, format: .qcow2, serial: "burrow-root", readOnly: false),
                DiskSpec(path: kernel.modulesImage.path, format: .raw, serial: "burrow-modules", readOnly: true),
                DiskSpec(path: paths.seed.path, format: .raw, serial: "burrow-seed", readOnly: true),
            ],
            sshPort: record.sshPort, macAddress: record.macAddress, consoleLog: paths.consoleLog.path,
            runAs: systemMode ? qemuUser : nil
        )
        spec.filesystems = record.sharedFolders.enumerated().map { FilesystemSpec(hostPath: $1.host, tag: Self.shareTag($0), readOnly: $1.readOnly) }
        spec.shareDriver = ShareDriver.choose(uri: hypervisor.uri)
        spec.shareAccess = spec.shareDriver.access(qemuUID: qemuUser.uid)
        spec.forwardedPorts = record.ports
        return spec
    }

    /// The guest's fstab lines for an environment's shared folders.
    func fstabLines(for record: EnvironmentRecord) -> [String] {
        let driver = ShareDriver.choose(uri: hypervisor.uri)
        return record.sharedFolders.enumerated().map { driver.fstabLine(tag: Self.shareTag($0), guestPath: $1.guest, readOnly: $1.readOnly) }
    }

    static func shareTag(_ index: Int) -> String { "burrow\(index)" }

    static func validateShares(_ folders: [SharedFolder]) throws {
        for folder in folders {
            var isDirectory: ObjCBool = false
            guard folder.host.hasPrefix("/"), FileManager.default.fileExists(atPath: folder.host, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw BurrowError(.invalidInput, "cannot share \(folder.host): it is not an existing folder", hint: "Give an absolute path to a folder, e.g. --mount \"$PWD:/src\".")
            }
            // The seed's files hold one share a line, and a guest shell would meet any control character.
            guard folder.guest.hasPrefix("/"), folder.guest != "/", !folder.guest.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw BurrowError(.invalidInput, "'\(TerminalText.sanitized(folder.guest))' is not a usable guest path", hint: "Use an absolute path other than /, without control characters (tabs, newlines).")
            }
        }
    }

    /// A forwarded host port must not be another environment's SSH port, nor (`againstForwards`)
    /// forwarded by another environment, nor (when `checkFree`) held by any other program right
    /// now. A start passes `againstForwards: false`: it has left out the forwards of guests that
    /// are up, and those of stopped ones conflict with nothing until they start.
    func validatePorts(_ ports: [PortRule], for name: String, checkFree: Bool = true, againstForwards: Bool = true) throws {
        let others = try database.allEnvironments().filter { $0.name != name }
        let forwarding = againstForwards ? others : []
        for rule in ports {
            guard (1...65535).contains(rule.host), (1...65535).contains(rule.guest) else {
                throw BurrowError(.invalidInput, "port \(rule.host):\(rule.guest) is out of range", hint: "Ports go from 1 to 65535.")
            }
            if let holder = others.first(where: { $0.sshPort == rule.host }) ?? forwarding.first(where: { $0.ports.contains { $0.host == rule.host } }) {
                throw BurrowError(.wrongState, "host port \(rule.host) is already forwarded to environment '\(holder.name)'", hint: "Choose another host port.")
            }
            if checkFree, !PortPicker.isFree(rule.host) {
                throw BurrowError(.wrongState, "host port \(rule.host) on 127.0.0.1 is taken by another program", hint: "Stop that program or choose another port (ss -ltnp shows who holds it).")
            }
        }
    }

    /// The guest kernel's command line. Drivers for emulated hardware a burrow guest never uses
    /// (floppy, IDE and SATA controllers, the PC speaker, the SMBus) are kept from loading,
    /// which otherwise costs seconds of an emulated boot; under TCG so is KVM, which cannot
    /// run nested there. Masked units: e2scrub_reap serves LVM snapshots, which burrow guests do
    /// not have; the early module loads are of modules that load on demand (loop and dm_mod
    /// through their device nodes, drm with a GPU's driver) or that need EFI (efi_pstore),
    /// which a direct kernel boot has none of — each costs an emulated boot a tenth of a second.
    /// The crypto self-tests (0.2 s of an emulated kernel start) check algorithm implementations
    /// of a distribution kernel that its builders tested; fips=1 still runs them.
    /// `burrow.emulated=1` tells burrow's /init that the CPU is emulated, where it starts sshd
    /// without its per-connection re-exec (see Templates/initramfs/init). An emulated CPU also
    /// gets `mitigations=off`: TCG models no branch predictor and no speculation, so the
    /// Spectre defences the kernel applies by default (retpolines, return-buffer stuffing at
    /// each context switch, barriers after swapgs) are ordinary emulated instructions there,
    /// which defend nothing and cost time. Under KVM the guest runs on the real CPU and keeps them.
    static func kernelArguments(for accelerator: Accelerator) -> String {
        let unused = ["floppy", "ata_piix", "ata_generic", "pata_acpi", "ahci", "i2c_piix4", "pcspkr"] + (accelerator == .tcg ? ["kvm_amd", "kvm_intel", "kvm"] : [])
        let masked = ["e2scrub_reap.service"] + ["drm", "efi_pstore", "dm_mod", "loop"].map { "modprobe@\($0).service" }
        return "console=ttyS0 quiet loglevel=3 rw panic=10 cryptomgr.notests systemd.show_status=false modprobe.blacklist=\(unused.joined(separator: ","))"
            + masked.map { " systemd.mask=\($0)" }.joined()
            + (accelerator == .tcg ? " burrow.emulated=1 mitigations=off" : "")
    }

    // MARK: - Start, stop

    /// Starts (or resumes) the environment if needed and waits until its sshd answers; every login
    /// that follows checks the pinned host key.
    @discardableResult
    public func start(_ name: String, timeout: TimeInterval? = nil) async throws -> EnvironmentRecord {
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        let record = try existing(name)
        let state = try hypervisor.state(ofDomain: record.domainName)
        switch state {
        case nil:
            throw BurrowError(.failure, "environment '\(name)' has no libvirt domain", hint: "Recreate it: burrow rm \(name) && burrow create \(name) --image \(record.imageName)")
        case .running?:
            // An open shared connection means sshd is up: knocking again would cost the guest a
            // forked sshd on every exec.
            let check = try? await runner.runAllowingFailure("ssh", ssh.sharedConnectionCheckArguments(environment: name))
            if check?.status == 0 { return record }
        case .paused?:
            throw BurrowError(.wrongState, "environment '\(name)' is paused", hint: "Resume it with: virsh -c \(record.connectURI) resume \(record.domainName)")
        case .stopping?:
            throw BurrowError(.wrongState, "environment '\(name)' is shutting down", hint: "Wait for it to stop, then start it again.")
        case .stopped?, .crashed?, .starting?:
            let booted = try withoutPortsOfGuestsUp(record)
            try validatePorts(booted.ports, for: name, againstForwards: false)
            // The client config as this burrow writes it, whichever burrow wrote it last.
            try writeSSHConfig()
            try await startHoldingGPUs(booted)
        case .suspended?:
            try writeSSHConfig()
            try hypervisor.start(domain: record.domainName)
            // The restored sshd is normally listening already, so the first try goes straight
            // to its login; one saved mid-boot needs the wait.
            do {
                try await restoreAfterSave(record, connectTimeout: 5)
            } catch {
                try await waitForSSH(record, timeout: timeout ?? Self.bootTimeout(for: record))
                try await restoreAfterSave(record)
            }
            return record
        }
        try await waitForSSH(record, timeout: timeout ?? Self.bootTimeout(for: record), booting: state != .running)
        return record
    }

    /// `record` without the forwards whose host port another environment's running guest holds
    /// (a clone shares its source's ports, and a host port reaches one guest): this boot goes
    /// without them, and a later one takes them once they are free.
    private func withoutPortsOfGuestsUp(_ record: EnvironmentRecord) throws -> EnvironmentRecord {
        let holders = try database.allEnvironments().filter { $0.name != record.name }.filter(isUp)
        var booted = record
        booted.ports = record.ports.filter { rule in
            guard let holder = holders.first(where: { $0.ports.contains { $0.host == rule.host } }) else { return true }
            notices("\(record.name) starts without 127.0.0.1:\(rule.host), which running environment '\(holder.name)' forwards; it comes back at a start after \(holder.name) stops")
            return false
        }
        return booted
    }

    /// Whether the environment's guest is up (or saved, and so coming back with its forwards).
    private func isUp(_ record: EnvironmentRecord) throws -> Bool {
        guard let state = try hypervisor.state(ofDomain: record.domainName) else { return false }
        return state != .stopped && state != .crashed
    }

    /// Shuts the guest down cleanly, waiting up to `timeout`, then forces it off.
    public func stop(_ name: String, force: Bool = false, timeout: TimeInterval? = nil) async throws {
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        let record = try existing(name)
        defer { releaseGPUsIfOff(record) }
        guard let state = try hypervisor.state(ofDomain: record.domainName), state == .running || state == .paused || state == .stopping else { return }
        if !force {
            // The guest's own poweroff is the most reliable clean path; ACPI is the fallback for
            // guests whose sshd is not answering.
            _ = try? await runner.runAllowingFailure("ssh", ssh.batchArguments(environment: name, connectTimeout: 5) + ["sudo -n poweroff || poweroff"])
            try? hypervisor.requestShutdown(domain: record.domainName)
            let deadline = Date().addingTimeInterval(timeout ?? Self.stopTimeout(for: record))
            while Date() < deadline {
                if try hypervisor.state(ofDomain: record.domainName) == .stopped { return }
                try await Task.sleep(nanoseconds: 500_000_000)
            }
            notices("\(name) did not shut down in time; forcing it off")
        }
        try hypervisor.destroy(domain: record.domainName)
    }

    // MARK: - Remove

    public func remove(_ name: String, force: Bool) async throws {
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        let record = try existing(name)
        if let state = try hypervisor.state(ofDomain: record.domainName), state != .stopped {
            guard force else {
                throw BurrowError(.wrongState, "environment '\(name)' is \(state.rawValue)", hint: "Stop it first (burrow stop \(name)) or use burrow rm --force \(name).")
            }
            try hypervisor.destroy(domain: record.domainName)
        }
        let scratch = try home.makeScratchDirectory(purpose: "remove")
        defer { scratch.release() }
        let operation = try database.beginOperation(kind: "remove", subject: name, scratchPath: scratch.url.path)
        defer { try? database.endOperation(operation) }
        try rollBack(record)
    }

    /// Finishes what killed burrow processes left half-done: an interrupted create is rolled
    /// back, an interrupted remove is completed, a provisioning guest is discarded. Returns one
    /// line per action. Operations whose process still runs are left alone.
    @discardableResult
    public func recoverInterruptedOperations() throws -> [String] {
        var actions: [String] = []
        for operation in try database.openOperations() where operation.kind != "import" {
            guard let scratch = operation.scratchPath, !home.isScratchDirectoryInUse(URL(fileURLWithPath: scratch)) else { continue }
            // The list was read before the scratch check: an owner that finished in between has
            // ended its operation, and undoing a finished create would delete a whole environment.
            guard try database.claimOperation(operation) else { continue }
            do {
                actions.append(try undo(operation))
            } catch {
                // Journalled again, so a later command tries once more.
                _ = try? database.beginOperation(kind: operation.kind, subject: operation.subject, scratchPath: operation.scratchPath)
                throw error
            }
        }
        return actions
    }

    /// Undoes one interrupted operation; returns what was done.
    private func undo(_ operation: OperationRecord) throws -> String {
        switch operation.kind {
        case "create", "remove":
            if let record = try database.environment(named: operation.subject) {
                try rollBack(record)
            } else if Names.isValid(operation.subject) {
                try? FileManager.default.removeItem(at: EnvironmentPaths(home: home, name: operation.subject).directory)
            }
            return operation.kind == "create" ? "rolled back the interrupted create of \(operation.subject)" : "finished removing \(operation.subject)"
        case "provision":
            let domain = GuestProvisioner.domainName(home: home, key: operation.subject)
            try? hypervisor.destroy(domain: domain)
            try hypervisor.undefine(domain: domain)
            return "discarded an interrupted provisioning run"
        default:
            return "closed an unknown interrupted operation \(operation.kind)"
        }
    }

    /// Undoes everything a create made, in reverse order; tolerant of parts that never existed.
    func rollBack(_ record: EnvironmentRecord) throws {
        if try hypervisor.state(ofDomain: record.domainName) != nil {
            try hypervisor.destroy(domain: record.domainName)
            try hypervisor.undefine(domain: record.domainName)
        }
        CrashPoint.reach("remove.undefined")
        let directory = EnvironmentPaths(home: home, name: record.name).directory
        if FileManager.default.fileExists(atPath: directory.path) {
            try FileManager.default.removeItem(at: directory)
        }
        try? FileManager.default.removeItem(at: home.diskPath(id: record.diskID))
        CrashPoint.reach("remove.files-deleted")
        try database.deleteEnvironment(named: record.name)
        try releaseUnusedLayers()
        try writeSSHConfig()
    }

    /// Deletes frozen layers (from clones and snapshots) that nothing is built on any more.
    func releaseUnusedLayers() throws {
        for key in try database.releaseUnusedFrozenLayers() {
            try? FileManager.default.removeItem(at: home.diskPath(id: key))
        }
    }

    // MARK: - Queries

    public func list() throws -> [EnvironmentStatus] {
        try database.allEnvironments().map(status)
    }

    /// The environment's live state (asked of libvirt), disk use and share driver.
    public func status(_ record: EnvironmentRecord) throws -> EnvironmentStatus {
        EnvironmentStatus(
            record: record, state: try hypervisor.state(ofDomain: record.domainName) ?? .stopped,
            diskUsage: Self.allocatedBytes(home.diskPath(id: record.diskID)),
            shareDriver: record.sharedFolders.isEmpty ? nil : ShareDriver.choose(uri: hypervisor.uri)
        )
    }

    public func existing(_ name: String) throws -> EnvironmentRecord {
        guard let record = try database.environment(named: name) else {
            let known = try database.allEnvironments().map(\.name)
            throw BurrowError(.notFound, "no environment named '\(name)'", hint: known.isEmpty ? "Create one: burrow create \(name) --image IMAGE" : "Known: \(known.joined(separator: ", "))")
        }
        return record
    }

    /// The hypervisor this service drives, for use cases built on top of it.
    public var hypervisorHandle: Hypervisor { hypervisor }

    public func writeSSHConfig() throws {
        let blocks = try database.allEnvironments().map { record in
            ssh.hostBlock(environment: record.name, port: record.sshPort, user: record.guestUser, knownHosts: EnvironmentPaths(home: home, name: record.name).knownHosts)
        }
        try ssh.writeConfig(blocks: blocks)
    }

    // MARK: - Helpers

    /// Waits until the guest's sshd sends its banner. A probe refused while sshd is not listening
    /// costs the guest nothing and no probe logs in, so probing is frequent: the wait ends
    /// within a fraction of a second of sshd listening.
    /// `booting`: this start booted the guest, so its console (written afresh at each start)
    /// will say when the guest's network is up, and the probe waits for that.
    private func waitForSSH(_ record: EnvironmentRecord, timeout: TimeInterval, booting: Bool = false) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        let console = EnvironmentPaths(home: home, name: record.name).consoleLog
        let probe = SSHBannerProbe(port: record.sshPort, networkUp: booting ? { Self.consoleSaysNetworkUp(console) } : nil)
        while true {
            try Task.checkCancellation()
            if probe.answered(within: 1) { return }
            if let reason = Self.initFailure(inConsole: console) {
                throw BurrowError(
                    .failure, "environment '\(record.name)' cannot boot: \(reason)\(consoleTail(console))",
                    hint: "burrow's initramfs left a shell on the console (virsh -c \(record.connectURI) console \(record.domainName)); stop it with: burrow stop --force \(record.name)"
                )
            }
            let state = try hypervisor.state(ofDomain: record.domainName)
            if state != .running {
                throw BurrowError(.failure, "environment '\(record.name)' stopped while booting (\(state?.rawValue ?? "gone"))\(consoleTail(console))", hint: "See the whole console with: burrow logs \(record.name)")
            }
            if Date() >= deadline {
                throw BurrowError(.failure, "environment '\(record.name)' did not answer on SSH within \(Int(timeout)) s\(consoleTail(console))", hint: "Raise BURROW_BOOT_TIMEOUT, or see the console: burrow logs \(record.name)")
            }
        }
    }

    /// Whether the console holds the line burrow's `/init` prints once the network is configured.
    static func consoleSaysNetworkUp(_ console: URL) -> Bool {
        guard let text = try? Data(contentsOf: console) else { return false }
        return text.range(of: Data("BURROW-NETWORK-UP".utf8)) != nil
    }

    /// The reason burrow's `/init` gave on the console for not booting (its `BURROW-INIT-FAILED`
    /// line); the console is written afresh at each start, so it is this boot's.
    static func initFailure(inConsole console: URL) -> String? {
        guard let data = try? Data(contentsOf: console) else { return nil }
        let marker = "BURROW-INIT-FAILED"
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) where line.hasPrefix(marker) {
            return TerminalText.sanitized(line.dropFirst(marker.count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// The console's last lines, fit to print (see `TerminalText`).
    private func consoleTail(_ console: URL) -> String {
        let lines = TerminalText.lastLines(of: console, count: 8)
        return lines.isEmpty ? "" : "; console ends with:\n  " + lines.joined(separator: "\n  ")
    }

    private func announceTCGOnce(_ reason: String) {
        let marker = home.root.appendingPathComponent(".tcg-notice")
        guard !FileManager.default.fileExists(atPath: marker.path) else { return }
        _ = FileManager.default.createFile(atPath: marker.path, contents: Data(reason.utf8))
        notices("KVM is not usable (\(reason)); guests run under TCG emulation, which is much slower. Force a choice with --accel.")
    }

    static func bootTimeout(for record: EnvironmentRecord) -> TimeInterval {
        seconds(from: "BURROW_BOOT_TIMEOUT") ?? (record.accelerator == Accelerator.kvm.rawValue ? 120 : 600)
    }

    static func stopTimeout(for record: EnvironmentRecord) -> TimeInterval {
        seconds(from: "BURROW_STOP_TIMEOUT") ?? (record.accelerator == Accelerator.kvm.rawValue ? 30 : 120)
    }

    private static func seconds(from variable: String) -> TimeInterval? {
        ProcessInfo.processInfo.environment[variable].flatMap(TimeInterval.init)
    }

    static func exists(_ name: String) -> BurrowError {
        BurrowError(.wrongState, "an environment named '\(name)' already exists", hint: "Choose another name, or remove it: burrow rm \(name)")
    }

    static func newDiskID() -> String {
        UUID().uuidString.lowercased()
    }

    static func randomMAC() -> String {
        "52:54:00:" + (0..<3).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined(separator: ":")
    }

    /// Blocks actually allocated on the host (qcow2 files are sparse).
    public static func allocatedBytes(_ url: URL) -> Int64 {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return 0 }
        return Int64(info.st_blocks) * 512
    }
}
