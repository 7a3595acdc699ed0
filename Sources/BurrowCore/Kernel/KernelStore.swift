import Crypto
import Foundation

/// The guest kernels burrow boots, under `$BURROW_HOME/kernels/<version>/` (see `KernelCore`).
///
/// A kernel comes from the host distribution's package (`fetch`) or from files (`importKernel`).
/// Either way every file is built in a locked scratch folder and the finished folder is renamed
/// into place last, exchanged atomically with an older folder of the same version: readers see
/// the old kernel or the new one, and a failure or interruption leaves nothing behind.
public struct KernelStore: Sendable {
    /// Where the initramfs's `/init` lives inside burrow's Templates folder.
    static let initScriptPath = "initramfs/init"

    let home: BurrowHome
    let runner: ProcessRunner

    public init(home: BurrowHome, runner: ProcessRunner = ProcessRunner()) {
        self.home = home
        self.runner = runner
    }

    /// Every installed kernel, newest release first.
    public func installed() throws -> [KernelCore] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: home.kernels.path)) ?? []
        return try names
            .filter { KernelCore.isValidVersion($0) && FileManager.default.fileExists(atPath: home.kernelDirectory(version: $0).appendingPathComponent(KernelCore.manifestName).path) }
            .map { try KernelCore(directory: home.kernelDirectory(version: $0)) }
            .sorted { $0.version.compare($1.version, options: .numeric) == .orderedDescending }
    }

    /// The kernel new guests boot: the newest installed release.
    public func current() throws -> KernelCore {
        guard let newest = try installed().first else {
            throw BurrowError(.notFound, "no guest kernel is installed", hint: "Get one from this host's distribution: burrow kernel fetch")
        }
        return refreshingInit(of: newest)
    }

    /// Brings the `/init` of a kernel installed by another burrow version up to this one's, so
    /// an upgrade reaches the guest side without fetching the kernel again. The kernel unpacks
    /// concatenated newc archives in order, a later file replacing an earlier one, so the
    /// current script is appended as a one-file archive; the rest of the initramfs stays.
    /// Best effort: where the folder cannot be written, the kernel boots the `/init` it has.
    func refreshingInit(of kernel: KernelCore) -> KernelCore {
        guard let script = try? Data(contentsOf: Self.locateInitScript()) else { return kernel }
        let digest = Self.sha256(script)
        guard kernel.initSHA256 != digest else { return kernel }
        let appendix = kernel.directory.appendingPathComponent(".init-\(getpid()).cpio")
        let staged = kernel.directory.appendingPathComponent(".initrd-\(getpid()).img")
        defer {
            try? FileManager.default.removeItem(at: appendix)
            try? FileManager.default.removeItem(at: staged)
        }
        do {
            let archive = try CpioWriter(creating: appendix)
            try archive.file("init", contents: script, mode: 0o755)
            try archive.finish()
            var initrd = try Data(contentsOf: kernel.initrd)
            initrd.append(try Data(contentsOf: appendix))
            try initrd.write(to: staged)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: staged.path)
            guard rename(staged.path, kernel.initrd.path) == 0 else { return kernel }
            var manifest = try KernelManifest.read(from: kernel.directory)
            manifest.initSHA256 = digest
            try manifest.write(to: kernel.directory)
            return try KernelCore(directory: kernel.directory)
        } catch {
            return kernel
        }
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// Downloads the newest kernel of the host's distribution (Debian or Ubuntu, through apt; no
    /// root needed) and installs it.
    public func fetch(progress: ProgressReporter = SilentProgress()) async throws -> KernelCore {
        guard AptPackages.isAvailable else {
            throw BurrowError(.wrongState, "burrow kernel fetch needs apt (a Debian or Ubuntu host)", hint: "Import a kernel instead: burrow kernel import VMLINUZ --modules DIR")
        }
        let initScript = try Self.locateInitScript()
        let apt = AptPackages(runner: runner)
        let osRelease = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8))
            ?? (try? String(contentsOfFile: "/usr/lib/os-release", encoding: .utf8)) ?? ""
        let metapackage = try AptPackages.kernelMetapackage(osRelease: osRelease, architecture: try Architecture.host())
        guard let imagePackage = try await apt.dependencies(of: metapackage).first(where: { $0.hasPrefix("linux-image-") }) else {
            throw BurrowError(.failure, "\(metapackage) depends on no linux-image package", hint: "Refresh the package lists (apt-get update) and retry.")
        }
        // Ubuntu ships the modules of a kernel in a package of their own.
        let modulePackages = try await apt.dependencies(of: imagePackage).filter { $0.hasPrefix("linux-modules-") }

        let scratch = try home.makeScratchDirectory(purpose: "kernel-fetch")
        defer { scratch.release() }
        let downloads = scratch.url.appendingPathComponent("debs")
        let unpacked = scratch.url.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: downloads, withIntermediateDirectories: false)
        var packageVersion = ""
        for package in [imagePackage] + modulePackages {
            progress.begin("downloading \(package)", total: nil)
            let deb = try await apt.download(package, into: downloads)
            if package == imagePackage { packageVersion = try await apt.version(of: deb) }
            progress.end()
            progress.begin("unpacking \(package)", total: nil)
            try await apt.unpack(deb, into: unpacked)
            progress.end()
        }

        let boot = unpacked.appendingPathComponent("boot")
        let kernels = ((try? FileManager.default.contentsOfDirectory(atPath: boot.path)) ?? []).filter { $0.hasPrefix("vmlinuz-") }
        guard kernels.count == 1, let kernelName = kernels.first else {
            throw BurrowError(.failure, "\(imagePackage) holds \(kernels.count) kernels in /boot, not one", hint: "Import the kernel you want instead: burrow kernel import VMLINUZ --modules DIR")
        }
        let vmlinuz = boot.appendingPathComponent(kernelName)
        let image = try KernelImageFile(url: vmlinuz)
        let found = try ModulesTree.find(in: unpacked, version: image.embeddedVersion ?? Self.version(fromFileName: kernelName), rootIsNamed: false)
        let tree = try await ModulesTree.indexed(found.tree, version: found.version, work: scratch.url.appendingPathComponent("modules"), mayModify: true, runner: runner)
        return try await install(
            image, modulesTree: tree, version: found.version, source: "\(imagePackage) \(packageVersion)",
            initScript: initScript, scratch: scratch, progress: progress
        )
    }

    /// Installs a kernel from files: `vmlinuz` as the distribution ships it, and `modules`, its
    /// module tree (`/lib/modules/<release>`, a folder holding one, or a tarball of either).
    public func importKernel(vmlinuz: URL, modules: URL, progress: ProgressReporter = SilentProgress()) async throws -> KernelCore {
        let initScript = try Self.locateInitScript()
        let image = try KernelImageFile(url: vmlinuz)
        guard FileManager.default.isReadableFile(atPath: modules.path) else {
            throw BurrowError(.notFound, "cannot read \(modules.path)", hint: "Give the kernel's module folder or a tarball of it: --modules /lib/modules/<release>")
        }
        let scratch = try home.makeScratchDirectory(purpose: "kernel-import")
        defer { scratch.release() }

        let modulesIsFolder = ProjectResources.isDirectory(modules)
        var modulesRoot = modules
        if !modulesIsFolder {
            progress.begin("unpacking \(modules.lastPathComponent)", total: nil)
            modulesRoot = scratch.url.appendingPathComponent("unpacked")
            try FileManager.default.createDirectory(at: modulesRoot, withIntermediateDirectories: false)
            do {
                try await runner.run("tar", ["-x", "--no-same-owner", "-f", modules.path, "-C", modulesRoot.path], what: "unpacking \(modules.path)")
            } catch let error as BurrowError {
                throw BurrowError(.invalidInput, error.message, hint: "Give a module folder, or a tar archive (optionally compressed) of one.")
            }
            progress.end()
        }
        let expected = image.embeddedVersion ?? Self.version(fromFileName: vmlinuz.lastPathComponent)
        let found = try ModulesTree.find(in: modulesRoot, version: expected, rootIsNamed: modulesIsFolder)
        let tree = try await ModulesTree.indexed(found.tree, version: found.version, work: scratch.url.appendingPathComponent("modules"), mayModify: !modulesIsFolder, runner: runner)
        return try await install(image, modulesTree: tree, version: found.version, source: vmlinuz.path, initScript: initScript, scratch: scratch, progress: progress)
    }

    /// The release in a file name like `vmlinuz-6.1.0-26-amd64`, or nil.
    static func version(fromFileName name: String) -> String? {
        guard name.hasPrefix("vmlinuz-") else { return nil }
        let version = String(name.dropFirst("vmlinuz-".count))
        return KernelCore.isValidVersion(version) ? version : nil
    }

    // MARK: - Installing

    /// The initramfs's `/init`, looked up before any slow work so a missing Templates folder fails fast.
    private static func locateInitScript() throws -> URL {
        try ProjectResources.locate(folder: "Templates", overrideVariable: "BURROW_TEMPLATES").appendingPathComponent(initScriptPath)
    }

    private func install(
        _ image: KernelImageFile, modulesTree: URL, version: String, source: String, initScript: URL,
        scratch: ScratchDirectory, progress: ProgressReporter
    ) async throws -> KernelCore {
        guard KernelCore.isValidVersion(version) else {
            throw BurrowError(.invalidInput, "'\(version)' is not a kernel release burrow can store", hint: "Module trees are named after their kernel release, e.g. 6.1.0-26-amd64.")
        }
        let staged = scratch.url.appendingPathComponent("kernel")
        try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        var files = KernelManifest.Files(vmlinuz: "vmlinuz", vmlinux: nil, initrd: "initrd.img", modules: "modules.img")

        progress.begin("extracting vmlinux", total: nil)
        try FileManager.default.copyItem(at: image.url, to: staged.appendingPathComponent(files.vmlinuz))
        if try await image.extractELF(to: staged.appendingPathComponent("vmlinux"), runner: runner) { files.vmlinux = "vmlinux" }
        progress.end()

        progress.begin("building the initramfs", total: nil)
        let initramfsWork = scratch.url.appendingPathComponent("initramfs")
        try FileManager.default.createDirectory(at: initramfsWork, withIntermediateDirectories: false)
        try await InitramfsBuilder(runner: runner).build(
            modulesTree: modulesTree, version: version, busybox: try await staticBusybox(work: scratch.url.appendingPathComponent("busybox")),
            initScript: initScript, work: initramfsWork, output: staged.appendingPathComponent(files.initrd)
        )
        progress.end()

        progress.begin("making the modules image", total: nil)
        try await ModulesImageBuilder(runner: runner).build(tree: modulesTree, output: staged.appendingPathComponent(files.modules))
        progress.end()

        let manifest = KernelManifest(
            version: version, files: files, boot: files.vmlinux ?? files.vmlinuz, source: source, created: Date(),
            initSHA256: Self.sha256(try Data(contentsOf: initScript))
        )
        for name in [files.vmlinuz, files.initrd, files.modules] + (files.vmlinux.map { [$0] } ?? []) {
            let url = staged.appendingPathComponent(name)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
            let handle = try FileHandle(forUpdating: url)
            try handle.synchronize()
            try handle.close()
        }
        try manifest.write(to: staged)

        try FileManager.default.createDirectory(at: home.kernels, withIntermediateDirectories: true)
        // On a replacement the old folder lands in `staged` and goes with the scratch folder.
        _ = try DirectorySwap.install(staged, at: home.kernelDirectory(version: version))
        return try KernelCore(directory: home.kernelDirectory(version: version))
    }

    /// A statically linked busybox for the initramfs: the host's when it is static (Debian's
    /// busybox-static package), else one unpacked from that package into `work`.
    private func staticBusybox(work: URL) async throws -> URL {
        let isStatic = { (url: URL) in ELFFile(url: url)?.isStaticallyLinked == true }
        if let host = ["/bin/busybox", "/usr/bin/busybox"].map(URL.init(fileURLWithPath:)).first(where: isStatic) { return host }
        guard AptPackages.isAvailable else {
            throw BurrowError(.notFound, "the guest initramfs needs a statically linked busybox, and this host has none", hint: "Install your distribution's static busybox (busybox-static) and retry.")
        }
        let apt = AptPackages(runner: runner)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try await apt.unpack(try await apt.download("busybox-static", into: work), into: work.appendingPathComponent("root"))
        guard let unpacked = ["root/bin/busybox", "root/usr/bin/busybox"].map(work.appendingPathComponent).first(where: isStatic) else {
            throw BurrowError(.failure, "the busybox-static package holds no static busybox", hint: "Install a static busybox as /bin/busybox and retry.")
        }
        return unpacked
    }
}
