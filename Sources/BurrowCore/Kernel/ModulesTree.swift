import Foundation

/// Finding and indexing a kernel's module tree, the folder `lib/modules/<release>` holds.
enum ModulesTree {
    /// Whether `url` looks like a module tree: it holds kbuild's or depmod's lists (a `kernel/`
    /// folder alone says little: Debian's /etc has one).
    static func isTree(_ url: URL) -> Bool {
        ["modules.order", "modules.builtin", "modules.dep"].contains { FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path) }
    }

    /// The module tree for kernel `version` in `root`: `root` itself, or its `<release>`,
    /// `lib/modules/<release>` or `usr/lib/modules/<release>` folder. Module trees are named after
    /// their release, so a folder named otherwise is refused, except the top of an unpacked
    /// tarball (`rootIsNamed` false), which has no name of its own. With no `version` known,
    /// the one tree found decides it.
    static func find(in root: URL, version: String?, rootIsNamed: Bool) throws -> (tree: URL, version: String) {
        var candidates: [(tree: URL, name: String?)] = []
        if isTree(root) { candidates.append((root, rootIsNamed ? root.lastPathComponent : nil)) }
        for base in [root, root.appendingPathComponent("lib/modules"), root.appendingPathComponent("usr/lib/modules")] {
            let children = (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []
            for child in children.sorted() where isTree(base.appendingPathComponent(child)) {
                candidates.append((base.appendingPathComponent(child), child))
            }
        }
        let named = candidates.compactMap { candidate in candidate.name.map { (candidate.tree, $0) } }

        if let version {
            if let match = named.first(where: { $0.1 == version }) { return (match.0, version) }
            if let unnamed = candidates.first(where: { $0.name == nil }) { return (unnamed.tree, version) }
            guard named.isEmpty else {
                throw BurrowError(
                    .invalidInput, "\(root.path) holds modules for \(named.map(\.1).joined(separator: ", ")), but the kernel is \(version)",
                    hint: "Give the modules of that kernel: --modules /lib/modules/\(version)"
                )
            }
        } else if named.count == 1, let only = named.first, KernelCore.isValidVersion(only.1) {
            return (only.0, only.1)
        } else if named.count > 1 {
            throw BurrowError(
                .invalidInput, "\(root.path) holds modules for several kernels (\(named.map(\.1).joined(separator: ", "))) and the kernel file does not say which it is",
                hint: "Name the kernel file vmlinuz-<release>, or give one module folder: --modules /lib/modules/<release>"
            )
        } else if !candidates.isEmpty {
            throw BurrowError(.invalidInput, "cannot tell which kernel release the modules in \(root.path) are for", hint: "Name the kernel file vmlinuz-<release>.")
        }
        throw BurrowError(
            .invalidInput, "no kernel module tree in \(root.path)",
            hint: "Give the kernel's module folder or a tarball of it: --modules /lib/modules/<release>"
        )
    }

    /// A tree with depmod's indexes (`modules.dep`, `modules.alias`, ...), which the initramfs
    /// builder and the guest's kmod both need: `tree` itself when they are there, else a copy
    /// under `work` that `depmod` indexed (distribution packages leave indexing to their
    /// postinst). A tree already in scratch space (`mayModify`) is indexed where it is, provided
    /// it sits at `<base>/lib/modules/<version>` as depmod expects.
    static func indexed(_ tree: URL, version: String, work: URL, mayModify: Bool, runner: ProcessRunner) async throws -> URL {
        if FileManager.default.fileExists(atPath: tree.appendingPathComponent("modules.dep").path) { return tree }
        var base = tree.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var indexedTree = tree
        if !mayModify || tree.standardizedFileURL != base.appendingPathComponent("lib/modules/\(version)").standardizedFileURL {
            base = work
            indexedTree = work.appendingPathComponent("lib/modules/\(version)")
            try FileManager.default.createDirectory(at: indexedTree.deletingLastPathComponent(), withIntermediateDirectories: true)
            try await runner.run("cp", ["-a", "--", tree.path, indexedTree.path], what: "copying the module tree")
        }
        // depmod looks under <base>/lib/modules or <base>/usr/lib/modules, depending on how the
        // host's kmod was built; let both lead to the tree.
        let usrLib = base.appendingPathComponent("usr/lib")
        if !FileManager.default.fileExists(atPath: usrLib.appendingPathComponent("modules").path) {
            try FileManager.default.createDirectory(at: usrLib, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: usrLib.appendingPathComponent("modules").path, withDestinationPath: "../../lib/modules")
        }
        try await runner.run("depmod", ["-b", base.path, version], what: "indexing the kernel modules (depmod)")
        guard FileManager.default.fileExists(atPath: indexedTree.appendingPathComponent("modules.dep").path) else {
            throw BurrowError(.failure, "depmod wrote no modules.dep for \(version) under \(base.path)", hint: "Check that kmod's depmod works on this host.")
        }
        return indexedTree
    }
}
