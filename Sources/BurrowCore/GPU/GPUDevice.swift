/// An NVIDIA GPU found in sysfs, with everything passthrough depends on and the verdict: it is
/// ready when `problems` is empty. A snapshot taken by `GPUInventory.scan`.
public struct GPUDevice: Hashable, Sendable {
    /// The GPU's own (display-class) function.
    public let function: PCIFunction
    /// The device name from the PCI ids database (`GH100 [H100 SXM5 80GB]`), else `NVIDIA 10de:2330`.
    public let model: String
    /// nil when the kernel put it in no IOMMU group (the IOMMU is off).
    public let iommuGroup: Int?
    /// Every other function in its IOMMU group, bridges and its own functions included.
    public let groupMembers: [PCIFunction]
    /// The other functions of the same slot, such as its HDMI audio or USB-C controller.
    public let companions: [PCIFunction]
    /// nil when the platform reports none (sysfs says -1).
    public let numaNode: Int?
    /// The firmware booted the host's console on it (`boot_vga`).
    public let isBootDisplay: Bool
    /// Why it cannot be passed through now; empty when it can.
    public let problems: [GPUProblem]

    public init(function: PCIFunction, model: String, iommuGroup: Int?, groupMembers: [PCIFunction], companions: [PCIFunction], numaNode: Int?, isBootDisplay: Bool, problems: [GPUProblem]) {
        self.function = function
        self.model = model
        self.iommuGroup = iommuGroup
        self.groupMembers = groupMembers
        self.companions = companions
        self.numaNode = numaNode
        self.isBootDisplay = isBootDisplay
        self.problems = problems
    }

    public var address: PCIAddress { function.address }
    public var vendorID: UInt16 { function.vendorID }
    public var deviceID: UInt16 { function.deviceID }
    public var driver: String? { function.driver }
    public var isReady: Bool { problems.isEmpty }

    /// The environment holding any function of this GPU's group, given every held function's
    /// address and holder.
    public func holder(in taken: [PCIAddress: String]) -> String? {
        passthroughFunctions.lazy.compactMap { taken[$0.address] }.first
    }

    /// What a guest gets with this GPU: vfio hands over whole IOMMU groups, so the GPU and every
    /// member of its group except bridges, in address order.
    public var passthroughFunctions: [PCIFunction] {
        ([function] + groupMembers.filter { !$0.isPCIBridge }).sorted { $0.address < $1.address }
    }
}

/// One reason a GPU cannot be passed through, with the fix a person can apply.
public enum GPUProblem: Hashable, Sendable, CustomStringConvertible {
    /// No IOMMU groups exist, or this GPU is in none.
    case iommuOff
    /// Its IOMMU group holds functions that are neither the GPU's own nor bridges; passing the
    /// group would take them from the host.
    case groupShared(group: Int, with: [PCIFunction])
    /// The host's console runs on it through `driver`.
    case hostDisplay(driver: String)
    /// Neither the vfio-pci module nor its driver is present.
    case vfioMissing

    public var description: String {
        switch self {
        case .iommuOff:
            "the IOMMU is off (it has no IOMMU group)"
        case let .groupShared(group, others):
            "IOMMU group \(group) is shared with \(others.map(\.summary).joined(separator: ", "))"
        case let .hostDisplay(driver):
            "the host's display uses it (boot VGA device, driver \(driver))"
        case .vfioMissing:
            "vfio-pci is not loaded"
        }
    }

    public var hint: String {
        switch self {
        case .iommuOff:
            "Turn the IOMMU on in the firmware (VT-d / AMD-Vi) and on the kernel command line; `burrow gpu doctor` prints the exact steps."
        case .groupShared:
            "burrow passes whole IOMMU groups only: move the card to a slot with a group of its own, or enable ACS in the firmware settings."
        case .hostDisplay:
            "Make another GPU the primary display in the firmware settings, or bind this one to vfio-pci at boot (vfio-pci.ids= on the kernel command line)."
        case .vfioMissing:
            "Load it with `modprobe vfio-pci`, and add vfio-pci to /etc/modules-load.d/vfio.conf so it loads at boot."
        }
    }
}
