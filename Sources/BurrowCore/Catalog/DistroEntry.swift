import Foundation
import Yams

/// The package manager a distro uses; decides how burrow installs its guest packages.
public enum PackageFamily: String, Sendable, CaseIterable {
    case apt, dnf, apk, pacman
}

/// The init system burrow's guest bits must hook into.
public enum GuestInit: String, Sendable, CaseIterable {
    case systemd, openrc
}

/// Where one architecture's rootfs tarball lives and the sha256 it must hash to.
///
/// `url` is http, https or file; `sha256` is 64 lowercase hex digits.
public struct DistroSource: Sendable, Equatable {
    public let url: URL
    public let sha256: String
}

/// What burrow needs inside a guest of this distro: its init system and the packages (init,
/// sshd, kernel-module tools, sudo, ip) to install into the base image.
public struct GuestRequirements: Sendable, Equatable {
    public let initSystem: GuestInit
    public let packages: [String]
}

/// One validated `Distros/<name>.yaml` file.
///
/// Construction fails with a `CatalogError` naming the file and YAML path when the document has
/// an unknown or missing key, a value of the wrong type, a name that differs from the file name,
/// an unknown family or init, a malformed sha256 or URL, or no architecture at all. A value that
/// exists is therefore safe to act on without further checks.
public struct DistroEntry: Sendable, Equatable {
    public let name: String
    public let description: String
    public let family: PackageFamily
    public let release: String
    public let sources: [Architecture: DistroSource]
    /// Leading path components to drop from every tarball entry (Arch's bootstrap nests the root
    /// under `root.x86_64/`).
    public let stripComponents: Int
    public let guest: GuestRequirements

    /// The architectures this distro has a tarball for, in a stable order.
    public var architectures: [Architecture] {
        sources.keys.sorted()
    }

    /// Parses and validates one catalog file.
    ///
    /// - Parameters:
    ///   - yaml: the file's text.
    ///   - file: the path shown in errors, e.g. `Distros/debian-12.yaml`; its last component
    ///     without `.yaml` is the name the document must declare.
    public init(yaml: String, file: String) throws {
        let node: Node?
        do {
            node = try YAMLSyntaxError.compose(yaml)
        } catch {
            throw Self.catalogError(for: error, file: file)
        }
        guard let node else {
            throw CatalogError.invalidYAML(file: file, reason: "the file is empty")
        }

        let root = try YAMLMapping(node, file: file, path: "")
        try root.allowOnly(["name", "description", "family", "release", "arch", "strip_components", "guest"])

        let expectedName = Self.expectedName(forFile: file)
        name = try root.string("name")
        guard name == expectedName else {
            throw CatalogError.nameMismatch(file: file, name: name, expected: expectedName)
        }
        description = try root.string("description")
        family = try root.choice("family", of: PackageFamily.self)
        release = try root.string("release")

        let stripComponents = try root.optionalInt("strip_components") ?? 0
        guard stripComponents >= 0 else {
            throw CatalogError.invalidValue(
                file: file, path: "strip_components", reason: "must be 0 or more, got \(stripComponents)")
        }
        self.stripComponents = stripComponents

        sources = try Self.parseSources(root.mapping("arch"), file: file)

        let guest = try root.mapping("guest")
        try guest.allowOnly(["init", "packages"])
        self.guest = GuestRequirements(
            initSystem: try guest.choice("init", of: GuestInit.self),
            packages: try guest.stringList("packages"))
    }

    /// The tarball for `architecture`, or an error listing the architectures this distro has.
    public func source(for architecture: Architecture) throws -> DistroSource {
        guard let source = sources[architecture] else {
            throw CatalogError.noSource(distro: name, architecture: architecture, available: architectures)
        }
        return source
    }

    private static func catalogError(for error: YAMLSyntaxError, file: String) -> CatalogError {
        switch error {
        case let .duplicateKeys(keys, line):
            return .duplicateKey(file: file, keys: keys, line: line)
        case let .malformed(problem, line?, column?):
            return .invalidYAML(file: file, reason: "line \(line), column \(column): \(problem)")
        case let .malformed(problem, _, _):
            return .invalidYAML(file: file, reason: problem)
        }
    }

    static func expectedName(forFile file: String) -> String {
        let fileName = URL(fileURLWithPath: file).lastPathComponent
        return fileName.hasSuffix(".yaml") ? String(fileName.dropLast(".yaml".count)) : fileName
    }

    private static func parseSources(_ arch: YAMLMapping, file: String) throws -> [Architecture: DistroSource] {
        try arch.allowOnly(Architecture.allCases.map(\.rawValue))
        var sources: [Architecture: DistroSource] = [:]
        for architecture in Architecture.allCases where arch.contains(architecture.rawValue) {
            let entry = try arch.mapping(architecture.rawValue)
            try entry.allowOnly(["url", "sha256"])
            sources[architecture] = DistroSource(
                url: try parseURL(entry.string("url"), file: file, path: entry.path(of: "url")),
                sha256: try parseSHA256(entry.string("sha256"), file: file, path: entry.path(of: "sha256")))
        }
        guard !sources.isEmpty else { throw CatalogError.noArchitectures(file: file) }
        return sources
    }

    private static func parseURL(_ text: String, file: String, path: String) throws -> URL {
        let invalid = CatalogError.invalidValue(
            file: file, path: path, reason: "must be an http://, https:// or file:// URL, got '\(text)'")
        guard !text.contains(where: \.isWhitespace), let url = URL(string: text), let scheme = url.scheme?.lowercased()
        else { throw invalid }
        switch scheme {
        case "http", "https":
            guard let host = url.host, !host.isEmpty else { throw invalid }
        case "file":
            guard !url.path.isEmpty, url.path != "/" else { throw invalid }
        default:
            throw invalid
        }
        return url
    }

    private static func parseSHA256(_ text: String, file: String, path: String) throws -> String {
        let hexDigits = Set("0123456789abcdef")
        guard text.count == 64, text.allSatisfy(hexDigits.contains) else {
            throw CatalogError.invalidValue(
                file: file, path: path, reason: "must be 64 lowercase hex digits, got '\(text)'")
        }
        return text
    }
}
