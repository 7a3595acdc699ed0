import Foundation
import Yams

/// Where a settings file is being read from, and the value checks burrow.yaml and
/// devcontainer.json share: paths, ports, sizes, names and provisioning files, each failing with
/// a `BurrowError(.invalidInput)` that names the file, key path and line.
struct ProjectContext: Sendable {
    let root: URL
    /// The settings file relative to `root`, as errors name it.
    let file: String
    let homeDirectory: URL

    /// Words reader problems as "burrow.yaml:7: ports[1]: expected …, found …".
    var report: YAMLProblemReporter {
        let context = self
        return { problem, line in
            let place = context.place(line)
            switch problem {
            case let .unknownKey(_, path, allowed):
                return BurrowError(.invalidInput, "\(place): \(path): unknown key; allowed here: \(allowed.joined(separator: ", "))")
            case let .missingKey(path):
                return BurrowError(.invalidInput, "\(place): \(path): required key is missing")
            case let .wrongType(path, expected, found):
                return BurrowError(.invalidInput, "\(place): \(path): expected \(expected), found \(found)")
            case let .invalidValue(path, reason):
                return BurrowError(.invalidInput, "\(place): \(path): \(reason)")
            }
        }
    }

    /// "burrow.yaml:7", or the file alone when the line is unknown.
    func place(_ line: Int?) -> String {
        line.map { "\(file):\($0)" } ?? file
    }

