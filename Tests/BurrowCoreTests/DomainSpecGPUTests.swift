import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// `DomainSpec` with GPUs passed through: the variants of `DomainSpecTests` on q35.
@Suite struct DomainSpecGPUTests {
    /// An H100 (128 GiB + 32 MiB of 64-bit BARs) and an audio function beside it.
    static let gpuAndAudio = [
        PCIFunction(address: PCIAddress(bus: 0x65, slot: 0, function: 0), vendorID: 0x10de, deviceID: 0x2330, classCode: 0x030200, driver: "vfio-pci", bar64Bytes: (128 << 30) + (32 << 20)),
        PCIFunction(address: PCIAddress(bus: 0x65, slot: 0, function: 1), vendorID: 0x10de, deviceID: 0x22ba, classCode: 0x040300, driver: "vfio-pci"),
    ]

    static func gpuSpec(accelerator: Accelerator = .kvm, runAs: ProcessOwner? = nil, name: String = "burrow-abc-dev") -> DomainSpec {
        var spec = DomainSpecTests.spec(accelerator: accelerator, runAs: runAs, name: name)
        spec.gpu = GPUDomainAdditions(passing: gpuAndAudio, guestMemoryBytes: Int64(spec.memoryMiB) << 20)
        return spec
    }

    @Test(arguments: [
        (Accelerator.tcg, ProcessOwner?.none), (.kvm, ProcessOwner?.none), (.tcg, ProcessOwner(uid: 0, gid: 0)), (.kvm, ProcessOwner(uid: 1000, gid: 1000)),
    ])
    func everyVariantValidatesAgainstLibvirtsSchema(accelerator: Accelerator, runAs: ProcessOwner?) async throws {
        let result = try await validateDomainXML(Self.gpuSpec(accelerator: accelerator, runAs: runAs).xml())
        #expect(result.status == 0, "\(result.standardError)")
    }

    @Test func q35WithTheNICOnThePCIExpressRootAndTheDevicesInside() throws {
        let xml = Self.gpuSpec().xml()
        #expect(xml.contains("machine='q35'") && !xml.contains("machine='pc'"))
        // Passed-through devices may need their legacy interrupt routed by ACPI.
        #expect(xml.contains("<cmdline>console=ttyS0 quiet</cmdline>"))
        #expect(DomainSpecTests.spec().xml().contains("<cmdline>console=ttyS0 quiet acpi=noirq</cmdline>"))
        #expect(xml.contains("bus=pcie.0,addr=0x10") && !xml.contains("bus=pci.0"))
        let devices = try #require(xml.range(of: "<devices>")).upperBound..<(try #require(xml.range(of: "</devices>")).lowerBound)
        #expect(xml[devices].components(separatedBy: "<hostdev ").count - 1 == 2)
        #expect(xml[devices].components(separatedBy: "model='pcie-root-port'").count - 1 == 2)
        // 128 GiB of BARs get a 512 GiB 64-bit hole on the root complex.
        #expect(xml[devices].contains("<controller type='pci' index='0' model='pcie-root'>\n  <pcihole64 unit='KiB'>536870912</pcihole64>"))
        // libvirt's schema wants memtune among the top-level tuning elements, here after <vcpu>.
        #expect(xml.contains("<vcpu>3</vcpu>\n<memtune>\n  <hard_limit unit='KiB'>2621440</hard_limit>\n</memtune>\n  <os>"))
        #expect(DomainSpecTests.spec().xml() == { var plain = Self.gpuSpec(accelerator: .tcg); plain.gpu = nil; return plain.xml() }())
    }

    @Test func definesAndRunsOnTheTestDriver() throws {
        let hypervisor = try LibvirtHypervisor(uri: "test:///default")
        let name = "burrow-test-gpu-\(UUID().uuidString.prefix(6))"
        try hypervisor.define(xml: Self.gpuSpec(accelerator: .tcg, name: name).xml())
        try hypervisor.start(domain: name)
        #expect(try hypervisor.state(ofDomain: name) == .running)
        try hypervisor.destroy(domain: name)
        try hypervisor.undefine(domain: name)
        #expect(try hypervisor.state(ofDomain: name) == nil)
    }
}
