import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// A module tree shaped like depmod's output: compressed and plain modules, a built-in
/// virtio_net, and ext4's soft dependency on crc32c reached through an alias with two modules.
func makeFixtureTree(in directory: URL) async throws -> URL {
    let tree = directory.appendingPathComponent("lib/modules/6.1.0-test")
    try writeText("""
        kernel/drivers/virtio/virtio_ring.ko.zst:
        kernel/drivers/virtio/virtio.ko.zst: kernel/drivers/virtio/virtio_ring.ko.zst
        kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio.ko.zst kernel/drivers/virtio/virtio_ring.ko.zst
        kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko.zst kernel/drivers/virtio/virtio_ring.ko.zst
        kernel/fs/ext4/ext4.ko.xz: kernel/lib/crc16.ko kernel/fs/jbd2/jbd2.ko.xz kernel/fs/mbcache.ko
        kernel/fs/jbd2/jbd2.ko.xz:
        kernel/fs/mbcache.ko:
        kernel/lib/crc16.ko:
        kernel/crypto/crc32c_generic.ko:
        kernel/arch/x86/crypto/crc32c-intel.ko.gz:
        kernel/fs/unrelated.ko: kernel/lib/crc16.ko

        """, to: tree.appendingPathComponent("modules.dep"))
    try writeText("kernel/drivers/net/virtio_net.ko\nkernel/fs/fat/fat.ko\n", to: tree.appendingPathComponent("modules.builtin"))
    try writeText("# Soft dependencies\nsoftdep ext4 pre: crypto-crc32c post: unrelated\n", to: tree.appendingPathComponent("modules.softdep"))
    try writeText("""
        alias crypto-crc32c crc32c_generic
        alias crypto-crc32c crc32c_intel
        alias cpu:type:x86,ven*fam*mod*:feature:*0094* crc32c_intel
        alias cpu:type:x86,ven*fam*mod*:feature:*0081*0099* crc32c_intel
        alias cpu:type:x86,ven*fam*mod*:feature:*007D* ext4
        alias cpu:type:x86,ven0000fam0006mod0086:feature:* crc32c_generic
        alias cpu:type:x86,ven*fam*mod*:feature:*0089* crc32c_generic
        alias fs-ext4 ext4

        """, to: tree.appendingPathComponent("modules.alias"))
    // Each module file holds its own name, compressed as its name says.
    let dependencies = try String(contentsOf: tree.appendingPathComponent("modules.dep"), encoding: .utf8)
    for line in dependencies.split(separator: "\n") {
        let path = String(line.prefix { $0 != ":" })
        let plain = tree.appendingPathComponent(KernelCompression.module(path).plainPath)
        try writeText("module \(ModuleIndex.name(ofPath: path))\n", to: plain)
        switch KernelCompression.module(path).compression {
        case .xz: try await run("xz", ["-q", plain.path])
        case .zstd: try await run("zstd", ["-q", "--rm", plain.path])
        case .gzip: try await run("gzip", ["-q", plain.path])
        default: break
        }
    }
    return tree
}

@Suite struct ModuleIndexTests {
    @Test func namesDropFoldersSuffixesAndDashes() {
        #expect(ModuleIndex.name(ofPath: "kernel/arch/x86/crypto/crc32c-intel.ko.zst") == "crc32c_intel")
        #expect(ModuleIndex.name(ofPath: "kernel/fs/ext4/ext4.ko.xz") == "ext4")
        #expect(ModuleIndex.name(ofPath: "kernel/lib/crc16.ko") == "crc16")
        #expect(KernelCompression.module("a/b.ko.gz").plainPath == "a/b.ko")
        #expect(KernelCompression.module("a/b.ko").compression == nil)
    }

