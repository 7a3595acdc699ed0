import Archive
import Foundation

/// Builds small tarballs, well-formed or hostile, entry by entry.
public struct TarballBuilder {
    public struct Item {
        public var entry: ArchiveEntry
        public var contents: [UInt8]
    }

    public private(set) var items: [Item] = []

    public init() {}

    public mutating func directory(_ path: String, mode: UInt32 = 0o755, uid: Int64 = 0, gid: Int64 = 0) {
        items.append(Item(entry: ArchiveEntry(path: Array(path.utf8), kind: .directory, permissions: mode, uid: uid, gid: gid), contents: []))
    }

    public mutating func file(_ path: String, _ contents: String = "", mode: UInt32 = 0o644, uid: Int64 = 0, gid: Int64 = 0, xattrs: [ExtendedAttribute] = []) {
        file(path, bytes: Array(contents.utf8), mode: mode, uid: uid, gid: gid, xattrs: xattrs)
    }

    public mutating func file(_ path: String, bytes: [UInt8], mode: UInt32 = 0o644, uid: Int64 = 0, gid: Int64 = 0, xattrs: [ExtendedAttribute] = []) {
        let entry = ArchiveEntry(path: Array(path.utf8), kind: .regular, permissions: mode, uid: uid, gid: gid, size: Int64(bytes.count), extendedAttributes: xattrs)
        items.append(Item(entry: entry, contents: bytes))
    }

    public mutating func symlink(_ path: String, to target: String) {
        items.append(Item(entry: ArchiveEntry(path: Array(path.utf8), kind: .symlink, permissions: 0o777, linkTarget: Array(target.utf8)), contents: []))
    }

    public mutating func hardlink(_ path: String, to target: String) {
        items.append(Item(entry: ArchiveEntry(path: Array(path.utf8), kind: .hardlink, permissions: 0o644, linkTarget: Array(target.utf8)), contents: []))
    }

    public mutating func device(_ path: String, block: Bool = false, major: UInt32, minor: UInt32) {
        let entry = ArchiveEntry(path: Array(path.utf8), kind: block ? .blockDevice : .characterDevice, permissions: 0o666, deviceMajor: major, deviceMinor: minor)
        items.append(Item(entry: entry, contents: []))
    }

    public mutating func fifo(_ path: String) {
        items.append(Item(entry: ArchiveEntry(path: Array(path.utf8), kind: .fifo, permissions: 0o644), contents: []))
    }

    @discardableResult
    public func write(to url: URL, compression: ArchiveCompression = .none) throws -> URL {
        let writer = try ArchiveWriter(path: url.path, compression: compression)
        for item in items { try writer.append(item.entry, contents: item.contents) }
        try writer.finish()
        return url
    }
}
