import Yams

/// Why a YAML document could not be composed, without the copy of the whole document that
/// Yams' own error descriptions carry. Lines and columns are 1-based.
enum YAMLSyntaxError: Error {
    /// Keys (sorted) that appear more than once in the mapping starting at `line`.
    case duplicateKeys([String], line: Int)
    /// Yams gives no position for a few rare failures.
    case malformed(String, line: Int?, column: Int?)

    /// Composes one YAML document; nil when the text holds none.
    static func compose(_ text: String) throws(YAMLSyntaxError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            switch error {
            case let .duplicatedKeysInMapping(duplicates, context):
                throw .duplicateKeys(duplicates.sorted(), line: context.mark.line)
            case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
                throw .malformed(problem, line: mark.line, column: mark.column)
            default:
                throw .malformed(String(describing: error), line: nil, column: nil)
            }
        } catch {
            throw .malformed(String(describing: error), line: nil, column: nil)
        }
    }
}

/// One problem a strict YAML reader found, before the caller words it as its own error type:
/// catalog files throw `CatalogError`s, project files `BurrowError`s that also give the line.
enum YAMLProblem: Sendable {
    case unknownKey(key: String, path: String, allowed: [String])
    case missingKey(path: String)
    case wrongType(path: String, expected: String, found: String)
    case invalidValue(path: String, reason: String)
}

/// Turns a problem, and the line it is on (nil for trees without positions, such as decoded
/// JSON), into the error to throw.
typealias YAMLProblemReporter = @Sendable (YAMLProblem, _ line: Int?) -> any Error

/// One value of a strictly read YAML document with its dotted path (`guest.packages`,
/// `ports[1]`), so every error about it can say exactly where it is.
struct YAMLValue {
    let node: Node
    let path: String
    let report: YAMLProblemReporter

    /// The 1-based line the value starts on, when the tree came from text.
    var line: Int? { node.mark?.line }

    /// The tag YAML's core schema resolves for the value (plain `12` is an int, `~` is null).
    var tag: Tag.Name { Tag.Name(rawValue: node.tag.rawValue) }

    var isNull: Bool {
        if case .scalar = node { return tag == .null }
        return false
    }

    /// A scalar's text whatever type it resolves to (`12.4`, `8080:22` and `all` alike), nil
    /// for null and for collections.
    var scalarText: String? {
        guard case let .scalar(scalar) = node, tag != .null else { return nil }
        return scalar.string
    }

    /// Any non-null scalar's text, which must not be empty.
    func string() throws -> String {
        guard let text = scalarText else { throw wrongType(expected: "a string") }
        guard !text.isEmpty else { throw invalid("must not be empty") }
        return text
    }

    func int() throws -> Int {
        guard tag == .int, let text = scalarText, let value = Int(text) else { throw wrongType(expected: "an integer") }
        return value
    }

    func bool() throws -> Bool {
        guard tag == .bool, case let .scalar(scalar) = node, let value = Bool.construct(from: scalar) else {
            throw wrongType(expected: "true or false")
        }
        return value
    }

    func mapping() throws -> YAMLMapping {
        try YAMLMapping(self)
    }

    /// The items of a sequence, each with its index in its path; `expected` words the error when
    /// the value is something else.
    func sequence(expected: String = "a list") throws -> [YAMLValue] {
        guard case let .sequence(sequence) = node else { throw wrongType(expected: expected) }
        return sequence.enumerated().map { index, item in
            YAMLValue(node: item, path: "\(path)[\(index)]", report: report)
        }
    }

    func wrongType(expected: String) -> any Error {
        report(.wrongType(path: path.isEmpty ? "the document" : path, expected: expected, found: found), line)
    }

    func invalid(_ reason: String) -> any Error {
        report(.invalidValue(path: path, reason: reason), line)
    }

    /// What the value is, for "found …" in messages.
    var found: String {
        switch node {
        case let .scalar(scalar):
            switch tag {
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

/// A YAML mapping read strictly: every accessor knows its dotted path, so each error can say
/// exactly where in which file the problem is. Keys must be plain scalars; Yams has already
/// rejected duplicates while composing.
struct YAMLMapping {
    /// The mapping itself, as the value it was read from.
    private let whole: YAMLValue
    private let pairs: [(key: String, keyLine: Int?, value: Node)]

    /// Reads a catalog file's mapping; problems are `CatalogError`s naming `file`.
    init(_ node: Node, file: String, path: String) throws {
        try self.init(YAMLValue(node: node, path: path, report: { problem, _ in CatalogError(problem, file: file) }))
    }

    init(_ value: YAMLValue) throws {
        guard case let .mapping(mapping) = value.node else { throw value.wrongType(expected: "a mapping") }
        self.whole = value
        self.pairs = try mapping.map { keyNode, item in
            guard case let .scalar(key) = keyNode else {
                let place = value.path.isEmpty ? "a key" : "a key under \(value.path)"
                throw YAMLValue(node: keyNode, path: place, report: value.report).wrongType(expected: "a plain string")
            }
            return (key.string, keyNode.mark?.line, item)
        }
    }

    /// The keys in document order.
    var keys: [String] { pairs.map(\.key) }

    /// Every key with its value, in document order.
    var entries: [(key: String, value: YAMLValue)] {
        pairs.map { ($0.key, YAMLValue(node: $0.value, path: path(of: $0.key), report: whole.report)) }
    }

    func path(of key: String) -> String {
        whole.path.isEmpty ? key : "\(whole.path).\(key)"
    }

    func contains(_ key: String) -> Bool {
        keys.contains(key)
    }

    /// Rejects any key outside `allowed`, so a typo never silently drops a setting.
    func allowOnly(_ allowed: [String]) throws {
        if let unknown = pairs.first(where: { !allowed.contains($0.key) }) {
            throw whole.report(.unknownKey(key: unknown.key, path: path(of: unknown.key), allowed: allowed), unknown.keyLine)
        }
    }

    /// The value at `key`, which must be present.
    func value(_ key: String) throws -> YAMLValue {
        guard let found = optionalValue(key) else {
            throw whole.report(.missingKey(path: path(of: key)), whole.line)
        }
        return found
    }

    func optionalValue(_ key: String) -> YAMLValue? {
        entries.first { $0.key == key }?.value
    }

    func string(_ key: String) throws -> String {
        try value(key).string()
    }

    func optionalInt(_ key: String) throws -> Int? {
        try optionalValue(key)?.int()
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, of _: Choice.Type) throws -> Choice
    where Choice.RawValue == String {
        let found = try value(key)
        let text = try found.string()
        guard let choice = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw found.invalid("must be one of \(allowed), got '\(text)'")
        }
        return choice
    }

    func mapping(_ key: String) throws -> YAMLMapping {
        try value(key).mapping()
    }

    func stringList(_ key: String) throws -> [String] {
        try value(key).sequence(expected: "a list of strings").map { item in
            guard let text = item.scalarText, !text.isEmpty else { throw item.wrongType(expected: "a non-empty string") }
            return text
        }
    }
}

private extension CatalogError {
    /// Catalog errors carry no line: the files are short and the key path finds the spot.
    init(_ problem: YAMLProblem, file: String) {
        switch problem {
        case let .unknownKey(key, path, allowed): self = .unknownKey(file: file, key: key, path: path, allowed: allowed)
        case let .missingKey(path): self = .missingKey(file: file, path: path)
        case let .wrongType(path, expected, found): self = .wrongType(file: file, path: path, expected: expected, found: found)
        case let .invalidValue(path, reason): self = .invalidValue(file: file, path: path, reason: reason)
        }
    }
}
