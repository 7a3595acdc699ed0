import CArchive

/// A pull-based supplier of raw (possibly compressed) archive bytes.
///
/// `read(into:)` fills at most `buffer.count` bytes and returns how many it wrote; 0 means end
/// of input. Errors it throws surface unchanged from the `ArchiveReader` call that needed data.
public protocol ArchiveByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// One contiguous run of an entry's data, positioned at `offset` within the file (tar sparse
/// entries leave holes between runs). `bytes` is valid only until the next reader call.
public struct ArchiveDataBlock {
    public let offset: Int64
    public let bytes: UnsafeRawBufferPointer
}

/// Streams the entries of a tar archive (any compression libarchive detects) from a byte source.
///
/// Owns its libarchive handle; every failure is thrown as `ArchiveError` with libarchive's own
/// message, or as the byte source's error when reading the input failed. Not thread-safe: use from
/// one task.
public final class ArchiveReader {
    private let handle: OpaquePointer
    private let context: SourceContext

    public init(source: ArchiveByteSource, bufferSize: Int = 1 << 20) throws {
        guard let handle = archive_read_new() else { throw ArchiveError(operation: "archive_read_new", message: "out of memory") }
        self.handle = handle
        self.context = SourceContext(source: source, bufferSize: bufferSize)
        try check(archive_read_support_filter_all(handle), "enable decompression filters")
        try check(archive_read_support_format_tar(handle), "enable tar")
        try check(archive_read_support_format_gnutar(handle), "enable GNU tar")
        let status = archive_read_open(handle, Unmanaged.passUnretained(context).toOpaque(), nil, sourceRead, nil)
        try check(status, "open the archive")
    }

    deinit {
        archive_read_free(handle)
    }

    /// The next entry's header, or nil at the end of the archive.
    public func nextEntry() throws -> ArchiveEntry? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        try check(status, "read the next entry header")
        guard let entry else { throw ArchiveError(operation: "read the next entry header", message: "libarchive returned no entry") }
        return ArchiveEntry(entry)
    }

    /// The next run of the current entry's data, or nil once the entry's data is exhausted.
    public func nextDataBlock() throws -> ArchiveDataBlock? {
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        let status = archive_read_data_block(handle, &buffer, &size, &offset)
        if status == ARCHIVE_EOF { return nil }
        try check(status, "read entry data")
        return ArchiveDataBlock(offset: offset, bytes: UnsafeRawBufferPointer(start: buffer, count: size))
    }

    /// The name of the compression filters and format libarchive detected, e.g. "zstd" and "GNU tar format".
    public var detectedFormat: (filter: String, format: String) {
        let filter = archive_filter_name(handle, 0).map { String(cString: $0) } ?? "none"
        let format = archive_format_name(handle).map { String(cString: $0) } ?? "unknown"
        return (filter, format)
    }

    private func check(_ status: Int32, _ operation: String) throws {
        if status >= ARCHIVE_WARN { return }
        if let sourceError = context.error {
            context.error = nil
            throw sourceError
        }
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error \(status)"
        throw ArchiveError(operation: operation, message: message)
    }
}

/// Holds the byte source and its buffer for the C read callback; the reader keeps it alive.
private final class SourceContext {
    let source: ArchiveByteSource
    let buffer: UnsafeMutableRawBufferPointer
    var error: Error?

    init(source: ArchiveByteSource, bufferSize: Int) {
        self.source = source
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
    }
}

private func sourceRead(
    _ archive: OpaquePointer?,
    _ clientData: UnsafeMutableRawPointer?,
    _ bufferOut: UnsafeMutablePointer<UnsafeRawPointer?>?
) -> la_ssize_t {
    guard let clientData, let bufferOut else { return -1 }
    let context = Unmanaged<SourceContext>.fromOpaque(clientData).takeUnretainedValue()
    do {
        let count = try context.source.read(into: context.buffer)
        bufferOut.pointee = UnsafeRawPointer(context.buffer.baseAddress)
        return count
    } catch {
        context.error = error
        return -1
    }
}
