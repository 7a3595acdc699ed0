import Foundation
import Testing
@testable import BurrowCore

/// The repository root, found from this file's own path so the tests never depend on the
/// working directory `swift test` was started in.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()

/// A fresh directory under the system temp folder, removed when `body` returns or throws.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("burrow-catalog-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

@Suite("Repository Distros")
struct RepositoryDistrosTests {
    let catalog: DistroCatalog

    init() throws {
        catalog = try DistroCatalog(directory: repositoryRoot.appendingPathComponent("Distros"))
    }

    @Test func listsTheSupportedDistros() {
        #expect(catalog.all.map(\.name) == [
            "alpine-3.22", "archlinux", "debian-12", "debian-13", "fedora-42", "ubuntu-24.04",
        ])
    }

    @Test(arguments: ["alpine-3.22", "archlinux", "debian-12", "debian-13", "fedora-42", "ubuntu-24.04"])
    func entryIsUsable(name: String) throws {
        let entry = try catalog.entry(named: name)
        let x86 = try entry.source(for: .x86_64)
        for source in entry.sources.values {
            #expect(source.url.scheme == "https", "\(name): official mirrors are all https")
            #expect(!source.url.path.contains("latest"), "\(name): URLs must pin a release")
        }
        #expect(x86.url != entry.sources[.aarch64]?.url)
        #expect(!entry.guest.packages.isEmpty)
        #expect(entry.guest.initSystem == (entry.family == .apk ? .openrc : .systemd))
        #expect(entry.stripComponents == (name == "archlinux" ? 1 : 0))
        #expect(entry.architectures == (name == "archlinux" ? [.x86_64] : [.aarch64, .x86_64]))
    }

    @Test func checksumsAreDistinct() {
        let checksums = catalog.all.flatMap { $0.sources.values.map(\.sha256) }
        #expect(Set(checksums).count == checksums.count)
    }
}

@Suite("Catalog validation")
struct CatalogValidationTests {
    static let goodYAML = """
        name: foo
        description: Foo Linux 1
        family: apt
        release: "1"
        arch:
          x86_64:
            url: https://example.org/foo-1-x86_64.tar.gz
            sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        guest:
          init: systemd
          packages: [openssh-server, sudo]
        """

    static let file = "Distros/foo.yaml"

    /// Writes `yaml` as `Distros/foo.yaml` in a temp folder and loads that folder.
    func load(_ yaml: String) async throws -> DistroCatalog {
        try await withTemporaryDirectory { directory in
            let distros = directory.appendingPathComponent("Distros")
            try FileManager.default.createDirectory(at: distros, withIntermediateDirectories: true)
            try yaml.write(to: distros.appendingPathComponent("foo.yaml"), atomically: true, encoding: .utf8)
            return try DistroCatalog(directory: distros)
        }
    }

    func variant(_ target: String, _ replacement: String) -> String {
        precondition(Self.goodYAML.contains(target), "fixture edit does not apply: \(target)")
        return Self.goodYAML.replacingOccurrences(of: target, with: replacement)
    }

