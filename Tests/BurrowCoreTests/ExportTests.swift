import Archive
import BurrowStore
import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// `burrow export`: a stopped environment's filesystem comes out as the tarball it went in as.
@Suite struct ExportTests {
    /// An imported image (real ext4 in qcow2) and a created environment on it, with a fake hypervisor.
    final class Sandbox: @unchecked Sendable {
        // @unchecked: set once in init, only read afterwards.
        let imports: ImportSandbox
        let hypervisor = FakeHypervisor()

        init(_ tarball: TarballBuilder) async throws {
            // What create asks of a guest that needs no provisioning boot.
            var tarball = tarball
            for tool in ["./lib/systemd/systemd", "./usr/sbin/sshd", "./sbin/modprobe"] { tarball.file(tool, "tool", mode: 0o755) }
            imports = try ImportSandbox()
            _ = try installKernelManifest(in: imports.home, version: "6.1.0-99-amd64")
            _ = try await imports.importTarball(try tarball.write(to: imports.directory.path("rootfs.tar")), name: "deb")
            _ = try await service().create(CreateOptions(name: "dev", image: "deb", memoryMiB: 512, accelerator: .tcg))
        }

        func service() throws -> EnvironmentService {
            EnvironmentService(home: imports.home, database: try BurrowDatabase(path: imports.home.databasePath), hypervisor: hypervisor)
        }

        func export(to name: String) async throws -> (ExportResult, URL) {
            let file = imports.directory.path(name)
            return (try await service().export("dev", to: file, progress: SilentProgress()), file)
        }
    }

