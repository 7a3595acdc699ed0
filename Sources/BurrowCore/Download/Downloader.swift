import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why a download failed. `description` names the URL (and, for HTTP, the status code) so the
/// message is enough to act on.
public enum DownloadError: Error, CustomStringConvertible, Equatable, Sendable {
    case unsupportedScheme(url: URL)
    case httpStatus(code: Int, url: URL)
    case transport(url: URL, reason: String)
    case truncated(url: URL, received: Int64, expected: Int64)
    case fileSystem(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedScheme(url):
            return "cannot download \(url.absoluteString): only http, https and file URLs are supported"
        case let .httpStatus(code, url):
            let reason = HTTPURLResponse.localizedString(forStatusCode: code)
            return "download of \(url.absoluteString) failed: HTTP \(code) (\(reason))"
        case let .transport(url, reason):
            return "download of \(url.absoluteString) failed: \(reason)"
        case let .truncated(url, received, expected):
            return "download of \(url.absoluteString) ended early: got \(received) of \(expected) bytes"
        case let .fileSystem(path, reason):
            return "cannot write or read \(path): \(reason)"
        }
    }
}

/// Fetches one `http://`, `https://` or `file://` URL into a file, streaming: the body goes to
/// disk chunk by chunk and is never held whole in memory.
///
/// `download` overwrites the destination, reports `(bytes received, total if known)` through
/// `progress` as data arrives (from a background thread), fails with `DownloadError` on a non-2xx
/// final status or a transfer error, and on Task cancellation stops the transfer and throws
/// `CancellationError`. Whenever it throws, the partial destination file has been removed.
public struct Downloader: Sendable {
    /// Timeouts are generous by default because rootfs tarballs are large and mirrors slow.
    public struct Configuration: Sendable {
        /// Longest silence tolerated between two pieces of data.
        public var idleTimeout: TimeInterval
        /// Longest a whole transfer may take.
        public var totalTimeout: TimeInterval
        /// Read size for `file://` copies.
        public var fileChunkSize: Int

        public init(idleTimeout: TimeInterval = 120, totalTimeout: TimeInterval = 6 * 60 * 60, fileChunkSize: Int = 1 << 20) {
            self.idleTimeout = idleTimeout
            self.totalTimeout = totalTimeout
            self.fileChunkSize = fileChunkSize
        }
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public func download(
        from url: URL,
        to destination: URL,
        progress: @escaping @Sendable (Int64, Int64?) -> Void = { _, _ in }
    ) async throws {
        let scheme = url.scheme?.lowercased()
        guard scheme == "http" || scheme == "https" || scheme == "file" else {
            throw DownloadError.unsupportedScheme(url: url)
        }
        do {
            if scheme == "file" {
                try await copyFile(from: url, to: destination, progress: progress)
            } else {
                try await downloadHTTP(from: url, to: destination, progress: progress)
            }
        } catch {
            try? FileManager.default.removeItem(at: destination)
            throw error
        }
    }

    private func downloadHTTP(
        from url: URL, to destination: URL, progress: @escaping @Sendable (Int64, Int64?) -> Void
    ) async throws {
        try Task.checkCancellation()
        let output = try openForWriting(destination)
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = configuration.idleTimeout
        sessionConfiguration.timeoutIntervalForResource = configuration.totalTimeout
        let delegate = StreamingDelegate(url: url, output: output, destination: destination.path, progress: progress)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: sessionConfiguration, delegate: delegate, delegateQueue: queue)
        // The session keeps its delegate alive until invalidated.
        defer { session.finishTasksAndInvalidate() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                delegate.start(session.dataTask(with: URLRequest(url: url)), continuation: continuation)
            }
        } onCancel: {
            delegate.cancel()
        }
    }

    private func copyFile(
        from url: URL, to destination: URL, progress: @escaping @Sendable (Int64, Int64?) -> Void
    ) async throws {
        try Task.checkCancellation()
        let input: FileHandle
        let total: Int64?
        do {
            input = try FileHandle(forReadingFrom: url)
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            total = (attributes[.size] as? NSNumber)?.int64Value
        } catch {
            throw DownloadError.fileSystem(path: url.path, reason: error.localizedDescription)
        }
        defer { try? input.close() }
        let output = try openForWriting(destination)
        defer { try? output.close() }

        var received: Int64 = 0
        while true {
            try Task.checkCancellation()
            let chunk: Data
            do {
                chunk = try input.read(upToCount: configuration.fileChunkSize) ?? Data()
            } catch {
                throw DownloadError.fileSystem(path: url.path, reason: error.localizedDescription)
            }
            if chunk.isEmpty { break }
            do {
                try output.write(contentsOf: chunk)
            } catch {
                throw DownloadError.fileSystem(path: destination.path, reason: error.localizedDescription)
            }
            received += Int64(chunk.count)
            progress(received, total)
            // Reads of a local file block; yielding between chunks keeps other tasks moving.
            await Task.yield()
        }
    }

    private func openForWriting(_ destination: URL) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: destination.path, contents: nil) else {
            throw DownloadError.fileSystem(path: destination.path, reason: "cannot create the file")
        }
        do {
            return try FileHandle(forWritingTo: destination)
        } catch {
            throw DownloadError.fileSystem(path: destination.path, reason: error.localizedDescription)
        }
    }
}

