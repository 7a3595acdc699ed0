import ByteString
import CArchive

/// The kind of filesystem object an archive entry describes.
public enum ArchiveEntryKind: Sendable, Equatable {
    case regular
    case directory
    case symlink
    case hardlink
    case characterDevice
    case blockDevice
    case fifo
    case socket
    case unknown(UInt32)
}

/// A copied-out archive entry header. Paths and link targets are kept as the raw bytes the
/// archive stored, so names that are not valid UTF-8 survive untouched.
public struct ArchiveEntry: Sendable, Equatable {
    public var path: [UInt8]
    public var kind: ArchiveEntryKind
    /// Permission bits including setuid, setgid and sticky (no file-type bits).
    public var permissions: UInt32
    public var uid: Int64
    public var gid: Int64
    public var size: Int64
    public var modificationTime: Int64
    /// Target of a symlink (any path) or of a hardlink (another entry's path).
    public var linkTarget: [UInt8]?
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    public var extendedAttributes: [ExtendedAttribute]

    public init(
        path: [UInt8], kind: ArchiveEntryKind, permissions: UInt32 = 0o644, uid: Int64 = 0, gid: Int64 = 0,
        size: Int64 = 0, modificationTime: Int64 = 0, linkTarget: [UInt8]? = nil,
        deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0, extendedAttributes: [ExtendedAttribute] = []
    ) {
        self.path = path
        self.kind = kind
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.size = size
        self.modificationTime = modificationTime
        self.linkTarget = linkTarget
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.extendedAttributes = extendedAttributes
    }

    public var pathString: String { String(decoding: path, as: UTF8.self) }

    init(_ entry: OpaquePointer) {
        path = bytesOfCString(archive_entry_pathname(entry))
        let hardlink = archive_entry_hardlink(entry)
        let fileType = UInt32(archive_entry_filetype(entry))
        if hardlink != nil {
            kind = .hardlink
            linkTarget = bytesOfCString(hardlink)
        } else {
            kind = ArchiveEntryKind(fileType: fileType)
            linkTarget = kind == .symlink ? bytesOfCString(archive_entry_symlink(entry)) : nil
        }
        permissions = UInt32(archive_entry_perm(entry)) & 0o7777
        uid = archive_entry_uid(entry)
        gid = archive_entry_gid(entry)
        size = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0
        modificationTime = Int64(archive_entry_mtime(entry))
        deviceMajor = UInt32(archive_entry_rdevmajor(entry))
        deviceMinor = UInt32(archive_entry_rdevminor(entry))
        var attributes: [ExtendedAttribute] = []
        if archive_entry_xattr_reset(entry) > 0 {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var length = 0
            while archive_entry_xattr_next(entry, &name, &value, &length) == ARCHIVE_OK {
                guard let name else { continue }
                let data = value.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
                attributes.append(ExtendedAttribute(name: String(cString: name), value: data))
            }
        }
        extendedAttributes = attributes
    }
}

/// One extended attribute (e.g. `security.capability`) with its raw value.
public struct ExtendedAttribute: Sendable, Equatable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

// libarchive defines its file-type constants through casts, which Swift does not import.
private let AE_IFREG: UInt32 = 0o100000
private let AE_IFDIR: UInt32 = 0o040000
private let AE_IFLNK: UInt32 = 0o120000
private let AE_IFCHR: UInt32 = 0o020000
private let AE_IFBLK: UInt32 = 0o060000
private let AE_IFIFO: UInt32 = 0o010000
private let AE_IFSOCK: UInt32 = 0o140000

extension ArchiveEntryKind {
    /// The kind named by `st_mode`'s file-type bits (libarchive's AE_IF* values are the same).
    public init(fileType: UInt32) {
        switch fileType {
        case AE_IFREG: self = .regular
        case AE_IFDIR: self = .directory
        case AE_IFLNK: self = .symlink
        case AE_IFCHR: self = .characterDevice
        case AE_IFBLK: self = .blockDevice
        case AE_IFIFO: self = .fifo
        case AE_IFSOCK: self = .socket
        default: self = .unknown(fileType)
        }
    }

    var fileType: UInt32 {
        switch self {
        case .regular, .hardlink: AE_IFREG
        case .directory: AE_IFDIR
        case .symlink: AE_IFLNK
        case .characterDevice: AE_IFCHR
        case .blockDevice: AE_IFBLK
        case .fifo: AE_IFIFO
        case .socket: AE_IFSOCK
        case .unknown(let type): type
        }
    }
}

/// A libarchive failure: what burrow was doing and libarchive's own message.
public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let message: String

    public var description: String { "could not \(operation): \(message)" }
}
