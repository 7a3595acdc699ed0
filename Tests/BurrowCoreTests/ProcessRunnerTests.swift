import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

@Suite struct ProcessRunnerTests {
    /// Programs that run for a while must not hold the process's task threads: here more of them
    /// than there are cores wait for a file that another task writes. Were their output read on
    /// the cooperative pool, the writer would get no thread until they gave up waiting (after
    /// about 10 s), and they would say so.
    @Test func runningProgramsLeaveTheTaskThreadsFree() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-runner")
        let marker = directory.path("go")
        let waiting = "i=0; while [ ! -e '\(marker.path)' ]; do i=$((i+1)); if [ $i -gt 200 ]; then echo gave-up; exit 1; fi; sleep 0.05; done; echo done"
        let programs = ProcessInfo.processInfo.activeProcessorCount + 1
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<programs {
                group.addTask { try await ProcessRunner().runAllowingFailure("sh", ["-c", waiting]).standardOutput }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(300))
                try Data().write(to: marker)
                return "done\n"
            }
            var outputs: [String] = []
            for try await output in group { outputs.append(output) }
            #expect(outputs == Array(repeating: "done\n", count: programs + 1))
        }
    }
}