    @Test func dependenciesComeFirstAndBuiltinsAreSkipped() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-modules")
        let tree = try await makeFixtureTree(in: directory.url)
        let order = try ModuleIndex(tree: tree).loadOrder(for: InitramfsBuilder.rootModules)
        #expect(order.map { ModuleIndex.name(ofPath: $0.path) } == [
            "virtio_ring", "virtio", "virtio_pci", "virtio_blk",
            "crc32c_generic", "crc32c_intel", "crc16", "jbd2", "mbcache", "ext4",
        ])
        #expect(order.first?.path == "kernel/drivers/virtio/virtio_ring.ko.zst")
        // Soft dependencies, and only they, may fail to load.
        #expect(order.filter(\.optional).map(\.path) == ["kernel/crypto/crc32c_generic.ko", "kernel/arch/x86/crypto/crc32c-intel.ko.gz"])
    }

    @Test func aModuleNeededForRealIsNotOptional() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-modules")
        let tree = try await makeFixtureTree(in: directory.url)
        let order = try ModuleIndex(tree: tree).loadOrder(for: ["ext4", "crc32c_generic"])
        #expect(order.first { $0.path.hasSuffix("crc32c_generic.ko") }?.optional == false)
        #expect(order.first { $0.path.hasSuffix("crc32c-intel.ko.gz") }?.optional == true)
    }

    /// Only an optional module is gated on the CPU, and only by aliases that name features
    /// alone: a model-specific alias (crc32c_generic's here) leaves the module to be tried.
    @Test func optionalModulesCarryTheCPUFeaturesTheyNeed() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-modules")
        let tree = try await makeFixtureTree(in: directory.url)
        let order = try ModuleIndex(tree: tree).loadOrder(for: InitramfsBuilder.rootModules)
        #expect(order.first { $0.path.hasSuffix("crc32c-intel.ko.gz") }?.cpuFeatures == [["0094"], ["0081", "0099"]])
        #expect(order.first { $0.path.hasSuffix("crc32c_generic.ko") }?.cpuFeatures == [])
        #expect(order.first { $0.path.hasSuffix("ext4.ko.xz") }?.cpuFeatures == [])
    }

    /// virtio_pci and virtio_blk share virtio; ext4 and its checksums share nothing with them;
    /// the built-in virtio_net needs no group.
    @Test func rootsThatShareNoModuleLoadInSeparateGroups() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-modules")
        let tree = try await makeFixtureTree(in: directory.url)
        let groups = try ModuleIndex(tree: tree).loadGroups(for: InitramfsBuilder.rootModules)
        #expect(groups.map { $0.map { ModuleIndex.name(ofPath: $0.path) } } == [
            ["virtio_ring", "virtio", "virtio_pci", "virtio_blk"],
            ["crc32c_generic", "crc32c_intel", "crc16", "jbd2", "mbcache", "ext4"],
        ])
        // A root that needs modules of both joins them into one group, in dependency order.
        let joined = try ModuleIndex(tree: tree).loadGroups(for: ["virtio_blk", "ext4", "unrelated"])
        #expect(joined.count == 2)
        let bridged = try ModuleIndex(tree: tree).loadGroups(for: ["crc16", "virtio_blk", "ext4"])
        #expect(bridged.map { $0.map { ModuleIndex.name(ofPath: $0.path) } } == [
            ["virtio_ring", "virtio", "virtio_blk"],
            ["crc16", "crc32c_generic", "crc32c_intel", "jbd2", "mbcache", "ext4"],
        ])
    }

    @Test func aMissingModuleIsAnError() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-modules")
        let tree = try await makeFixtureTree(in: directory.url)
        let error = #expect(throws: BurrowError.self) { try ModuleIndex(tree: tree).loadOrder(for: ["virtio_scsi"]) }
        #expect(error?.message.contains("has no module virtio_scsi") == true)
    }

    @Test func theInitramfsHoldsDecompressedModulesInOrder() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-initramfs")
        let tree = try await makeFixtureTree(in: directory.url)
        let work = directory.path("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let busybox = directory.path("busybox")
        try writeText("not really busybox\n", to: busybox)
        let archive = directory.path("initrd.img")
        let builder = InitramfsBuilder(runner: ProcessRunner())
        try await builder.build(
            modulesTree: tree, version: "6.1.0-test", busybox: busybox,
            initScript: repositoryRoot.appendingPathComponent("Templates/initramfs/init"), work: work, output: archive
        )
        let unpacked = try await unpackCpio(archive, into: directory.path("unpacked"))
        let modules = unpacked.appendingPathComponent("lib/modules/6.1.0-test/kernel")
        #expect(try String(contentsOf: modules.appendingPathComponent("fs/ext4/ext4.ko"), encoding: .utf8) == "module ext4\n")
        #expect(try String(contentsOf: modules.appendingPathComponent("drivers/virtio/virtio.ko"), encoding: .utf8) == "module virtio\n")
        #expect(try String(contentsOf: modules.appendingPathComponent("arch/x86/crypto/crc32c-intel.ko"), encoding: .utf8) == "module crc32c_intel\n")
        #expect(!FileManager.default.fileExists(atPath: modules.appendingPathComponent("fs/unrelated.ko").path))
        let order = try String(contentsOf: unpacked.appendingPathComponent("etc/burrow/modules.order"), encoding: .utf8)
        #expect(order.split(separator: "\n").first == "/lib/modules/6.1.0-test/kernel/drivers/virtio/virtio_ring.ko")
        #expect(order.contains("/lib/modules/6.1.0-test/kernel/crypto/crc32c_generic.ko optional\n"))
        #expect(order.contains("/lib/modules/6.1.0-test/kernel/arch/x86/crypto/crc32c-intel.ko optional cpu=0094,0081+0099\n"))
        #expect(order.hasSuffix("/lib/modules/6.1.0-test/kernel/fs/ext4/ext4.ko\n"))
        #expect(order.contains("/lib/modules/6.1.0-test/kernel/drivers/block/virtio_blk.ko\n\n/lib/modules/6.1.0-test/kernel/crypto/crc32c_generic.ko optional\n"))
        #expect(FileManager.default.isExecutableFile(atPath: unpacked.appendingPathComponent("init").path))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: unpacked.appendingPathComponent("bin/sh").path) == "busybox")

        // The same inputs make the same bytes.
        let again = directory.path("again.img")
        try await builder.build(
            modulesTree: tree, version: "6.1.0-test", busybox: busybox,
            initScript: repositoryRoot.appendingPathComponent("Templates/initramfs/init"), work: work, output: again
        )
        #expect(try Data(contentsOf: archive) == Data(contentsOf: again))
    }
}
