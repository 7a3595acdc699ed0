import BurrowStore
import Foundation

/// Removes an image name; deletes the cached base image when it was the last name for it.
/// Refuses while any environment is built on the image.
public struct ImageRemoval: Sendable {
    let home: BurrowHome
    let database: BurrowDatabase

    public init(home: BurrowHome, database: BurrowDatabase) {
        self.home = home
        self.database = database
    }

    public func remove(_ name: String) throws {
        let orphanedDigest: String?
        do {
            orphanedDigest = try database.removeImage(named: name)
        } catch StoreError.imageNotFound {
            throw BurrowError(.notFound, "no image named '\(name)'", hint: "See the images you have: burrow image ls")
        } catch StoreError.imageInUse(_, let users) {
            throw BurrowError(.wrongState, "image '\(name)' is used by \(users) environment\(users == 1 ? "" : "s")", hint: "Remove them first (burrow ls shows them), then retry.")
        }
        if let digest = orphanedDigest {
            try FileManager.default.removeItem(at: home.imageDirectory(digest: digest))
        }
    }
}
