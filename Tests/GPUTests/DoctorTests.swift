import BurrowCore
import Foundation
import Testing

private let intelCPU = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\n"
private let amdCPU = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: EPYC\n"

private func check(_ id: String, in checks: [GPUHostCheck]) throws -> GPUHostCheck {
    try #require(checks.first { $0.id == id })
}

/// Each test starts from a host where every check passes, with fake modinfo and virsh, and
/// breaks one thing. The suite instance keeps the fixture alive for the whole test.
@Suite struct DoctorTests {
    let host: HostFixture
    var doctor: GPUHostDoctor

    init() throws {
        host = try HostFixture()
        try host.addH100("0000:65:00.0", group: 12)
        try host.write(proc: "cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on iommu=pt quiet\n")
        try host.write(proc: "cpuinfo", intelCPU)
        doctor = GPUHostDoctor(paths: host.paths, libvirtURI: "qemu:///system")
        doctor.modinfo = try host.tool("modinfo", "exit 1")
        doctor.virsh = try host.tool("virsh", "printf 'pci_0000_00_00_0\\npci_0000_65_00_0\\n\\n'")
        doctor.isRoot = true
        doctor.memlockLimit = 8 << 20
    }

    @Test func readyHostPassesEveryCheck() async throws {
        let checks = await doctor.run()
        #expect(checks.map(\.id) == ["iommu-cmdline", "iommu-active", "vfio-pci", "memlock", "libvirt-nodedev", "gpus"])
        #expect(checks.allSatisfy { $0.status == .ok }, "\(checks)")
        #expect(try check("iommu-cmdline", in: checks).detail == "intel_iommu=on iommu=pt")
        #expect(try check("libvirt-nodedev", in: checks).detail == "qemu:///system lists 2 PCI devices")
        #expect(try check("gpus", in: checks).detail == "0000:65:00.0 GH100 [H100 SXM5 80GB]")
    }

    @Test func iommuOnByDefaultNeedsNoParameters() async throws {
        try host.write(proc: "cmdline", "root=/dev/sda1 ro quiet\n")
        try host.write(proc: "cpuinfo", amdCPU)
        let cmdline = try check("iommu-cmdline", in: await doctor.run())
        #expect(cmdline.status == .ok)
        #expect(cmdline.detail.contains("amd_iommu=on iommu=pt"))
    }

    @Test func missingIOMMUParametersNameTheCPUsOwn() async throws {
        try host.write(proc: "cmdline", "root=/dev/sda1 ro quiet\n")
        try host.write(proc: "cpuinfo", amdCPU)
        try FileManager.default.removeItem(at: host.sysfs.appendingPathComponent("kernel/iommu_groups"))
        let checks = await doctor.run()
        #expect(try check("iommu-active", in: checks).fix?.hasPrefix("Fix the kernel command line") == true)
        let cmdline = try check("iommu-cmdline", in: checks)
        #expect(cmdline.status == .fail)
        let fix = try #require(cmdline.fix)
        #expect(fix.contains("amd_iommu=on iommu=pt"))
        #expect(fix.contains("GRUB_CMDLINE_LINUX_DEFAULT") && fix.contains("update-grub"))

        try host.write(proc: "cpuinfo", intelCPU)
        #expect(try check("iommu-cmdline", in: await doctor.run()).fix?.contains("intel_iommu=on iommu=pt") == true)
    }

    @Test func inactiveIOMMUFailsWithTheGPU() async throws {
        try FileManager.default.removeItem(at: host.sysfs.appendingPathComponent("kernel/iommu_groups"))
        try FileManager.default.removeItem(at: host.sysfs.appendingPathComponent("devices/pci0000:00/0000:65:00.0/iommu_group"))
        let checks = await doctor.run()
        let active = try check("iommu-active", in: checks)
        #expect(active.status == .fail)
        #expect(active.fix?.contains("firmware") == true)
        let gpus = try check("gpus", in: checks)
        #expect(gpus.status == .fail)
        #expect(gpus.detail == "0000:65:00.0: the IOMMU is off (it has no IOMMU group)")
        #expect(gpus.fix?.contains("burrow gpu doctor") == true)
    }

    @Test mutating func vfioFallsBackToModinfo() async throws {
        try FileManager.default.removeItem(at: host.sysfs.appendingPathComponent("module/vfio_pci"))
        #expect(try check("vfio-pci", in: await doctor.run()).status == .fail)

        doctor.modinfo = try host.tool("modinfo-found", "echo /lib/modules/6.1.0/kernel/drivers/vfio/pci/vfio-pci.ko")
        let found = try check("vfio-pci", in: await doctor.run())
        #expect(found.status == .ok)
        #expect(found.detail.contains("vfio-pci.ko"))
    }

    @Test mutating func memoryLockingLimitMattersOnlyWithoutRoot() async throws {
        doctor.isRoot = false
        let limited = try check("memlock", in: await doctor.run())
        #expect(limited.status == .fail)
        #expect(limited.detail.hasPrefix("8192 KiB"))
        doctor.memlockLimit = nil
        #expect(try check("memlock", in: await doctor.run()).status == .ok)
    }

    @Test mutating func unreachableLibvirtIsSkippedNotFailed() async throws {
        doctor.virsh = try host.tool("virsh-down", """
            echo "error: failed to connect to the hypervisor" >&2
            echo "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory" >&2
            exit 1
            """)
        let libvirt = try check("libvirt-nodedev", in: await doctor.run())
        #expect(libvirt.status == .skip)
        #expect(libvirt.fix?.contains("libvirtd") == true)

        doctor.virsh = try host.tool("virsh-denied", "echo 'error: authentication failed' >&2; exit 1")
        #expect(try check("libvirt-nodedev", in: await doctor.run()).status == .fail)
        doctor.virsh = host.directory.path("no-such-virsh").path
        #expect(try check("libvirt-nodedev", in: await doctor.run()).status == .fail)
    }

    @Test mutating func noGPUFails() async throws {
        let empty = try HostFixture()
        doctor.paths.sysfs = empty.sysfs
        let gpus = try check("gpus", in: await doctor.run())
        #expect(gpus.status == .fail)
        #expect(gpus.detail == "no NVIDIA GPU found")
    }
}
