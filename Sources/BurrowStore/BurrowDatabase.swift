import Foundation
import GRDB

/// burrow's SQLite database: inventory (images, environments) and the operation journal.
///
/// Opened in WAL mode with a busy timeout, so any number of burrow processes may read while one
/// writes; every write goes through `write`, which GRDB serialises within a process and SQLite's
/// lock serialises across processes. Running state of environments is never stored here.
public final class BurrowDatabase: Sendable {
    public let path: String
    let pool: DatabasePool

    /// How long a writer waits for another process's write transaction before failing.
    public static let busyTimeout: TimeInterval = 30

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.label = "burrow"
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// Opens the database and applies migrations only up to `lastMigration` (for upgrade tests).
    public init(path: String, upTo lastMigration: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.foreignKeysEnabled = true
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool, upTo: lastMigration)
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.write(body)
    }

    /// Names of the migrations applied to this database, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { try Self.migrator.appliedMigrations($0) }
    }

    public static var migrationNames: [String] { migrator.migrations }
}
