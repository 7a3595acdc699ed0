import Archive
import Ext4

/// A path inside an image, as normalised components (no empty, "." or ".." components).
/// The empty path is the image's root directory.
public struct ImagePath: Hashable, Sendable, CustomStringConvertible {
    public let components: [[UInt8]]

    public init(_ components: [[UInt8]]) {
        self.components = components
    }

    public static let root = ImagePath([])

    public var parent: ImagePath { ImagePath(Array(components.dropLast())) }
    public var name: [UInt8] { components.last ?? [] }
    public var isRoot: Bool { components.isEmpty }
    public var description: String { "/" + components.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/") }

    public func appending(_ component: [UInt8]) -> ImagePath { ImagePath(components + [component]) }
}

/// An archive entry that passed every check that needs no knowledge of earlier entries.
public struct ValidatedEntry: Sendable {
    public enum Content: Sendable {
        case directory
        case regular(size: Int64)
        case symlink(target: [UInt8])
        case hardlink(target: ImagePath)
        case special(SpecialFileKind)
    }

    public let path: ImagePath
    public let content: Content
    public let metadata: InodeMetadata
    public let extendedAttributes: [ExtendedAttribute]

    public var isDirectory: Bool {
        if case .directory = content { return true }
        return false
    }
}

/// Why an archive entry was refused. Refusing one entry fails the whole import: a tarball that
/// tries to escape is not trusted for anything else either.
public struct HostileEntryError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "refusing archive entry '\(path)': \(reason)" }
}

/// Checks archive entries one at a time: paths are made relative to the image root, ".."
/// components are refused outright (never resolved), hardlink targets obey the same rules,
/// ownership must fit ext4, and device nodes may only live under /dev. Checks that need the
/// tree built so far (writing through a symlink, a hardlink to a directory) are the
/// `ImageTreeWriter`'s.
public struct EntryValidator: Sendable {
    /// Leading components dropped from every path (e.g. the `root.x86_64/` folder of a bootstrap tarball).
    public let stripComponents: Int

    public init(stripComponents: Int = 0) {
        self.stripComponents = stripComponents
    }

    /// The validated entry, or nil when the entry lies entirely within the stripped prefix.
    public func validate(_ entry: ArchiveEntry) throws -> ValidatedEntry? {
        let shown = entry.pathString
        guard let path = try normalize(entry.path, shown: shown) else { return nil }
        let metadata = InodeMetadata(
            permissions: entry.permissions & 0o7777,
            uid: try ownerID(entry.uid, "owner", shown),
            gid: try ownerID(entry.gid, "group", shown),
            modificationTime: entry.modificationTime
        )
        let content: ValidatedEntry.Content
        switch entry.kind {
        case .directory:
            content = .directory
        case .regular:
            guard !path.isRoot else { throw HostileEntryError(path: shown, reason: "a file cannot replace the root directory") }
            guard entry.size >= 0 else { throw HostileEntryError(path: shown, reason: "negative size") }
            content = .regular(size: entry.size)
        case .symlink:
            guard !path.isRoot else { throw HostileEntryError(path: shown, reason: "a symlink cannot replace the root directory") }
            guard let target = entry.linkTarget, !target.isEmpty else { throw HostileEntryError(path: shown, reason: "symlink with an empty target") }
            guard target.count < 4096 else { throw HostileEntryError(path: shown, reason: "symlink target longer than 4095 bytes") }
            // Symlink targets are stored, never followed while importing, so any target is harmless.
            content = .symlink(target: target)
        case .hardlink:
            let raw = entry.linkTarget ?? []
            guard let target = try normalize(raw, shown: String(decoding: raw, as: UTF8.self)), !target.isRoot else {
                throw HostileEntryError(path: shown, reason: "hardlink to the root directory or to a stripped path")
            }
            guard !path.isRoot else { throw HostileEntryError(path: shown, reason: "a hardlink cannot replace the root directory") }
            content = .hardlink(target: target)
        case .characterDevice, .blockDevice:
            guard path.components.first == Array("dev".utf8), path.components.count > 1 else {
                throw HostileEntryError(path: shown, reason: "device node outside /dev")
            }
            content = .special(entry.kind == .characterDevice
                ? .characterDevice(major: entry.deviceMajor, minor: entry.deviceMinor)
                : .blockDevice(major: entry.deviceMajor, minor: entry.deviceMinor))
        case .fifo:
            content = .special(.fifo)
        case .socket:
            content = .special(.socket)
        case .unknown(let type):
            throw HostileEntryError(path: shown, reason: "unsupported file type 0o\(String(type, radix: 8))")
        }
        return ValidatedEntry(path: path, content: content, metadata: metadata, extendedAttributes: entry.extendedAttributes)
    }

    /// Splits a raw archive path into image components. Leading "/" and "./" mean the image
    /// root (as GNU tar treats them); "." components vanish; ".." is refused wherever it is.
    func normalize(_ raw: [UInt8], shown: String) throws -> ImagePath? {
        var components: [[UInt8]] = []
        for component in raw.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if component.elementsEqual([UInt8(ascii: ".")]) { continue }
            if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                throw HostileEntryError(path: shown, reason: "'..' in a path could reach outside the image")
            }
            guard component.count <= 255 else { throw HostileEntryError(path: shown, reason: "a name longer than 255 bytes") }
            components.append(Array(component))
        }
        guard components.count >= stripComponents else { return nil }
        return ImagePath(Array(components.dropFirst(stripComponents)))
    }

    private func ownerID(_ value: Int64, _ what: String, _ shown: String) throws -> UInt32 {
        guard value >= 0, value < Int64(UInt32.max) else { throw HostileEntryError(path: shown, reason: "\(what) id \(value) does not fit ext4") }
        return UInt32(value)
    }
}
