import Foundation

/// Builds burrow's own minimal initramfs for one kernel: a newc cpio holding a static busybox,
/// `/init` (Templates/initramfs/init) and only the modules needed to reach the root, modules and
/// seed disks and the network — `virtio_pci`, `virtio_blk`, `ext4`, `virtio_net` and what they
/// depend on — decompressed, because busybox's insmod cannot read compressed modules.
/// `/etc/burrow/modules.order` lists them in load order, one absolute path a line, followed by
/// ` optional` for soft dependencies whose failure to load is expected on some CPUs, and then by
/// ` cpu=A+B,C` when such a module needs CPU features (A and B, or C) that /init checks first:
/// under emulation a module refusing the CPU costs a tenth of a second to try. A blank line
/// separates groups that share no module (the virtio drivers; ext4 and its checksums), which
/// /init loads side by side.
///
/// The archive is left uncompressed (about 5 MB for Debian's 6.1 kernel): under TCG, /init
/// started no later than with the same archive gzipped (1.7 MB), usually 0.2–0.7 s sooner.
/// Every other module loads later from the modules disk.
struct InitramfsBuilder {
    static let rootModules = ["virtio_pci", "virtio_blk", "ext4", "virtio_net"]
    static let moduleOrderPath = "etc/burrow/modules.order"

    let runner: ProcessRunner

    /// Writes the archive to `output`; `work` is an empty scratch folder for decompressed modules.
    func build(modulesTree: URL, version: String, busybox: URL, initScript: URL, work: URL, output: URL) async throws {
        let groups = try ModuleIndex(tree: modulesTree).loadGroups(for: Self.rootModules)
        let initData: Data
        let busyboxData: Data
        do {
            initData = try Data(contentsOf: initScript)
            busyboxData = try Data(contentsOf: busybox)
        } catch {
            throw BurrowError(.failure, "cannot read the initramfs parts: \(error.localizedDescription)", hint: "Reinstall burrow, or set BURROW_TEMPLATES to its Templates folder.")
        }

        let archive = try CpioWriter(creating: output)
        // Mount points and the folders `busybox --install -s` fills with applet links.
        for directory in ["bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "tmp", "newroot"] {
            try archive.directory(directory)
        }
        // The kernel opens /dev/console for /init before anything can mount devtmpfs.
        try archive.characterDevice("dev/console", major: 5, minor: 1)
        try archive.file("bin/busybox", contents: busyboxData, mode: 0o755)
        try archive.symlink("bin/sh", target: "busybox")
        try archive.file("init", contents: initData, mode: 0o755)

        var order = ""
        for (groupIndex, group) in groups.enumerated() {
            if groupIndex > 0 { order += "\n" }
            for (index, module) in group.enumerated() {
                let destination = "lib/modules/\(version)/" + KernelCompression.module(module.path).plainPath
                let contents = try await moduleContents(module.path, in: modulesTree, work: work.appendingPathComponent("\(groupIndex)-\(index).ko"))
                try archive.file(destination, contents: contents)
                order += "/\(destination)\(module.optional ? " optional" : "")\(Self.cpuCondition(module.cpuFeatures))\n"
            }
        }
        try archive.file(Self.moduleOrderPath, contents: Data(order.utf8))
        try archive.finish()
    }

    private static func cpuCondition(_ featureSets: [[String]]) -> String {
        featureSets.isEmpty ? "" : " cpu=" + featureSets.map { $0.joined(separator: "+") }.joined(separator: ",")
    }

    private func moduleContents(_ path: String, in tree: URL, work: URL) async throws -> Data {
        let source = tree.appendingPathComponent(path)
        // Only regular files: a symlink in an imported tree could pull host files into the guest.
        guard (try? FileManager.default.attributesOfItem(atPath: source.path)[.type] as? FileAttributeType) == .typeRegular else {
            throw BurrowError(.failure, "module \(path) is missing from \(tree.path) or is not a regular file", hint: "Import the kernel again with its complete module tree.")
        }
        guard let compression = KernelCompression.module(path).compression else { return try Data(contentsOf: source) }
        let status = try await compression.decompress(source, to: work, runner: runner)
        guard status == 0 else {
            throw BurrowError(.failure, "cannot decompress module \(path) (\(compression.decompressCommand[0]) exited with \(status))", hint: "Check that \(compression.decompressCommand[0]) is installed and the module file is intact.")
        }
        return try Data(contentsOf: work)
    }
}
