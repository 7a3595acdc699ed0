import ArgumentParser
import BurrowCore
import Foundation

struct GPUList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List NVIDIA GPUs, their IOMMU groups and whether each can be passed.",
        discussion: """
            Examples:
              burrow gpu ls
              burrow gpu ls --json | jq '.[] | select(.ready) | .address'
            """,
        aliases: ["list"]
    )

    @Flag(help: "Print the GPUs as a JSON array.") var json = false

    func run() async throws {
        let json = json
        try await runCommand {
            let paths = GPUHostPaths.fromEnvironment()
            let gpus = try GPUInventory.scan(sysfs: paths.sysfs, pciIDs: paths.pciIDs)
            let heldBy = try await CommandContext.open().database.gpuHolders()
            if json {
                print(try JSONOutput.encode(gpus.map { GPUSummary($0, heldBy: heldBy) }))
                return
            }
            guard !gpus.isEmpty else {
                print("No NVIDIA GPU found (looked in \(paths.sysfs.path)/bus/pci/devices).")
                return
            }
            print(Self.render(gpus, heldBy: heldBy))
        }
    }

    /// The table, then each GPU that is not ready with its reasons and fixes.
    static func render(_ gpus: [GPUDevice], heldBy: [PCIAddress: String]) -> String {
        let rows = gpus.map { gpu in
            [
                gpu.address.description, gpu.model, gpu.driver ?? "-", group(gpu),
                gpu.numaNode.map(String.init) ?? "-", gpu.holder(in: heldBy) ?? "-", gpu.isReady ? "ready" : "not ready",
            ]
        }
        var text = Table(header: ["ADDRESS", "MODEL", "DRIVER", "IOMMU GROUP", "NUMA", "HELD BY", "PASSTHROUGH"], rows: rows).render()
        for gpu in gpus where !gpu.isReady {
            text += "\n\n\(gpu.address) is not ready:"
            for problem in gpu.problems {
                text += "\n  - \(problem)\n    fix: \(problem.hint)"
            }
        }
        return text
    }

    /// `12`, or `13 + 0000:65:00.1, 0000:66:00.0` when other functions share it.
    private static func group(_ gpu: GPUDevice) -> String {
        guard let group = gpu.iommuGroup else { return "-" }
        guard !gpu.groupMembers.isEmpty else { return String(group) }
        return "\(group) + " + gpu.groupMembers.map(\.address.description).joined(separator: ", ")
    }
}

/// One GPU as `gpu ls --json` prints it.
struct GPUSummary: Encodable {
    struct Function: Encodable {
        let address: PCIAddress
        let ids: String
        let classCode: String
        let className: String?
        let name: String?
        let driver: String?
        let bar64Bytes: Int64

        init(_ function: PCIFunction) {
            address = function.address
            ids = function.ids
            classCode = function.classHex
            className = function.className
            name = function.name
            driver = function.driver
            bar64Bytes = function.bar64Bytes
        }
    }

    struct Problem: Encodable {
        let reason: String
        let fix: String
    }

    let address: PCIAddress
    let ids: String
    let model: String
    let driver: String?
    /// What the guest's 64-bit PCI window must hold for it (see GPUDomainAdditions).
    let bar64Bytes: Int64
    let iommuGroup: Int?
    let groupMembers: [Function]
    let companions: [Function]
    let numaNode: Int?
    let bootDisplay: Bool
    let heldBy: String?
    let ready: Bool
    let problems: [Problem]

    init(_ gpu: GPUDevice, heldBy: [PCIAddress: String]) {
        address = gpu.address
        ids = gpu.function.ids
        model = gpu.model
        driver = gpu.driver
        bar64Bytes = gpu.function.bar64Bytes
        iommuGroup = gpu.iommuGroup
        groupMembers = gpu.groupMembers.map(Function.init)
        companions = gpu.companions.map(Function.init)
        numaNode = gpu.numaNode
        bootDisplay = gpu.isBootDisplay
        self.heldBy = gpu.holder(in: heldBy)
        ready = gpu.isReady
        problems = gpu.problems.map { Problem(reason: $0.description, fix: $0.hint) }
    }
}
