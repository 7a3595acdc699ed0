/// One PCI function as sysfs describes it, with names from the PCI ids database where known.
/// A value snapshot: nothing here tracks later driver rebinds.
public struct PCIFunction: Hashable, Sendable {
    public let address: PCIAddress
    public let vendorID: UInt16
    public let deviceID: UInt16
    /// The 24-bit class code: base class, subclass, programming interface (`0x030200`).
    public let classCode: UInt32
    /// The bound driver's name (`nvidia`, `vfio-pci`, `snd_hda_intel`), nil when none is bound.
    public let driver: String?
    /// "Vendor Device" from the PCI ids database, nil when it has no entry.
    public let name: String?
    /// The subclass (or else base class) name from the PCI ids database, nil when unknown.
    public let className: String?

    public init(address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32, driver: String?, name: String? = nil, className: String? = nil) {
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        self.driver = driver
        self.name = name
        self.className = className
    }

    public static let nvidiaVendorID: UInt16 = 0x10de

    /// Base class 0x03 covers VGA (0x0300), 3D (0x0302) and other display controllers (0x0380);
    /// NVIDIA's compute boards use 3D, its desktop boards VGA.
    public var isDisplayController: Bool { classCode >> 16 == 0x03 }

    /// PCI-to-PCI bridges share IOMMU groups with what sits behind them but are never passed to
    /// a guest: vfio only needs them left bound to their host driver.
    public var isPCIBridge: Bool { classCode >> 8 == 0x0604 }

    /// `10de:2330`, as lspci -n prints it.
    public var ids: String { "\(PCIAddress.hex(vendorID, 4)):\(PCIAddress.hex(deviceID, 4))" }

    /// The class code as sysfs writes it: `0x030200`.
    public var classHex: String { "0x" + PCIAddress.hex(classCode, 6) }

    /// What a person needs to recognise the function in a message:
    /// `0000:67:00.0 (Ethernet controller: Intel Corporation I350 Gigabit Network Connection, driver igb)`.
    public var summary: String {
        let kind = className ?? "class \(classHex)"
        let driverText = driver.map { "driver \($0)" } ?? "no driver"
        return "\(address) (\(kind): \(name ?? ids), \(driverText))"
    }
}
