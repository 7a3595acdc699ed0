import Foundation

/// Makes `modules.img`: an ext4 image of a kernel's whole module tree, which every guest mounts
/// read-only over its module folder, so modules reach guests without touching their images.
/// `mkfs.ext4 -d` copies the tree into a sparse file sized from it; the image has no journal and
/// no reserved blocks, since nothing ever writes to it.
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
