/// The pieces a libvirt domain needs to own passed-through PCI functions, for the domain builder
/// to splice in: the machine type for `<os><type machine=…>`, elements for `<devices>`, and a
/// `<memtune>` element for the top level.
public struct GPUDomainAdditions: Hashable, Sendable {
    /// q35 gives the guest PCI Express, which GPUs and their drivers expect; pc (i440fx) only
    /// has conventional PCI.
    public let machine: String
    /// One `pcie-root-port` per passed function: on q35 each hostdev sits behind a root port,
    /// and libvirt numbers and addresses the controllers itself. Led by the root complex with a
    /// larger 64-bit PCI hole when the functions' BARs need one.
    public let controllersXML: String
    /// One managed `<hostdev>` per function: libvirt detaches each from its host driver to
    /// vfio-pci when the domain starts and gives it back when it stops.
    public let hostdevsXML: String
    /// The locked-memory limit: the whole guest RAM is pinned for device DMA, plus room for
    /// qemu's own pinned pages. Guest memory + 1 GiB is the rule libvirt applies itself when no
    /// limit is given; stating it makes the limit visible in the domain XML.
    public let memtuneXML: String

    /// q35's own 64-bit PCI hole. BARs are placed at multiples of their size, behind root ports
    /// whose windows are aligned too, so BARs adding up to more than half of it may not fit.
    static let defaultPCIHole64Bytes: Int64 = 32 << 30

    /// The 64-bit PCI hole for functions whose 64-bit BARs add up to `bar64Bytes`: q35's default
    /// while they fit in half of it, else the power of two at least twice their size (an H100's
    /// 128 GiB frame buffer gets 512 GiB of guest address space, not memory).
    static func pciHole64Bytes(bar64Bytes: Int64) -> Int64 {
        guard bar64Bytes > defaultPCIHole64Bytes / 2 else { return defaultPCIHole64Bytes }
        var hole = defaultPCIHole64Bytes
        while hole < 2 * bar64Bytes { hole *= 2 }
        return hole
    }

    public init(passing functions: [PCIFunction], guestMemoryBytes: Int64) {
        machine = "q35"
        let hole = Self.pciHole64Bytes(bar64Bytes: functions.reduce(0) { $0 + $1.bar64Bytes })
        let rootComplex = hole > Self.defaultPCIHole64Bytes
            ? ["<controller type='pci' index='0' model='pcie-root'>\n  <pcihole64 unit='KiB'>\(hole / 1024)</pcihole64>\n</controller>"] : []
        controllersXML = (rootComplex + functions.map { _ in "<controller type='pci' model='pcie-root-port'/>" }).joined(separator: "\n")
        hostdevsXML = functions.map(\.address).map { address in
            """
            <hostdev mode='subsystem' type='pci' managed='yes'>
              <driver name='vfio'/>
              <source>
                <address domain='0x\(PCIAddress.hex(address.domain, 4))' bus='0x\(PCIAddress.hex(address.bus, 2))' \
            slot='0x\(PCIAddress.hex(address.slot, 2))' function='0x\(PCIAddress.hex(address.function, 1))'/>
              </source>
            </hostdev>
            """
        }.joined(separator: "\n")
        let oneGiB: Int64 = 1 << 30
        let limitKiB = (guestMemoryBytes + oneGiB + 1023) / 1024
        memtuneXML = "<memtune>\n  <hard_limit unit='KiB'>\(limitKiB)</hard_limit>\n</memtune>"
    }
}
