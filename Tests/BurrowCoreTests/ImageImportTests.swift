import Archive
import BurrowStore
import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// A temporary BURROW_HOME with its store, and an importer over it.
final class ImportSandbox {
    let directory: TemporaryDirectory
    let home: BurrowHome
    let database: BurrowDatabase

    init() throws {
        directory = try TemporaryDirectory(prefix: "burrow-import")
        home = BurrowHome(root: directory.path("home"))
        try home.prepare()
        database = try BurrowDatabase(path: home.databasePath)
    }

    func importTarball(_ url: URL, name: String = "test", digest: String? = nil, strip: Int = 0) async throws -> ImportResult {
        try await ImageImporter(home: home, database: database)
            .importImage(ImportRequest(name: name, tarball: url, expectedDigest: digest, stripComponents: strip, filesystemSize: 64 << 20))
    }

    func inspector(for result: ImportResult) throws -> ImageInspector {
        try ImageInspector(image: home.baseImagePath(digest: result.base.digest))
    }

    /// Nothing of a failed import may remain: no rows, no image folders, no scratch folders.
    func expectNothingLeftBehind() throws {
        #expect(try database.imageListings().isEmpty)
        #expect(try database.allBaseImages().isEmpty)
        #expect(try database.openOperations().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.images.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.scratch.path).isEmpty)
    }
}

@Suite struct ImageImportTests {
    @Test(arguments: [ArchiveCompression.none, .gzip, .xz, .zstd])
    func keepsOwnershipModesAttributesAndLinks(compression: ArchiveCompression) async throws {
        let sandbox = try ImportSandbox()
        var tar = TarballBuilder()
        let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        tar.directory("./")
        tar.directory("./home/alice", mode: 0o750, uid: 1000, gid: 1000)
        tar.file("./home/alice/notes", "hello", mode: 0o600, uid: 1000, gid: 1000)
        tar.file("./usr/bin/su", "setuid", mode: 0o4755)
        tar.file("./usr/bin/ping", "ping", mode: 0o755, xattrs: [ExtendedAttribute(name: "security.capability", value: capability)])
        tar.hardlink("./usr/bin/su-again", to: "./usr/bin/su")
        tar.symlink("./bin", to: "usr/bin")
        tar.symlink("./etc/absolute", to: "/etc/passwd")
        tar.device("./dev/null", major: 1, minor: 3)
        tar.device("./dev/sda", block: true, major: 8, minor: 0)
        tar.fifo("./run/initctl")
        tar.file("/etc/absolute-path", "rooted at the image")
        tar.file("./big", bytes: [UInt8](repeating: 0, count: 1 << 20) + Array("tail".utf8))
        let tarball = try tar.write(to: sandbox.directory.path("rootfs.tar"), compression: compression)

        let result = try await sandbox.importTarball(tarball)
        #expect(!result.reusedCachedImage)
        let image = try sandbox.inspector(for: result)
        #expect(try image.isConsistent())

        let alice = try #require(try image.stat("/home/alice"))
        #expect(alice.mode == 0o040750 && alice.uid == 1000 && alice.gid == 1000)
        #expect(try image.contents("/home/alice/notes") == "hello")
        let su = try #require(try image.stat("/usr/bin/su"))
        #expect(su.mode == 0o104755 && su.links == 2)
        #expect(try image.stat("/usr/bin/su-again")?.inode == su.inode)
        #expect(try image.extendedAttribute("/usr/bin/ping", "security.capability") == capability)
        #expect(try image.stat("/bin")?.mode == 0o120777)
        let null = try #require(try image.stat("/dev/null"))
        #expect(null.mode & 0o170000 == 0o020000)
        #expect(try image.stat("/dev/sda")?.mode == 0o060666)
        #expect(try image.stat("/run/initctl")?.mode == 0o010644)
        #expect(try image.contents("/etc/absolute-path") == "rooted at the image")
        #expect(try image.contents("/big").hasSuffix("tail"))
        #expect(result.base.guestTraits == GuestTraits(hasInit: false, hasSSHServer: false, hasModuleTools: false, packageManager: nil))
        // Parents without entries of their own are created root-owned.
        #expect(try image.stat("/usr")?.mode == 0o040755)
    }

