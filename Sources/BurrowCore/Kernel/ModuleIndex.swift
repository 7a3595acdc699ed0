import Foundation

/// A module the initramfs loads, in the order it must be inserted.
struct ModuleToLoad: Equatable, Sendable {
    /// The path inside the module tree as `modules.dep` names it (possibly compressed).
    let path: String
    /// Reached only through a soft dependency: the kernel works without it (`crc32c_intel`
    /// refuses CPUs without SSE4.2, and `crc32c_generic` stands in), so a failure to load it is
    /// not an error.
    let optional: Bool
}

/// A kernel's module graph as `depmod` wrote it in `/lib/modules/<version>`: hard dependencies
/// from `modules.dep`, "pre:" soft dependencies from `modules.softdep` (named through exact
/// `modules.alias` entries, e.g. ext4's `crypto-crc32c`), and the modules built into the kernel
/// from `modules.builtin`, which need no file at all.
struct ModuleIndex {
    let tree: URL
    private var dependencies: [String: (path: String, requires: [String])] = [:]
    private var softPredecessors: [String: [String]] = [:]
    private var aliases: [String: [String]] = [:]
    private var builtIn: Set<String> = []

    /// A module's name as the kernel knows it: the file name without `.ko[.xz|.zst|.gz]`, with
    /// dashes as underscores.
    static func name(ofPath path: String) -> String {
        var base = Substring(KernelCompression.module(path).plainPath.split(separator: "/").last ?? "")
        if base.hasSuffix(".ko") { base = base.dropLast(3) }
        return base.replacingOccurrences(of: "-", with: "_")
    }

    init(tree: URL) throws {
        self.tree = tree
        let dependencyFile = tree.appendingPathComponent("modules.dep")
        guard let dependencyText = try? String(contentsOf: dependencyFile, encoding: .utf8) else {
            throw BurrowError(.failure, "cannot read \(dependencyFile.path)", hint: "Make the module tree complete (depmod writes modules.dep) and import the kernel again.")
        }
        for line in dependencyText.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let path = String(line[..<colon])
            let requires = line[line.index(after: colon)...].split(separator: " ").map { Self.name(ofPath: String($0)) }
            dependencies[Self.name(ofPath: path)] = (path, requires)
        }
        for line in Self.lines(tree.appendingPathComponent("modules.builtin")) {
            builtIn.insert(Self.name(ofPath: line))
        }
        for line in Self.lines(tree.appendingPathComponent("modules.alias")) {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == "alias" else { continue }
            aliases[String(fields[1]), default: []].append(String(fields[2]).replacingOccurrences(of: "-", with: "_"))
        }
        for line in Self.lines(tree.appendingPathComponent("modules.softdep")) {
            // "softdep <module> pre: <name>... post: <name>..."
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 2, fields[0] == "softdep" else { continue }
            var before = false
            for field in fields.dropFirst(2) {
                switch field {
                case "pre:": before = true
                case "post:": before = false
                default: if before { softPredecessors[Self.name(ofPath: fields[1]), default: []].append(field) }
                }
            }
        }
    }

    /// The modules to insert, dependencies first, so that `roots` end up loaded. Built-in
    /// modules are skipped; a root that is neither built in nor in `modules.dep` is an error.
    func loadOrder(for roots: [String]) throws -> [ModuleToLoad] {
        var order: [ModuleToLoad] = []
        var placed: [String: Int] = [:]
        var visiting: Set<String> = []

        func visit(_ name: String, optional: Bool) throws {
            if builtIn.contains(name) || visiting.contains(name) { return }
            if let index = placed[name] {
                // Placed as a soft dependency, now needed for real: so is everything it requires.
                if !optional, order[index].optional {
                    order[index] = ModuleToLoad(path: order[index].path, optional: false)
                    for dependency in dependencies[name]?.requires ?? [] { try visit(dependency, optional: false) }
                }
                return
            }
            guard let module = dependencies[name] else {
                if optional { return }
                throw BurrowError(
                    .failure, "the kernel in \(tree.path) has no module \(name): it is neither built in nor listed in modules.dep",
                    hint: "burrow's guests need virtio and ext4; import a kernel built with them (Debian's and Ubuntu's are)."
                )
            }
            visiting.insert(name)
            for soft in softPredecessors[name] ?? [] {
                let underscored = soft.replacingOccurrences(of: "-", with: "_")
                for target in dependencies[underscored] != nil ? [underscored] : (aliases[soft] ?? []) {
                    try visit(target, optional: true)
                }
            }
            for dependency in module.requires { try visit(dependency, optional: optional) }
            visiting.remove(name)
            placed[name] = order.count
            order.append(ModuleToLoad(path: module.path, optional: optional))
        }

        for root in roots { try visit(root, optional: false) }
        return order
    }

    private static func lines(_ url: URL) -> [String] {
        ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
