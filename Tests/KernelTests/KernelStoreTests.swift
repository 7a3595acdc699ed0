import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

@Suite struct KernelImageTests {
    @Test(.enabled(if: hostKernel != nil, "no Debian kernel in /boot"))
    func theELFKernelComesOutOfTheHostsVmlinuz() async throws {
        let kernel = try #require(hostKernel)
        let directory = try TemporaryDirectory(prefix: "burrow-vmlinux")
        let image = try KernelImageFile(url: kernel.vmlinuz)
        #expect(image.embeddedVersion == kernel.version)
        let output = directory.path("vmlinux")
        #expect(try await image.extractELF(to: output, runner: ProcessRunner()))
        let handle = try FileHandle(forReadingFrom: output)
        defer { try? handle.close() }
        #expect(try handle.read(upToCount: 4) == Data(ELFFile.magic))
        #expect(ELFFile(url: output)?.isCompleteExecutable == true)
    }

    @Test func aFileWithoutAKernelYieldsNoELF() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-vmlinux")
        let bogus = directory.path("vmlinuz")
        // A gzip magic followed by garbage: tried, and rejected.
        try Data([0x1F, 0x8B, 0x08] + Array(repeating: 0x41, count: 600)).write(to: bogus)
        let image = try KernelImageFile(url: bogus)
        #expect(image.embeddedVersion == nil)
        #expect(try await !image.extractELF(to: directory.path("vmlinux"), runner: ProcessRunner()))
        #expect(!FileManager.default.fileExists(atPath: directory.path("vmlinux").path))
    }

    @Test func staticAndDynamicProgramsAreTold() throws {
        #expect(ELFFile(url: URL(fileURLWithPath: "/bin/ls"))?.isStaticallyLinked == false)
        if let busybox = ["/bin/busybox", "/usr/bin/busybox"].first(where: FileManager.default.fileExists(atPath:)),
           (try? String(contentsOfFile: "/var/lib/dpkg/info/busybox-static.list", encoding: .utf8)) != nil {
            #expect(ELFFile(url: URL(fileURLWithPath: busybox))?.isStaticallyLinked == true)
        }
        #expect(ELFFile(url: repositoryRoot.appendingPathComponent("Package.swift")) == nil)
    }
}