    func read(_ url: URL) throws -> String {
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw BurrowError(.invalidInput, "cannot read \(url.path): \(error.localizedDescription)")
        }
    }

    /// The top-level mapping of a YAML document; a document of only comments is an empty one.
    func document(_ text: String) throws -> YAMLMapping {
        let node: Node?
        do {
            node = try YAMLSyntaxError.compose(text)
        } catch {
            switch error {
            case let .duplicateKeys(keys, line):
                let names = keys.map { "'\($0)'" }.joined(separator: ", ")
                throw BurrowError(.invalidInput, "\(place(line)): \(names) appears more than once in one mapping; keep one")
            case let .malformed(problem, line?, column?):
                throw BurrowError(.invalidInput, "\(place(line)):\(column): not valid YAML: \(problem)")
            case let .malformed(problem, _, _):
                throw BurrowError(.invalidInput, "\(file): not valid YAML: \(problem)")
            }
        }
        return try YAMLValue(node: node ?? .mapping(Node.Mapping([])), path: "", report: report).mapping()
    }

    /// A name given explicitly (`what`: environment or image), which must already follow
    /// burrow's name rules: quietly rewriting it would leave the user looking for a name they
    /// never wrote.
    func validName(at value: YAMLValue, what: String) throws -> String {
        let name = try value.string()
        do {
            try Names.validate(name, what: what)
        } catch let error as BurrowError {
            throw value.invalid([error.message, error.hint].compactMap { $0 }.joined(separator: ". "))
        }
        return name
    }

    /// The project folder's name made valid.
    func defaultName() throws -> String {
        guard let name = Self.sanitisedName(root.lastPathComponent) else {
            throw BurrowError(
                .invalidInput, "cannot make an environment name from the folder name '\(root.lastPathComponent)'",
                hint: "Set name: in \(file).")
        }
        return name
    }

    func cpus(at value: YAMLValue) throws -> Int {
        let cpus = try value.int()
        guard cpus >= 1 else { throw value.invalid("must be at least 1") }
        return cpus
    }

    /// `text` lowercased, with runs of characters burrow names cannot hold turned into one '-',
    /// trimmed to start with a letter or digit and to `Names.maximumLength`; nil when nothing
    /// usable is left.
    static func sanitisedName(_ text: String) -> String? {
        // Names.isValid is the one definition of the alphabet: a character is kept when it may
        // follow a digit in a valid name.
        var name = ""
        for character in text.lowercased() {
            if Names.isValid("0\(character)") {
                name.append(character)
            } else if !name.hasSuffix("-") {
                name.append("-")
            }
        }
        let trimmed = name.drop { !Names.isValid(String($0)) }.prefix(Names.maximumLength)
        let result = String(trimmed.reversed().drop { "-_.".contains($0) }.reversed())
        return Names.isValid(result) ? result : nil
    }

    /// A host path as written resolved against the project root, with `~` meaning the home
    /// folder.
    func hostPath(_ written: String) -> String {
        let url: URL
        if written == "~" {
            url = homeDirectory
        } else if written.hasPrefix("~/") {
            url = homeDirectory.appendingPathComponent(String(written.dropFirst(2)))
        } else if written.hasPrefix("/") {
            url = URL(fileURLWithPath: written)
        } else {
            url = root.appendingPathComponent(written)
        }
        return url.standardizedFileURL.path
    }

    /// An absolute guest path other than `/`, normalised.
    func guestPath(_ written: String, at value: YAMLValue) throws -> String {
        guard written.hasPrefix("/") else { throw value.invalid("guest path '\(written)' must be absolute") }
        guard !written.split(separator: "/").contains("..") else { throw value.invalid("guest path '\(written)' must not contain '..'") }
        let path = URL(fileURLWithPath: written).standardizedFileURL.path
        guard path != "/" else { throw value.invalid("cannot mount over the guest's root folder") }
        return path
    }

    /// A host folder that must exist, for a mount.
    func hostFolder(_ written: String, at value: YAMLValue) throws -> String {
        let path = hostPath(written)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw value.invalid("\(path) is not a folder; create it or remove the mount")
        }
        return path
    }

    /// A file (not a folder) a provisioning step names; it must exist now, so a typo fails at
    /// load rather than halfway through provisioning.
    func projectFile(at value: YAMLValue) throws -> ProjectFile {
        let written = try value.string()
        let path = hostPath(written)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw value.invalid("no file \(path)")
        }
        guard !isDirectory.boolValue else { throw value.invalid("\(path) is a folder; name a file") }
        return ProjectFile(path: written, url: URL(fileURLWithPath: path))
    }

    func port(_ number: Int, at value: YAMLValue) throws -> Int {
        guard (1...65535).contains(number) else { throw value.invalid("port \(number) is outside 1–65535") }
        return number
    }

    /// A size in bytes: an integer, or text for `parseSize` ("8G", "512M", "32gb").
    func size(at value: YAMLValue) throws -> Int64 {
        switch value.tag {
        case .int:
            let bytes = try value.int()
            guard bytes > 0 else { throw value.invalid("must be more than 0 bytes") }
            return Int64(bytes)
        case .str:
            let text = try value.string()
            do {
                return try parseSize(text)
            } catch {
                throw value.invalid("'\(text)' is not a size; write a number with an optional unit, e.g. 8G or 512M")
            }
        default:
            throw value.wrongType(expected: "a size such as 8G or 512M")
        }
    }

    /// Rejects a port forward whose host port an earlier one already takes.
    func append(_ forward: PortForward, at value: YAMLValue, to ports: inout [PortForward]) throws {
        guard !ports.contains(where: { $0.host == forward.host }) else {
            throw value.invalid("host port \(forward.host) is forwarded twice")
        }
        ports.append(forward)
    }

    /// Rejects a mount whose guest path an earlier one (the workspace included) already takes.
    func append(_ mount: ProjectMount, at value: YAMLValue, to mounts: inout [ProjectMount]) throws {
        guard !mounts.contains(where: { $0.guest == mount.guest }) else {
            throw value.invalid("guest path \(mount.guest) is mounted twice")
        }
        mounts.append(mount)
    }

    /// The project root, writable, at `guestPath` in the guest.
    func workspaceMount(at guestPath: String) -> ProjectMount {
        ProjectMount(host: root.path, guest: guestPath, readOnly: false)
    }

    /// One environment variable: a name the guest's shell can hold, and any scalar value kept
    /// as written (`DEBUG: 1` gives "1").
    static func environmentVariable(_ name: String, _ value: YAMLValue) throws -> (name: String, value: String) {
        let valid = name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        guard valid else { throw value.invalid("'\(name)' is not a variable name (letters, digits and '_', not starting with a digit)") }
        guard let text = value.scalarText else { throw value.wrongType(expected: "a string") }
        return (name, text)
    }
}
