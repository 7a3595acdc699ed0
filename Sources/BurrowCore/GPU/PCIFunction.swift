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
    /// Total size of the function's 64-bit memory BARs (a datacenter GPU's frame buffer BAR
    /// alone is 64 or 128 GiB): what the guest's 64-bit PCI window must hold.
    public let bar64Bytes: Int64

    public init(
        address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32, driver: String?, name: String? = nil, className: String? = nil,
        bar64Bytes: Int64 = 0
    ) {
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        self.driver = driver
        self.name = name
        self.className = className
        self.bar64Bytes = bar64Bytes
    }

    /// Sums the 64-bit memory BARs in a sysfs `resource` file: one `start end flags` line (hex)
    /// per region, the six BARs first, then the expansion ROM and bridge windows.
    public static func bar64Bytes(resourceFile text: String) -> Int64 {
        let memory64: UInt64 = 0x0010_0000  // IORESOURCE_MEM_64
        return text.split(separator: "\n").prefix(6).reduce(Int64(0)) { total, line in
            let fields = line.split(separator: " ").compactMap { UInt64($0.replacingOccurrences(of: "0x", with: ""), radix: 16) }
            guard fields.count == 3, fields[2] & memory64 != 0, fields[1] > fields[0] else { return total }
            return total + Int64(clamping: fields[1] - fields[0] + 1)
        }
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
