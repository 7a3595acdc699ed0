import BurrowCore
import Foundation
import Testing

@Suite struct DiscoveryTests {
    @Test func gpuAloneInItsGroupIsReady() throws {
        let host = try HostFixture()
        try host.addH100("0000:65:00.0", group: 12, numaNode: 0)
        try host.addIntelNIC("0000:66:00.0", group: 13)
        #expect(host.danglingLinks().isEmpty)

        let gpus = try host.scan()
        let gpu = try #require(gpus.first)
        #expect(gpus.count == 1)
        #expect(gpu.address == PCIAddress("0000:65:00.0"))
        #expect(gpu.vendorID == 0x10de && gpu.deviceID == 0x2330)
        #expect(gpu.model == "GH100 [H100 SXM5 80GB]")
        #expect(gpu.function.name == "NVIDIA Corporation GH100 [H100 SXM5 80GB]")
        #expect(gpu.function.className == "3D controller")
        #expect(gpu.driver == "nvidia")
        #expect(gpu.iommuGroup == 12)
        #expect(gpu.groupMembers.isEmpty)
        #expect(gpu.companions.isEmpty)
        #expect(gpu.numaNode == 0)
        #expect(!gpu.isBootDisplay)
        #expect(gpu.isReady)
        #expect(gpu.passthroughFunctions.map(\.address.description) == ["0000:65:00.0"])
    }

    @Test func audioFunctionTravelsWithTheGPUAndTheBridgeStays() throws {
        let host = try HostFixture()
        try host.addFunction("0000:00:01.0", vendor: 0x8086, device: 0x2030, classCode: 0x060400, driver: "pcieport", group: 1)
        try host.addFunction("0000:01:00.0", vendor: 0x10de, device: 0x2684, classCode: 0x030000, driver: "nvidia", group: 1, bootVGA: false)
        try host.addFunction("0000:01:00.1", vendor: 0x10de, device: 0x22ba, classCode: 0x040300, driver: "snd_hda_intel", group: 1)
        #expect(host.danglingLinks().isEmpty)

        let gpu = try #require(try host.scan().first)
        #expect(gpu.model == "AD102 [GeForce RTX 4090]")
        #expect(gpu.function.className == "VGA compatible controller")
        #expect(gpu.numaNode == nil)
        #expect(gpu.groupMembers.map(\.address.description) == ["0000:00:01.0", "0000:01:00.1"])
        #expect(gpu.groupMembers.map(\.driver) == ["pcieport", "snd_hda_intel"])
        #expect(gpu.groupMembers.map(\.classCode) == [0x060400, 0x040300])
        #expect(gpu.companions.map(\.address.description) == ["0000:01:00.1"])
        #expect(gpu.companions.first?.className == "Audio device")
        #expect(gpu.isReady)
        #expect(gpu.passthroughFunctions.map(\.address.description) == ["0000:01:00.0", "0000:01:00.1"])
    }

