import ByteString
import CArchive

/// Compression applied by `ArchiveWriter`.
public enum ArchiveCompression: Sendable {
    case none, gzip, xz, zstd
}

/// Writes a pax tar archive to a file, entry by entry, exactly as given (no path cleaning), so
/// it can also produce the hostile archives the importer must refuse.
///
/// Owns its libarchive handle; `finish()` must be called for a complete archive.
public final class ArchiveWriter {
    private let handle: OpaquePointer
    private var finished = false

    public init(path: String, compression: ArchiveCompression = .none) throws {
        guard let handle = archive_write_new() else { throw ArchiveError(operation: "archive_write_new", message: "out of memory") }
        self.handle = handle
        try check(archive_write_set_format_pax_restricted(handle), "select the pax format")
        // Attributes under SCHILY.xattr only, the keyword GNU tar and libarchive both read;
        // libarchive's default adds its own copy, which GNU tar warns about at every entry.
        try check(archive_write_set_format_option(handle, "pax", "xattrheader", "SCHILY"), "select the xattr keyword")
        switch compression {
        case .none: break
        case .gzip: try check(archive_write_add_filter_gzip(handle), "enable gzip")
        case .xz: try check(archive_write_add_filter_xz(handle), "enable xz")
        case .zstd: try check(archive_write_add_filter_zstd(handle), "enable zstd")
        }
        try check(archive_write_open_filename(handle, path), "create \(path)")
    }

    deinit {
        if !finished { archive_write_close(handle) }
        archive_write_free(handle)
    }

    public func append(_ entry: ArchiveEntry, contents: [UInt8] = []) throws {
        var regular = entry
        regular.size = Int64(contents.count)
        try append(regular) { write in try contents.withUnsafeBytes { try write($0) } }
    }

    /// Writes an entry whose data comes in pieces: `produce` passes each piece to the function it
    /// is given, and for a regular file the pieces add up to `entry.size` (libarchive pads a
    /// shorter run with zeros). Other kinds carry no data.
    public func append(_ entry: ArchiveEntry, streaming produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard let native = archive_entry_new() else { throw ArchiveError(operation: "archive_entry_new", message: "out of memory") }
        defer { archive_entry_free(native) }
        entry.path.withCString { archive_entry_copy_pathname(native, $0) }
        if entry.kind == .hardlink {
            (entry.linkTarget ?? []).withCString { archive_entry_copy_hardlink(native, $0) }
        } else {
            archive_entry_set_filetype(native, entry.kind.fileType)
            if entry.kind == .symlink {
                (entry.linkTarget ?? []).withCString { archive_entry_copy_symlink(native, $0) }
            }
        }
        archive_entry_set_perm(native, mode_t(entry.permissions))
        archive_entry_set_uid(native, entry.uid)
        archive_entry_set_gid(native, entry.gid)
        archive_entry_set_mtime(native, time_t(entry.modificationTime), 0)
        archive_entry_set_size(native, entry.kind == .regular ? entry.size : 0)
        archive_entry_set_rdevmajor(native, dev_t(entry.deviceMajor))
        archive_entry_set_rdevminor(native, dev_t(entry.deviceMinor))
        for attribute in entry.extendedAttributes {
            attribute.value.withUnsafeBytes { archive_entry_xattr_add_entry(native, attribute.name, $0.baseAddress, $0.count) }
        }
        try check(archive_write_header(handle, native), "write the header of \(entry.pathString)")
        guard entry.kind == .regular else { return }
        try produce { piece in
            guard let base = piece.baseAddress, !piece.isEmpty else { return }
            let written = archive_write_data(handle, base, piece.count)
            if written < 0 { try check(Int32(written), "write the data of \(entry.pathString)") }
        }
    }

    public func finish() throws {
        finished = true
        try check(archive_write_close(handle), "finish the archive")
    }

    private func check(_ status: Int32, _ operation: String) throws {
        if status >= ARCHIVE_WARN { return }
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error \(status)"
        throw ArchiveError(operation: operation, message: message)
    }
}

extension ArchiveCompression {
    /// The compression a tarball's file name asks for (.tar, .tar.gz/.tgz/.wsl, .tar.xz/.txz,
    /// .tar.zst/.tzst); nil for any other name.
    public init?(fileName: String) {
        let name = fileName.lowercased()
        func endsWith(_ suffixes: String...) -> Bool { suffixes.contains { name.hasSuffix($0) } }
        if endsWith(".tar") {
            self = .none
        } else if endsWith(".tar.gz", ".tgz", ".wsl") {
            self = .gzip
        } else if endsWith(".tar.xz", ".txz") {
            self = .xz
        } else if endsWith(".tar.zst", ".tzst") {
            self = .zstd
        } else {
            return nil
        }
    }
}