/// Receives one data task's callbacks and writes the body to disk as it arrives.
///
/// URLSession calls it on a serial delegate queue, but `start` and `cancel` come from the
/// awaiting task and its cancellation handler, so all state sits behind `lock`. The
/// continuation is resumed exactly once: when the task completes, or at `start` if the awaiting
/// task was cancelled before the data task existed.
private final class StreamingDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let url: URL
    private let output: FileHandle
    private let destination: String
    private let progress: @Sendable (Int64, Int64?) -> Void

    private let lock = NSLock()
    private var task: URLSessionDataTask?
    private var continuation: CheckedContinuation<Void, Error>?
    private var cancelled = false
    private var failure: Error?
    private var received: Int64 = 0
    private var expected: Int64?

    init(url: URL, output: FileHandle, destination: String, progress: @escaping @Sendable (Int64, Int64?) -> Void) {
        self.url = url
        self.output = output
        self.destination = destination
        self.progress = progress
    }

    func start(_ task: URLSessionDataTask, continuation: CheckedContinuation<Void, Error>) {
        let cancelledAlready = lock.withLock {
            self.task = task
            self.continuation = continuation
            return cancelled
        }
        if cancelledAlready {
            // The cancellation handler ran before there was a task to stop.
            finish(with: CancellationError())
        } else {
            task.resume()
        }
    }

    func cancel() {
        let task = lock.withLock {
            cancelled = true
            return self.task
        }
        task?.cancel()
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            fail(DownloadError.httpStatus(code: http.statusCode, url: url))
            completionHandler(.cancel)
            return
        }
        lock.withLock {
            expected = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard lock.withLock({ failure == nil && !cancelled }) else { return }
        do {
            try output.write(contentsOf: data)
        } catch {
            fail(DownloadError.fileSystem(path: destination, reason: error.localizedDescription))
            return
        }
        let (received, expected) = lock.withLock {
            self.received += Int64(data.count)
            return (self.received, self.expected)
        }
        progress(received, expected)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        let (failure, cancelled, received, expected) = lock.withLock {
            (self.failure, self.cancelled, self.received, self.expected)
        }
        if let failure {
            finish(with: failure)
        } else if cancelled {
            finish(with: CancellationError())
        } else if let error {
            finish(with: DownloadError.transport(url: url, reason: error.localizedDescription))
        } else if let expected, received != expected {
            finish(with: DownloadError.truncated(url: url, received: received, expected: expected))
        } else {
            finish(with: nil)
        }
    }

    /// Records the first failure and stops the transfer; completion reports it.
    private func fail(_ error: Error) {
        let task = lock.withLock {
            if failure == nil { failure = error }
            return self.task
        }
        task?.cancel()
    }

    /// Closes the file before resuming, so the caller finds every byte written.
    private func finish(with error: Error?) {
        try? output.close()
        let continuation = lock.withLock {
            defer { self.continuation = nil }
            return self.continuation
        }
        if let error {
            continuation?.resume(throwing: error)
        } else {
            continuation?.resume()
        }
    }
}
