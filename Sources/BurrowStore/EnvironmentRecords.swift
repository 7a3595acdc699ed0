import Foundation
import GRDB

/// An environment's intent: what it is built from and how it is reached. Whether it runs is asked
/// of libvirt, never stored.
public struct EnvironmentRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "environment"

    public var name: String
    public var imageName: String
    public var domainName: String
    public var connectURI: String
    public var cpus: Int
    public var memoryMiB: Int
    public var diskBytes: Int64
    public var sshPort: Int
    public var macAddress: String
    public var guestUser: String
    public var guestUID: Int
    public var guestGID: Int
    /// "kvm" or "tcg", chosen at create time.
    public var accelerator: String
    /// The environment's own writable disk, `disks/<diskID>.qcow2`.
    public var diskID: String
    /// The frozen layer (clone or snapshot) its disk is built on; nil when it sits directly on
    /// its image (or the image's provisioned layer).
    public var layerKey: String?
    public var createdAt: Date
    /// `--gpu` as the user typed it (`all`, `2`, an address, a model); GPUs are chosen at each start.
    public var gpuRequest: String?

    public init(
        name: String, imageName: String, domainName: String, connectURI: String, cpus: Int, memoryMiB: Int, diskBytes: Int64,
        sshPort: Int, macAddress: String, guestUser: String, guestUID: Int, guestGID: Int, accelerator: String,
        diskID: String, layerKey: String?, createdAt: Date, gpuRequest: String? = nil
    ) {
        self.name = name
        self.imageName = imageName
        self.domainName = domainName
        self.connectURI = connectURI
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.diskBytes = diskBytes
        self.sshPort = sshPort
        self.macAddress = macAddress
        self.guestUser = guestUser
        self.guestUID = guestUID
        self.guestGID = guestGID
        self.accelerator = accelerator
        self.diskID = diskID
        self.layerKey = layerKey
        self.createdAt = createdAt
        self.gpuRequest = gpuRequest
    }
}

extension BurrowDatabase {
    public func environment(named name: String) throws -> EnvironmentRecord? {
        try read { try EnvironmentRecord.fetchOne($0, key: name) }
    }

    public func allEnvironments() throws -> [EnvironmentRecord] {
        try read { try EnvironmentRecord.order(Column("name")).fetchAll($0) }
    }

    /// Inserts a new environment. Fails with `StoreError.environmentExists` for a taken name and
    /// `StoreError.portTaken` when another environment already holds the SSH port or MAC, so
    /// concurrent creators can retry with another port.
    public func insertEnvironment(_ record: EnvironmentRecord) throws {
        try write { db in
            if try EnvironmentRecord.fetchOne(db, key: record.name) != nil { throw StoreError.environmentExists(record.name) }
            guard try ImageRecord.fetchOne(db, key: record.imageName) != nil else { throw StoreError.imageNotFound(record.imageName) }
            do {
                try record.insert(db)
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                throw StoreError.portTaken(record.sshPort)
            }
        }
    }

    public func updateEnvironment(_ record: EnvironmentRecord) throws {
        try write { try record.update($0) }
    }

    public func deleteEnvironment(named name: String) throws {
        _ = try write { try EnvironmentRecord.deleteOne($0, key: name) }
    }

    public func usedSSHPorts() throws -> Set<Int> {
        try read { Set(try Int.fetchAll($0, sql: "SELECT sshPort FROM environment")) }
    }
}
