import Foundation
import GRDB

/// A cached, read-only qcow2 layer on top of a base image (e.g. the guest tools a bare rootfs
/// lacked), stored at `images/<parentDigest>/layers/<key>.qcow2`.
public struct LayerRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "layer"

    public var key: String
    public var parentDigest: String
    public var purpose: String
    public var createdAt: Date

    public init(key: String, parentDigest: String, purpose: String, createdAt: Date) {
        self.key = key
        self.parentDigest = parentDigest
        self.purpose = purpose
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

    public func layers(of digest: String) throws -> [LayerRecord] {
        try read { try LayerRecord.filter(Column("parentDigest") == digest).fetchAll($0) }
    }

    public func deleteLayers(of digest: String) throws {
        _ = try write { try LayerRecord.filter(Column("parentDigest") == digest).deleteAll($0) }
    }
}
