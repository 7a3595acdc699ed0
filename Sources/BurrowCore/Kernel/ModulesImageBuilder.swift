import Ext4
import Foundation

/// Makes `modules.img`: an ext4 image of a kernel's whole module tree, which every guest mounts
/// read-only over its module folder, so modules reach guests without touching their images.
/// `mkfs.ext4 -d` copies the tree into a sparse file sized from it; the image has no journal and
/// no reserved blocks, since nothing ever writes to it. Every entry in it belongs to root, also
/// when an ordinary user made it from a tree they own.
struct ModulesImageBuilder {
    static let label = "burrow-modules"
    private static let blockSize: Int64 = 4096

    let runner: ProcessRunner

    func build(tree: URL, output: URL) async throws {
        let (bytes, entries) = try Self.measure(tree)
        // Room for metadata and directories on top of the data, rounded up to whole MiB.
        let size = ((bytes + bytes / 10 + (16 << 20)) + (1 << 20) - 1) / (1 << 20) * (1 << 20)
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
            throw BurrowError(.failure, "cannot create \(output.path)", hint: "Check free space and permissions under that folder.")
        }
        let handle = try FileHandle(forWritingTo: output)
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        try await runner.run(
            "mkfs.ext4",
            [
                "-q", "-F", "-L", Self.label, "-T", "default", "-b", String(Self.blockSize), "-m", "0",
                "-O", "^has_journal", "-N", String(entries + 1024),
                "-E", "root_owner=0:0,assume_storage_prezeroed=1", "-d", tree.path, output.path,
            ],
            what: "making the modules image"
        )
        if getuid() != 0 { try Self.giveToRoot(image: output, tree: tree) }
    }

    /// `mkfs.ext4 -d` copies each entry's owner from the tree, which belongs to whoever unpacked
    /// it; this makes root the owner of every entry in the image, keeping modes and times.
    private static func giveToRoot(image: URL, tree: URL) throws {
        let filesystem = try Ext4Filesystem(imagePath: image.path)
        var directories: [String: InodeNumber] = ["": Ext4Filesystem.rootInode]
        guard let paths = FileManager.default.enumerator(atPath: tree.path) else {
            throw BurrowError(.failure, "cannot read the module tree \(tree.path)")
        }
        // The enumerator lists each folder before what it holds.
        for case let path as String in paths {
            let parent = (path as NSString).deletingLastPathComponent
            var status = stat()
            guard lstat(tree.appendingPathComponent(path).path, &status) == 0,
                  let folder = directories[parent],
                  let inode = try filesystem.lookup(Array((path as NSString).lastPathComponent.utf8), in: folder)
            else {
                throw BurrowError(.failure, "the modules image lacks \(path), which is in \(tree.path)", hint: "Retry; if it persists, the tree changed while the image was made.")
            }
            try filesystem.setMetadata(InodeMetadata(permissions: UInt32(status.st_mode) & 0o7777, uid: 0, gid: 0, modificationTime: Int64(status.st_mtim.tv_sec)), of: inode)
            if status.st_mode & S_IFMT == S_IFDIR { directories[path] = inode }
        }
        try filesystem.close()
    }

    /// The tree's data in whole blocks plus a block per entry, and the number of entries.
    private static func measure(_ tree: URL) throws -> (bytes: Int64, entries: Int) {
        guard let enumerator = FileManager.default.enumerator(at: tree, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else {
            throw BurrowError(.failure, "cannot read the module tree \(tree.path)")
        }
        var bytes: Int64 = 0
        var entries = 0
        for case let url as URL in enumerator {
            entries += 1
            let values = try url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
            let size = values.isRegularFile == true ? Int64(values.fileSize ?? 0) : 0
            bytes += (size + blockSize - 1) / blockSize * blockSize + blockSize
        }
        return (bytes, entries)
    }
}
