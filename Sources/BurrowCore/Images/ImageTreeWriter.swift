import Archive
import Ext4

/// Builds a directory tree inside an ext4 filesystem from validated entries, in archive order.
///
/// It remembers every path it created, so it never asks the filesystem to resolve a path: a
/// parent that is a symlink or a file is refused (no writing through links), a hardlink may
/// only name an earlier non-directory entry, and a later entry for an existing path replaces it
/// the way `tar -x` does. Missing parent directories are created root-owned with mode 0755.
final class ImageTreeWriter {
    private struct Node {
        let inode: InodeNumber
        let isDirectory: Bool
        /// The target of a symlink, as the archive gave it; nil for everything else.
        let symlinkTarget: [UInt8]?

        var isSymlink: Bool { symlinkTarget != nil }
    }

    private let filesystem: Ext4Filesystem
    private var nodes: [ImagePath: Node]
    private(set) var entriesWritten = 0

    private static let lostAndFound = Array("lost+found".utf8)

    init(filesystem: Ext4Filesystem) throws {
        self.filesystem = filesystem
        nodes = [.root: Node(inode: Ext4Filesystem.rootInode, isDirectory: true, symlinkTarget: nil)]
        // mkfs.ext4 leaves lost+found behind; it is the only entry not made by this writer.
        if let inode = try filesystem.lookup(Self.lostAndFound, in: Ext4Filesystem.rootInode) {
            nodes[ImagePath.root.appending(Self.lostAndFound)] = Node(inode: inode, isDirectory: true, symlinkTarget: nil)
        }
    }

    /// Writes one entry; for regular files `nextDataBlock` yields the file's data runs.
    func add(_ entry: ValidatedEntry, nextDataBlock: () throws -> ArchiveDataBlock?) throws {
        if entry.path.isRoot {
            guard case .directory = entry.content else { throw refusal(entry, "only a directory can describe the root") }
            try filesystem.setMetadata(entry.metadata, of: Ext4Filesystem.rootInode)
            try setAttributes(entry, on: Ext4Filesystem.rootInode)
            return
        }
        let parent = try directory(for: entry.path.parent, creatingFor: entry)
        if let existing = nodes[entry.path] {
            if existing.isDirectory {
                guard case .directory = entry.content else { throw refusal(entry, "a non-directory cannot replace a directory") }
                try filesystem.setMetadata(entry.metadata, of: existing.inode)
                try setAttributes(entry, on: existing.inode)
                return
            }
            try filesystem.unlink(entry.path.name, in: parent, inode: existing.inode)
            nodes[entry.path] = nil
        }
        let name = entry.path.name
        let node: Node
        switch entry.content {
        case .directory:
            node = Node(inode: try filesystem.makeDirectory(name, in: parent, metadata: entry.metadata), isDirectory: true, symlinkTarget: nil)
        case .regular(let size):
            let inode = try filesystem.makeRegularFile(name, in: parent, size: size, metadata: entry.metadata)
            let writer = try filesystem.openFile(inode)
            while let block = try nextDataBlock() {
                guard block.offset >= 0, block.offset + Int64(block.bytes.count) <= size else {
                    throw refusal(entry, "data beyond the size its header declares")
                }
                try writer.write(block.bytes, at: block.offset)
            }
            try writer.close()
            node = Node(inode: inode, isDirectory: false, symlinkTarget: nil)
        case .symlink(let target):
            node = Node(inode: try filesystem.makeSymlink(name, in: parent, target: target, metadata: entry.metadata), isDirectory: false, symlinkTarget: target)
        case .hardlink(let targetPath):
            guard let target = nodes[targetPath] else { throw refusal(entry, "hardlink to \(targetPath), which is not an earlier entry of the archive") }
            guard !target.isDirectory else { throw refusal(entry, "hardlink to a directory") }
            try filesystem.link(name, in: parent, to: target.inode)
            node = target
            // A hardlink entry carries no attributes of its own: they belong to the shared inode.
            nodes[entry.path] = node
            entriesWritten += 1
            return
        case .special(let kind):
            node = Node(inode: try filesystem.makeSpecialFile(name, in: parent, kind: kind, metadata: entry.metadata), isDirectory: false, symlinkTarget: nil)
        }
        nodes[entry.path] = node
        try setAttributes(entry, on: node.inode)
        entriesWritten += 1
        if entriesWritten == 1000 { CrashPoint.reach("import.entries") }
    }

