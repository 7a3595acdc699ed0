import Crypto
import Foundation

/// A host file a provisioning step names: `path` as written in the settings file (what recipe
/// keys hash, so keys do not change when the project folder moves) and `url`, resolved.
public struct ProjectFile: Sendable, Equatable {
    public let path: String
    public let url: URL

    public init(path: String, url: URL) {
        self.path = path
        self.url = url
    }
}

/// One provisioning step; steps run in order in the guest.
public enum ProvisionStep: Sendable, Equatable {
    /// A shell script written inline.
    case run(String)
    /// A script file from the project, run in the guest.
    case script(ProjectFile)
    /// A host file copied to an absolute guest path.
    case copy(ProjectFile, to: String)
}

/// A project's ordered provisioning steps, keyed step by step so each step's result can be
/// cached as a layer on the one before.
///
/// A step's key covers its parent's key, its kind and text, and for file steps the file's bytes
/// and permission bits. The same recipe over the same files gives the same keys; changing a step
/// or a file it names changes that step's key and every key after it, and no key before it.
public struct ProvisionRecipe: Sendable, Equatable {
    public let steps: [ProvisionStep]

    public init(steps: [ProvisionStep]) {
        self.steps = steps
    }

    /// One lowercase hex SHA-256 per step, the first chained to `parent` (e.g. the key of the
    /// image the steps run on). Reads every file a step names, so it throws when one is gone.
    public func keys(parent: String) throws -> [String] {
        var parent = parent
        return try steps.map { step in
            var hasher = SHA256()
            // Length-prefixed fields, so no two different field lists hash the same bytes.
            func field(_ text: String) {
                let bytes = Array(text.utf8)
                withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { hasher.update(bufferPointer: $0) }
                hasher.update(data: bytes)
            }
            // The version lets a later change in what a key covers start a fresh cache.
            for text in try ["burrow-provision-1", parent] + Self.fields(of: step) {
                field(text)
            }
            parent = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            return parent
        }
    }

    private static func fields(of step: ProvisionStep) throws -> [String] {
        switch step {
        case let .run(script):
            return ["run", script]
        case let .script(file):
            return try ["script", file.path] + contentFields(file)
        case let .copy(file, destination):
            return try ["copy", file.path, destination] + contentFields(file)
        }
    }

    /// The file's SHA-256 and its permission bits in octal (a script that loses its execute bit
    /// must not reuse the layer built while it had one).
    private static func contentFields(_ file: ProjectFile) throws -> [String] {
        let digest = try HashingFileSource.digest(ofFileAt: file.url.path, progress: SilentProgress())
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: file.url.path)
        } catch {
            throw BurrowError(
                .notFound, "cannot read \(file.url.path): \(error.localizedDescription)", hint: "Check that the file exists and is readable.")
        }
        guard let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue else {
            throw BurrowError(.failure, "cannot read the permissions of \(file.url.path)")
        }
        return [digest, String(mode, radix: 8)]
    }
}
