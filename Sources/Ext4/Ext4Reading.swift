import CExt2fs

/// What an inode is, as `stat` would say: enough to describe it in a tar archive.
public struct InodeStatus: Sendable, Equatable {
    /// File-type and permission bits, as in `st_mode`.
    public let mode: UInt32
    public let uid: UInt32
    public let gid: UInt32
    public let size: Int64
    public let modificationTime: Int64
    public let links: Int
    /// Device numbers; zero for anything but character and block devices.
    public let deviceMajor: UInt32
    public let deviceMinor: UInt32

    public var fileType: UInt32 { mode & UInt32(LINUX_S_IFMT) }
    public var permissions: UInt32 { mode & 0o7777 }
    public var isDirectory: Bool { fileType == UInt32(LINUX_S_IFDIR) }
    public var isRegularFile: Bool { fileType == UInt32(LINUX_S_IFREG) }
    public var isSymlink: Bool { fileType == UInt32(LINUX_S_IFLNK) }
}

/// One name in a directory ("." and ".." left out).
public struct DirectoryEntry: Sendable, Equatable {
    public let name: [UInt8]
    public let inode: InodeNumber
}

/// Reading a filesystem back: directories, inodes, file data, symlink targets, attributes.
extension Ext4Filesystem {
    /// Whether the journal holds changes not yet applied (the guest did not shut down cleanly);
    /// reads would then miss them until a journal replay (`e2fsck`).
    public var needsJournalRecovery: Bool {
        guard let fs = try? open() else { return false }
        return ext2fs_has_feature_journal_needs_recovery(fs.pointee.super) != 0
    }

    public func status(of number: InodeNumber) throws -> InodeStatus {
        let inode = try readInode(number)
        let mode = UInt32(inode.i_mode)
        var major: UInt32 = 0
        var minor: UInt32 = 0
        let type = mode & UInt32(LINUX_S_IFMT)
        if type == UInt32(LINUX_S_IFCHR) || type == UInt32(LINUX_S_IFBLK) {
            // The two encodings mke2fs and the kernel use; see makeSpecialFile.
            if inode.i_block.0 != 0 {
                major = (inode.i_block.0 >> 8) & 0xff
                minor = inode.i_block.0 & 0xff
            } else {
                let encoded = inode.i_block.1
                major = (encoded & 0xfff00) >> 8
                minor = (encoded & 0xff) | ((encoded >> 12) & 0xfff00)
            }
        }
        let uid = UInt32(inode.i_uid) | (UInt32(inode.osd2.linux2.l_i_uid_high) << 16)
        let gid = UInt32(inode.i_gid) | (UInt32(inode.osd2.linux2.l_i_gid_high) << 16)
        return InodeStatus(
            mode: mode, uid: uid, gid: gid, size: Int64(inode.i_size) | (Int64(inode.i_size_high) << 32),
            modificationTime: Int64(inode.i_mtime), links: Int(inode.i_links_count), deviceMajor: major, deviceMinor: minor
        )
    }

    /// The names in a directory, in the order the directory stores them.
    public func entries(of directory: InodeNumber) throws -> [DirectoryEntry] {
        final class Collected {
            var entries: [DirectoryEntry] = []
        }
        let handle = try open()
        let collected = Collected()
        let status = withExtendedLifetime(collected) {
            ext2fs_dir_iterate2(handle, directory, 0, nil, { _, _, dirent, _, _, _, context in
                guard let dirent, let context else { return 0 }
                let length = Int(ext2fs_dirent_name_len(dirent))
                let name = withUnsafeBytes(of: &dirent.pointee.name) { Array($0.prefix(length)) }
                if name != [0x2e] && name != [0x2e, 0x2e] {
                    Unmanaged<Collected>.fromOpaque(context).takeUnretainedValue().entries.append(DirectoryEntry(name: name, inode: dirent.pointee.inode))
                }
                return 0
            }, Unmanaged.passUnretained(collected).toOpaque())
        }
        try check(status, "list directory inode \(directory)")
        return collected.entries
    }

    /// Streams a regular file's bytes (holes read as zeros) to `body`, one block run at a time.
    public func readData(of number: InodeNumber, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let handle = try open()
        var file: ext2_file_t?
        try check(ext2fs_file_open(handle, number, 0, &file), "open inode \(number) for reading")
        defer { ext2fs_file_close(file) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            var got: UInt32 = 0
            try check(ext2fs_file_read(file, buffer.baseAddress, UInt32(buffer.count), &got), "read inode \(number)")
            if got == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<Int(got)]))
        }
    }

    /// Where a symlink points, stored in the inode itself (short targets), inline, or in a block.
    public func symlinkTarget(of number: InodeNumber) throws -> [UInt8] {
        var inode = try readInode(number)
        let size = Int(inode.i_size)
        if ext2fs_is_fast_symlink(&inode) != 0 {
            return withUnsafeBytes(of: &inode.i_block) { Array($0.prefix(size)) }
        }
        var target: [UInt8] = []
        try readData(of: number) { target += $0 }
        return Array(target.prefix(size))
    }

    /// The inode's extended attributes (file capabilities, ACLs, SELinux labels) as name and value.
    /// Values come through `ext2fs_xattr_get`, which turns ext4's packed POSIX ACLs into the
    /// form `getxattr` returns (and tar archives carry); listing alone would give them packed.
    public func extendedAttributes(of number: InodeNumber) throws -> [(name: String, value: [UInt8])] {
        final class Names {
            var names: [String] = []
        }
        let handle = try open()
        var xattrs: OpaquePointer?
        try check(ext2fs_xattrs_open(handle, number, &xattrs), "open the attributes of inode \(number)")
        defer { ext2fs_xattrs_close(&xattrs) }
        try check(ext2fs_xattrs_read(xattrs), "read the attributes of inode \(number)")
        let collected = Names()
        let status = withExtendedLifetime(collected) {
            ext2fs_xattrs_iterate(xattrs, { name, _, _, context in
                guard let name, let context else { return 0 }
                Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().names.append(String(cString: name))
                return 0
            }, Unmanaged.passUnretained(collected).toOpaque())
        }
        try check(status, "list the attributes of inode \(number)")
        // Inline data is the file's contents kept beside its attributes, not an attribute of its own.
        return try collected.names.filter { $0 != "system.data" }.map { name in
            var value: UnsafeMutableRawPointer?
            var length = 0
            try check(ext2fs_xattr_get(xattrs, name, &value, &length), "read attribute \(name) of inode \(number)")
            defer { free(value) }
            return (name, value.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? [])
        }
    }
}
