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

    /// Inits other than systemd and OpenRC count where /sbin/init leads to one, through the
    /// image's own links; busybox's applet and a link to nothing do not.
    @Test(arguments: [
        ("SysV init as a file", [("./sbin/init", nil as String?, "init")], true),
        ("runit through a relative link", [("./sbin/runit-init", nil, "runit"), ("./sbin/init", "runit-init", "")], true),
        ("merged /usr", [("./sbin", "usr/sbin", ""), ("./usr/lib/sysvinit/init", nil, "init"), ("./usr/sbin/init", "../lib/sysvinit/init", "")], true),
        ("busybox's applet", [("./bin/busybox", nil, "busybox"), ("./sbin/init", "/bin/busybox", "")], false),
        ("a link to nothing", [("./sbin/init", "/lib/systemd/systemd", "")], false),
        ("a loop of links", [("./sbin/init", "init2", ""), ("./sbin/init2", "init", "")], false),
    ])
    func recognisesInitsBeyondSystemdAndOpenRC(shape: String, entries: [(String, String?, String)], hasInit: Bool) async throws {
        let sandbox = try ImportSandbox()
        var tar = TarballBuilder()
        for (path, link, contents) in entries {
            if let link { tar.symlink(path, to: link) } else { tar.file(path, contents) }
        }
        let result = try await sandbox.importTarball(try tar.write(to: sandbox.directory.path("root.tar")))
        #expect(result.base.guestTraits?.hasInit == hasInit, "\(shape)")
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

}

/// `docker save` archives and OCI layouts hold layers, not a tree: importing one stacks its layers.
@Suite struct ContainerImageImportTests {
    /// Two layers that exercise every rule of stacking: replacement, whiteouts, opaque
    /// directories, a file replacing a directory, hardlinks, and AUFS bookkeeping to skip.
    static func layers(in sandbox: ImportSandbox) throws -> (lower: [UInt8], upper: [UInt8]) {
        var lower = TarballBuilder()
        lower.file("etc/os-release", "ID=layered")
        lower.file("usr/bin/tool", "v1", mode: 0o755)
        lower.file("usr/bin/su", "su", mode: 0o4755)
        lower.hardlink("usr/bin/su-again", to: "usr/bin/su")
        lower.file("opt/data/a", "a")
        lower.file("opt/data/sub/b", "b")
        lower.file("var/cache/old", "old")
        lower.file("srv/dir/inner", "inner")
        lower.file("home/keep", "kept")
        lower.file("home/gone/deep/file", "gone")
        var upper = TarballBuilder()
        upper.file("usr/bin/tool", "v2", mode: 0o755)
        upper.file("usr/bin/.wh.su")
        upper.file("var/cache/.wh.old")
        upper.directory("opt/data")
        upper.file("opt/data/.wh..wh..opq")
        upper.file("opt/data/c", "c")
        upper.file("srv/dir", "now a file")
        upper.file("etc/.wh..wh.plnk/123.456", "aufs")
        upper.file("var/.wh.never-there")
        upper.file("home/.wh.gone")
        let lowerFile = try lower.write(to: sandbox.directory.path("lower.tar"))
        let upperFile = try upper.write(to: sandbox.directory.path("upper.tar.gz"), compression: .gzip)
        return (Array(try Data(contentsOf: lowerFile)), Array(try Data(contentsOf: upperFile)))
    }

    static func expectStacked(_ image: ImageInspector) throws {
        #expect(try image.isConsistent())
        #expect(try image.contents("/etc/os-release") == "ID=layered")
        #expect(try image.contents("/usr/bin/tool") == "v2")
        #expect(try !image.exists("/usr/bin/su"))
        #expect(try image.stat("/usr/bin/su-again")?.links == 1)
        #expect(try image.listing("/opt/data") == ["c"])
        #expect(try image.listing("/var/cache").isEmpty)
        #expect(try image.stat("/srv/dir")?.mode == 0o100644)
        #expect(try image.contents("/srv/dir") == "now a file")
        #expect(try image.listing("/home") == ["keep"])
        #expect(try image.contents("/home/keep") == "kept")
        #expect(try image.listing("/etc") == ["os-release"])
        #expect(try !image.listing("/var").contains { $0.hasPrefix(".wh.") })
    }