@Suite struct KernelStoreTests {
    @Test(.enabled(if: hostKernel != nil, "no Debian kernel in /boot"))
    func importingTheHostKernelInstallsEveryFile() async throws {
        let hostKernel = try #require(hostKernel)
        let sandbox = try KernelSandbox()
        let kernel = try await sandbox.store.importKernel(vmlinuz: hostKernel.vmlinuz, modules: hostKernel.modules)
        #expect(kernel.version == hostKernel.version)
        #expect(kernel.directory == sandbox.home.kernelDirectory(version: hostKernel.version))
        #expect(kernel.bootKernel.lastPathComponent == "vmlinux")
        for file in [kernel.vmlinuz, kernel.bootKernel, kernel.initrd, kernel.modulesImage, kernel.directory.appendingPathComponent("kernel.json")] {
            #expect(FileManager.default.fileExists(atPath: file.path), "\(file.lastPathComponent) is missing")
        }
        #expect(try Data(contentsOf: kernel.vmlinuz) == Data(contentsOf: hostKernel.vmlinuz))
        #expect(try sandbox.store.current() == kernel)
        #expect(try sandbox.scratchIsEmpty())

        // The modules image holds the whole tree, owned by root, under its root folder.
        let image = try ImageInspector(image: kernel.modulesImage)
        #expect(try image.stat("/modules.dep")?.uid == 0)
        #expect(try image.stat("/kernel/fs/ext4/ext4.ko") != nil)
        #expect(try image.stat("/kernel/fs/9p/9p.ko") != nil)

        // Importing the same release again replaces it.
        let again = try await sandbox.store.importKernel(vmlinuz: hostKernel.vmlinuz, modules: hostKernel.modules)
        #expect(again.createdAt >= kernel.createdAt)
        #expect(try sandbox.store.installed().map(\.version) == [hostKernel.version])
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.home.kernels.path) == [hostKernel.version])
        #expect(try sandbox.scratchIsEmpty())
    }

    @Test(.enabled(if: hostKernel != nil, "no Debian kernel in /boot"))
    func aTarballWithoutIndexesIsIndexedByDepmod() async throws {
        let hostKernel = try #require(hostKernel)
        let sandbox = try KernelSandbox()
        // Just the modules the initramfs needs, and no modules.dep: like a distribution package.
        let needed = try ModuleIndex(tree: hostKernel.modules).loadOrder(for: InitramfsBuilder.rootModules).map(\.path)
        let tarball = sandbox.directory.path("modules.tar.xz")
        try await run("tar", ["-cJf", tarball.path, "-C", "/lib/modules", "\(hostKernel.version)/modules.order", "\(hostKernel.version)/modules.builtin"] + needed.map { "\(hostKernel.version)/\($0)" })

        let kernel = try await sandbox.store.importKernel(vmlinuz: hostKernel.vmlinuz, modules: tarball)
        #expect(kernel.version == hostKernel.version)
        let image = try ImageInspector(image: kernel.modulesImage)
        #expect(try image.contents("/modules.dep").contains("kernel/fs/ext4/ext4.ko:"))
        #expect(try sandbox.scratchIsEmpty())
    }

    @Test(.enabled(if: hostKernel != nil, "no Debian kernel in /boot"))
    func modulesOfAnotherReleaseAreRefusedAndLeaveNothing() async throws {
        let hostKernel = try #require(hostKernel)
        let sandbox = try KernelSandbox()
        let tree = try await makeFixtureTree(in: sandbox.directory.url)
        let error = await #expect(throws: BurrowError.self) {
            try await sandbox.store.importKernel(vmlinuz: hostKernel.vmlinuz, modules: tree)
        }
        #expect(error?.message.contains("but the kernel is \(hostKernel.version)") == true)
        #expect(try sandbox.store.installed().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: sandbox.home.kernelDirectory(version: hostKernel.version).path))
        #expect(try sandbox.scratchIsEmpty())
    }

    @Test func noKernelSaysHowToGetOne() throws {
        let sandbox = try KernelSandbox()
        #expect(try sandbox.store.installed().isEmpty)
        let error = #expect(throws: BurrowError.self) { try sandbox.store.current() }
        #expect(error?.kind == .notFound)
        #expect(error?.hint?.contains("burrow kernel fetch") == true)
    }

    @Test func theNewestReleaseIsCurrent() throws {
        let sandbox = try KernelSandbox()
        for version in ["6.1.0-9-amd64", "6.1.0-26-amd64", "5.10.0-30-amd64"] {
            try installKernelManifest(in: sandbox.home, version: version)
        }
        // A folder without kernel.json is not a kernel.
        try FileManager.default.createDirectory(at: sandbox.home.kernelDirectory(version: "9.9.9"), withIntermediateDirectories: true)
        #expect(try sandbox.store.installed().map(\.version) == ["6.1.0-26-amd64", "6.1.0-9-amd64", "5.10.0-30-amd64"])
        let current = try sandbox.store.current()
        #expect(current.bootKernel == current.vmlinuz && current.vmlinux == nil)
    }

    /// A kernel installed by an older burrow boots this burrow's /init: appended as a second
    /// archive after the original bytes, once.
    @Test func anOlderInitIsReplacedByAppendingTheCurrentOne() throws {
        let sandbox = try KernelSandbox()
        let directory = try installKernelManifest(in: sandbox.home, version: "6.1.0-26-amd64")
        let original = Data("070701 an older initramfs".utf8)
        try original.write(to: directory.appendingPathComponent("initrd.img"))

        let refreshed = try sandbox.store.current()
        let script = try Data(contentsOf: ProjectResources.locate(folder: "Templates", overrideVariable: "BURROW_TEMPLATES").appendingPathComponent("initramfs/init"))
        let initrd = try Data(contentsOf: refreshed.initrd)
        #expect(initrd.prefix(original.count) == original)
        let appended = String(decoding: initrd.dropFirst(original.count), as: UTF8.self)
        #expect(appended.hasPrefix("070701") && appended.contains("init\0") && appended.contains("TRAILER!!!"))
        #expect(initrd.range(of: script) != nil)
        #expect(refreshed.initSHA256 == KernelStore.sha256(script))

        #expect(try Data(contentsOf: sandbox.store.current().initrd) == initrd)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["initrd.img", "kernel.json"])
    }

    @Test func aManifestPointingOutsideItsFolderIsRefused() throws {
        let sandbox = try KernelSandbox()
        try installKernelManifest(in: sandbox.home, version: "6.1.0-1-amd64", bootFile: "../../../etc/passwd")
        #expect(throws: BurrowError.self) { try sandbox.store.installed() }
    }

    @Test func releasesComeFromKernelFileNames() {
        #expect(KernelStore.version(fromFileName: "vmlinuz-6.1.0-26-amd64") == "6.1.0-26-amd64")
        #expect(KernelStore.version(fromFileName: "vmlinuz") == nil)
        #expect(KernelStore.version(fromFileName: "vmlinuz-../x") == nil)
        #expect(KernelStore.version(fromFileName: "bzImage") == nil)
    }
}

