import Foundation
import GRDB

/// A read-only qcow2 layer in a chain above a base image. `provisioned` layers (the guest tools
/// a bare rootfs lacked) live at `images/<parentDigest>/layers/<key>.qcow2` and stay cached for
/// the image; `frozen` layers (an environment's disk frozen by a clone or snapshot) live at
/// `disks/<key>.qcow2` and are deleted once nothing is built on them.
public struct LayerRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "layer"

    public enum Kind: String, Codable, Sendable { case provisioned, frozen }

    public var key: String
    public var parentDigest: String
    /// The layer this one is built on; nil when it sits directly on the base image.
    public var parentKey: String?
    public var kind: Kind
    public var purpose: String
    public var createdAt: Date

    public init(key: String, parentDigest: String, parentKey: String?, kind: Kind, purpose: String, createdAt: Date) {
        self.key = key
        self.parentDigest = parentDigest
        self.parentKey = parentKey
        self.kind = kind
        self.purpose = purpose
        self.createdAt = createdAt
    }
}

/// A named point an environment can go back to: a frozen layer of its disk.
public struct SnapshotRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "snapshot"

    public var environment: String
    public var name: String
    public var layerKey: String
    public var createdAt: Date

    public init(environment: String, name: String, layerKey: String, createdAt: Date) {
        self.environment = environment
        self.name = name
        self.layerKey = layerKey
        self.createdAt = createdAt
    }
}

extension BurrowDatabase {
    public func layer(key: String) throws -> LayerRecord? {
        try read { try LayerRecord.fetchOne($0, key: key) }
    }

    public func insertLayer(_ layer: LayerRecord) throws {
        try write { try layer.save($0) }
    }

    public func allLayers() throws -> [LayerRecord] {
        try read { try LayerRecord.order(Column("createdAt")).fetchAll($0) }
    }

    public func layers(of digest: String) throws -> [LayerRecord] {
        try read { try LayerRecord.filter(Column("parentDigest") == digest).fetchAll($0) }
    }

    /// Frozen layers nothing is built on any more (no environment, layer or snapshot refers to
    /// them), removed from the store in one transaction; the caller deletes their files.
    /// Repeats until the chain is clean, so freeing a layer can free its parent.
    public func releaseUnusedFrozenLayers() throws -> [String] {
        try releaseUnusedLayers(kind: .frozen).map(\.key)
    }

    /// The same for layers of one kind; `burrow image prune` uses it for provisioned layers,
    /// which otherwise stay cached for the next environment.
    public func releaseUnusedLayers(kind: LayerRecord.Kind) throws -> [LayerRecord] {
        try write { db in
            var released: [LayerRecord] = []
            while true {
                let unused = try LayerRecord.fetchAll(db, sql: """
                    SELECT * FROM layer WHERE kind = ?
                      AND key NOT IN (SELECT layerKey FROM environment WHERE layerKey IS NOT NULL)
                      AND key NOT IN (SELECT parentKey FROM layer WHERE parentKey IS NOT NULL)
                      AND key NOT IN (SELECT layerKey FROM snapshot)
                    """, arguments: [kind.rawValue])
                if unused.isEmpty { return released }
                for layer in unused { try layer.delete(db) }
                released += unused
            }
        }
    }

    public func snapshots(of environment: String) throws -> [SnapshotRecord] {
        try read { try SnapshotRecord.filter(Column("environment") == environment).order(Column("createdAt")).fetchAll($0) }
    }

    public func snapshot(of environment: String, named name: String) throws -> SnapshotRecord? {
        try read { try SnapshotRecord.fetchOne($0, key: ["environment": environment, "name": name]) }
    }
}
