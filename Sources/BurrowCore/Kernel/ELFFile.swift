import Foundation

/// The parts of an ELF file's header and program headers burrow needs: whether a decompressed
/// kernel is a whole, loadable ELF image (every loadable segment lies inside the file, so a
/// truncated decompression is caught) and whether a program needs a dynamic loader.
/// Little-endian files only, which covers every architecture burrow supports.
struct ELFFile {
    static let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]

    private static let loadSegment: UInt32 = 1
    private static let interpreterSegment: UInt32 = 3

    struct Segment {
        let type: UInt32
        let offset: UInt64
        let fileSize: UInt64
    }

    let fileSize: UInt64
    let segments: [Segment]

    /// Nil when the file is not a little-endian ELF file with readable program headers.
    init?(url: URL) {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), (try? handle.seek(toOffset: 0)) != nil,
              let header = try? handle.read(upToCount: 64), header.count >= 52,
              Array(header.prefix(4)) == Self.magic, header[5] == 1
        else { return nil }
        let is64Bit: Bool
        switch header[4] {
        case 1: is64Bit = false
        case 2 where header.count >= 64: is64Bit = true
        default: return nil
        }
        let tableOffset = is64Bit ? Self.integer(header, at: 32, size: 8) : Self.integer(header, at: 28, size: 4)
        let entrySize = Self.integer(header, at: is64Bit ? 54 : 42, size: 2)
        let count = Self.integer(header, at: is64Bit ? 56 : 44, size: 2)
        let minimumEntrySize: UInt64 = is64Bit ? 56 : 32
        guard entrySize >= minimumEntrySize, count > 0, tableOffset <= end, entrySize * count <= end - tableOffset,
              (try? handle.seek(toOffset: tableOffset)) != nil,
              let table = try? handle.read(upToCount: Int(entrySize * count)), UInt64(table.count) == entrySize * count
        else { return nil }
        fileSize = end
        segments = (0..<Int(count)).map { index in
            let base = index * Int(entrySize)
            return Segment(
                type: UInt32(Self.integer(table, at: base, size: 4)),
                offset: Self.integer(table, at: base + (is64Bit ? 8 : 4), size: is64Bit ? 8 : 4),
                fileSize: Self.integer(table, at: base + (is64Bit ? 32 : 16), size: is64Bit ? 8 : 4)
            )
        }
    }

    /// Whether the image can be loaded: it has loadable segments and all of them are complete.
    var isCompleteExecutable: Bool {
        let loadable = segments.filter { $0.type == Self.loadSegment }
        return !loadable.isEmpty && loadable.allSatisfy { $0.offset <= fileSize && $0.fileSize <= fileSize - $0.offset }
    }

    /// Whether the program runs without a dynamic loader (what an initramfs without libraries needs).
    var isStaticallyLinked: Bool {
        !segments.contains { $0.type == Self.interpreterSegment }
    }

    private static func integer(_ data: Data, at offset: Int, size: Int) -> UInt64 {
        let start = data.startIndex + offset
        return data[start..<start + size].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