    @Test func groupSharedWithANICIsRefusedNamingTheNIC() throws {
        let host = try HostFixture()
        try host.addH100("0000:65:00.0", group: 7)
        try host.addIntelNIC("0000:66:00.0", group: 7)

        let gpu = try #require(try host.scan().first)
        let nic = try #require(gpu.groupMembers.first)
        #expect(gpu.problems == [.groupShared(group: 7, with: [nic])])
        let reason = try #require(gpu.problems.first).description
        #expect(reason == "IOMMU group 7 is shared with 0000:66:00.0 (Ethernet controller: Intel Corporation I350 Gigabit Network Connection, driver igb)")

        let error = try #require(throws: BurrowError.self) {
            try GPUSelector.choose(.count(1), from: [gpu], taken: [:])
        }
        #expect(error.kind == .wrongState)
        #expect(error.message.contains("0000:66:00.0"))
    }

    @Test func iommuOffIsReported() throws {
        let host = try HostFixture()
        try host.addH100("0000:65:00.0", group: nil)
        #expect(!FileManager.default.fileExists(atPath: host.sysfs.appendingPathComponent("kernel/iommu_groups").path))

        let gpu = try #require(try host.scan().first)
        #expect(gpu.iommuGroup == nil)
        #expect(gpu.groupMembers.isEmpty)
        #expect(gpu.problems == [.iommuOff])
        #expect(gpu.problems.first?.hint.contains("burrow gpu doctor") == true)
    }

    @Test func hostDisplayIsRefusedUnlessVFIOHoldsIt() throws {
        let host = try HostFixture()
        try host.addFunction("0000:01:00.0", vendor: 0x10de, device: 0x2684, classCode: 0x030000, driver: "nvidia", group: 1, bootVGA: true)
        try host.addFunction("0000:02:00.0", vendor: 0x10de, device: 0x2684, classCode: 0x030000, driver: "vfio-pci", group: 2, bootVGA: true)

        let gpus = try host.scan()
        #expect(gpus.map(\.problems) == [[.hostDisplay(driver: "nvidia")], []])
        #expect(gpus.map(\.isBootDisplay) == [true, true])
    }

    @Test func missingVFIOIsReported() throws {
        let host = try HostFixture(vfio: false)
        try host.addH100("0000:65:00.0", group: 12)
        #expect(try host.scan().first?.problems == [.vfioMissing])

        try FileManager.default.createDirectory(at: host.sysfs.appendingPathComponent("bus/pci/drivers/vfio-pci"), withIntermediateDirectories: true)
        #expect(try host.scan().first?.isReady == true)
    }

    @Test func hostWithoutNVIDIAHasNoGPUs() throws {
        let host = try HostFixture()
        try host.addIntelNIC("0000:66:00.0", group: 13)
        try host.addFunction("0000:00:02.0", vendor: 0x8086, device: 0x1234, classCode: 0x030000, driver: "i915", group: 2, bootVGA: true)
        #expect(try host.scan().isEmpty)
    }

    @Test func aWrongSysfsRootIsAnError() throws {
        let host = try HostFixture()
        let error = try #require(throws: BurrowError.self) {
            try GPUInventory.scan(sysfs: host.directory.path("nowhere"), pciIDs: nil)
        }
        #expect(error.kind == .notFound)
        #expect(error.hint?.contains("BURROW_SYSFS") == true)
    }

    @Test func modelFallsBackToIdsWithoutADatabase() throws {
        let host = try HostFixture()
        try host.addH100("0000:65:00.0", group: 12)
        let gpu = try #require(try GPUInventory.scan(sysfs: host.sysfs, pciIDs: nil).first)
        #expect(gpu.model == "NVIDIA 10de:2330")
        #expect(gpu.function.summary == "0000:65:00.0 (class 0x030200: 10de:2330, driver nvidia)")
    }

    @Test func environmentPicksTheRoots() {
        let paths = GPUHostPaths.fromEnvironment(["BURROW_SYSFS": "/tmp/sys", "BURROW_PROC": "/tmp/proc", "BURROW_PCI_IDS": "/tmp/pci.ids"])
        #expect(paths == GPUHostPaths(sysfs: URL(fileURLWithPath: "/tmp/sys"), proc: URL(fileURLWithPath: "/tmp/proc"), pciIDs: URL(fileURLWithPath: "/tmp/pci.ids")))
        let defaults = GPUHostPaths.fromEnvironment([:])
        #expect(defaults.sysfs.path == "/sys" && defaults.proc.path == "/proc")
    }
}

@Suite struct PCINameTests {
    @Test func addressesParseBothFormsAndPrintTheFullOne() throws {
        let full = try #require(PCIAddress("0000:65:00.0"))
        #expect(full == PCIAddress(domain: 0, bus: 0x65, slot: 0, function: 0))
        #expect(PCIAddress("65:00.0") == full)
        #expect(PCIAddress("0001:CA:1f.7")?.description == "0001:ca:1f.7")
        for bad in ["", "65:00", "65:20.0", "65:00.8", "+5:00.0", "zz:00.0", "0:65:00.0", "65:00.0.1", "10000:ca:1f.7"] {
            #expect(PCIAddress(bad) == nil, "\(bad)")
        }
        #expect(try #require(PCIAddress("0000:01:00.1")).isSameSlot(as: try #require(PCIAddress("01:00.0"))))
    }

    @Test func databaseKeepsOnlyTheVendorsAskedFor() {
        let database = PCIIDDatabase(parsing: HostFixture.pciIDsText, vendors: [0x10de])
        #expect(database.vendorName(0x10de) == "NVIDIA Corporation")
        #expect(database.deviceName(vendor: 0x10de, device: 0x2330) == "GH100 [H100 SXM5 80GB]")
        #expect(database.vendorName(0x8086) == nil)
        #expect(database.deviceName(vendor: 0x8086, device: 0x1521) == nil)
        #expect(database.className(0x020000) == "Ethernet controller")
        #expect(database.className(0x028000) == "Network controller")
        #expect(database.className(0x0b4000) == nil)
    }

    @Test(.enabled(if: GPUHostPaths.fromEnvironment([:]).pciIDs != nil, "needs the system's pci.ids"))
    func systemDatabaseNamesAnH100() throws {
        let url = try #require(GPUHostPaths.fromEnvironment([:]).pciIDs)
        let database = try PCIIDDatabase(contentsOf: url, vendors: [0x10de])
        #expect(database.deviceName(vendor: 0x10de, device: 0x2330)?.contains("H100") == true)
        #expect(database.className(0x030200) == "3D controller")
    }
}
