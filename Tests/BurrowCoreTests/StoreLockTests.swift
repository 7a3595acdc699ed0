import BurrowStore
import BurrowTestSupport
import Foundation
import Synchronization
import Testing

@testable import BurrowCore

/// `doctor --fix` deletes what no row refers to, so it must never run beside a command that has
/// made a disk, folder or domain and not recorded it yet.
@Suite struct StoreLockTests {
    @Test func aRepairWaitsForRunningCommandsAndLeavesTheirFilesAlone() async throws {
        let sandbox = try ImportSandbox()
        try FileManager.default.createDirectory(at: sandbox.home.disks, withIntermediateDirectories: true)
        let unrecorded = sandbox.home.disks.appendingPathComponent("in-flight.qcow2")
        try Data().write(to: unrecorded)
        let notices = Mutex<[String]>([])
        let doctor = Doctor(home: sandbox.home, database: sandbox.database, hypervisorURI: "test:///default") { notice in
            notices.withLock { $0.append(notice) }
        }

        let command = try await sandbox.home.lockStore(exclusive: false)
        await #expect(throws: BurrowError.self) { try await doctor.run(fix: true, lockTimeout: 0.3) }
        #expect(notices.withLock { $0 }.contains { $0.hasPrefix("waiting for other burrow commands") })
        #expect(FileManager.default.fileExists(atPath: unrecorded.path))
        let report = try await doctor.run(fix: false)
        #expect(report.contains { $0.subject == "disks/in-flight.qcow2" && !$0.fixed })

        command.release()
        // Generous where the lock must be had: a child another test forks in this process holds
        // copies of its descriptors until it execs, which a loaded machine can stretch.
        let repaired = try await doctor.run(fix: true, lockTimeout: 30)
        #expect(repaired.contains { $0.subject == "disks/in-flight.qcow2" && $0.fixed })
        #expect(!FileManager.default.fileExists(atPath: unrecorded.path))
    }

    @Test func commandsRunTogetherButNotBesideARepair() async throws {
        let sandbox = try ImportSandbox()
        let first = try await sandbox.home.lockStore(exclusive: false)
        // Were shared holders exclusive, this would time out: `first` is held throughout.
        let second = try await sandbox.home.lockStore(exclusive: false, timeout: 30)
        second.release()
        first.release()
        let repair = try await sandbox.home.lockStore(exclusive: true, timeout: 30)
        await #expect(throws: BurrowError.self) { try await sandbox.home.lockStore(exclusive: false, timeout: 0.2) }
        repair.release()
        _ = try await sandbox.home.lockStore(exclusive: false, timeout: 30)
    }
}
