import Foundation
import GRDB

/// An in-flight multi-step operation: written before anything touches disk, deleted once the
/// operation has finished or been rolled back. A row whose process is gone marks work to undo.
public struct OperationRecord: Codable, Equatable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "operation"

    public var id: Int64?
    public var kind: String
    public var subject: String
    public var scratchPath: String?
    public var pid: Int32
    public var startedAt: Date

    public init(kind: String, subject: String, scratchPath: String?, pid: Int32, startedAt: Date) {
        self.kind = kind
        self.subject = subject
        self.scratchPath = scratchPath
        self.pid = pid
        self.startedAt = startedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension BurrowDatabase {
    public func beginOperation(kind: String, subject: String, scratchPath: String?) throws -> OperationRecord {
        try write { db in
            var record = OperationRecord(kind: kind, subject: subject, scratchPath: scratchPath, pid: getpid(), startedAt: Date())
            try record.insert(db)
            return record
        }
    }

    public func endOperation(_ operation: OperationRecord) throws {
        guard let id = operation.id else { return }
        _ = try write { try OperationRecord.deleteOne($0, key: id) }
    }

    /// Takes an interrupted operation over for recovery by deleting its row; true when this call
    /// deleted it. False means its owner ended it after all (an owner ends its operation before
    /// it lets go of its scratch folder) or another process took it first: either way, there is
    /// nothing left for this caller to undo.
    public func claimOperation(_ operation: OperationRecord) throws -> Bool {
        guard let id = operation.id else { return false }
        return try write { try OperationRecord.deleteOne($0, key: id) }
    }

    public func openOperations() throws -> [OperationRecord] {
        try read { try OperationRecord.order(Column("id")).fetchAll($0) }
    }
}
