import Foundation

/// The compressions Linux wraps its image and modules in, each with the bytes that start a
/// stream and the system tool that undoes it (streaming stdin to stdout).
enum KernelCompression: CaseIterable, Sendable {
    // Listed from the most to the least distinctive magic, so a scan of a kernel image tries the
    // likeliest payloads first.
    case xz, zstd, gzip, lz4, bzip2, lzma

    var magic: [UInt8] {
        switch self {
        case .xz: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]
        case .zstd: [0x28, 0xB5, 0x2F, 0xFD]
        case .gzip: [0x1F, 0x8B, 0x08]
        // The kernel uses lz4's legacy frame format.
        case .lz4: [0x02, 0x21, 0x4C, 0x18]
        case .bzip2: [0x42, 0x5A, 0x68]
        case .lzma: [0x5D, 0x00, 0x00, 0x00]
        }
    }

    var decompressCommand: [String] {
        switch self {
        // A kernel image carries more bytes after its stream; --single-stream ignores them.
        case .xz: ["xz", "-dcq", "--single-stream"]
        case .zstd: ["zstd", "-dcq"]
        case .gzip: ["gzip", "-dcq"]
        case .lz4: ["lz4", "-dcq"]
        case .bzip2: ["bzip2", "-dcq"]
        case .lzma: ["xz", "--format=lzma", "-dcq"]
        }
    }

    private static let moduleSuffixes: [(suffix: String, compression: KernelCompression)] = [(".xz", .xz), (".zst", .zstd), (".gz", .gzip)]

    /// Splits a module's path (`kernel/fs/ext4/ext4.ko.xz`) into the path of its uncompressed
    /// form (`kernel/fs/ext4/ext4.ko`) and the compression its name says it has.
    static func module(_ path: String) -> (plainPath: String, compression: KernelCompression?) {
        for (suffix, compression) in moduleSuffixes where path.hasSuffix(".ko" + suffix) {
            return (String(path.dropLast(suffix.count)), compression)
        }
        return (path, nil)
    }

    /// Decompresses `input` (from byte `offset` on) into `output`, returning the tool's exit status.
    func decompress(_ input: URL, from offset: Int = 0, to output: URL, runner: ProcessRunner) async throws -> Int32 {
        try await runner.runFiltering(decompressCommand, input: input, skipping: offset, output: output).status
    }
}
