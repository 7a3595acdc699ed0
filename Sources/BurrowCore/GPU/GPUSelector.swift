/// Which GPUs a guest gets, as whole IOMMU groups.
public struct GPUSelection: Hashable, Sendable {
    public let gpus: [GPUDevice]

    /// Every function to hand the guest: each chosen GPU's group less its bridges, in address order.
    public var functions: [PCIFunction] {
        gpus.flatMap(\.passthroughFunctions).sorted { $0.address < $1.address }
    }
}

/// Turns a `GPURequest` into GPUs that are ready and free, or an error saying which GPUs the
/// request matched and why each one cannot be used.
public enum GPUSelector {
    /// `taken` maps every function address held by an environment to that environment's name;
    /// a GPU counts as taken when any function of its group is held. `.all` takes every free
    /// ready GPU (at least one); a count prefers GPUs on one NUMA node; an address or model
    /// takes one GPU.
    public static func choose(_ request: GPURequest, from inventory: [GPUDevice], taken: [PCIAddress: String]) throws -> GPUSelection {
        guard !inventory.isEmpty else {
            throw BurrowError(.notFound, "cannot attach \(request): no NVIDIA GPU was found on this host", hint: "`burrow gpu doctor` checks the host.")
        }
        let candidates = try matching(request, in: inventory.sorted { $0.address < $1.address })
        let usable = candidates.filter { $0.isReady && $0.holder(in: taken) == nil }
        let wanted: Int = switch request {
        case .all: max(usable.count, 1)
        case let .count(count): count
        case .address, .model: 1
        }
        guard usable.count >= wanted else {
            let reasons = candidates.compactMap { gpu -> String? in
                if let environment = gpu.holder(in: taken) { return "\(gpu.address) is held by environment '\(environment)'" }
                if !gpu.isReady { return "\(gpu.address) is not ready: \(gpu.problems.map(\.description).joined(separator: "; "))" }
                return nil
            }
            let free = "\(usable.count) of \(candidates.count) \(candidates.count == 1 ? "is" : "are") free and ready"
            throw BurrowError(
                .wrongState, "cannot attach \(request): \(free) (\(reasons.joined(separator: "; ")))",
                hint: "`burrow gpu ls` shows every GPU, who holds it and how to make it ready."
            )
        }
        return GPUSelection(gpus: preferringOneNUMANode(usable, count: wanted))
    }

    private static func matching(_ request: GPURequest, in inventory: [GPUDevice]) throws -> [GPUDevice] {
        switch request {
        case .all, .count:
            return inventory
        case let .address(address):
            let found = inventory.filter { $0.address == address }
            guard !found.isEmpty else {
                throw BurrowError(.notFound, "no NVIDIA GPU at \(address)", hint: "GPUs here: \(inventory.map(\.address.description).joined(separator: ", ")).")
            }
            return found
        case let .model(model):
            let found = inventory.filter { $0.model.range(of: model, options: .caseInsensitive) != nil }
            guard !found.isEmpty else {
                let models = Set(inventory.map(\.model)).sorted().joined(separator: ", ")
                throw BurrowError(.notFound, "no GPU model matches '\(model)'", hint: "Models here: \(models).")
            }
            return found
        }
    }

    /// A guest whose GPUs hang off one NUMA node keeps GPU-to-GPU and GPU-to-memory traffic off
    /// the inter-socket link, so the first node (in address order) that can supply them all wins;
    /// otherwise the first GPUs by address.
    private static func preferringOneNUMANode(_ gpus: [GPUDevice], count: Int) -> [GPUDevice] {
        var nodes: [Int?] = []
        for gpu in gpus where !nodes.contains(gpu.numaNode) { nodes.append(gpu.numaNode) }
        for node in nodes {
            let local = gpus.filter { $0.numaNode == node }
            if local.count >= count { return Array(local.prefix(count)) }
        }
        return Array(gpus.prefix(count))
    }
}
