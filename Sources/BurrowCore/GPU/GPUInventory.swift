import Foundation

/// Finds NVIDIA GPUs in a sysfs tree and judges each for passthrough. Reads only; never binds,
/// unbinds or loads anything.
public enum GPUInventory {
    /// Every NVIDIA display-class function under `sysfs/bus/pci/devices`, in address order.
    /// `pciIDs` names the PCI ids database used for model names (nil: ids only). Throws when
    /// the tree has no PCI devices folder at all, which means a wrong `BURROW_SYSFS`.
    public static func scan(sysfs: URL, pciIDs: URL?) throws -> [GPUDevice] {
        let tree = SysfsTree(root: sysfs)
        let addresses = try tree.pciAddresses()
        let raw = try addresses.map(tree.function(at:))
        guard raw.contains(where: \.isNVIDIADisplay) else { return [] }

        let database = try pciIDs.map { try PCIIDDatabase(contentsOf: $0, vendors: Set(raw.map(\.vendorID))) } ?? .empty
        let named = raw.map { $0.named(by: database) }
        let functions = Dictionary(named.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        let iommuActive = iommuGroupCount(sysfs: sysfs) > 0
        let vfioPresent = vfioPCIEvidence(sysfs: sysfs) != nil

        return try named.filter(\.isNVIDIADisplay).map { gpu in
            let group = tree.iommuGroup(of: gpu.address)
            let members: [PCIFunction] = try group.map { group in
                try tree.iommuGroupMembers(group).filter { $0 != gpu.address }.map { address -> PCIFunction in
                    guard let member = functions[address] else {
                        throw BurrowError(.failure, "IOMMU group \(group) lists \(address), which is not under \(sysfs.path)/bus/pci/devices")
                    }
                    return member
                }
            } ?? []
            let isBootDisplay = tree.read(gpu.address, "boot_vga") == "1"

            var problems: [GPUProblem] = []
            if !iommuActive || group == nil { problems.append(.iommuOff) }
            let strangers = members.filter { !$0.isPCIBridge && !$0.address.isSameSlot(as: gpu.address) }
            if let group, !strangers.isEmpty { problems.append(.groupShared(group: group, with: strangers)) }
            if isBootDisplay, let driver = gpu.driver, driver != "vfio-pci" { problems.append(.hostDisplay(driver: driver)) }
            if !vfioPresent { problems.append(.vfioMissing) }

            return GPUDevice(
                function: gpu,
                model: database.deviceName(vendor: gpu.vendorID, device: gpu.deviceID) ?? "NVIDIA \(gpu.ids)",
                iommuGroup: group,
                groupMembers: members,
                companions: functions.values.filter { $0.address != gpu.address && $0.address.isSameSlot(as: gpu.address) }
                    .sorted { $0.address < $1.address },
                numaNode: tree.read(gpu.address, "numa_node").flatMap(Int.init).flatMap { $0 < 0 ? nil : $0 },
                isBootDisplay: isBootDisplay,
                problems: problems
            )
        }
    }

    /// How many IOMMU groups the kernel made: none means the IOMMU is off.
    public static func iommuGroupCount(sysfs: URL) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: sysfs.appendingPathComponent("kernel/iommu_groups").path)) ?? []).count
    }

    /// The sysfs path showing vfio-pci is loaded (its module or its driver), nil when neither is.
    public static func vfioPCIEvidence(sysfs: URL) -> String? {
        ["module/vfio_pci", "bus/pci/drivers/vfio-pci"].map { sysfs.appendingPathComponent($0).path }
            .first { FileManager.default.fileExists(atPath: $0) }
    }
}

private extension PCIFunction {
    var isNVIDIADisplay: Bool { vendorID == Self.nvidiaVendorID && isDisplayController }

    func named(by database: PCIIDDatabase) -> PCIFunction {
        let device = database.deviceName(vendor: vendorID, device: deviceID)
        let name = device.map { device in database.vendorName(vendorID).map { "\($0) \(device)" } ?? device }
        return PCIFunction(
            address: address, vendorID: vendorID, deviceID: deviceID, classCode: classCode, driver: driver, name: name,
            className: database.className(classCode), bar64Bytes: bar64Bytes
        )
    }
}

/// Reads the few sysfs files and links discovery needs. Device folders are reached through
/// `bus/pci/devices/<address>`, which the kernel makes symlinks and fixtures may make folders.
private struct SysfsTree {
    let root: URL

    private var devices: URL { root.appendingPathComponent("bus/pci/devices") }
    private var iommuGroups: URL { root.appendingPathComponent("kernel/iommu_groups") }

    func pciAddresses() throws -> [PCIAddress] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: devices.path)
        } catch {
            throw BurrowError(.notFound, "cannot list PCI devices in \(devices.path)", hint: "Set BURROW_SYSFS to a sysfs root (default /sys), or unset it.")
        }
        return names.compactMap(PCIAddress.init).sorted()
    }

    func function(at address: PCIAddress) throws -> PCIFunction {
        func hex(_ file: String) throws -> UInt32 {
            guard let text = read(address, file), let value = UInt32(text.replacingOccurrences(of: "0x", with: ""), radix: 16) else {
                throw BurrowError(.failure, "cannot read \(devices.path)/\(address)/\(file)")
            }
            return value
        }
        return PCIFunction(
            address: address,
            vendorID: UInt16(truncatingIfNeeded: try hex("vendor")),
            deviceID: UInt16(truncatingIfNeeded: try hex("device")),
            classCode: try hex("class"),
            driver: linkTarget(address, "driver"),
            bar64Bytes: read(address, "resource").map(PCIFunction.bar64Bytes(resourceFile:)) ?? 0
        )
    }

    /// A small attribute file's trimmed contents, nil when it does not exist.
    func read(_ address: PCIAddress, _ file: String) -> String? {
        let url = devices.appendingPathComponent(address.description).appendingPathComponent(file)
        return (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The last component of where a symlink points (`driver -> ../../../bus/pci/drivers/nvidia`
    /// gives `nvidia`), nil when there is no link.
    func linkTarget(_ address: PCIAddress, _ link: String) -> String? {
        let path = devices.appendingPathComponent(address.description).appendingPathComponent(link).path
        return (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map { URL(fileURLWithPath: $0).lastPathComponent }
    }

    func iommuGroup(of address: PCIAddress) -> Int? {
        linkTarget(address, "iommu_group").flatMap(Int.init)
    }

    func iommuGroupMembers(_ group: Int) throws -> [PCIAddress] {
        let folder = iommuGroups.appendingPathComponent("\(group)/devices")
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder.path).compactMap(PCIAddress.init).sorted()
        } catch {
            throw BurrowError(.failure, "cannot list the members of IOMMU group \(group) in \(folder.path)")
        }
    }
}