@Suite struct AptPackagesTests {
    @Test func dependsLinesNameThePackages() {
        let output = """
            linux-image-amd64
              Depends: linux-image-6.1.0-26-amd64
             |Depends: linux-image-6.1.0-26-amd64-unsigned
              Depends: <linux-image-virtual>
              Recommends: firmware-linux-free
            """
        #expect(AptPackages.dependencies(inAptCacheOutput: output) == ["linux-image-6.1.0-26-amd64", "linux-image-6.1.0-26-amd64-unsigned"])
    }

    @Test func theMetapackageFollowsTheDistribution() throws {
        let debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"
        let ubuntu = "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n"
        let mint = "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n"
        #expect(try AptPackages.kernelMetapackage(osRelease: debian, architecture: .x86_64) == "linux-image-amd64")
        #expect(try AptPackages.kernelMetapackage(osRelease: debian, architecture: .aarch64) == "linux-image-arm64")
        #expect(try AptPackages.kernelMetapackage(osRelease: ubuntu, architecture: .x86_64) == "linux-image-generic")
        #expect(try AptPackages.kernelMetapackage(osRelease: mint, architecture: .aarch64) == "linux-image-generic")
        let error = #expect(throws: BurrowError.self) {
            try AptPackages.kernelMetapackage(osRelease: "ID=fedora\nPRETTY_NAME=\"Fedora Linux 42\"\n", architecture: .x86_64)
        }
        #expect(error?.message.contains("Fedora Linux 42") == true)
        #expect(error?.hint?.contains("burrow kernel import") == true)
    }
}

@Suite struct ProjectResourcesTests {
    @Test func templatesAreFoundFromTheBuildFolder() throws {
        let found = try ProjectResources.locate(
            folder: "Templates", overrideVariable: "BURROW_TEMPLATES", environment: [:],
            executableURL: repositoryRoot.appendingPathComponent(".build/debug/burrow"))
        #expect(found.standardizedFileURL == repositoryRoot.appendingPathComponent("Templates").standardizedFileURL)
    }

    @Test func aFailedSearchListsWhereItLooked() throws {
        let directory = try TemporaryDirectory(prefix: "burrow-resources")
        let error = #expect(throws: BurrowError.self) {
            try ProjectResources.locate(folder: "Templates", overrideVariable: "BURROW_TEMPLATES", environment: [:], executableURL: directory.path("bin/burrow"))
        }
        #expect(error?.kind == .notFound)
        #expect(error?.message.contains(directory.path("share/burrow/Templates").standardizedFileURL.path) == true)
        #expect(error?.hint?.contains("BURROW_TEMPLATES") == true)
        #expect(throws: BurrowError.self) {
            try ProjectResources.locate(folder: "Templates", overrideVariable: "BURROW_TEMPLATES", environment: ["BURROW_TEMPLATES": "/nonexistent"], executableURL: nil)
        }
    }
}

@Suite struct InitScriptTests {
    @Test(.enabled(if: ProcessRunner.which("shellcheck") != nil, "shellcheck is not installed (apt-get install shellcheck)"))
    func initPassesShellcheck() async throws {
        let output = try await ProcessRunner().runAllowingFailure("shellcheck", ["-s", "sh", repositoryRoot.appendingPathComponent("Templates/initramfs/init").path])
        #expect(output.status == 0, "\(output.standardOutput)")
    }

    /// The guest-tools scripts run in guests this host cannot boot (only Debian's mirror is
    /// reachable): linting is what checks the dnf, apk and pacman ones here.
    @Test(.enabled(if: ProcessRunner.which("shellcheck") != nil, "shellcheck is not installed (apt-get install shellcheck)"))
    func provisioningScriptsPassShellcheck() async throws {
        let files = ["apt.sh", "dnf.sh", "apk.sh", "pacman.sh"].map { repositoryRoot.appendingPathComponent("Templates/provision/\($0)").path }
        let output = try await ProcessRunner().runAllowingFailure("shellcheck", ["-s", "sh"] + files)
        #expect(output.status == 0, "\(output.standardOutput)")
    }

    /// A root file written at the end of a pipeline records its owner and mode in a subshell,
    /// where set_root_modes never sees them.
    @Test func initNeverWritesRootFilesFromAPipeline() throws {
        let script = try String(contentsOf: repositoryRoot.appendingPathComponent("Templates/initramfs/init"), encoding: .utf8)
        let piped = script.split(separator: "\n").filter { $0.range(of: #"\|\s*(\{\s*)?write_root_(file|text)"#, options: .regularExpression) != nil }
        #expect(piped.isEmpty, "\(piped)")
    }
}
