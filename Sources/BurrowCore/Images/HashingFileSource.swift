import Archive
import Crypto
import Foundation

/// Reads a file for libarchive while computing its SHA-256 and reporting progress, so the digest
/// costs no second pass. Reading stops with `CancellationError` once the task is cancelled.
final class HashingFileSource: ArchiveByteSource {
    private let handle: FileHandle
    private var hasher = SHA256()
    private let progress: ProgressReporter
    private(set) var bytesRead: Int64 = 0

    init(path: String, progress: ProgressReporter) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BurrowError(.notFound, "cannot read \(path)", hint: "Check that the file exists and is readable.")
        }
        self.handle = handle
        self.progress = progress
    }

    deinit {
        try? handle.close()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try Task.checkCancellation()
        guard let base = buffer.baseAddress else { return 0 }
        let count = Glibc.read(handle.fileDescriptor, base, buffer.count)
        guard count >= 0 else { throw BurrowError(.failure, "reading the tarball failed: \(String(cString: strerror(errno)))") }
        if count > 0 {
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: base, count: count))
            bytesRead += Int64(count)
            progress.advance(to: bytesRead)
        }
        return count
    }

    /// Hashes whatever libarchive left unread (trailing padding after the end-of-archive
    /// marker) and returns the digest of the whole file as lowercase hex.
    func finish() throws -> String {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { scratch.deallocate() }
        while try read(into: scratch) > 0 {}
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The SHA-256 of a whole file, as lowercase hex, without involving libarchive.
    static func digest(ofFileAt path: String, progress: ProgressReporter) throws -> String {
        let source = try HashingFileSource(path: path, progress: progress)
        return try source.finish()
    }
}
