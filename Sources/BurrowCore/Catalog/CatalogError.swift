/// Everything that can go wrong finding, reading or querying the distro catalog.
///
/// Each case's `description` is a complete sentence for the user: it names the file and the
/// YAML path at fault (`Distros/foo.yaml: unknown key 'pkgs' at guest.pkgs; ...`) or lists the
/// valid choices, so the message alone says what to change.
public enum CatalogError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadableFile(file: String, reason: String)
    case unreadableDirectory(path: String, reason: String)
    case invalidYAML(file: String, reason: String)
    case unknownKey(file: String, key: String, path: String, allowed: [String])
    case duplicateKey(file: String, keys: [String], line: Int)
    case missingKey(file: String, path: String)
    case wrongType(file: String, path: String, expected: String, found: String)
    case invalidValue(file: String, path: String, reason: String)
    case nameMismatch(file: String, name: String, expected: String)
    case noArchitectures(file: String)
    case unknownDistro(name: String, known: [String])
    case noSource(distro: String, architecture: Architecture, available: [Architecture])
    case unsupportedHostArchitecture(machine: String)
    case overrideNotADirectory(variable: String, path: String)
    case distrosNotFound(searched: [String])

    public var description: String {
        switch self {
        case let .unreadableFile(file, reason):
            return "\(file): cannot read the file: \(reason)"
        case let .unreadableDirectory(path, reason):
            return "cannot list the distro folder \(path): \(reason)"
        case let .invalidYAML(file, reason):
            return "\(file): not valid YAML: \(reason)"
        case let .unknownKey(file, key, path, allowed):
            return "\(file): unknown key '\(key)' at \(path); allowed keys there: \(allowed.joined(separator: ", "))"
        case let .duplicateKey(file, keys, line):
            let names = keys.map { "'\($0)'" }.joined(separator: ", ")
            return "\(file): key \(names) appears more than once in the mapping at line \(line); keep one"
        case let .missingKey(file, path):
            return "\(file): missing required key \(path)"
        case let .wrongType(file, path, expected, found):
            return "\(file): \(path) must be \(expected), but it is \(found)"
        case let .invalidValue(file, path, reason):
            return "\(file): \(path) \(reason)"
        case let .nameMismatch(file, name, expected):
            return "\(file): name is '\(name)' but must equal the file name without .yaml ('\(expected)')"
        case let .noArchitectures(file):
            return "\(file): arch lists no architecture; give a tarball for at least one of: "
                + Architecture.allCases.map(\.rawValue).joined(separator: ", ")
        case let .unknownDistro(name, known):
            let choices = known.isEmpty ? "none (the catalog is empty)" : known.joined(separator: ", ")
            return "no distro named '\(name)'; known: \(choices)"
        case let .noSource(distro, architecture, available):
            return "distro '\(distro)' has no tarball for \(architecture.rawValue); it has: "
                + available.map(\.rawValue).joined(separator: ", ")
        case let .unsupportedHostArchitecture(machine):
            return "this machine's architecture '\(machine)' is not supported; burrow supports: "
                + Architecture.allCases.map(\.rawValue).joined(separator: ", ")
        case let .overrideNotADirectory(variable, path):
            return "\(variable) is set to \(path), which is not a directory; point it at the Distros folder or unset it"
        case let .distrosNotFound(searched):
            return "cannot find the Distros folder; set BURROW_DISTROS to its path (looked in: "
                + searched.joined(separator: ", ") + ")"
        }
    }
}
