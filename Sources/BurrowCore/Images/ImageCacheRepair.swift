import BurrowStore
import Foundation

/// Brings the image cache back in line with the store after a crash: journal rows whose process
/// is gone are closed, abandoned scratch folders are deleted, and image folders that never got
/// their row (killed between the final rename and the insert) are removed. Cheap enough to run
/// before every command that changes state.
public struct ImageCacheRepair: Sendable {
    let home: BurrowHome
    let database: BurrowDatabase

    public init(home: BurrowHome, database: BurrowDatabase) {
        self.home = home
        self.database = database
    }

    /// What was cleaned up, one line per item.
    @discardableResult
    public func run() throws -> [String] {
        var actions: [String] = []
        var liveImports = Set<String>()
        // Other kinds of operation need libvirt to undo; EnvironmentService.recover handles them.
        for operation in try database.openOperations() where operation.kind == "import" {
            if let scratch = operation.scratchPath, home.isScratchDirectoryInUse(URL(fileURLWithPath: scratch)) {
                liveImports.insert(operation.subject)
                continue
            }
            try database.endOperation(operation)
            actions.append("closed interrupted import of \(operation.subject)")
        }
        for removed in home.sweepAbandonedScratch() {
            actions.append("removed abandoned scratch folder \(removed.lastPathComponent)")
        }
        let known = Set(try database.allBaseImages().map(\.digest))
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: home.images.path)) ?? []
        for folder in folders where !known.contains(folder) && !liveImports.contains(folder) {
            try FileManager.default.removeItem(at: home.images.appendingPathComponent(folder))
            actions.append("removed unregistered image folder \(folder)")
        }
        return actions
    }
}
