import BurrowTestSupport
import Foundation
import Testing
@testable import BurrowCore

/// A project folder under a temporary directory, with a fake home folder beside it so `~`
/// expansion is checked without touching the real one.
final class ProjectFolder {
    let temporary: TemporaryDirectory
    let root: URL
    let home: URL

    init(named name: String = "demo") throws {
        temporary = try TemporaryDirectory(prefix: "burrow-project")
        root = temporary.path(name)
        home = temporary.path("home")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    /// Writes `text` at `path` under the project root, creating folders on the way.
    @discardableResult
    func write(_ path: String, _ text: String, mode: Int = 0o644) throws -> URL {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url
    }

    func makeFolder(_ path: String, underHome: Bool = false) throws {
        let base = underHome ? home : root
        try FileManager.default.createDirectory(at: base.appendingPathComponent(path), withIntermediateDirectories: true)
    }

    func load() throws -> ProjectConfig {
        try ProjectConfig.load(projectRoot: root, homeDirectory: home)
    }

    /// Writes `yaml` as burrow.yaml and loads it.
    func load(yaml: String) throws -> ProjectConfig {
        try write("burrow.yaml", yaml)
        return try load()
    }

    /// Writes `yaml` as burrow.yaml and returns the error loading it must fail with.
    func failure(yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> BurrowError {
        try write("burrow.yaml", yaml)
        return try failure(sourceLocation: sourceLocation)
    }

    func failure(sourceLocation: SourceLocation = #_sourceLocation) throws -> BurrowError {
        let error = #expect(throws: BurrowError.self, sourceLocation: sourceLocation) { try self.load() }
        return try #require(error, sourceLocation: sourceLocation)
    }
}
