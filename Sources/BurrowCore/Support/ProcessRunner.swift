import Foundation

/// Runs a helper program to completion, capturing its output, and turns a non-zero exit into a
/// `BurrowError` carrying the program's own stderr. Cancelling the calling task terminates the
/// program.
public struct ProcessRunner: Sendable {
    public struct Output: Sendable {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
    }

    public init() {}

    @discardableResult
    public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, what: String) async throws -> Output {
        let output = try await runAllowingFailure(executable, arguments, environment: environment)
        guard output.status == 0 else {
            try Task.checkCancellation()
            let detail = output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw BurrowError(.failure, "\(what) failed (\(executable) exited with \(output.status))\(detail.isEmpty ? "" : ": \(detail)")")
        }
        return output
    }

    public func runAllowingFailure(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> Output {
        guard let path = Self.which(executable) else {
            throw BurrowError(.failure, "\(executable) is not installed", hint: "Install it (Scripts/setup installs every dependency) and retry.")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let finished = ProcessCompletion()
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        // Drain both pipes concurrently so a chatty program cannot block on a full pipe.
        async let out = Self.readAll(stdout.fileHandleForReading)
        async let err = Self.readAll(stderr.fileHandleForReading)
        await withTaskCancellationHandler {
            await finished.wait()
        } onCancel: {
            process.terminate()
        }
        let (outData, errData) = await (out, err)
        try Task.checkCancellation()
        return Output(
            status: process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self)
        )
    }

    /// The absolute path of a program found on PATH (or the sbin folders, which ordinary users
    /// often lack on PATH but which hold mkfs.ext4), or nil.
    public static func which(_ program: String) -> String? {
        if program.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"]
        for directory in directories {
            let candidate = directory + "/" + program
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Reads to end of file on a thread of its own: the read blocks until the program exits, and
    /// blocked reads on Swift's cooperative pool (one thread per core) would stall every other
    /// task of the process, two per running program, for as long as the program runs.
    private static func readAll(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: (try? handle.readToEnd()) ?? Data()) }
        }
    }
}

/// A one-shot signal from the process termination handler to an async waiter.
private final class ProcessCompletion: @unchecked Sendable {
    // Guarded by `lock`; @unchecked because the state is only touched under it.
    private let lock = NSLock()
    private var done = false
    private var waiter: CheckedContinuation<Void, Never>?

    func signal() {
        lock.lock()
        done = true
        let continuation = waiter
        waiter = nil
        lock.unlock()
        continuation?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if done {
                lock.unlock()
                continuation.resume()
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}
