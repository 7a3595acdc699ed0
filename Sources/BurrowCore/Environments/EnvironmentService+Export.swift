import Archive
import Ext4
import Foundation

/// What `export` wrote.
public struct ExportResult: Sendable, Codable {
    public let environment: String
    public let file: String
    public let entries: Int
    public let bytes: Int64
}

extension EnvironmentService {
    /// Writes an environment's root filesystem as a tarball that `image import` (or WSL, or
    /// `docker import`) takes back, compressed as the file name says. The disk is read from a
    /// private raw copy, never touched: a stopped environment's is flattened with qemu-img, a
    /// running one's is copied by libvirt as it stands after a guest `sync` (what a power cut
    /// would leave, its journal then replayed). The tarball appears under its name only once complete.
    public func export(_ name: String, to destination: URL, progress: ProgressReporter) async throws -> ExportResult {
        guard let compression = ArchiveCompression(fileName: destination.lastPathComponent) else {
            throw BurrowError(.invalidInput, "cannot tell how to write \(destination.lastPathComponent)", hint: "Name the file .tar, .tar.gz, .tar.xz or .tar.zst.")
        }
        guard !FileManager.default.fileExists(atPath: destination.path) else {
            throw BurrowError(.invalidInput, "\(destination.path) already exists", hint: "Remove it or choose another file name.")
        }
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        let record = try existing(name)
        let state = try hypervisor.state(ofDomain: record.domainName)
        let scratch = try home.makeScratchDirectory(purpose: "export")
        defer { scratch.release() }
        let raw = scratch.url.appendingPathComponent("root.raw")
        progress.begin("reading the disk", total: nil)
        switch state {
        case .stopped, nil:
            try await runner.run("qemu-img", ["convert", "-O", "raw", home.diskPath(id: record.diskID).path, raw.path], what: "reading the disk of '\(name)'")
        case .running:
            await syncGuestFilesystems(record)
            try await hypervisor.copyDiskLive(domain: record.domainName, target: Self.rootDisk, to: raw.path, otherTargets: Self.otherDisks)
        case .some(let other):
            throw BurrowError(.wrongState, "environment '\(name)' is \(other.rawValue)", hint: "Start or stop it first, then export it.")
        }
        progress.end()
        if try Ext4Filesystem(imagePath: raw.path, readOnly: true).needsJournalRecovery {
            // A copy of a running guest, or of one that lost power: the copy's journal is replayed.
            let replay = try await runner.runAllowingFailure("e2fsck", ["-y", "-E", "journal_only", raw.path])
            guard replay.status <= 2 else {
                throw BurrowError(.failure, "the disk of '\(name)' needs a repair e2fsck could not make: \(replay.standardError.trimmingCharacters(in: .whitespacesAndNewlines))", hint: "Start and stop the environment once, then export again.")
            }
        }

        let partial = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).partial-\(getpid())")
        do {
            let filesystem = try Ext4Filesystem(imagePath: raw.path, readOnly: true)
            let writer = try ArchiveWriter(path: partial.path, compression: compression)
            let entries = try FilesystemArchiver(filesystem: filesystem, writer: writer, progress: progress).writeTree()
            try writer.finish()
            try filesystem.close()
            guard rename(partial.path, destination.path) == 0 else {
                throw BurrowError(.failure, "cannot create \(destination.path): \(String(cString: strerror(errno)))")
            }
            let bytes = (try FileManager.default.attributesOfItem(atPath: destination.path)[.size] as? NSNumber)?.int64Value ?? 0
            return ExportResult(environment: name, file: destination.path, entries: entries, bytes: bytes)
        } catch let error as ArchiveError {
            try? FileManager.default.removeItem(at: partial)
            throw BurrowError(.failure, "cannot write \(destination.path): \(error.message)", hint: "Check free space and permissions there; nothing was left behind.")
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }
}

/// Writes the tree of an ext4 filesystem into a tar archive, the inverse of `ImageTreeWriter`:
/// owners, permission bits, times, extended attributes, device numbers, symlinks and hardlinks
/// as the filesystem stores them. mkfs's lost+found stays behind.
struct FilesystemArchiver {
    let filesystem: Ext4Filesystem
    let writer: ArchiveWriter
    let progress: ProgressReporter

    /// One name in the tree, found by `listTree`.
    private struct Listed {
        let path: [UInt8]
        let inode: InodeNumber
        let status: InodeStatus
    }

    /// Writes every entry, parents before their contents; returns how many. The tree is listed
    /// first (names and inodes only, no data), so progress can count file bytes against a total.
    func writeTree() throws -> Int {
        let listing = try listTree()
        var firstPathOfInode: [InodeNumber: [UInt8]] = [:]
        var dataBytes: Int64 = 0
        var counted = Set<InodeNumber>()
        let total = listing.reduce(Int64(0)) { sum, item in
            item.status.isRegularFile && counted.insert(item.inode).inserted ? sum + item.status.size : sum
        }
        progress.begin("exporting", total: total)
        defer { progress.end() }
        for item in listing {
            try Task.checkCancellation()
            if !item.status.isDirectory && item.status.links > 1, let first = firstPathOfInode[item.inode] {
                try writer.append(ArchiveEntry(
                    path: item.path, kind: .hardlink, permissions: item.status.permissions, uid: Int64(item.status.uid), gid: Int64(item.status.gid),
                    modificationTime: item.status.modificationTime, linkTarget: first
                ))
                continue
            }
            if !item.status.isDirectory && item.status.links > 1 { firstPathOfInode[item.inode] = item.path }
            try write(path: item.path, inode: item.inode, status: item.status)
            if item.status.isRegularFile {
                dataBytes += item.status.size
                progress.advance(to: dataBytes)
            }
        }
        return listing.count
    }

    /// Every name from the root down, directories (with a trailing "/") before what they hold;
    /// mkfs's lost+found is left out.
    private func listTree() throws -> [Listed] {
        let root = Listed(path: Array("./".utf8), inode: Ext4Filesystem.rootInode, status: try filesystem.status(of: Ext4Filesystem.rootInode))
        var listing = [root]
        var directories = [root]
        while let directory = directories.popLast() {
            try Task.checkCancellation()
            for entry in try filesystem.entries(of: directory.inode) {
                if directory.inode == Ext4Filesystem.rootInode && entry.name == Array("lost+found".utf8) { continue }
                let status = try filesystem.status(of: entry.inode)
                let item = Listed(path: directory.path + entry.name + (status.isDirectory ? [UInt8(ascii: "/")] : []), inode: entry.inode, status: status)
                listing.append(item)
                if status.isDirectory { directories.append(item) }
            }
        }
        return listing
    }

    private func write(path: [UInt8], inode: InodeNumber, status: InodeStatus) throws {
        let kind = ArchiveEntryKind(fileType: status.fileType)
        let entry = ArchiveEntry(
            path: path, kind: kind, permissions: status.permissions, uid: Int64(status.uid), gid: Int64(status.gid),
            size: status.isRegularFile ? status.size : 0, modificationTime: status.modificationTime,
            linkTarget: status.isSymlink ? try filesystem.symlinkTarget(of: inode) : nil,
            deviceMajor: status.deviceMajor, deviceMinor: status.deviceMinor,
            extendedAttributes: try filesystem.extendedAttributes(of: inode).map { ExtendedAttribute(name: $0.name, value: $0.value) }
        )
        try writer.append(entry) { write in
            try filesystem.readData(of: inode) { try write($0) }
        }
    }
}