    static func entries(of tarball: URL) throws -> [String: ArchiveEntry] {
        final class Source: ArchiveByteSource {
            let handle: FileHandle
            init(_ url: URL) throws { handle = try FileHandle(forReadingFrom: url) }
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
                let data = try handle.read(upToCount: buffer.count) ?? Data()
                data.copyBytes(to: buffer)
                return data.count
            }
        }
        let reader = try ArchiveReader(source: try Source(tarball))
        var entries: [String: ArchiveEntry] = [:]
        while let entry = try reader.nextEntry() { entries[entry.pathString] = entry }
        return entries
    }

    @Test(arguments: ["dev.tar", "dev.tar.zst"])
    func aStoppedEnvironmentExportsWhatItsImageHeld(file: String) async throws {
        let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        var tar = TarballBuilder()
        tar.directory("./")
        tar.directory("./home/alice", mode: 0o750, uid: 1000, gid: 1000)
        tar.file("./home/alice/notes", "hello", mode: 0o600, uid: 1000, gid: 1000)
        tar.file("./usr/bin/su", "setuid", mode: 0o4755)
        tar.hardlink("./usr/bin/su-again", to: "./usr/bin/su")
        tar.file("./usr/bin/ping", "ping", mode: 0o755, xattrs: [ExtendedAttribute(name: "security.capability", value: capability)])
        tar.symlink("./bin", to: "usr/bin")
        tar.symlink("./etc/long-link", to: String(repeating: "x/", count: 60) + "end")
        tar.device("./dev/null", major: 1, minor: 3)
        tar.device("./dev/big", major: 300, minor: 70000)
        tar.fifo("./run/initctl")
        tar.file("./big", bytes: [UInt8](repeating: 7, count: 3 << 20))
        let sandbox = try await Sandbox(tar)

        let (result, tarball) = try await sandbox.export(to: file)
        let entries = try Self.entries(of: tarball)
        #expect(result.entries == entries.count)
        #expect(entries["./lost+found/"] == nil)
        let alice = try #require(entries["./home/alice/"])
        #expect(alice.kind == .directory && alice.permissions == 0o750 && alice.uid == 1000 && alice.gid == 1000)
        #expect(entries["./home/alice/notes"].map { $0.permissions == 0o600 && $0.size == 5 && $0.uid == 1000 } == true)
        let su = try #require(entries["./usr/bin/su"])
        let suAgain = try #require(entries["./usr/bin/su-again"])
        // Whichever name the directory lists first carries the data; the other links to it.
        let (data, link) = su.kind == .hardlink ? (suAgain, su) : (su, suAgain)
        #expect(data.kind == .regular && data.permissions == 0o4755)
        #expect(link.kind == .hardlink && link.linkTarget == data.path)
        #expect(entries["./usr/bin/ping"]?.extendedAttributes == [ExtendedAttribute(name: "security.capability", value: capability)])
        #expect(entries["./bin"].map { $0.kind == .symlink && $0.linkTarget == Array("usr/bin".utf8) } == true)
        #expect(entries["./etc/long-link"]?.linkTarget == Array((String(repeating: "x/", count: 60) + "end").utf8))
        #expect(entries["./dev/null"].map { $0.kind == .characterDevice && $0.deviceMajor == 1 && $0.deviceMinor == 3 } == true)
        #expect(entries["./dev/big"].map { $0.deviceMajor == 300 && $0.deviceMinor == 70000 } == true)
        #expect(entries["./run/initctl"]?.kind == .fifo)
        #expect(entries["./big"]?.size == 3 << 20)

        // And it imports again into the same tree.
        let again = try await sandbox.imports.importTarball(tarball, name: "again")
        let image = try sandbox.imports.inspector(for: again)
        #expect(try image.isConsistent())
        #expect(try image.contents("/home/alice/notes") == "hello")
        #expect(try image.contents("/big") == String(repeating: "\u{07}", count: 3 << 20))
        #expect(try image.stat("/usr/bin/su")?.links == 2)
    }

    /// A running environment's disk is copied by the hypervisor as it stands.
    @Test func aRunningEnvironmentExportsItsDiskAsItStands() async throws {
        var tar = TarballBuilder()
        tar.file("./etc/os-release", "ID=test")
        let sandbox = try await Sandbox(tar)
        try sandbox.hypervisor.start(domain: sandbox.imports.home.domainName(for: "dev"))
        let (_, tarball) = try await sandbox.export(to: "running.tar.gz")
        #expect(try Self.entries(of: tarball)["./etc/os-release"]?.size == 7)
        #expect(try sandbox.hypervisor.state(ofDomain: sandbox.imports.home.domainName(for: "dev")) == .running)
    }

    @Test func refusesWhatItCannotDoWithoutLeavingAnythingBehind() async throws {
        var tar = TarballBuilder()
        tar.file("./etc/os-release", "ID=test")
        let sandbox = try await Sandbox(tar)
        let service = try sandbox.service()
        let directory = sandbox.imports.directory

        var error = await outcome { _ = try await service.export("dev", to: directory.path("dev.zip"), progress: SilentProgress()) }
        #expect((error as? BurrowError)?.hint?.contains(".tar.zst") == true)
        error = await outcome { _ = try await service.export("dev", to: directory.path("missing/dev.tar"), progress: SilentProgress()) }
        #expect((error as? BurrowError)?.message.contains("cannot write") == true)
        try Data("mine".utf8).write(to: directory.path("taken.tar"))
        error = await outcome { _ = try await service.export("dev", to: directory.path("taken.tar"), progress: SilentProgress()) }
        #expect((error as? BurrowError)?.message.contains("already exists") == true)
        #expect(try String(contentsOf: directory.path("taken.tar"), encoding: .utf8) == "mine")
        let domain = sandbox.imports.home.domainName(for: "dev")
        try sandbox.hypervisor.start(domain: domain)
        try sandbox.hypervisor.saveAndStop(domain: domain)
        error = await outcome { _ = try await service.export("dev", to: directory.path("suspended.tar"), progress: SilentProgress()) }
        #expect((error as? BurrowError)?.kind == .wrongState)

        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(!left.contains { $0.contains("partial") || $0 == "suspended.tar" || $0 == "dev.zip" })
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.imports.home.scratch.path).isEmpty)
    }
}