    static func sha256(_ bytes: [UInt8], in sandbox: ImportSandbox) throws -> String {
        let file = sandbox.directory.path("hash-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        return try HashingFileSource.digest(ofFileAt: file.path, progress: SilentProgress())
    }

    @Test func stacksTheLayersOfADockerSaveArchive() async throws {
        let sandbox = try ImportSandbox()
        let (lower, upper) = try Self.layers(in: sandbox)
        let upperDigest = try Self.sha256(upper, in: sandbox)
        var saved = TarballBuilder()
        saved.file("1111/layer.tar", bytes: lower)
        saved.file("blobs/sha256/\(upperDigest)", bytes: upper)
        // Older docker save links a repeated layer to its first copy.
        saved.symlink("2222/layer.tar", to: "../blobs/sha256/\(upperDigest)")
        saved.file("config.json", "{}")
        saved.file("repositories", "{}")
        saved.file("manifest.json", #"[{"Config":"config.json","RepoTags":["layered:1"],"Layers":["1111/layer.tar","2222/layer.tar"]}]"#)
        let result = try await sandbox.importTarball(try saved.write(to: sandbox.directory.path("saved.tar")))
        try Self.expectStacked(try sandbox.inspector(for: result))
        #expect(try sandbox.database.openOperations().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.home.scratch.path).isEmpty)
    }

    @Test func stacksTheLayersOfTheAmd64ImageOfAnOCILayout() async throws {
        let sandbox = try ImportSandbox()
        let (lower, upper) = try Self.layers(in: sandbox)
        let lowerDigest = try Self.sha256(lower, in: sandbox)
        let upperDigest = try Self.sha256(upper, in: sandbox)
        let manifest = Array(#"{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:\#(lowerDigest)"},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:\#(upperDigest)"}]}"#.utf8)
        let manifestDigest = try Self.sha256(manifest, in: sandbox)
        let other = Array(#"{"schemaVersion":2,"layers":[]}"#.utf8)
        let otherDigest = try Self.sha256(other, in: sandbox)
        var layout = TarballBuilder()
        layout.file("oci-layout", #"{"imageLayoutVersion":"1.0.0"}"#)
        layout.file("blobs/sha256/\(lowerDigest)", bytes: lower)
        layout.file("blobs/sha256/\(upperDigest)", bytes: upper)
        layout.file("blobs/sha256/\(manifestDigest)", bytes: manifest)
        layout.file("blobs/sha256/\(otherDigest)", bytes: other)
        layout.file("index.json", """
            {"schemaVersion":2,"manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(otherDigest)","platform":{"architecture":"arm64","os":"linux"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(manifestDigest)","platform":{"architecture":"amd64","os":"linux"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(otherDigest)","platform":{"architecture":"unknown","os":"unknown"}}
            ]}
            """)
        let result = try await sandbox.importTarball(try layout.write(to: sandbox.directory.path("layout.tar")))
        try Self.expectStacked(try sandbox.inspector(for: result))
    }

    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case twoImages, missingLayer, layerNotMatchingItsDigest, manifestOfAnotherShape, noAmd64Image
        var testDescription: String { rawValue }
    }

    @Test(arguments: Damage.allCases)
    func aDamagedOrAmbiguousArchiveLeavesNothingBehind(_ damage: Damage) async throws {
        let sandbox = try ImportSandbox()
        let (lower, _) = try Self.layers(in: sandbox)
        let lowerDigest = try Self.sha256(lower, in: sandbox)
        // No repositories file: images saved untagged have none.
        var archive = TarballBuilder()
        archive.file("1111/layer.tar", bytes: lower)
        let expected: String
        switch damage {
        case .twoImages:
            // A tag that tries to clear the screen is quoted without its escape sequence.
            archive.file("manifest.json", #"[{"RepoTags":["a:1\u001b[2J"],"Layers":["1111/layer.tar"]},{"RepoTags":["b:1"],"Layers":["1111/layer.tar"]}]"#)
            expected = "holds 2 images (a:1; b:1)"
        case .missingLayer:
            archive.file("manifest.json", #"[{"Layers":["1111/layer.tar","2222/layer.tar"]}]"#)
            expected = "its layer 2222/layer.tar is missing"
        case .layerNotMatchingItsDigest:
            archive.file("blobs/sha256/\(String(repeating: "0", count: 64))", bytes: lower)
            archive.file("manifest.json", #"[{"Layers":["blobs/sha256/\#(String(repeating: "0", count: 64))"]}]"#)
            expected = "does not match its digest"
        case .manifestOfAnotherShape:
            archive.file("manifest.json", #"{"Layers":"1111/layer.tar"}"#)
            expected = "its manifest.json is not what that file should be"
        case .noAmd64Image:
            archive.file("oci-layout", "{}")
            archive.file("index.json", #"{"manifests":[{"digest":"sha256:\#(lowerDigest)","platform":{"architecture":"arm64","os":"linux"}}]}"#)
            expected = "holds no image for linux/amd64"
        }
        let tarball = try archive.write(to: sandbox.directory.path("damaged.tar"))
        let error = await #expect(throws: BurrowError.self) { try await sandbox.importTarball(tarball) }
        #expect(error?.kind == .invalidInput)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
        try sandbox.expectNothingLeftBehind()
    }

    @Test func aLayerThatTriesToEscapeIsRefused() async throws {
        let sandbox = try ImportSandbox()
        var layer = TarballBuilder()
        layer.file("etc/ok", "fine")
        layer.file("../escaped", "x")
        var saved = TarballBuilder()
        saved.file("1111/layer.tar", bytes: Array(try Data(contentsOf: try layer.write(to: sandbox.directory.path("layer.tar")))))
        saved.file("repositories", "{}")
        saved.file("manifest.json", #"[{"Layers":["1111/layer.tar"]}]"#)
        let tarball = try saved.write(to: sandbox.directory.path("saved.tar"))
        await #expect(throws: HostileEntryError.self) { try await sandbox.importTarball(tarball) }
        try sandbox.expectNothingLeftBehind()
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
