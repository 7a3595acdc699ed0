import Foundation

/// Temporary working folders under `$BURROW_HOME/tmp`. Each holds an exclusive `flock` on its
/// own lock file for as long as its owner lives, so a folder whose lock can be taken belongs to a
/// process that died (even by SIGKILL) and is safe to delete.
public final class ScratchDirectory: @unchecked Sendable {
    // @unchecked: the lock descriptor is written once in init and closed once in release().
    public let url: URL
    private var lockDescriptor: Int32

    fileprivate init(url: URL, lockDescriptor: Int32) {
        self.url = url
        self.lockDescriptor = lockDescriptor
    }

    deinit {
        release()
    }

    /// Deletes the folder and drops the lock.
    public func release() {
        guard lockDescriptor >= 0 else { return }
        try? FileManager.default.removeItem(at: url)
        close(lockDescriptor)
        lockDescriptor = -1
    }
}

extension BurrowHome {
    static let scratchLockName = ".lock"
    static let buildingPrefix = ".building-"

    /// Creates and locks a fresh scratch folder named after its purpose. The folder is built
    /// under a hidden name and renamed into view only once its lock is held, so another
    /// process's sweep can never see it unlocked.
    public func makeScratchDirectory(purpose: String) throws -> ScratchDirectory {
        try prepare()
        let id = UUID().uuidString.lowercased().prefix(12)
        let building = scratch.appendingPathComponent("\(Self.buildingPrefix)\(purpose)-\(id)")
        let url = scratch.appendingPathComponent("\(purpose)-\(id)")
        try FileManager.default.createDirectory(at: building, withIntermediateDirectories: false)
        let descriptor = open(building.appendingPathComponent(Self.scratchLockName).path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0, flock(descriptor, LOCK_EX) == 0, rename(building.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { close(descriptor) }
            try? FileManager.default.removeItem(at: building)
            throw BurrowError(.failure, "cannot create scratch folder \(url.path): \(reason)")
        }
        return ScratchDirectory(url: url, lockDescriptor: descriptor)
    }

    /// Whether the scratch folder at `url` still belongs to a live process.
    public func isScratchDirectoryInUse(_ url: URL) -> Bool {
        if url.lastPathComponent.hasPrefix(Self.buildingPrefix) {
            // Still being set up by its creator, or left by one killed in those microseconds.
            let modified = (try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate
            return modified.map { Date().timeIntervalSince($0) < 60 } ?? false
        }
        let descriptor = open(url.appendingPathComponent(Self.scratchLockName).path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_EX | LOCK_NB) != 0
    }

    /// Removes scratch folders left by processes that are gone; returns what it removed.
    @discardableResult
    public func sweepAbandonedScratch() -> [URL] {
        let entries = (try? FileManager.default.contentsOfDirectory(at: scratch, includingPropertiesForKeys: nil)) ?? []
        var removed: [URL] = []
        for entry in entries where !isScratchDirectoryInUse(entry) {
            if (try? FileManager.default.removeItem(at: entry)) != nil { removed.append(entry) }
        }
        return removed
    }
}
