/// The pieces a libvirt domain needs to own passed-through PCI functions, for the domain builder
/// to splice in: the machine type for `<os><type machine=…>`, elements for `<devices>`, and a
/// `<memtune>` element for the top level.
public struct GPUDomainAdditions: Hashable, Sendable {
    /// q35 gives the guest PCI Express, which GPUs and their drivers expect; pc (i440fx) only
    /// has conventional PCI.
    public let machine: String
    /// One `pcie-root-port` per passed function: on q35 each hostdev sits behind a root port,
    /// and libvirt numbers and addresses the controllers itself.
    public let controllersXML: String
    /// One managed `<hostdev>` per function: libvirt detaches each from its host driver to
    /// vfio-pci when the domain starts and gives it back when it stops.
    public let hostdevsXML: String
    /// The locked-memory limit: the whole guest RAM is pinned for device DMA, plus room for
    /// qemu's own pinned pages. Guest memory + 1 GiB is the rule libvirt applies itself when no
    /// limit is given; stating it makes the limit visible in the domain XML.
    public let memtuneXML: String

    public init(passing functions: [PCIAddress], guestMemoryBytes: Int64) {
        machine = "q35"
        controllersXML = functions.map { _ in "<controller type='pci' model='pcie-root-port'/>" }.joined(separator: "\n")
        hostdevsXML = functions.map { address in
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
