import Foundation

/// An advisory lock (exclusive, or shared with other shared holders) on a file under
/// `$BURROW_HOME/locks`, held until `release()` or
/// until the process ends (the kernel drops `flock`s of dead processes, so a crash never leaves a
/// stale lock). The descriptor is close-on-exec: `exec`/`shell` release it when they become ssh.
public final class FileLock: @unchecked Sendable {
    // @unchecked: the descriptor is set once in init and cleared once in release().
    private var descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        release()
    }

    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    /// Waits up to `timeout` for the lock, checking for cancellation, then gives up with an error
    /// naming what holds it.
    public static func acquire(_ url: URL, what: String, timeout: TimeInterval, shared: Bool = false) async throws -> FileLock {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(url.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BurrowError(.failure, "cannot open lock \(url.path): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(descriptor, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK, Date() < deadline, !Task.isCancelled else {
                close(descriptor)
                try Task.checkCancellation()
                throw BurrowError(.wrongState, "\(what) is busy with another burrow command", hint: "Wait for it to finish, then retry.")
            }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        return FileLock(descriptor: descriptor)
    }
}

extension BurrowHome {
    public var locks: URL { root.appendingPathComponent("locks") }

    /// Serialises commands on one environment (start, stop, rm, create, clone…); commands on
    /// different environments never wait for each other.
    /// The wait is bounded by `timeout`, else `BURROW_LOCK_TIMEOUT` seconds (default 900: a slow
    /// first boot or provisioning run under TCG can hold it that long).
    public func lockEnvironment(_ name: String, timeout: TimeInterval? = nil) async throws -> FileLock {
        try await FileLock.acquire(locks.appendingPathComponent("env-\(name).lock"), what: "environment '\(name)'", timeout: timeout ?? Self.lockTimeout)
    }

    /// Commands hold the store shared while they run; `doctor --fix` holds it exclusively, so a
    /// disk, folder, layer or domain a running command has made but not yet recorded is never
    /// taken for an orphan and deleted. Waits like `lockEnvironment`.
    public func lockStore(exclusive: Bool, timeout: TimeInterval? = nil) async throws -> FileLock {
        try await FileLock.acquire(
            locks.appendingPathComponent("store.lock"), what: "the store",
            timeout: timeout ?? Self.lockTimeout, shared: !exclusive
        )
    }

    private static var lockTimeout: TimeInterval {
        ProcessInfo.processInfo.environment["BURROW_LOCK_TIMEOUT"].flatMap(TimeInterval.init) ?? 900
    }
}
