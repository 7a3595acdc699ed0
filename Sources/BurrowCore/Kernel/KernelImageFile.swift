import Foundation

/// A kernel as distributions ship it (`vmlinuz`): on x86 a bzImage, whose setup header names the
/// kernel release and whose payload is the compressed ELF kernel; elsewhere a compressed raw
/// image. Reading it never fails on an unknown format: the version is then nil and no ELF
/// kernel comes out, and the file still boots as it is.
struct KernelImageFile {
    /// How many candidate payload offsets to try before giving up; a real payload is among the
    /// first, and the limit keeps a large file full of short magics (lzma's is `5D 00 00 00`)
    /// from spawning thousands of decompressors.
    static let maximumAttempts = 64

    let url: URL
    private let bytes: Data

    init(url: URL) throws {
        self.url = url
        guard FileManager.default.isReadableFile(atPath: url.path), let bytes = try? Data(contentsOf: url) else {
            throw BurrowError(.notFound, "cannot read the kernel image \(url.path)", hint: "Check the path to the vmlinuz file.")
        }
        self.bytes = bytes
    }

    /// The release (what `uname -r` will print) from a bzImage's setup header, or nil.
    var embeddedVersion: String? {
        // Boot protocol: "HdrS" at 0x202; at 0x20E the offset, less 0x200, of a
        // NUL-terminated "<release> (<builder>) #<build> ..." string.
        guard bytes.count > 0x210, bytes[bytes.startIndex + 0x202..<bytes.startIndex + 0x206].elementsEqual(Array("HdrS".utf8)) else { return nil }
        let pointer = Int(bytes[bytes.startIndex + 0x20E]) | Int(bytes[bytes.startIndex + 0x20F]) << 8
        let start = bytes.startIndex + 0x200 + pointer
        guard pointer > 0, start < bytes.endIndex else { return nil }
        let text = bytes[start..<min(start + 256, bytes.endIndex)].prefix { $0 != 0 }
        let release = String(decoding: text, as: UTF8.self).split(separator: " ").first.map(String.init)
        return release.flatMap { KernelCore.isValidVersion($0) ? $0 : nil }
    }

    /// Writes the uncompressed ELF kernel inside this image to `output`, the way the kernel's
    /// scripts/extract-vmlinux does it: every offset where a compression's magic occurs is tried
    /// with that compression's tool until a complete ELF image comes out. Returns false (leaving
    /// no file) when none does, e.g. for arm64 images, which are not ELF inside.
    func extractELF(to output: URL, runner: ProcessRunner) async throws -> Bool {
        var attemptsLeft = Self.maximumAttempts
        for compression in KernelCompression.allCases {
            for offset in offsets(of: compression.magic, limit: attemptsLeft) {
                attemptsLeft -= 1
                // The exit status says little: the stream is followed by the rest of the image.
                _ = try await compression.decompress(url, from: offset, to: output, runner: runner)
                if ELFFile(url: output)?.isCompleteExecutable == true { return true }
            }
        }
        try? FileManager.default.removeItem(at: output)
        return false
    }

    /// The first `limit` offsets at which `magic` occurs.
    private func offsets(of magic: [UInt8], limit: Int) -> [Int] {
        let pattern = Data(magic)
        var found: [Int] = []
        var searchStart = bytes.startIndex
        while found.count < limit, searchStart < bytes.endIndex,
              let match = bytes.range(of: pattern, in: searchStart..<bytes.endIndex) {
            found.append(match.lowerBound - bytes.startIndex)
            searchStart = match.lowerBound + 1
        }
        return found
    }
}
