import BurrowCore
import Foundation

/// A one-line progress display on stderr, redrawn at most ten times a second.
final class TerminalProgress: ProgressReporter, @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `lock`.
    private let lock = NSLock()
    private var phase = ""
    private var total: Int64?
    private var startedAt = Date()
    private var lastDrawn = Date.distantPast

    func begin(_ phase: String, total: Int64?) {
        lock.withLock {
            self.phase = phase
            self.total = total
            startedAt = Date()
            lastDrawn = .distantPast
        }
    }

    func advance(to completed: Int64) {
        lock.withLock {
            let now = Date()
            guard now.timeIntervalSince(lastDrawn) >= 0.1 else { return }
            lastDrawn = now
            let elapsed = max(now.timeIntervalSince(startedAt), 0.001)
            let rate = ByteCountFormatter.string(fromByteCount: Int64(Double(completed) / elapsed), countStyle: .binary)
            var line = "\(phase): \(ByteCountFormatter.string(fromByteCount: completed, countStyle: .binary))"
            if let total, total > 0 {
                line += " of \(ByteCountFormatter.string(fromByteCount: total, countStyle: .binary)) (\(completed * 100 / total)%)"
            }
            line += ", \(rate)/s"
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        }
    }

    func end() {
        lock.withLock {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }
}
