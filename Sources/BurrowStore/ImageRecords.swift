import Foundation
import GRDB

/// An immutable, content-addressed base image: one per distinct tarball digest.
public struct BaseImageRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "baseImage"

    public var digest: String
    public var virtualSize: Int64
    public var fileSize: Int64
    public var createdAt: Date
    /// nil for images imported before burrow recorded traits; treated as ready.
    public var guestTraits: GuestTraits?

    public init(digest: String, virtualSize: Int64, fileSize: Int64, createdAt: Date, guestTraits: GuestTraits? = nil) {
        self.digest = digest
        self.virtualSize = virtualSize
        self.fileSize = fileSize
        self.createdAt = createdAt
        self.guestTraits = guestTraits
    }
}

/// A user-facing image name bound to a base image; several names may share one digest.
public struct ImageRecord: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "image"

    public var name: String
    public var digest: String
    public var distro: String?
    public var source: String
    public var createdAt: Date

    public init(name: String, digest: String, distro: String?, source: String, createdAt: Date) {
        self.name = name
        self.digest = digest
        self.distro = distro
        self.source = source
        self.createdAt = createdAt
    }
}

/// An image name with its base image, as listed by `burrow image ls`.
public struct ImageListing: Equatable, Sendable {
    public var image: ImageRecord
    public var base: BaseImageRecord
    public var usedBy: Int
}

extension BurrowDatabase {
    public func image(named name: String) throws -> ImageRecord? {
        try read { try ImageRecord.fetchOne($0, key: name) }
    }

    public func baseImage(digest: String) throws -> BaseImageRecord? {
        try read { try BaseImageRecord.fetchOne($0, key: digest) }
    }

    public func allBaseImages() throws -> [BaseImageRecord] {
        try read { try BaseImageRecord.fetchAll($0) }
    }

    public func imageListings() throws -> [ImageListing] {
        try read { db in
            let images = try ImageRecord.order(Column("name")).fetchAll(db)
            return try images.compactMap { image in
                guard let base = try BaseImageRecord.fetchOne(db, key: image.digest) else { return nil }
                return ImageListing(image: image, base: base, usedBy: try Self.usageCount(db, imageName: image.name))
            }
        }
    }

    /// Records a base image (if new) and binds `image.name` to it in one transaction.
    /// Fails with `StoreError.nameTaken` when the name is bound to a different digest.
    public func register(base: BaseImageRecord, image: ImageRecord) throws {
        try write { db in
            if let existing = try ImageRecord.fetchOne(db, key: image.name), existing.digest != image.digest {
                throw StoreError.nameTaken(image.name)
            }
            if try BaseImageRecord.fetchOne(db, key: base.digest) == nil {
                try base.insert(db)
            }
            try image.save(db)
        }
    }

    /// Removes an image name. Returns the digest when no other name refers to it any more (its
    /// base image row is deleted too, and the caller removes the files).
    public func removeImage(named name: String) throws -> String? {
        try write { db in
            guard let image = try ImageRecord.fetchOne(db, key: name) else { throw StoreError.imageNotFound(name) }
            let users = try Self.usageCount(db, imageName: name)
            if users > 0 { throw StoreError.imageInUse(name, users: users) }
            try image.delete(db)
            let remaining = try ImageRecord.filter(Column("digest") == image.digest).fetchCount(db)
            guard remaining == 0 else { return nil }
            // RESTRICT checks each deleted row at once, so layers built on another (a CUDA layer on
            // the guest-ready one) must go before it.
            try LayerRecord.filter(Column("parentDigest") == image.digest && Column("parentKey") != nil).deleteAll(db)
            try LayerRecord.filter(Column("parentDigest") == image.digest).deleteAll(db)
            try BaseImageRecord.deleteOne(db, key: image.digest)
            return image.digest
        }
    }

    /// How many environments are built on an image. Environments arrive with a later schema;
    /// until that table exists the answer is zero.
    static func usageCount(_ db: Database, imageName: String) throws -> Int {
        guard try db.tableExists("environment") else { return 0 }
        return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM environment WHERE imageName = ?", arguments: [imageName]) ?? 0
    }
}

/// Store-level refusals, each naming the object involved.
public enum StoreError: Error, Equatable, Sendable {
    case imageNotFound(String)
    case imageInUse(String, users: Int)
    case nameTaken(String)
    case environmentExists(String)
    case portTaken(Int)
    case gpuFunctionHeld(address: String, holder: String)
}
