import BurrowTestSupport
import Foundation
import GRDB
import Testing

@testable import BurrowStore

@Suite struct MigrationTests {
    @Test func anEmptyDatabaseGetsEveryMigration() throws {
        let directory = try TemporaryDirectory()
        let database = try BurrowDatabase(path: directory.path("burrow.sqlite").path)
        #expect(try database.appliedMigrations() == BurrowDatabase.migrationNames)
        #expect(try database.read { try $0.tableExists("operation") })
    }

    @Test func anOlderDatabaseIsUpgradedWithItsRowsIntact() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("burrow.sqlite").path
        let first = try #require(BurrowDatabase.migrationNames.first)
        do {
            let old = try BurrowDatabase(path: path, upTo: first)
            #expect(try old.appliedMigrations() == [first])
            #expect(try !old.read { try $0.tableExists("operation") })
            // Raw SQL: today's records have columns the old schema lacks.
            try old.write { db in
                try db.execute(sql: "INSERT INTO baseImage (digest, virtualSize, fileSize, createdAt) VALUES ('d1', 10, 5, '2026-01-01 00:00:00')")
                try db.execute(sql: "INSERT INTO image (name, digest, distro, source, createdAt) VALUES ('old', 'd1', 'debian-12', '/tmp/x.tar', '2026-01-01 00:00:00')")
            }
        }
        let upgraded = try BurrowDatabase(path: path)
        #expect(try upgraded.appliedMigrations() == BurrowDatabase.migrationNames)
        #expect(try upgraded.image(named: "old")?.distro == "debian-12")
        #expect(try upgraded.baseImage(digest: "d1")?.fileSize == 5)
        #expect(try upgraded.baseImage(digest: "d1")?.guestTraits == nil)
    }

    @Test func aDatabaseIsInWALMode() throws {
        let directory = try TemporaryDirectory()
        let database = try BurrowDatabase(path: directory.path("burrow.sqlite").path)
        let mode = try database.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }
}

@Suite struct ImageStoreTests {
    @Test func removingTheLastNameReleasesTheDigest() throws {
        let directory = try TemporaryDirectory()
        let database = try BurrowDatabase(path: directory.path("burrow.sqlite").path)
        let base = BaseImageRecord(digest: "d", virtualSize: 1, fileSize: 1, createdAt: Date())
        try database.register(base: base, image: ImageRecord(name: "a", digest: "d", distro: nil, source: "s", createdAt: Date()))
        try database.register(base: base, image: ImageRecord(name: "b", digest: "d", distro: nil, source: "s", createdAt: Date()))
        #expect(try database.removeImage(named: "a") == nil)
        #expect(try database.removeImage(named: "b") == "d")
        #expect(try database.allBaseImages().isEmpty)
        #expect(throws: StoreError.imageNotFound("b")) { try database.removeImage(named: "b") }
    }

    @Test func aNameCannotBeRebound() throws {
        let directory = try TemporaryDirectory()
        let database = try BurrowDatabase(path: directory.path("burrow.sqlite").path)
        for digest in ["x", "y"] {
            let base = BaseImageRecord(digest: digest, virtualSize: 1, fileSize: 1, createdAt: Date())
            let image = ImageRecord(name: "n", digest: digest, distro: nil, source: "s", createdAt: Date())
            if digest == "x" {
                try database.register(base: base, image: image)
            } else {
                #expect(throws: StoreError.nameTaken("n")) { try database.register(base: base, image: image) }
            }
        }
    }

    /// Separate connections stand in for separate burrow processes writing at the same time.
    @Test func concurrentWritersFromSeveralConnectionsAllLand() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("burrow.sqlite").path
        _ = try BurrowDatabase(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    let database = try BurrowDatabase(path: path)
                    for index in 0..<25 {
                        let digest = "w\(writer)-\(index)"
                        try database.register(
                            base: BaseImageRecord(digest: digest, virtualSize: 1, fileSize: 1, createdAt: Date()),
                            image: ImageRecord(name: digest, digest: digest, distro: nil, source: "s", createdAt: Date())
                        )
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try BurrowDatabase(path: path).allBaseImages().count == 100)
    }
}

@Suite struct LayerStoreTests {
    /// A chain base ← a ← b, with b under an environment and a under a snapshot.
    @Test func frozenLayersGoOnlyWhenNothingIsBuiltOnThem() throws {
        let directory = try TemporaryDirectory()
        let database = try BurrowDatabase(path: directory.path("burrow.sqlite").path)
        try database.register(
            base: BaseImageRecord(digest: "d", virtualSize: 1, fileSize: 1, createdAt: Date()),
            image: ImageRecord(name: "img", digest: "d", distro: nil, source: "s", createdAt: Date())
        )
        try database.insertLayer(LayerRecord(key: "a", parentDigest: "d", parentKey: nil, kind: .frozen, purpose: "t", createdAt: Date()))
        try database.insertLayer(LayerRecord(key: "b", parentDigest: "d", parentKey: "a", kind: .frozen, purpose: "t", createdAt: Date()))
        try database.insertLayer(LayerRecord(key: "p", parentDigest: "d", parentKey: nil, kind: .provisioned, purpose: "t", createdAt: Date()))
        let env = EnvironmentRecord(
            name: "e", imageName: "img", domainName: "dom", connectURI: "test:///default", cpus: 1, memoryMiB: 512, diskBytes: 0, sshPort: 40000,
            macAddress: "52:54:00:00:00:01", guestUser: "u", guestUID: 1, guestGID: 1, accelerator: "tcg", diskID: "top", layerKey: "b", createdAt: Date()
        )
        try database.insertEnvironment(env)
        try database.write { try SnapshotRecord(environment: "e", name: "s", layerKey: "a", createdAt: Date()).insert($0) }
        #expect(try database.releaseUnusedFrozenLayers().isEmpty)

        var moved = env
        moved.layerKey = nil
        try database.updateEnvironment(moved)
        #expect(try database.releaseUnusedFrozenLayers() == ["b"])
        // Removing the environment takes its snapshots with it, and so the last hold on "a".
        try database.deleteEnvironment(named: "e")
        #expect(try database.releaseUnusedFrozenLayers() == ["a"])
        #expect(try database.layer(key: "p") != nil)
    }
}
