import Yams

/// A YAML mapping read strictly: every accessor knows its dotted path, so each error can say
/// exactly where in which file the problem is. Keys must be plain scalars; Yams has already
/// rejected duplicates while composing.
struct YAMLMapping {
    private let file: String
    private let prefix: String
    private let pairs: [(key: String, value: Node)]

    init(_ node: Node, file: String, path: String) throws {
        guard case let .mapping(mapping) = node else {
            throw CatalogError.wrongType(
                file: file, path: path.isEmpty ? "the document" : path, expected: "a mapping", found: Self.kind(of: node))
        }
        self.file = file
        self.prefix = path
        self.pairs = try mapping.map { keyNode, value in
            guard case let .scalar(key) = keyNode else {
                throw CatalogError.wrongType(
                    file: file, path: path.isEmpty ? "a key" : "a key under \(path)",
                    expected: "a plain string", found: Self.kind(of: keyNode))
            }
            return (key.string, value)
        }
    }

    func path(of key: String) -> String {
        prefix.isEmpty ? key : "\(prefix).\(key)"
    }

    func contains(_ key: String) -> Bool {
        pairs.contains { $0.key == key }
    }

    /// Rejects any key outside `allowed`, so a typo never silently drops a setting.
    func allowOnly(_ allowed: [String]) throws {
        if let unknown = pairs.first(where: { !allowed.contains($0.key) }) {
            throw CatalogError.unknownKey(file: file, key: unknown.key, path: path(of: unknown.key), allowed: allowed)
        }
    }

    func string(_ key: String) throws -> String {
        let node = try required(key)
        guard case let .scalar(scalar) = node, Self.tagName(of: node) != .null else {
            throw CatalogError.wrongType(file: file, path: path(of: key), expected: "a string", found: Self.kind(of: node))
        }
        guard !scalar.string.isEmpty else {
            throw CatalogError.invalidValue(file: file, path: path(of: key), reason: "must not be empty")
        }
        return scalar.string
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let node = pairs.first(where: { $0.key == key })?.value else { return nil }
        guard case let .scalar(scalar) = node, Self.tagName(of: node) == .int, let value = Int(scalar.string) else {
            throw CatalogError.wrongType(file: file, path: path(of: key), expected: "an integer", found: Self.kind(of: node))
        }
        return value
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, of _: Choice.Type) throws -> Choice
    where Choice.RawValue == String {
        let text = try string(key)
        guard let value = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw CatalogError.invalidValue(
                file: file, path: path(of: key), reason: "must be one of \(allowed), got '\(text)'")
        }
        return value
    }

    func mapping(_ key: String) throws -> YAMLMapping {
        try YAMLMapping(required(key), file: file, path: path(of: key))
    }

    func stringList(_ key: String) throws -> [String] {
        let node = try required(key)
        guard case let .sequence(sequence) = node else {
            throw CatalogError.wrongType(
                file: file, path: path(of: key), expected: "a list of strings", found: Self.kind(of: node))
        }
        return try sequence.enumerated().map { index, item in
            let itemPath = "\(path(of: key))[\(index)]"
            guard case let .scalar(scalar) = item, Self.tagName(of: item) != .null, !scalar.string.isEmpty else {
                throw CatalogError.wrongType(
                    file: file, path: itemPath, expected: "a non-empty string", found: Self.kind(of: item))
            }
            return scalar.string
        }
    }

    private func required(_ key: String) throws -> Node {
        guard let node = pairs.first(where: { $0.key == key })?.value else {
            throw CatalogError.missingKey(file: file, path: path(of: key))
        }
        return node
    }

    /// The tag YAML's core schema resolves for `node` (plain `12` is an int, `~` is null).
    private static func tagName(of node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    private static func kind(of node: Node) -> String {
        switch node {
        case let .scalar(scalar):
            switch tagName(of: node) {
            case .null: return "empty"
            case .int: return "the integer \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            case .float: return "the number \(scalar.string)"
            default: return "the string '\(scalar.string)'"
            }
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
