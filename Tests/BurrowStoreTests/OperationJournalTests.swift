import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowStore

@Suite struct OperationJournalTests {
    /// Recovery claims an operation before undoing it: only one process ever gets it, and none
    /// gets one its owner has ended.
    @Test func anOperationIsClaimedOnceAndNeverAfterItsOwnerEndedIt() throws {
        let directory = try TemporaryDirectory(prefix: "burrow-journal")
        let first = try BurrowDatabase(path: directory.path("burrow.sqlite").path)
        let second = try BurrowDatabase(path: directory.path("burrow.sqlite").path)

        let interrupted = try first.beginOperation(kind: "create", subject: "a", scratchPath: "/tmp/x")
        #expect(try second.claimOperation(interrupted))
        #expect(try !first.claimOperation(interrupted))
        #expect(try first.openOperations().isEmpty)

        let finished = try first.beginOperation(kind: "create", subject: "b", scratchPath: "/tmp/y")
        let listedBeforeItEnded = try second.openOperations()
        try first.endOperation(finished)
        #expect(listedBeforeItEnded.map(\.subject) == ["b"])
        #expect(try !second.claimOperation(try #require(listedBeforeItEnded.first)))
    }
}
