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
    /// Host folders shared into the guest; the first is the workspace when there is one.
    public var sharedFolders: [SharedFolder] = []
    /// 127.0.0.1 ports forwarded to the guest while it runs.
    public var ports: [PortRule] = []
    /// Environment variables every guest session sees.
    public var variables: [String: String] = [:]
    /// The project folder `burrow up` made this environment for, if any.
    public var projectRoot: String?
    public var createdAt: Date
    /// `--gpu` as the user typed it (`all`, `2`, an address, a model); GPUs are chosen at each start.
    public var gpuRequest: String?

    public init(
        name: String, imageName: String, domainName: String, connectURI: String, cpus: Int, memoryMiB: Int, diskBytes: Int64,
        sshPort: Int, macAddress: String, guestUser: String, guestUID: Int, guestGID: Int, accelerator: String,
        diskID: String, layerKey: String?, sharedFolders: [SharedFolder] = [], ports: [PortRule] = [], variables: [String: String] = [:],
        projectRoot: String? = nil, createdAt: Date, gpuRequest: String? = nil
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
        self.sharedFolders = sharedFolders
        self.ports = ports
        self.variables = variables
        self.projectRoot = projectRoot
        self.createdAt = createdAt
        self.gpuRequest = gpuRequest
    }
}

/// A host folder shared into an environment.
public struct SharedFolder: Codable, Equatable, Sendable {
    public var host: String
    public var guest: String
    public var readOnly: Bool

    public init(host: String, guest: String, readOnly: Bool) {
        self.host = host
        self.guest = guest
        self.readOnly = readOnly
    }
}

/// A TCP port on 127.0.0.1 forwarded to a port in the guest.
public struct PortRule: Codable, Equatable, Hashable, Sendable {
    public var host: Int
    public var guest: Int

    public init(host: Int, guest: Int) {
        self.host = host
        self.guest = guest
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
