import Foundation

/// Where burrow reads the host's hardware facts, so tests can point every read at fixture trees:
/// sysfs (`BURROW_SYSFS`, default `/sys`), procfs (`BURROW_PROC`, default `/proc`) and the PCI ids
/// database (`BURROW_PCI_IDS`, else the first of the usual locations that exists, else none).
public struct GPUHostPaths: Sendable, Equatable {
    public var sysfs: URL
    public var proc: URL
    public var pciIDs: URL?

    public init(sysfs: URL, proc: URL, pciIDs: URL?) {
        self.sysfs = sysfs
        self.proc = proc
        self.pciIDs = pciIDs
    }

    public static let pciIDsLocations = ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids"]

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> GPUHostPaths {
        func path(_ variable: String) -> String? { environment[variable].flatMap { $0.isEmpty ? nil : $0 } }
        let pciIDs = path("BURROW_PCI_IDS") ?? pciIDsLocations.first { FileManager.default.fileExists(atPath: $0) }
        return GPUHostPaths(
            sysfs: URL(fileURLWithPath: path("BURROW_SYSFS") ?? "/sys"),
            proc: URL(fileURLWithPath: path("BURROW_PROC") ?? "/proc"),
            pciIDs: pciIDs.map { URL(fileURLWithPath: $0) }
        )
    }
}
