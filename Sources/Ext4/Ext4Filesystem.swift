import ByteString
import CExt2fs

/// An inode number inside an ext4 filesystem.
public typealias InodeNumber = UInt32

/// Ownership, permission bits (including setuid/setgid/sticky) and modification time of an inode.
public struct InodeMetadata: Sendable, Equatable {
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var modificationTime: Int64

    public init(permissions: UInt32, uid: UInt32, gid: UInt32, modificationTime: Int64) {
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.modificationTime = modificationTime
    }
}

/// Special (data-less) inode kinds.
public enum SpecialFileKind: Sendable {
    case characterDevice(major: UInt32, minor: UInt32)
    case blockDevice(major: UInt32, minor: UInt32)
    case fifo
    case socket
}

/// What kind of object an inode is, read back from its mode.
public enum InodeKind: Sendable, Equatable {
    case regular, directory, symlink, other
}

/// A libext2fs failure: the operation and libext2fs's own message for its error code.
public struct Ext4Error: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let code: Int
    public let message: String

    /// True when the filesystem ran out of blocks or inodes.
    public var isOutOfSpace: Bool {
        code == Int(EXT2_ET_BLOCK_ALLOC_FAIL) || code == Int(EXT2_ET_INODE_ALLOC_FAIL) || code == Int(EXT2_ET_DIR_NO_SPACE_FOR_CSUM) || code == 28
    }

    public var description: String { "could not \(operation): \(message)" }
}

/// An ext4 filesystem image opened read-write through libext2fs, for filling it with files
/// without mounting it and without root.
///
/// The image must already hold an empty filesystem (made by `mkfs.ext4`). Nothing reaches the
/// disk consistently until `close()` succeeds; dropping the object without `close()` discards
/// the handle without flushing, which is what a failed import wants. Not thread-safe.
public final class Ext4Filesystem {
    public static let rootInode: InodeNumber = InodeNumber(EXT2_ROOT_INO)

    private var fs: ext2_filsys?
    private let zeroBlock: [UInt8]
    public let blockSize: Int

    /// Opens the filesystem for writing, or with `readOnly` only for reading (nothing is ever
    /// written back, so an image another process holds read-only stays untouched).
    public init(imagePath: String, readOnly: Bool = false) throws {
        Self.registerErrorMessages
        var handle: ext2_filsys?
        let flags = (readOnly ? 0 : EXT2_FLAG_RW) | EXT2_FLAG_64BITS
        try Self.check(ext2fs_open2(imagePath, nil, flags, 0, 0, burrow_unix_io_manager(), &handle), "open the filesystem in \(imagePath)")
        guard let handle else { throw Ext4Error(operation: "open \(imagePath)", code: 0, message: "no handle returned") }
        fs = handle
        blockSize = 1024 << Int(handle.pointee.super.pointee.s_log_block_size)
        zeroBlock = [UInt8](repeating: 0, count: blockSize)
        if !readOnly { try check(ext2fs_read_bitmaps(handle), "read the allocation bitmaps") }
    }

    deinit {
        if fs != nil { ext2fs_free(fs) }
    }

    /// Writes bitmaps, inode tables and the superblock, then releases the handle.
    public func close() throws {
        var handle = fs
        fs = nil
        try check(ext2fs_close_free(&handle), "write the filesystem")
    }

    /// The inode a name refers to in a directory, or nil when there is none.
    public func lookup(_ name: [UInt8], in directory: InodeNumber) throws -> InodeNumber? {
        let handle = try open()
        var inode: ext2_ino_t = 0
        let status = name.withCString { ext2fs_lookup(handle, directory, $0, Int32(name.count), nil, &inode) }
        if status == EXT2_ET_FILE_NOT_FOUND { return nil }
        try check(status, "look up \(String(decoding: name, as: UTF8.self))")
        return inode
    }

    public func kind(of inode: InodeNumber) throws -> InodeKind {
        let mode = try readInode(inode).i_mode
        switch UInt32(mode) & UInt32(LINUX_S_IFMT) {
        case UInt32(LINUX_S_IFREG): return .regular
        case UInt32(LINUX_S_IFDIR): return .directory
        case UInt32(LINUX_S_IFLNK): return .symlink
        default: return .other
        }
    }

    public func makeDirectory(_ name: [UInt8], in parent: InodeNumber, metadata: InodeMetadata) throws -> InodeNumber {
        let handle = try open()
        let inode = try newInode(in: parent, mode: UInt32(LINUX_S_IFDIR) | 0o755)
        try retryingWhenDirectoryFull(parent, "create directory \(display(name))") {
            name.withCString { ext2fs_mkdir(handle, parent, inode, $0) }
        }
        try setMetadata(metadata, of: inode)
        return inode
    }

