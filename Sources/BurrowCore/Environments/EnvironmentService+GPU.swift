import BurrowStore
import Foundation

/// GPUs and CUDA in the environment lifecycle. An environment keeps its `--gpu` request; the
/// GPUs themselves are chosen at each start, as whole IOMMU groups, and recorded one row per
/// PCI function in the `gpuAssignment` table, whose primary key keeps two environments from
/// ever holding one function. They are given back when the domain is off: at stop, after a
/// failed start, with the environment's row, or when another start finds its holder idle.
extension EnvironmentService {
    /// Checks `--gpu` and `--cuda` before create makes anything.
    static func validateGPUOptions(_ options: CreateOptions) throws {
        if let gpu = options.gpu { _ = try GPURequest(parsing: gpu) }
        if let cuda = options.cuda { try CUDAVersion.validate(cuda) }
    }

    /// The layer a new environment's disk is built on: the image's guest-ready layer, and the
    /// CUDA layer above it when `cuda` names a version. Both are built once and cached.
    public func environmentLayer(for base: BaseImageRecord, cuda: String?, kernel: KernelCore, accelerator: Accelerator) async throws -> String? {
        let provisioner = GuestProvisioner(home: home, database: database, hypervisor: hypervisor, runner: runner, progress: notices)
        let cudaTemplate = try cuda.map { _ in try GuestProvisioner.cudaTemplate(for: base) }
        let ready = try await provisioner.guestReadyLayer(for: base, kernel: kernel, accelerator: accelerator)
        guard let cuda, let cudaTemplate else { return ready }
        return try await provisioner.cudaLayer(version: cuda, template: cudaTemplate, on: ready, base: base, kernel: kernel, accelerator: accelerator)
    }

    /// Defines the domain afresh on the newest kernel core and starts it. An environment with a
    /// GPU request first gets free ready GPUs: choosing them, recording them and redefining the
    /// domain with them happen in one store transaction, so of two environments starting at once
    /// only one can get a group and the other is told who holds it. If the domain then fails to
    /// start, the GPUs are given back.
    func startHoldingGPUs(_ record: EnvironmentRecord) async throws {
        // Every cold boot takes the newest kernel core and this burrow's /init, the way WSL's
        // distributions boot an updated kernel at their next start.
        let kernel = try kernels.current()
        guard let text = record.gpuRequest else {
            try define(record, kernel: kernel)
            return try hypervisor.start(domain: record.domainName)
        }
        let request = try GPURequest(parsing: text)
        let inventory = try GPUInventory.scan(sysfs: gpuHostPaths.sysfs, pciIDs: gpuHostPaths.pciIDs)
        for holder in try idleGPUAssignments().keys where holder != record.name {
            _ = try await releaseIdleGPUs(of: holder)
        }
        do {
            try database.assignGPUFunctions(to: record.name) { held in
                try GPUSelector.choose(request, from: inventory, taken: BurrowDatabase.gpuHolders(from: held)).functions.map(\.address.description)
            } commit: { addresses in
                let scanned = Dictionary(inventory.flatMap(\.passthroughFunctions).map { ($0.address.description, $0) }, uniquingKeysWith: { first, _ in first })
                let additions = GPUDomainAdditions(passing: addresses.compactMap { scanned[$0] }, guestMemoryBytes: Int64(record.memoryMiB) << 20)
                try define(record, kernel: kernel, gpu: additions)
            }
        } catch let StoreError.gpuFunctionHeld(address, holder) {
            throw BurrowError(
                .wrongState, "cannot attach \(request) to '\(record.name)': \(address) is held by environment '\(holder)'",
                hint: "`burrow gpu ls` shows every GPU and who holds it; stop the holder (burrow stop \(holder)) to free it."
            )
        }
        do {
            try hypervisor.start(domain: record.domainName)
        } catch {
            releaseGPUsIfOff(record)
            throw error
        }
    }

    /// Gives back the GPUs of an environment whose domain is off (or gone). Never throws: it runs
    /// as stop finishes, whichever way stop finishes; a failure is announced, and `doctor --fix`
    /// or the next start of another environment catches up.
    func releaseGPUsIfOff(_ record: EnvironmentRecord) {
        guard record.gpuRequest != nil else { return }
        do {
            guard Self.isOff(try hypervisor.state(ofDomain: record.domainName)) else { return }
            try database.releaseGPUFunctions(of: record.name)
        } catch {
            notices("could not give back the GPUs of \(record.name) (\(error)); burrow doctor --fix releases them")
        }
    }

    /// GPU functions held by environments whose domain is not running, by environment: left by
    /// a guest that powered itself off, a boot that failed, or a burrow process that was killed.
    func idleGPUAssignments() throws -> [String: [String]] {
        var idle: [String: [String]] = [:]
        for row in try database.gpuAssignments() {
            let domain = try database.environment(named: row.environment)?.domainName
            if try Self.isOff(domain.flatMap { try hypervisor.state(ofDomain: $0) }) {
                idle[row.environment, default: []].append(row.address)
            }
        }
        return idle
    }

    /// Releases the GPUs of `environment` if its domain is off and no burrow command is working
    /// on it (one that is starting it holds its lock and must keep them). Returns whether it did.
    func releaseIdleGPUs(of environment: String) async throws -> Bool {
        guard let lock = try? await home.lockEnvironment(environment, timeout: 0) else { return false }
        defer { lock.release() }
        let domain = try database.environment(named: environment)?.domainName
        guard try Self.isOff(domain.flatMap { try hypervisor.state(ofDomain: $0) }) else { return false }
        try database.releaseGPUFunctions(of: environment)
        return true
    }

    /// GPU environments cannot be suspended: a passed-through device's state is not part of
    /// what libvirt saves.
    static func refuseSuspendingGPUs(_ record: EnvironmentRecord) throws {
        guard record.gpuRequest == nil else {
            throw BurrowError(
                .wrongState, "environment '\(record.name)' has a GPU passed through and cannot be suspended",
                hint: "A GPU's memory and state cannot be saved with the guest's. Stop it instead: burrow stop \(record.name)"
            )
        }
    }

    private static func isOff(_ state: DomainState?) -> Bool {
        switch state {
        case .running?, .paused?, .stopping?, .starting?: false
        case nil, .stopped?, .crashed?, .suspended?: true
        }
    }
}

extension BurrowDatabase {
    /// Who holds each GPU function, for `burrow gpu ls`.
    public func gpuHolders() throws -> [PCIAddress: String] {
        Self.gpuHolders(from: Dictionary(try gpuAssignments().map { ($0.address, $0.environment) }, uniquingKeysWith: { first, _ in first }))
    }

    /// The store keeps addresses as text; `GPUSelector` takes them parsed.
    static func gpuHolders(from held: [String: String]) -> [PCIAddress: String] {
        Dictionary(held.compactMap { address, holder in PCIAddress(address).map { ($0, holder) } }, uniquingKeysWith: { first, _ in first })
    }
}
