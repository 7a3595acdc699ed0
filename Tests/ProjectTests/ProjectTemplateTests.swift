import Foundation
import Testing
@testable import BurrowCore

@Suite("burrow init")
struct ProjectTemplateTests {
    @Test func writtenFileLoadsAsWritten() throws {
        let project = try ProjectFolder(named: "My Service")
        let file = try ProjectTemplate.write(into: project.root, base: .distro(ProjectTemplate.defaultDistro), force: false)
        #expect(file.lastPathComponent == "burrow.yaml")
        let config = try project.load()
        #expect(config.base == .distro("debian-12"))
        #expect(config.name == "my-service")
        #expect(config.workspace == project.root.standardizedFileURL.path)
        #expect(config.provision.steps.isEmpty)
    }

    @Test func imageBaseLoads() throws {
        let project = try ProjectFolder()
        try ProjectTemplate.write(into: project.root, base: .image("deb12"), force: false)
        #expect(try project.load().base == .image("deb12"))
    }

    @Test func aFolderWithoutAUsableNameGetsOneWrittenOut() throws {
        let project = try ProjectFolder(named: "???")
        try ProjectTemplate.write(into: project.root, base: .distro("debian-12"), force: false)
        #expect(try project.load().name == "project")
    }

    /// Uncommenting every example (all but the second base) must give a valid file too, so the
    /// documentation never shows a spelling the loader refuses.
    @Test func everyDocumentedExampleLoads() throws {
        let project = try ProjectFolder()
        let text = ProjectTemplate.burrowYAML(base: .distro("debian-12"), folderName: "demo")
        let example = try Regex(#"^# ( *(- |[A-Za-z_]+:))"#)
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("# image:") }
            .map { line in line.firstMatch(of: example) == nil ? String(line) : String(line.dropFirst(2)) }
            .joined(separator: "\n")
        #expect(uncommented.contains("\nprovision:\n"))
        try project.makeFolder(".cache/pip", underHome: true)
        try project.makeFolder("data")
        try project.write("scripts/setup.sh", "#!/bin/sh\n", mode: 0o755)
        try project.write("config/app.toml", "")
        let config = try project.load(yaml: uncommented)
        #expect(config.name == "demo")
        #expect(config.cpus == 4 && config.memory == 8 << 30 && config.disk == 40 << 30)
        #expect(config.workspace == "/work")
        #expect(config.mounts.count == 3)
        #expect(config.ports.count == 3)
        #expect(config.gpu == "1" && config.cuda == "12.4")
        #expect(config.env == ["RUST_LOG": "debug"])
        #expect(config.provision.steps.count == 3)
    }

    @Test func existingFileIsKeptWithoutForce() throws {
        let project = try ProjectFolder()
        try project.write("burrow.yaml", "cpus: 2\n")
        let error = #expect(throws: BurrowError.self) {
            try ProjectTemplate.write(into: project.root, base: .distro("debian-12"), force: false)
        }
        #expect(error?.kind == .wrongState)
        #expect(error?.hint == "Pass --force to replace it.")
        #expect(try project.load().cpus == 2)

        try ProjectTemplate.write(into: project.root, base: .distro("debian-12"), force: true)
        #expect(try project.load().cpus == nil)
    }

    @Test func forceReplacesAnExistingBurrowYml() throws {
        let project = try ProjectFolder()
        try project.write("burrow.yml", "cpus: 2\n")
        #expect(throws: BurrowError.self) {
            try ProjectTemplate.write(into: project.root, base: .distro("debian-12"), force: false)
        }
        let file = try ProjectTemplate.write(into: project.root, base: .distro("debian-12"), force: true)
        #expect(file.lastPathComponent == "burrow.yml")
        #expect(!FileManager.default.fileExists(atPath: project.root.appendingPathComponent("burrow.yaml").path))
        #expect(try project.load().base == .distro("debian-12"))
    }

    @Test func missingFolderIsCreated() throws {
        let project = try ProjectFolder()
        let folder = project.root.appendingPathComponent("new/app")
        try ProjectTemplate.write(into: folder, base: .distro("debian-12"), force: false)
        #expect(try ProjectConfig.load(projectRoot: folder).name == "app")
    }
}