    public func makeSymlink(_ name: [UInt8], in parent: InodeNumber, target: [UInt8], metadata: InodeMetadata) throws -> InodeNumber {
        let handle = try open()
        let inode = try newInode(in: parent, mode: UInt32(LINUX_S_IFLNK) | 0o777)
        try retryingWhenDirectoryFull(parent, "create symlink \(display(name))") {
            name.withCString { cName in target.withCString { ext2fs_symlink(handle, parent, inode, cName, $0) } }
        }
        try setMetadata(InodeMetadata(permissions: 0o777, uid: metadata.uid, gid: metadata.gid, modificationTime: metadata.modificationTime), of: inode)
        return inode
    }

    public func makeSpecialFile(_ name: [UInt8], in parent: InodeNumber, kind: SpecialFileKind, metadata: InodeMetadata) throws -> InodeNumber {
        let (typeBits, fileType): (UInt32, Int32) = switch kind {
        case .characterDevice: (UInt32(LINUX_S_IFCHR), EXT2_FT_CHRDEV)
        case .blockDevice: (UInt32(LINUX_S_IFBLK), EXT2_FT_BLKDEV)
        case .fifo: (UInt32(LINUX_S_IFIFO), EXT2_FT_FIFO)
        case .socket: (UInt32(LINUX_S_IFSOCK), EXT2_FT_SOCK)
        }
        var inode = ext2_inode()
        inode.i_mode = UInt16(truncatingIfNeeded: typeBits | (metadata.permissions & 0o7777))
        switch kind {
        case .characterDevice(let major, let minor), .blockDevice(let major, let minor):
            // The kernel's old and new device-number encodings, as mke2fs writes them.
            if major < 256 && minor < 256 {
                inode.i_block.0 = major * 256 + minor
            } else {
                inode.i_block.1 = (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)
            }
        case .fifo, .socket:
            break
        }
        return try addInode(&inode, named: name, in: parent, fileType: fileType, metadata: metadata)
    }

    /// Creates an empty regular file of `size` bytes (a hole) and returns its inode; fill it with `write`.
    public func makeRegularFile(_ name: [UInt8], in parent: InodeNumber, size: Int64, metadata: InodeMetadata) throws -> InodeNumber {
        let handle = try open()
        var inode = ext2_inode()
        inode.i_mode = UInt16(truncatingIfNeeded: UInt32(LINUX_S_IFREG) | (metadata.permissions & 0o7777))
        try check(ext2fs_inode_size_set(handle, &inode, size), "set the size of \(display(name))")
        if ext2fs_has_feature_extents(handle.pointee.super) != 0 {
            inode.i_flags |= UInt32(EXT4_EXTENTS_FL)
        }
        return try addInode(&inode, named: name, in: parent, fileType: EXT2_FT_REG_FILE, metadata: metadata)
    }

    /// Opens a regular file's data for writing; close the writer before the next file.
    public func openFile(_ inode: InodeNumber) throws -> Ext4FileWriter {
        let handle = try open()
        var file: ext2_file_t?
        try check(ext2fs_file_open(handle, inode, Int32(EXT2_FILE_WRITE), &file), "open inode \(inode) for writing")
        guard let file else { throw Ext4Error(operation: "open inode \(inode)", code: 0, message: "no handle returned") }
        return Ext4FileWriter(file: file, zeroBlock: zeroBlock)
    }

    /// Adds another name for an existing non-directory inode.
    public func link(_ name: [UInt8], in parent: InodeNumber, to target: InodeNumber) throws {
        let handle = try open()
        var inode = try readInode(target)
        let fileType = Self.directoryEntryType(mode: inode.i_mode)
        try retryingWhenDirectoryFull(parent, "link \(display(name))") {
            name.withCString { ext2fs_link(handle, parent, $0, target, fileType) }
        }
        inode.i_links_count += 1
        try writeInode(target, &inode)
    }

    /// Removes a non-directory name; frees the inode and its blocks once no name refers to it.
    public func unlink(_ name: [UInt8], in parent: InodeNumber, inode target: InodeNumber) throws {
        let handle = try open()
        try check(name.withCString { ext2fs_unlink(handle, parent, $0, target, 0) }, "remove \(display(name))")
        var inode = try readInode(target)
        inode.i_links_count -= 1
        if inode.i_links_count > 0 {
            try writeInode(target, &inode)
            return
        }
        try release(target, &inode, isDirectory: false, name)
    }

    /// Removes an empty directory and frees it; the parent loses the link the directory's ".."
    /// held. The caller empties the directory first.
    public func removeEmptyDirectory(_ name: [UInt8], in parent: InodeNumber, inode target: InodeNumber) throws {
        let handle = try open()
        try check(name.withCString { ext2fs_unlink(handle, parent, $0, target, 0) }, "remove directory \(display(name))")
        var inode = try readInode(target)
        inode.i_links_count = 0
        try release(target, &inode, isDirectory: true, name)
        var parentInode = try readInode(parent)
        // A count of 1 means the parent overflowed ext4's link limit (dir_nlink) and is no longer counted.
        if parentInode.i_links_count > 2 {
            parentInode.i_links_count -= 1
            try writeInode(parent, &parentInode)
        }
    }