    @Test func reimportingTheSameBytesReusesTheCachedImage() async throws {
        let sandbox = try ImportSandbox()
        var tar = TarballBuilder()
        tar.file("./etc/hostname", "cached")
        let tarball = try tar.write(to: sandbox.directory.path("rootfs.tar.gz"), compression: .gzip)

        let first = try await sandbox.importTarball(tarball, name: "one")
        let again = try await sandbox.importTarball(tarball, name: "one")
        let other = try await sandbox.importTarball(tarball, name: "two")
        #expect(again.reusedCachedImage && other.reusedCachedImage)
        #expect(first.base.digest == other.base.digest)
        #expect(try sandbox.database.allBaseImages().count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.home.images.path) == [first.base.digest])

        try ImageRemoval(home: sandbox.home, database: sandbox.database).remove("one")
        #expect(FileManager.default.fileExists(atPath: sandbox.home.baseImagePath(digest: first.base.digest).path))
        try ImageRemoval(home: sandbox.home, database: sandbox.database).remove("two")
        try sandbox.expectNothingLeftBehind()
    }

    @Test func aNameBoundToOtherBytesIsRefused() async throws {
        let sandbox = try ImportSandbox()
        var first = TarballBuilder()
        first.file("./a", "1")
        var second = TarballBuilder()
        second.file("./a", "2")
        _ = try await sandbox.importTarball(try first.write(to: sandbox.directory.path("1.tar")), name: "taken")
        await #expect(throws: BurrowError.self) {
            try await sandbox.importTarball(try second.write(to: sandbox.directory.path("2.tar")), name: "taken")
        }
        #expect(try sandbox.database.allBaseImages().count == 1)
    }

    @Test func aWrongChecksumLeavesNothingBehind() async throws {
        let sandbox = try ImportSandbox()
        var tar = TarballBuilder()
        tar.file("./etc/os-release", "ID=test")
        let tarball = try tar.write(to: sandbox.directory.path("rootfs.tar"))
        let error = await #expect(throws: BurrowError.self) {
            try await sandbox.importTarball(tarball, digest: String(repeating: "ab", count: 32))
        }
        #expect(error?.message.contains("checksum mismatch") == true)
        try sandbox.expectNothingLeftBehind()
    }

    @Test func truncatedAndNonTarInputsLeaveNothingBehind() async throws {
        let sandbox = try ImportSandbox()
        var tar = TarballBuilder()
        for index in 0..<50 { tar.file("./file\(index)", bytes: [UInt8](repeating: UInt8(index), count: 20_000)) }
        let full = try Data(contentsOf: try tar.write(to: sandbox.directory.path("full.tar.zst"), compression: .zstd))
        let truncated = sandbox.directory.path("truncated.tar.zst")
        try full.prefix(full.count / 2).write(to: truncated)
        let garbage = sandbox.directory.path("garbage.tar")
        try Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: garbage)

        for input in [truncated, garbage] {
            let error = await #expect(throws: BurrowError.self) { try await sandbox.importTarball(input) }
            #expect(error?.kind == .invalidInput)
            try sandbox.expectNothingLeftBehind()
        }
    }

    @Test func recognisesWhatTheGuestAlreadyHas() async throws {
        let sandbox = try ImportSandbox()
        var tar = TarballBuilder()
        tar.file("./usr/lib/systemd/systemd", "init")
        tar.symlink("./sbin", to: "usr/sbin")
        tar.file("./usr/sbin/sshd", "sshd")
        tar.file("./bin/kmod", "kmod")
        tar.file("./usr/bin/apt-get", "apt")
        let result = try await sandbox.importTarball(try tar.write(to: sandbox.directory.path("ready.tar")))
        #expect(result.base.guestTraits == GuestTraits(hasInit: true, hasSSHServer: true, hasModuleTools: true, packageManager: "apt"))
        #expect(try sandbox.database.baseImage(digest: result.base.digest)?.guestTraits?.isReady == true)
    }

    @Test func stripsLeadingComponents() async throws {
        let sandbox = try ImportSandbox()
        var tar = TarballBuilder()
        tar.directory("root.x86_64/", mode: 0o755)
        tar.file("root.x86_64/etc/hostname", "arch")
        let tarball = try tar.write(to: sandbox.directory.path("bootstrap.tar"))
        let error = await #expect(throws: BurrowError.self) { try await sandbox.importTarball(tarball) }
        #expect(error?.message.contains("inside the folder root.x86_64/") == true)
        #expect(error?.hint?.contains("--strip-components 1") == true)
        try sandbox.expectNothingLeftBehind()

        let result = try await sandbox.importTarball(tarball, strip: 1)
        #expect(try sandbox.inspector(for: result).contents("/etc/hostname") == "arch")
    }

    /// `docker save` and OCI layouts hold layers, not a tree; importing one says how to get a tree.
    @Test func aContainerImageArchiveIsRefusedWithTheWayToExportOne() async throws {
        let sandbox = try ImportSandbox()
        var saved = TarballBuilder()
        saved.file("manifest.json", "[]")
        saved.file("repositories", "{}")
        saved.file("0123abcd/layer.tar", "layer")
        var layout = TarballBuilder()
        layout.file("oci-layout", "{}")
        layout.file("index.json", "{}")
        layout.file("blobs/sha256/0123abcd", "layer")
        for (name, tar) in [("saved.tar", saved), ("layout.tar", layout)] {
            let tarball = try tar.write(to: sandbox.directory.path(name))
            let error = await #expect(throws: BurrowError.self) { try await sandbox.importTarball(tarball) }
            #expect(error?.kind == .invalidInput && error?.message.contains("container image archive") == true)
            #expect(error?.hint?.contains("docker export") == true)
            try sandbox.expectNothingLeftBehind()
        }
    }
}

