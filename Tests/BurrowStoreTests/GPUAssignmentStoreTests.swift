import BurrowTestSupport
import Foundation
import GRDB
import Testing

@testable import BurrowStore

@Suite struct GPUAssignmentStoreTests {
    /// A store with image `img` and environments `a` and `b` on it.
    static func store(_ directory: TemporaryDirectory) throws -> BurrowDatabase {
        let database = try BurrowDatabase(path: directory.path("burrow.sqlite").path)
        try database.register(
            base: BaseImageRecord(digest: "d", virtualSize: 1, fileSize: 1, createdAt: Date()),
            image: ImageRecord(name: "img", digest: "d", distro: nil, source: "s", createdAt: Date())
        )
        for (index, name) in ["a", "b"].enumerated() {
            try database.insertEnvironment(EnvironmentRecord(
                name: name, imageName: "img", domainName: "dom-\(name)", connectURI: "test:///default", cpus: 1, memoryMiB: 512, diskBytes: 0,
                sshPort: 40000 + index, macAddress: "52:54:00:00:00:0\(index)", guestUser: "u", guestUID: 1, guestGID: 1, accelerator: "tcg",
                diskID: "disk-\(name)", layerKey: nil, createdAt: Date(), gpuRequest: "1"
            ))
        }
        return database
    }

    @Test func theRequestIsKeptAsTyped() throws {
        let directory = try TemporaryDirectory()
        let database = try Self.store(directory)
        #expect(try database.environment(named: "a")?.gpuRequest == "1")
    }

    @Test func aDatabaseFromBeforeGPUsGetsTheColumnAndTheTable() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("burrow.sqlite").path
        do {
            let old = try BurrowDatabase(path: path, upTo: "v6-snapshots")
            try old.write { db in
                try db.execute(sql: "INSERT INTO baseImage (digest, virtualSize, fileSize, createdAt) VALUES ('d', 1, 1, '2026-01-01 00:00:00')")
                try db.execute(sql: "INSERT INTO image (name, digest, source, createdAt) VALUES ('img', 'd', 's', '2026-01-01 00:00:00')")
                try db.execute(sql: """
                    INSERT INTO environment (name, imageName, domainName, connectURI, cpus, memoryMiB, diskBytes, sshPort, macAddress,
                      guestUser, guestUID, guestGID, accelerator, diskID, createdAt)
                    VALUES ('old', 'img', 'dom', 'test:///default', 1, 512, 0, 40000, '52:54:00:00:00:01', 'u', 1, 1, 'tcg', 'x', '2026-01-01 00:00:00')
                    """)
            }
        }
        let upgraded = try BurrowDatabase(path: path)
        #expect(try upgraded.appliedMigrations() == BurrowDatabase.migrationNames && BurrowDatabase.migrationNames.contains("v7-gpu"))
        #expect(try upgraded.environment(named: "old")?.gpuRequest == nil)
        #expect(try upgraded.gpuAssignments().isEmpty)
    }

    @Test func thePrimaryKeyRefusesASecondHolderAndNamesTheFirst() throws {
        let directory = try TemporaryDirectory()
        let database = try Self.store(directory)
        try database.assignGPUFunctions(to: "a", choose: { _ in ["0000:65:00.0", "0000:65:00.1"] }, commit: { _ in })
        // A chooser that ignores what is held stands in for a racing writer.
        var committed = false
        #expect(throws: StoreError.gpuFunctionHeld(address: "0000:65:00.1", holder: "a")) {
            try database.assignGPUFunctions(to: "b", choose: { _ in ["0000:66:00.0", "0000:65:00.1"] }, commit: { _ in committed = true })
        }
        #expect(!committed)
        #expect(try database.gpuAssignments().map(\.environment) == ["a", "a"])
    }

    @Test func theChooserSeesOthersHoldingsAndAFailedCommitRecordsNothing() throws {
        let directory = try TemporaryDirectory()
        let database = try Self.store(directory)
        try database.assignGPUFunctions(to: "a", choose: { _ in ["0000:65:00.0"] }, commit: { _ in })
        var seen: [String: String] = [:]
        #expect(throws: CancellationError.self) {
            try database.assignGPUFunctions(to: "b", choose: { held in
                seen = held
                return ["0000:66:00.0"]
            }, commit: { _ in throw CancellationError() })
        }
        #expect(seen == ["0000:65:00.0": "a"])
        #expect(try database.gpuAssignments().map(\.address) == ["0000:65:00.0"])
    }

    @Test func anEnvironmentsOwnOldRowsDoNotBlockItAndGoWithIt() throws {
        let directory = try TemporaryDirectory()
        let database = try Self.store(directory)
        try database.assignGPUFunctions(to: "a", choose: { _ in ["0000:65:00.0"] }, commit: { _ in })
        try database.assignGPUFunctions(to: "a", choose: { held in
            #expect(held.isEmpty)
            return ["0000:65:00.0"]
        }, commit: { _ in })
        #expect(try database.releaseGPUFunctions(of: "b").isEmpty)
        try database.deleteEnvironment(named: "a")
        #expect(try database.gpuAssignments().isEmpty)
    }

    /// A CUDA layer sits on the image's guest-ready layer; removing the image takes both.
    @Test func anImageWithStackedProvisionedLayersCanBeRemoved() throws {
        let directory = try TemporaryDirectory()
        let database = try BurrowDatabase(path: directory.path("burrow.sqlite").path)
        try database.register(
            base: BaseImageRecord(digest: "d", virtualSize: 1, fileSize: 1, createdAt: Date()),
            image: ImageRecord(name: "img", digest: "d", distro: nil, source: "s", createdAt: Date())
        )
        try database.insertLayer(LayerRecord(key: "ready", parentDigest: "d", parentKey: nil, kind: .provisioned, purpose: "t", createdAt: Date()))
        try database.insertLayer(LayerRecord(key: "cuda", parentDigest: "d", parentKey: "ready", kind: .provisioned, purpose: "t", createdAt: Date()))
        #expect(try database.removeImage(named: "img") == "d")
        #expect(try database.layers(of: "d").isEmpty)
    }
}