    /// Whether `path` was written as a directory (a symlink to one does not count).
    func isDirectory(_ path: ImagePath) -> Bool {
        nodes[path]?.isDirectory == true
    }

    /// The written paths directly inside `directory`.
    func children(of directory: ImagePath) -> [ImagePath] {
        nodes.keys.filter { $0.components.count == directory.components.count + 1 && $0.components.starts(with: directory.components) }
    }

    /// Removes each path and everything written under it; paths never written are skipped.
    /// Only directories cost a pass over the tree (deepest first, so each is empty when it goes).
    func remove(_ paths: Set<ImagePath>) throws {
        let directories = Set(paths.filter { !$0.isRoot && nodes[$0]?.isDirectory == true })
        var doomed = Array(paths.filter { nodes[$0].map { !$0.isDirectory } ?? false })
        if !directories.isEmpty {
            doomed += nodes.keys.filter { path in
                (0..<path.components.count).contains { directories.contains(ImagePath(Array(path.components[...$0]))) }
            }
        }
        for path in Set(doomed).sorted(by: { $0.components.count > $1.components.count }) {
            guard let node = nodes[path], let parent = nodes[path.parent] else { continue }
            if node.isDirectory {
                try filesystem.removeEmptyDirectory(path.name, in: parent.inode, inode: node.inode)
            } else {
                try filesystem.unlink(path.name, in: parent.inode, inode: node.inode)
            }
            nodes[path] = nil
        }
    }

    /// Whether an absolute path (e.g. "/usr/sbin/sshd") was written, without following links.
    func contains(_ path: String) -> Bool {
        let components = path.split(separator: "/").map { Array($0.utf8) }
        return nodes[ImagePath(components)] != nil
    }

    /// The path that an absolute `path` leads to in the tree written so far, following its
    /// symlinks as the guest would (an absolute target starts at the image's root, `..` stops
    /// there); nil when it leads to nothing written, or through more than 40 links.
    func resolvedPath(_ path: String) -> String? {
        var pending = ArraySlice(path.utf8.split(separator: UInt8(ascii: "/")).map(Array.init))
        var reached: [[UInt8]] = []
        var links = 0
        while let component = pending.popFirst() {
            if component == Array(".".utf8) { continue }
            if component == Array("..".utf8) {
                _ = reached.popLast()
                continue
            }
            guard let node = nodes[ImagePath(reached + [component])] else { return nil }
            guard let target = node.symlinkTarget else {
                reached.append(component)
                continue
            }
            links += 1
            guard links <= 40 else { return nil }
            if target.first == UInt8(ascii: "/") { reached = [] }
            pending = ArraySlice(target.split(separator: UInt8(ascii: "/")).map(Array.init) + pending)
        }
        return ImagePath(reached).description
    }

    /// The names at the top of the tree written so far, made safe to print; lost+found, which
    /// every filesystem has, is left out.
    var topLevelNames: [String] {
        nodes.keys.filter { $0.components.count == 1 && $0.name != Self.lostAndFound }
            .map { TerminalText.sanitized(String(decoding: $0.name, as: UTF8.self)) }.sorted()
    }

    /// The inode of the directory at `path`, creating missing directories on the way.
    private func directory(for path: ImagePath, creatingFor entry: ValidatedEntry) throws -> InodeNumber {
        if let node = nodes[path] {
            guard node.isDirectory else {
                throw refusal(entry, node.isSymlink
                    ? "\(path) is a symlink; writing through it could land outside the intended tree"
                    : "\(path) is not a directory")
            }
            return node.inode
        }
        let parent = try directory(for: path.parent, creatingFor: entry)
        let implied = InodeMetadata(permissions: 0o755, uid: 0, gid: 0, modificationTime: entry.metadata.modificationTime)
        let inode = try filesystem.makeDirectory(path.name, in: parent, metadata: implied)
        nodes[path] = Node(inode: inode, isDirectory: true, symlinkTarget: nil)
        return inode
    }

    private func setAttributes(_ entry: ValidatedEntry, on inode: InodeNumber) throws {
        guard !entry.extendedAttributes.isEmpty else { return }
        try filesystem.setExtendedAttributes(entry.extendedAttributes.map { ($0.name, $0.value) }, of: inode)
    }

    private func refusal(_ entry: ValidatedEntry, _ reason: String) -> HostileEntryError {
        HostileEntryError(path: entry.path.description, reason: reason)
    }
}
