import BurrowTestSupport
import Foundation

@testable import BurrowCore

/// The checkout this test file belongs to.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The Debian kernel installed on this host (`/boot/vmlinuz-<release>` with its
/// `/lib/modules/<release>`), newest release first; nil where there is none.
let hostKernel: (vmlinuz: URL, modules: URL, version: String)? = {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? [])
        .filter { $0.hasPrefix("vmlinuz-") }
        .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
    for name in names {
        let version = String(name.dropFirst("vmlinuz-".count))
        let modules = URL(fileURLWithPath: "/lib/modules/\(version)")
        if FileManager.default.isReadableFile(atPath: "/boot/\(name)"), FileManager.default.fileExists(atPath: modules.appendingPathComponent("modules.dep").path) {
            return (URL(fileURLWithPath: "/boot/\(name)"), modules, version)
        }
    }
    return nil
}()

/// A temporary BURROW_HOME.
final class KernelSandbox {
    let directory: TemporaryDirectory
    let home: BurrowHome
    let store: KernelStore

    init() throws {
        directory = try TemporaryDirectory(prefix: "burrow-kernel")
        home = BurrowHome(root: directory.path("home"))
        try home.prepare()
        store = KernelStore(home: home)
    }

    /// Scratch space must be empty once a kernel command has finished, whatever happened.
    func scratchIsEmpty() throws -> Bool {
        try FileManager.default.contentsOfDirectory(atPath: home.scratch.path).isEmpty
    }
}

/// Runs a program to completion and returns its standard output; fails the test on a non-zero exit.
@discardableResult
func run(_ program: String, _ arguments: [String], what: String? = nil) async throws -> String {
    try await ProcessRunner().run(program, arguments, what: what ?? program).standardOutput
}

func writeText(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}
