import Foundation

/// A module the initramfs loads, in the order it must be inserted.
struct ModuleToLoad: Equatable, Sendable {
    /// The path inside the module tree as `modules.dep` names it (possibly compressed).
    let path: String
    /// Reached only through a soft dependency: the kernel works without it (`crc32c_intel`
    /// refuses CPUs without SSE4.2, and `crc32c_generic` stands in), so a failure to load it is
    /// not an error.
    let optional: Bool
    /// For an optional module that serves only some CPUs: the feature sets (the kernel's hex
    /// feature numbers, as `/sys/devices/system/cpu/modalias` lists them) of which the CPU needs
    /// one, all of its features, for the module to load. Empty: no condition.
    var cpuFeatures: [[String]] = []
}

/// A kernel's module graph as `depmod` wrote it in `/lib/modules/<version>`: hard dependencies
/// from `modules.dep`, "pre:" soft dependencies from `modules.softdep` (named through exact
/// `modules.alias` entries, e.g. ext4's `crypto-crc32c`), and the modules built into the kernel
/// from `modules.builtin`, which need no file at all. The `cpu:type:x86` aliases give the CPU
/// features an optional module needs.
struct ModuleIndex {
    let tree: URL
    private var dependencies: [String: (path: String, requires: [String])] = [:]
    private var softPredecessors: [String: [String]] = [:]
    private var aliases: [String: [String]] = [:]
    private var builtIn: Set<String> = []
    /// Modules whose every CPU alias names features only (any vendor, family and model), with
    /// those feature sets; a module with a model-specific alias is not listed.
    private var cpuFeatures: [String: [[String]]] = [:]

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
        var modelSpecific: Set<String> = []
        for line in Self.lines(tree.appendingPathComponent("modules.alias")) {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == "alias" else { continue }
            let module = String(fields[2]).replacingOccurrences(of: "-", with: "_")
            if fields[1].hasPrefix(Self.cpuAliasPrefix) {
                if let features = Self.features(inCPUAlias: fields[1]) {
                    cpuFeatures[module, default: []].append(features)
                } else {
                    modelSpecific.insert(module)
                }
                continue
            }
            aliases[String(fields[1]), default: []].append(module)
        }
        for module in modelSpecific { cpuFeatures[module] = nil }
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
                    order[index] = ModuleToLoad(path: order[index].path, optional: false, cpuFeatures: [])
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
            order.append(ModuleToLoad(path: module.path, optional: optional, cpuFeatures: optional ? cpuFeatures[name] ?? [] : []))
        }

        for root in roots { try visit(root, optional: false) }
        return order
    }

    /// The roots' modules split into groups that share no module, each in load order, so that
    /// the groups can load side by side; the order of the groups means nothing.
    func loadGroups(for roots: [String]) throws -> [[ModuleToLoad]] {
        var components: [(roots: [String], paths: Set<String>)] = []
        for root in roots {
            var merged = (roots: [root], paths: Set(try loadOrder(for: [root]).map(\.path)))
            for index in components.indices.reversed() where !components[index].paths.isDisjoint(with: merged.paths) {
                merged = (components[index].roots + merged.roots, components[index].paths.union(merged.paths))
                components.remove(at: index)
            }
            components.append(merged)
        }
        return try components.map { try loadOrder(for: $0.roots) }.filter { !$0.isEmpty }
    }

    private static let cpuAliasPrefix = "cpu:type:x86,"

    /// The features of an alias like `cpu:type:x86,ven*fam*mod*:feature:*0094*`; nil when it
    /// names a vendor, family or model, or features in a form /init would not match.
    private static func features(inCPUAlias alias: Substring) -> [String]? {
        let rest = alias.dropFirst(cpuAliasPrefix.count)
        let anyModel = "ven*fam*mod*:feature:"
        guard rest.hasPrefix(anyModel) else { return nil }
        let features = rest.dropFirst(anyModel.count).split(separator: "*").map(String.init)
        guard !features.isEmpty, features.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isHexDigit) }) else { return nil }
        return features
    }

    private static func lines(_ url: URL) -> [String] {
        ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
