import BurrowCore
import BurrowTestSupport
import Foundation

/// A fake host built as real folders and symlinks laid out like the kernel's: device folders
/// under `devices/pci0000:00/`, reached through `bus/pci/devices/<address>` links, with
/// `driver` and `iommu_group` links and `kernel/iommu_groups/<n>/devices/<address>` back-links.
final class HostFixture {
    let directory: TemporaryDirectory
    var sysfs: URL { directory.path("sys") }
    var proc: URL { directory.path("proc") }
    var pciIDs: URL { directory.path("pci.ids") }
    var paths: GPUHostPaths { GPUHostPaths(sysfs: sysfs, proc: proc, pciIDs: pciIDs) }

    /// A sysfs with its PCI folders, vfio-pci loaded (unless `vfio` is false) and the small
    /// PCI ids database below.
    init(vfio: Bool = true) throws {
        directory = try TemporaryDirectory(prefix: "burrow-gpu")
        for folder in ["sys/bus/pci/devices", "sys/bus/pci/drivers", "sys/devices/pci0000:00", "sys/module", "proc"] {
            try FileManager.default.createDirectory(at: directory.path(folder), withIntermediateDirectories: true)
        }
        if vfio { try FileManager.default.createDirectory(at: sysfs.appendingPathComponent("module/vfio_pci"), withIntermediateDirectories: true) }
        try Self.pciIDsText.write(to: pciIDs, atomically: true, encoding: .utf8)
    }

    /// Adds one PCI function. `group` nil leaves it out of every IOMMU group (IOMMU off).
    func addFunction(_ address: String, vendor: UInt16, device: UInt16, classCode: UInt32, driver: String?, group: Int?, numaNode: Int = -1, bootVGA: Bool? = nil) throws {
        let folder = sysfs.appendingPathComponent("devices/pci0000:00/\(address)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func write(_ name: String, _ value: String) throws {
            try (value + "\n").write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("vendor", String(format: "0x%04x", vendor))
        try write("device", String(format: "0x%04x", device))
        try write("class", String(format: "0x%06x", classCode))
        try write("numa_node", String(numaNode))
        if let bootVGA { try write("boot_vga", bootVGA ? "1" : "0") }
        try link(sysfs.appendingPathComponent("bus/pci/devices/\(address)"), to: "../../../devices/pci0000:00/\(address)")
        if let driver {
            try FileManager.default.createDirectory(at: sysfs.appendingPathComponent("bus/pci/drivers/\(driver)"), withIntermediateDirectories: true)
            try link(folder.appendingPathComponent("driver"), to: "../../../bus/pci/drivers/\(driver)")
        }
        if let group {
            let members = sysfs.appendingPathComponent("kernel/iommu_groups/\(group)/devices")
            try FileManager.default.createDirectory(at: members, withIntermediateDirectories: true)
            try link(folder.appendingPathComponent("iommu_group"), to: "../../../kernel/iommu_groups/\(group)")
            try link(members.appendingPathComponent(address), to: "../../../../devices/pci0000:00/\(address)")
        }
    }

    func addH100(_ address: String, group: Int?, numaNode: Int = 0) throws {
        try addFunction(address, vendor: 0x10de, device: 0x2330, classCode: 0x030200, driver: "nvidia", group: group, numaNode: numaNode)
    }

    func addIntelNIC(_ address: String, group: Int?) throws {
        try addFunction(address, vendor: 0x8086, device: 0x1521, classCode: 0x020000, driver: "igb", group: group)
    }

    /// Writes an attribute file (`resource`, say) of a function added before.
    func write(device address: String, file: String, _ text: String) throws {
        try text.write(to: sysfs.appendingPathComponent("devices/pci0000:00/\(address)/\(file)"), atomically: true, encoding: .utf8)
    }

    func write(proc file: String, _ text: String) throws {
        try text.write(to: proc.appendingPathComponent(file), atomically: true, encoding: .utf8)
    }

    /// An executable shell script standing in for a tool such as virsh or modinfo.
    func tool(_ name: String, _ script: String) throws -> String {
        let url = directory.path(name)
        try ("#!/bin/sh\n" + script + "\n").write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url.path
    }

    func scan() throws -> [GPUDevice] {
        try GPUInventory.scan(sysfs: sysfs, pciIDs: pciIDs)
    }

    /// Symlinks in the tree that resolve to nothing: each should resolve, as it would in sysfs.
    func danglingLinks() -> [String] {
        directory.allItems().filter { item in
            let path = directory.path(item).path
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil else { return false }
            return !FileManager.default.fileExists(atPath: path)
        }
    }

    private func link(_ url: URL, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: destination)
    }

    static let pciIDsText = """
        # A slice of pci.ids in its own format: vendors, devices (one tab), subsystems (two tabs),
        # then classes.
        10de  NVIDIA Corporation
        \t2330  GH100 [H100 SXM5 80GB]
        \t\t10de 16c1  H100 SXM5 80GB
        \t2684  AD102 [GeForce RTX 4090]
        \t22ba  AD102 High Definition Audio Controller
        8086  Intel Corporation
        \t1521  I350 Gigabit Network Connection
        \t2030  Sky Lake-E PCI Express Root Port A
        C 02  Network controller
        \t00  Ethernet controller
        C 03  Display controller
        \t00  VGA compatible controller
        \t\t00  VGA controller
        \t02  3D controller
        C 04  Multimedia controller
        \t03  Audio device
        C 06  Bridge
        \t04  PCI bridge
        """
}