    public func setMetadata(_ metadata: InodeMetadata, of target: InodeNumber) throws {
        var inode = try readInode(target)
        apply(metadata, to: &inode)
        try writeInode(target, &inode)
    }

    public func setExtendedAttributes(_ attributes: [(name: String, value: [UInt8])], of target: InodeNumber) throws {
        guard !attributes.isEmpty else { return }
        let handle = try open()
        var xattrs: OpaquePointer?
        try check(ext2fs_xattrs_open(handle, target, &xattrs), "open the attributes of inode \(target)")
        defer { ext2fs_xattrs_close(&xattrs) }
        try check(ext2fs_xattrs_read(xattrs), "read the attributes of inode \(target)")
        for attribute in attributes {
            let status = attribute.value.withUnsafeBytes { ext2fs_xattr_set(xattrs, attribute.name, $0.baseAddress, $0.count) }
            try check(status, "set attribute \(attribute.name) on inode \(target)")
        }
    }

    // MARK: - Internals

    private static let registerErrorMessages: Void = initialize_ext2_error_table()

    func open() throws -> ext2_filsys {
        guard let fs else { throw Ext4Error(operation: "use the filesystem", code: 0, message: "it is already closed") }
        return fs
    }

    private func newInode(in parent: InodeNumber, mode: UInt32) throws -> InodeNumber {
        let handle = try open()
        var inode: ext2_ino_t = 0
        try check(ext2fs_new_inode(handle, parent, Int32(mode), nil, &inode), "allocate an inode")
        return inode
    }

    /// Allocates an inode for `inode`, links it under `name` and writes it with `metadata`.
    private func addInode(_ inode: inout ext2_inode, named name: [UInt8], in parent: InodeNumber, fileType: Int32, metadata: InodeMetadata) throws -> InodeNumber {
        let handle = try open()
        let number = try newInode(in: parent, mode: UInt32(inode.i_mode))
        try retryingWhenDirectoryFull(parent, "create \(display(name))") {
            name.withCString { ext2fs_link(handle, parent, $0, number, fileType) }
        }
        ext2fs_inode_alloc_stats2(handle, number, 1, 0)
        inode.i_links_count = 1
        apply(metadata, to: &inode)
        if inode.i_flags & UInt32(EXT4_EXTENTS_FL) != 0 {
            // Initialises an empty extent tree header in i_block, as mke2fs does.
            inode.i_flags &= ~UInt32(EXT4_EXTENTS_FL)
            var extents: ext2_extent_handle_t?
            try check(ext2fs_extent_open2(handle, number, &inode, &extents), "start the extent tree of \(display(name))")
            ext2fs_extent_free(extents)
        }
        try check(ext2fs_write_new_inode(handle, number, &inode), "write inode of \(display(name))")
        return number
    }

    private func apply(_ metadata: InodeMetadata, to inode: inout ext2_inode) {
        let typeBits = UInt32(inode.i_mode) & UInt32(LINUX_S_IFMT)
        inode.i_mode = UInt16(truncatingIfNeeded: typeBits | (metadata.permissions & 0o7777))
        inode.i_uid = UInt16(truncatingIfNeeded: metadata.uid)
        inode.osd2.linux2.l_i_uid_high = UInt16(truncatingIfNeeded: metadata.uid >> 16)
        inode.i_gid = UInt16(truncatingIfNeeded: metadata.gid)
        inode.osd2.linux2.l_i_gid_high = UInt16(truncatingIfNeeded: metadata.gid >> 16)
        let time = UInt32(truncatingIfNeeded: max(0, metadata.modificationTime))
        inode.i_mtime = time
        inode.i_atime = time
        inode.i_ctime = time
    }

    private func retryingWhenDirectoryFull(_ directory: InodeNumber, _ operation: String, _ body: () -> errcode_t) throws {
        var status = body()
        if status == EXT2_ET_DIR_NO_SPACE {
            try check(ext2fs_expand_dir(try open(), directory), "grow directory inode \(directory)")
            status = body()
        }
        try check(status, operation)
    }

