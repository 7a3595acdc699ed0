@testable import BurrowCore
import BurrowTestSupport
import Foundation
import Testing

/// A minimal direct-kernel-boot domain with the GPU additions spliced in where a domain builder
/// would put them.
private func domainXML(type: String, name: String, memoryMiB: Int64, additions: GPUDomainAdditions) -> String {
    """
    <domain type='\(type)'>
      <name>\(name)</name>
      <memory unit='MiB'>\(memoryMiB)</memory>
    \(additions.memtuneXML)
      <vcpu>2</vcpu>
      <os>
        <type arch='x86_64' machine='\(additions.machine)'>hvm</type>
        <kernel>/var/lib/burrow/kernels/6.1/vmlinuz</kernel>
        <initrd>/var/lib/burrow/kernels/6.1/initrd.img</initrd>
        <cmdline>console=ttyS0 root=/dev/vda rw</cmdline>
      </os>
      <devices>
        <disk type='file' device='disk'>
          <driver name='qemu' type='qcow2'/>
          <source file='/var/lib/burrow/envs/\(name)/disk.qcow2'/>
          <target dev='vda' bus='virtio'/>
        </disk>
    \(additions.controllersXML)
    \(additions.hostdevsXML)
      </devices>
    </domain>
    """
}

private func gpuWithAudio() throws -> GPUSelection {
    let host = try HostFixture()
    try host.addFunction("0000:00:01.0", vendor: 0x8086, device: 0x2030, classCode: 0x060400, driver: "pcieport", group: 1)
    try host.addFunction("0000:65:00.0", vendor: 0x10de, device: 0x2684, classCode: 0x030000, driver: "nvidia", group: 1)
    try host.addFunction("0000:65:00.1", vendor: 0x10de, device: 0x22ba, classCode: 0x040300, driver: "snd_hda_intel", group: 1)
    return try GPUSelector.choose(.all, from: try host.scan(), taken: [:])
}

@Suite struct DomainXMLTests {
    /// An H100 as the kernel lists its regions: a 16 MiB 32-bit BAR0, then 64-bit prefetchable
    /// BAR1 (128 GiB) and BAR3 (32 MiB), an empty ROM, and the bridge-window lines after.
    static let h100Resource = """
        0x00000000e8000000 0x00000000e8ffffff 0x0000000000040200
        0x0000220000000000 0x0000221fffffffff 0x000000000014220c
        0x0000000000000000 0x0000000000000000 0x0000000000000000
        0x0000222000000000 0x0000222001ffffff 0x000000000014220c
        0x0000000000000000 0x0000000000000000 0x0000000000000000
        0x0000000000000000 0x0000000000000000 0x0000000000000000
        0x0000000000000000 0x0000000000000000 0x0000000000000000
        0x0000300000000000 0x00003fffffffffff 0x000000000014220c

        """

    @Test func sumsOnlyTheSix64BitBARs() {
        #expect(PCIFunction.bar64Bytes(resourceFile: Self.h100Resource) == (128 << 30) + (32 << 20))
        #expect(PCIFunction.bar64Bytes(resourceFile: "") == 0)
    }

    @Test func theHoleGrowsOnlyForBARsTooLargeForQ35sDefault() throws {
        #expect(GPUDomainAdditions.pciHole64Bytes(bar64Bytes: 0) == 32 << 30)
        #expect(GPUDomainAdditions.pciHole64Bytes(bar64Bytes: 16 << 30) == 32 << 30)
        #expect(GPUDomainAdditions.pciHole64Bytes(bar64Bytes: (16 << 30) + 1) == 64 << 30)
        #expect(GPUDomainAdditions.pciHole64Bytes(bar64Bytes: (128 << 30) + (32 << 20)) == 512 << 30)
        let small = GPUDomainAdditions(passing: try gpuWithAudio().functions, guestMemoryBytes: 4 << 30)
        #expect(!small.controllersXML.contains("pcihole64"))
    }