    @Test func goodFileLoads() async throws {
        let entry = try await load(Self.goodYAML).entry(named: "foo")
        #expect(entry.description == "Foo Linux 1")
        #expect(entry.family == .apt)
        #expect(entry.release == "1")
        #expect(entry.stripComponents == 0)
        #expect(entry.guest == GuestRequirements(initSystem: .systemd, packages: ["openssh-server", "sudo"]))
        let source = try entry.source(for: .x86_64)
        #expect(source.url.absoluteString == "https://example.org/foo-1-x86_64.tar.gz")
        #expect(source.sha256 == "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    }

    @Test func missingArchitectureNamesWhatExists() async throws {
        let entry = try await load(Self.goodYAML).entry(named: "foo")
        #expect(throws: CatalogError.noSource(distro: "foo", architecture: .aarch64, available: [.x86_64])) {
            try entry.source(for: .aarch64)
        }
        #expect(CatalogError.noSource(distro: "foo", architecture: .aarch64, available: [.x86_64]).description
            == "distro 'foo' has no tarball for aarch64; it has: x86_64")
    }

    @Test func unknownKeyIsReportedWithItsPath() async throws {
        let yaml = variant("packages: [openssh-server, sudo]", "pkgs: [openssh-server, sudo]")
        let error = await #expect(throws: CatalogError.self) { try await load(yaml) }
        #expect(error == .unknownKey(file: Self.file, key: "pkgs", path: "guest.pkgs", allowed: ["init", "packages"]))
        #expect(error?.description.hasPrefix("Distros/foo.yaml: unknown key 'pkgs' at guest.pkgs") == true)
    }

    @Test func wrongTypeIsReported() async throws {
        let yaml = variant("packages: [openssh-server, sudo]", "packages: sudo")
        let error = await #expect(throws: CatalogError.self) { try await load(yaml) }
        #expect(error == .wrongType(
            file: Self.file, path: "guest.packages", expected: "a list of strings", found: "the string 'sudo'"))
        #expect(error?.description == "Distros/foo.yaml: guest.packages must be a list of strings, but it is the string 'sudo'")
    }

    @Test func badChecksumIsReported() async throws {
        let yaml = variant("sha256: 0123456789abcdef", "sha256: 0123456789ABCDEF")
        let error = await #expect(throws: CatalogError.self) { try await load(yaml) }
        guard case let .invalidValue(file, path, reason)? = error else {
            Issue.record("expected invalidValue, got \(String(describing: error))")
            return
        }
        #expect(file == Self.file)
        #expect(path == "arch.x86_64.sha256")
        #expect(reason.hasPrefix("must be 64 lowercase hex digits"))
    }

    static let invalidVariants: [(edit: (String, String), expected: CatalogError)] = [
        (("name: foo", "name: bar"), .nameMismatch(file: file, name: "bar", expected: "foo")),
        (("name: foo\n", ""), .missingKey(file: file, path: "name")),
        (("family: apt", "family: yum"),
         .invalidValue(file: file, path: "family", reason: "must be one of apt, dnf, apk, pacman, got 'yum'")),
        (("init: systemd", "init: runit"),
         .invalidValue(file: file, path: "guest.init", reason: "must be one of systemd, openrc, got 'runit'")),
        (("  x86_64:", "  armv7:"),
         .unknownKey(file: file, key: "armv7", path: "arch.armv7", allowed: ["x86_64", "aarch64"])),
        (("url: https://", "url: ftp://"),
         .invalidValue(
            file: file, path: "arch.x86_64.url",
            reason: "must be an http://, https:// or file:// URL, got 'ftp://example.org/foo-1-x86_64.tar.gz'")),
        (("guest:", "strip_components: one\nguest:"),
         .wrongType(file: file, path: "strip_components", expected: "an integer", found: "the string 'one'")),
        (("guest:", "strip_components: -1\nguest:"),
         .invalidValue(file: file, path: "strip_components", reason: "must be 0 or more, got -1")),
        (("release: \"1\"", "release:"),
         .wrongType(file: file, path: "release", expected: "a string", found: "empty")),
        (("  init: systemd", "  init: systemd\n  init: openrc"), .duplicateKey(file: file, keys: ["init"], line: 10)),
    ]

    @Test(arguments: invalidVariants.indices)
    func invalidFileIsRejected(index: Int) async throws {
        let (edit, expected) = Self.invalidVariants[index]
        let yaml = variant(edit.0, edit.1)
        let error = await #expect(throws: CatalogError.self) { try await load(yaml) }
        #expect(error == expected)
    }

    @Test func emptyArchIsRejected() async throws {
        let start = try #require(Self.goodYAML.range(of: "arch:\n"))
        let end = try #require(Self.goodYAML.range(of: "guest:"))
        let yaml = Self.goodYAML.replacingCharacters(in: start.lowerBound..<end.lowerBound, with: "arch: {}\n")
        let error = await #expect(throws: CatalogError.self) { try await load(yaml) }
        #expect(error == .noArchitectures(file: Self.file))
    }

    @Test func malformedYAMLIsRejected() async throws {
        let error = await #expect(throws: CatalogError.self) { try await load("name: [unclosed\n") }
        guard case let .invalidYAML(file, reason)? = error else {
            Issue.record("expected invalidYAML, got \(String(describing: error))")
            return
        }
        #expect(file == Self.file)
        #expect(reason.hasPrefix("line 2, column 1: "), "position first, without the document echoed: \(reason)")
    }

    @Test func unknownDistroListsKnownOnes() async throws {
        let catalog = try await load(Self.goodYAML)
        let error = #expect(throws: CatalogError.self) { try catalog.entry(named: "fedora-41") }
        #expect(error?.description == "no distro named 'fedora-41'; known: foo")
    }
}

@Suite("Locating Distros")
struct LocateTests {
    @Test func overrideWins() async throws {
        try await withTemporaryDirectory { directory in
            let found = try DistroCatalog.locate(
                environment: ["BURROW_DISTROS": directory.path],
                executableURL: repositoryRoot.appendingPathComponent(".build/debug/burrow"))
            #expect(found.standardizedFileURL.path == directory.standardizedFileURL.path)
        }
    }

    @Test func overrideThatIsNotADirectoryFails() {
        #expect(throws: CatalogError.overrideNotADirectory(variable: "BURROW_DISTROS", path: "/nonexistent/distros")) {
            try DistroCatalog.locate(environment: ["BURROW_DISTROS": "/nonexistent/distros"], executableURL: nil)
        }
    }

    @Test func installedShareFolderIsFound() async throws {
        try await withTemporaryDirectory { prefix in
            let distros = prefix.appendingPathComponent("share/burrow/Distros")
            try FileManager.default.createDirectory(at: distros, withIntermediateDirectories: true)
            let found = try DistroCatalog.locate(
                environment: [:], executableURL: prefix.appendingPathComponent("bin/burrow"))
            #expect(found.standardizedFileURL.path == distros.standardizedFileURL.path)
        }
    }

    @Test func checkoutIsFoundFromTheBuildFolder() throws {
        let found = try DistroCatalog.locate(
            environment: [:], executableURL: repositoryRoot.appendingPathComponent(".build/debug/burrow"))
        #expect(found.standardizedFileURL.path
            == repositoryRoot.appendingPathComponent("Distros").standardizedFileURL.path)
    }

    @Test func nothingFoundListsWhereItLooked() async throws {
        try await withTemporaryDirectory { directory in
            let error = #expect(throws: CatalogError.self) {
                try DistroCatalog.locate(environment: [:], executableURL: directory.appendingPathComponent("bin/burrow"))
            }
            guard case let .distrosNotFound(searched)? = error else {
                Issue.record("expected distrosNotFound, got \(String(describing: error))")
                return
            }
            #expect(searched.count == 3)
            #expect(error?.description.contains("set BURROW_DISTROS") == true)
        }
    }
}

@Suite("Architectures")
struct ArchitectureTests {
    @Test func unameAndDockerSpellingsMap() {
        #expect(Architecture(machine: "x86_64") == .x86_64)
        #expect(Architecture(machine: "amd64") == .x86_64)
        #expect(Architecture(machine: "aarch64") == .aarch64)
        #expect(Architecture(machine: "arm64") == .aarch64)
        #expect(Architecture(machine: "riscv64") == nil)
    }

    @Test func hostIsSupported() throws {
        #expect(Architecture.allCases.contains(try Architecture.host()))
    }
}