    /// Frees an inode no name refers to any more: its blocks, its share of an attribute block, the inode itself.
    private func release(_ target: InodeNumber, _ inode: inout ext2_inode, isDirectory: Bool, _ name: [UInt8]) throws {
        let handle = try open()
        if ext2fs_inode_has_valid_blocks2(handle, &inode) != 0 {
            try check(ext2fs_punch(handle, target, &inode, nil, 0, ~0), "free the blocks of \(display(name))")
        }
        let attributeBlock = blk64_t(inode.i_file_acl) | (blk64_t(inode.osd2.linux2.l_i_file_acl_high) << 32)
        if attributeBlock != 0 {
            var remaining: UInt32 = 0
            try check(ext2fs_adjust_ea_refcount3(handle, attributeBlock, nil, -1, &remaining, target), "release the attributes of \(display(name))")
            if remaining == 0 { ext2fs_block_alloc_stats2(handle, attributeBlock, -1) }
        }
        // The deletion time, as debugfs sets it: e2fsck reads a small dtime (an old file time
        // included) as a link in the orphan list, and a zero one as an inode still in use.
        inode.i_dtime = UInt32(truncatingIfNeeded: time(nil))
        try writeInode(target, &inode)
        ext2fs_inode_alloc_stats2(handle, target, -1, isDirectory ? 1 : 0)
    }

    func readInode(_ number: InodeNumber) throws -> ext2_inode {
        var inode = ext2_inode()
        try check(ext2fs_read_inode(try open(), number, &inode), "read inode \(number)")
        return inode
    }

    private func writeInode(_ number: InodeNumber, _ inode: inout ext2_inode) throws {
        try check(ext2fs_write_inode(try open(), number, &inode), "write inode \(number)")
    }

    private static func directoryEntryType(mode: UInt16) -> Int32 {
        switch UInt32(mode) & UInt32(LINUX_S_IFMT) {
        case UInt32(LINUX_S_IFREG): EXT2_FT_REG_FILE
        case UInt32(LINUX_S_IFDIR): EXT2_FT_DIR
        case UInt32(LINUX_S_IFLNK): EXT2_FT_SYMLINK
        case UInt32(LINUX_S_IFCHR): EXT2_FT_CHRDEV
        case UInt32(LINUX_S_IFBLK): EXT2_FT_BLKDEV
        case UInt32(LINUX_S_IFIFO): EXT2_FT_FIFO
        case UInt32(LINUX_S_IFSOCK): EXT2_FT_SOCK
        default: EXT2_FT_UNKNOWN
        }
    }

    func check(_ status: errcode_t, _ operation: String) throws {
        try Self.check(status, operation)
    }

    static func check(_ status: errcode_t, _ operation: String) throws {
        guard status != 0 else { return }
        let message = error_message(status).map { String(cString: $0) } ?? "error \(status)"
        throw Ext4Error(operation: operation, code: Int(status), message: message)
    }

    func display(_ name: [UInt8]) -> String { String(decoding: name, as: UTF8.self) }
}

/// Writes one regular file's data; blocks that are entirely zero are left as holes.
public final class Ext4FileWriter {
    private var file: ext2_file_t?
    private let zeroBlock: [UInt8]

    init(file: ext2_file_t, zeroBlock: [UInt8]) {
        self.file = file
        self.zeroBlock = zeroBlock
    }

    deinit {
        if let file { ext2fs_file_close(file) }
    }

    /// Writes `bytes` at `offset`, skipping whole zero blocks so sparse files stay sparse.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        let blockSize = zeroBlock.count
        var position = 0
        var runStart: Int?
        while position < bytes.count {
            // Chunks end on filesystem block boundaries, so an all-zero chunk is exactly a hole.
            let untilBoundary = blockSize - Int((offset + Int64(position)) % Int64(blockSize))
            let length = min(untilBoundary, bytes.count - position)
            let isZeroBlock = length == blockSize && zeroBlock.withUnsafeBytes { zeros in
                guard let zeros = zeros.baseAddress, let data = bytes.baseAddress else { return false }
                return memcmp(zeros, data + position, length) == 0
            }
            if isZeroBlock {
                if let start = runStart { try writeRun(bytes, from: start, to: position, fileOffset: offset) }
                runStart = nil
            } else if runStart == nil {
                runStart = position
            }
            position += length
        }
        if let start = runStart { try writeRun(bytes, from: start, to: position, fileOffset: offset) }
    }

    private func writeRun(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, fileOffset: Int64) throws {
        guard let file else { throw Ext4Error(operation: "write file data", code: 0, message: "the file is closed") }
        let run = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        try Ext4Filesystem.check(ext2fs_file_llseek(file, UInt64(fileOffset + Int64(start)), Int32(EXT2_SEEK_SET), nil), "seek in file")
        var written: UInt32 = 0
        try Ext4Filesystem.check(ext2fs_file_write(file, run.baseAddress, UInt32(run.count), &written), "write file data")
        guard Int(written) == run.count else {
            throw Ext4Error(operation: "write file data", code: 28, message: "short write (\(written) of \(run.count) bytes)")
        }
    }

    public func close() throws {
        guard let file else { return }
        self.file = nil
        try Ext4Filesystem.check(ext2fs_file_close(file), "finish file data")
    }
}
