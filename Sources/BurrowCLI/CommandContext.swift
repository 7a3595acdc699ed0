import ArgumentParser
import BurrowCore
import BurrowStore
import Foundation
import Synchronization

/// What every command needs: the state folder, the opened store, and a place to report progress.
/// Opening it also repairs what an interrupted earlier command left behind, and holds the store
/// shared for the rest of the process (see `BurrowHome.lockStore`) unless `holdingStore` is
/// false: `doctor --fix` takes it exclusively itself.
struct CommandContext {
    let home: BurrowHome
    let database: BurrowDatabase

    /// The shared store lock, kept until the process exits or `exec`/`shell` become ssh (the
    /// descriptor is close-on-exec). Not a property of the context: Swift may end a value's
    /// lifetime at its last use, which would let the lock go mid-command.
    private static let heldStoreLock = Mutex<FileLock?>(nil)

    static func open(holdingStore: Bool = true) async throws -> CommandContext {
        let home = BurrowHome.fromEnvironment()
        do {
            try home.prepare()
        } catch {
            throw BurrowError(.failure, "cannot create burrow's state folder \(home.root.path): \(error.localizedDescription)", hint: "Set BURROW_HOME to a writable folder.")
        }
        if holdingStore {
            let lock = try await home.lockStore(exclusive: false)
            heldStoreLock.withLock { $0 = lock }
        }
        let database = try BurrowDatabase(path: home.databasePath)
        let context = CommandContext(home: home, database: database)
        try ImageCacheRepair(home: home, database: database).run()
        return context
    }

    /// A progress display on stderr when it is a terminal and output is for people.
    static func progress(json: Bool) -> ProgressReporter {
        if !json, isatty(STDERR_FILENO) == 1 { return TerminalProgress() }
        return SilentProgress()
    }
}

/// Runs a command body so that Ctrl-C cancels it (letting it clean up) instead of killing the
/// process outright, and turns burrow's errors into one readable message and a distinct exit code.
func runCommand(_ body: @escaping @Sendable () async throws -> Void) async throws {
    // File names in archives are bytes. Under a UTF-8 character type libarchive stores and reads
    // UTF-8 names in pax headers as they are; under the C locale it marks each non-ASCII name
    // `hdrcharset=BINARY`, a keyword GNU tar warns about on every such entry.
    setlocale(LC_CTYPE, "C.UTF-8")
    let task = Task { try await body() }
    let interrupt = SignalCancellation(task: task)
    defer { interrupt.stop() }
    do {
        try await task.value
    } catch {
        let failure = CommandFailure(error)
        FileHandle.standardError.write(Data((failure.description + "\n").utf8))
        throw failure.exitCode
    }
}

/// Cancels a task on SIGINT or SIGTERM.
final class SignalCancellation {
    private let sources: [DispatchSourceSignal]

    init(task: Task<Void, Error>) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
    }

    func stop() {
        for source in sources { source.cancel() }
    }
}

/// How any error is shown to a person: one message and a distinct exit code per category.
struct CommandFailure: CustomStringConvertible {
    let description: String
    let exitCode: ExitCode

    init(_ error: Error) {
        switch error {
        case let error as BurrowError:
            description = "burrow: " + error.description
            exitCode = Self.code(for: error.kind)
        case let error as HostileEntryError:
            description = "burrow: \(error.description)\nThe tarball was refused; nothing was imported."
            exitCode = Self.code(for: .invalidInput)
        case let error as CatalogError:
            description = "burrow: \(error)"
            if case .unknownDistro = error { exitCode = Self.code(for: .notFound) } else { exitCode = Self.code(for: .invalidInput) }
        case let error as DownloadError:
            description = "burrow: \(error)\nCheck the URL and your network; nothing was imported."
            exitCode = Self.code(for: .failure)
        case is CancellationError:
            description = "burrow: interrupted; nothing was left half-done."
            exitCode = Self.code(for: .interrupted)
        default:
            description = "burrow: \(error)"
            exitCode = .failure
        }
    }

    static func code(for kind: BurrowError.Kind) -> ExitCode {
        switch kind {
        case .failure: ExitCode(1)
        case .invalidInput: ExitCode(2)
        case .notFound: ExitCode(3)
        case .wrongState: ExitCode(4)
        case .interrupted: ExitCode(130)
        }
    }
}
