import Foundation
import GRDB

/// One PCI function passed through to an environment, from its start until it is off. The
/// address is the primary key, so no two environments can hold the same function whatever
/// races happen; rows go with their environment's row.
public struct GPUAssignmentRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "gpuAssignment"

    /// The function's full sysfs address, `0000:65:00.1`.
    public var address: String
    public var environment: String
    public var assignedAt: Date

    public init(address: String, environment: String, assignedAt: Date) {
        self.address = address
        self.environment = environment
        self.assignedAt = assignedAt
    }
}

extension BurrowDatabase {
    public func gpuAssignments() throws -> [GPUAssignmentRecord] {
        try read { try GPUAssignmentRecord.order(Column("address")).fetchAll($0) }
    }

    /// Gives `environment` the functions `choose` picks, in one write transaction: the
    /// environment's own earlier rows are dropped (it is starting, so it holds nothing), `choose`
    /// sees every other holding as address → environment, a row is inserted per chosen address,
    /// and `commit` runs with them before the transaction ends. Whatever throws, nothing is
    /// recorded. Choosing a held address fails with `StoreError.gpuFunctionHeld` naming the holder.
    @discardableResult
    public func assignGPUFunctions(
        to environment: String, choose: ([String: String]) throws -> [String], commit: ([String]) throws -> Void
    ) throws -> [String] {
        try write { db in
            try GPUAssignmentRecord.filter(Column("environment") == environment).deleteAll(db)
            let held = Dictionary(try GPUAssignmentRecord.fetchAll(db).map { ($0.address, $0.environment) }, uniquingKeysWith: { first, _ in first })
            let chosen = try choose(held)
            let now = Date()
            for address in chosen {
                do {
                    try GPUAssignmentRecord(address: address, environment: environment, assignedAt: now).insert(db)
                } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                    let holder = try String.fetchOne(db, sql: "SELECT environment FROM gpuAssignment WHERE address = ?", arguments: [address])
                    throw StoreError.gpuFunctionHeld(address: address, holder: holder ?? "?")
                }
            }
            try commit(chosen)
            return chosen
        }
    }

    /// Gives back every function `environment` holds; returns their addresses.
    @discardableResult
    public func releaseGPUFunctions(of environment: String) throws -> [String] {
        try write { db in
            let rows = try GPUAssignmentRecord.filter(Column("environment") == environment).fetchAll(db)
            try GPUAssignmentRecord.filter(Column("environment") == environment).deleteAll(db)
            return rows.map(\.address)
        }
    }
}