    @Test func discoveryReadsTheBARsAndTheDomainGetsTheirHole() async throws {
        let host = try HostFixture()
        try host.addH100("0000:17:00.0", group: 3)
        try host.write(device: "0000:17:00.0", file: "resource", Self.h100Resource)
        let selection = try GPUSelector.choose(.all, from: try host.scan(), taken: [:])
        #expect(selection.functions.map(\.bar64Bytes) == [(128 << 30) + (32 << 20)])
        let additions = GPUDomainAdditions(passing: selection.functions, guestMemoryBytes: 8 << 30)
        #expect(additions.controllersXML.hasPrefix("<controller type='pci' index='0' model='pcie-root'>\n  <pcihole64 unit='KiB'>536870912</pcihole64>\n</controller>"))
        let output = try await validateDomainXML(domainXML(type: "kvm", name: "big-bar", memoryMiB: 8192, additions: additions))
        #expect(output.status == 0, "\(output.standardError)")
    }

    @Test func rendersOneManagedHostdevPerFunction() throws {
        let selection = try gpuWithAudio()
        let additions = GPUDomainAdditions(passing: selection.functions, guestMemoryBytes: 4 << 30)
        #expect(additions.machine == "q35")
        #expect(additions.hostdevsXML == """
            <hostdev mode='subsystem' type='pci' managed='yes'>
              <driver name='vfio'/>
              <source>
                <address domain='0x0000' bus='0x65' slot='0x00' function='0x0'/>
              </source>
            </hostdev>
            <hostdev mode='subsystem' type='pci' managed='yes'>
              <driver name='vfio'/>
              <source>
                <address domain='0x0000' bus='0x65' slot='0x00' function='0x1'/>
              </source>
            </hostdev>
            """)
        #expect(additions.controllersXML.components(separatedBy: "model='pcie-root-port'").count - 1 == 2)
        // 4 GiB of guest memory + 1 GiB, in KiB.
        #expect(additions.memtuneXML == "<memtune>\n  <hard_limit unit='KiB'>5242880</hard_limit>\n</memtune>")
    }

    @Test func domainValidatesAgainstLibvirtsSchema() async throws {
        let additions = GPUDomainAdditions(passing: try gpuWithAudio().functions, guestMemoryBytes: 8 << 30)
        let xml = domainXML(type: "kvm", name: "gpu-env", memoryMiB: 8192, additions: additions)
        let output = try await validateDomainXML(xml)
        #expect(output.status == 0, "\(output.standardError)")

        // The same check must catch a broken hostdev, or passing it proves nothing.
        #expect(try await validateDomainXML(xml.replacingOccurrences(of: "managed='yes'", with: "managed='maybe'")).status != 0)
    }

    @Test func testDriverDefinesTheDomain() async throws {
        let name = "burrow-gpu-\(UUID().uuidString.prefix(8).lowercased())"
        let additions = GPUDomainAdditions(passing: try gpuWithAudio().functions, guestMemoryBytes: 2 << 30)
        let directory = try TemporaryDirectory(prefix: "burrow-gpu-xml")
        let file = directory.path("domain.xml")
        try domainXML(type: "test", name: name, memoryMiB: 2048, additions: additions).write(to: file, atomically: true, encoding: .utf8)
        // The test driver keeps state per connection, so define and read back in one virsh run.
        let output = try await ProcessRunner().run("virsh", ["-c", "test:///default", "define \(file.path); dumpxml \(name)"], what: "virsh define")
        let defined = output.standardOutput
        #expect(defined.contains("machine='q35'"))
        #expect(defined.contains("<hard_limit unit='KiB'>3145728</hard_limit>"))
        #expect(defined.components(separatedBy: "<hostdev mode='subsystem' type='pci' managed='yes'>").count - 1 == 2)
        #expect(defined.contains("<address domain='0x0000' bus='0x65' slot='0x00' function='0x1'/>"))
        #expect(defined.components(separatedBy: "model='pcie-root-port'").count - 1 == 2)
    }
}
