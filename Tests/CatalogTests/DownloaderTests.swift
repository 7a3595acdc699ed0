import Foundation
import Testing
@testable import BurrowCore

/// Collects progress callbacks, which arrive on URLSession's delegate thread.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(received: Int64, total: Int64?)] = []

    func record(_ received: Int64, _ total: Int64?) {
        lock.withLock { entries.append((received, total)) }
    }

    var all: [(received: Int64, total: Int64?)] {
        lock.withLock { entries }
    }
}

/// Deterministic, non-repeating bytes so a shifted or dropped chunk cannot go unnoticed.
func sampleBytes(count: Int) -> Data {
    var state: UInt32 = 0x9E37_79B9
    return Data((0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return UInt8(truncatingIfNeeded: state)
    })
}

@Suite("Downloader")
struct DownloaderTests {
    let downloader = Downloader(configuration: .init(idleTimeout: 20, totalTimeout: 60, fileChunkSize: 64 * 1024))

    @Test func httpDownloadStreamsBytesAndReportsProgress() async throws {
        try await withTemporaryDirectory { directory in
            let served = directory.appendingPathComponent("served")
            try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
            let payload = sampleBytes(count: 3 * 1024 * 1024 + 17)
            try payload.write(to: served.appendingPathComponent("rootfs.tar.gz"))
            let destination = directory.appendingPathComponent("download.part")
            let log = ProgressLog()

            try await LocalHTTPServer.serving(served) { server in
                try await downloader.download(from: server.url("rootfs.tar.gz"), to: destination, progress: log.record)
            }

            #expect(try Data(contentsOf: destination) == payload)
            let entries = log.all
            #expect(entries.count > 1, "progress arrives per chunk, not once at the end")
            #expect(entries.last?.received == Int64(payload.count))
            #expect(entries.allSatisfy { $0.total == Int64(payload.count) })
            #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.received < $1.received })
        }
    }

    @Test func missingFileFailsWithStatusAndURL() async throws {
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("download.part")
            try await LocalHTTPServer.serving(directory) { server in
                let url = server.url("missing.tar.gz")
                let error = await #expect(throws: DownloadError.self) {
                    try await downloader.download(from: url, to: destination)
                }
                #expect(error == .httpStatus(code: 404, url: url))
                #expect(error?.description.contains("HTTP 404") == true)
                #expect(error?.description.contains(url.absoluteString) == true)
            }
            #expect(!FileManager.default.fileExists(atPath: destination.path))
        }
    }

    @Test func cancellationStopsTheTransferAndRemovesThePartialFile() async throws {
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("download.part")
            try await LocalHTTPServer.serving(directory) { server in
                let (started, startedContinuation) = AsyncStream<Void>.makeStream()
                let transfer = Task {
                    try await downloader.download(from: server.url("slow"), to: destination) { received, _ in
                        if received > 0 { startedContinuation.yield() }
                    }
                }
                for await _ in started { break }
                #expect(FileManager.default.fileExists(atPath: destination.path))
                let begun = ContinuousClock.now
                transfer.cancel()
                let result = await transfer.result
                #expect(throws: CancellationError.self) { try result.get() }
                #expect(ContinuousClock.now - begun < .seconds(5), "cancelling must not wait for the whole body")
            }
            #expect(!FileManager.default.fileExists(atPath: destination.path))
        }
    }

    @Test func truncatedBodyFailsAndRemovesThePartialFile() async throws {
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("download.part")
            try await LocalHTTPServer.serving(directory) { server in
                _ = await #expect(throws: (any Error).self) {
                    try await downloader.download(from: server.url("truncated"), to: destination)
                }
            }
            #expect(!FileManager.default.fileExists(atPath: destination.path))
        }
    }

    @Test func fileURLIsCopiedWithProgress() async throws {
        try await withTemporaryDirectory { directory in
            let source = directory.appendingPathComponent("rootfs.tar.xz")
            let payload = sampleBytes(count: 300 * 1024 + 5)
            try payload.write(to: source)
            let destination = directory.appendingPathComponent("download.part")
            let log = ProgressLog()

            try await downloader.download(from: source, to: destination, progress: log.record)

            #expect(try Data(contentsOf: destination) == payload)
            #expect(log.all.count == 5)
            #expect(log.all.last?.received == Int64(payload.count))
            #expect(log.all.allSatisfy { $0.total == Int64(payload.count) })
        }
    }

    @Test func missingLocalFileFails() async throws {
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("download.part")
            let source = directory.appendingPathComponent("absent.tar")
            let error = await #expect(throws: DownloadError.self) {
                try await downloader.download(from: source, to: destination)
            }
            guard case let .fileSystem(path, _)? = error else {
                Issue.record("expected fileSystem, got \(String(describing: error))")
                return
            }
            #expect(path == source.path)
            #expect(!FileManager.default.fileExists(atPath: destination.path))
        }
    }

    @Test func otherSchemesAreRejected() async throws {
        let url = try #require(URL(string: "ftp://example.org/rootfs.tar"))
        await #expect(throws: DownloadError.unsupportedScheme(url: url)) {
            try await downloader.download(from: url, to: URL(fileURLWithPath: "/nonexistent/download.part"))
        }
    }
}