/// Archives that try to reach outside the image, or to abuse it, are refused whole.
@Suite struct HostileTarballTests {
    enum Hostility: String, CaseIterable, CustomTestStringConvertible {
        case dotDot, nestedDotDot, hardlinkOutside, symlinkThenWrite, symlinkThenWriteAbsolute, hardlinkToMissing, deviceOutsideDev, hardlinkToDirectory, fileOverDirectory
        var testDescription: String { rawValue }
    }

    @Test(arguments: Hostility.allCases)
    func refusesEscapes(_ hostility: Hostility) async throws {
        let sandbox = try ImportSandbox()
        let outside = try TemporaryDirectory(prefix: "burrow-outside")
        var tar = TarballBuilder()
        tar.file("./etc/ok", "fine")
        switch hostility {
        case .dotDot:
            tar.file("../escaped", "x")
        case .nestedDotDot:
            tar.file("./etc/../../escaped", "x")
        case .hardlinkOutside:
            tar.hardlink("./passwd", to: "../../../../etc/passwd")
        case .symlinkThenWrite:
            tar.symlink("./evil", to: outside.url.path)
            tar.file("./evil/escaped", "x")
        case .symlinkThenWriteAbsolute:
            tar.symlink("./etc/evil", to: "/")
            tar.file("/etc/evil/tmp/escaped", "x")
        case .hardlinkToMissing:
            tar.hardlink("./shadow", to: "./etc/shadow")
        case .deviceOutsideDev:
            tar.device("./home/sda", block: true, major: 8, minor: 0)
        case .hardlinkToDirectory:
            tar.hardlink("./etc-again", to: "./etc")
        case .fileOverDirectory:
            tar.file("./etc", "not a directory")
        }
        let tarball = try tar.write(to: sandbox.directory.path("hostile.tar"))
        await #expect(throws: HostileEntryError.self) { try await sandbox.importTarball(tarball) }
        try sandbox.expectNothingLeftBehind()
        #expect(outside.allItems().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: sandbox.directory.url.deletingLastPathComponent().appendingPathComponent("escaped").path))
    }

    @Test func laterEntriesReplaceEarlierOnes() async throws {
        let sandbox = try ImportSandbox()
        var tar = TarballBuilder()
        tar.file("./etc/motd", "old")
        tar.file("./etc/motd", "new")
        tar.symlink("./etc/link", to: "motd")
        tar.file("./etc/link", "now a file")
        let result = try await sandbox.importTarball(try tar.write(to: sandbox.directory.path("dup.tar")))
        let image = try sandbox.inspector(for: result)
        #expect(try image.contents("/etc/motd") == "new")
        #expect(try image.contents("/etc/link") == "now a file")
        #expect(try image.isConsistent())
    }
}
