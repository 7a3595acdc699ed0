import Foundation

/// Every distro burrow knows how to import: one validated `DistroEntry` per `*.yaml` file in a
/// folder (normally the repository's or the installation's `Distros/`).
///
/// Loading is all-or-nothing: the first invalid file fails the whole catalog with its
/// `CatalogError`, so a broken entry is reported at once rather than when someone picks it.
public struct DistroCatalog: Sendable {
    /// The environment variable that, when set, names the Distros folder outright.
    public static let overrideVariable = "BURROW_DISTROS"

    public let directory: URL
    /// The entries, sorted by name.
    public let all: [DistroEntry]

    public init(directory: URL) throws {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(
                at: directory, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
        } catch {
            throw CatalogError.unreadableDirectory(path: directory.path, reason: error.localizedDescription)
        }
        let folderName = directory.lastPathComponent
        self.directory = directory
        self.all = try files
            .filter { $0.pathExtension == "yaml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .map { url in
                let file = "\(folderName)/\(url.lastPathComponent)"
                let text: String
                do {
                    text = try String(contentsOf: url, encoding: .utf8)
                } catch {
                    throw CatalogError.unreadableFile(file: file, reason: error.localizedDescription)
                }
                return try DistroEntry(yaml: text, file: file)
            }
    }

    public func entry(named name: String) throws -> DistroEntry {
        guard let entry = all.first(where: { $0.name == name }) else {
            throw CatalogError.unknownDistro(name: name, known: all.map(\.name))
        }
        return entry
    }

    /// Finds the Distros folder, trying in order:
    /// 1. `$BURROW_DISTROS` (an error if set to something that is not a directory, since the
    ///    user asked for that folder explicitly);
    /// 2. `<executable dir>/../share/burrow/Distros`, the installed layout;
    /// 3. the nearest ancestor of the executable's folder holding both `Package.swift` and
    ///    `Distros/`, which is the checkout when running from `.build/`.
    public static func locate(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executableURL: URL? = Bundle.main.executableURL
    ) throws -> URL {
        if let override = environment[overrideVariable], !override.isEmpty {
            let url = URL(fileURLWithPath: override)
            guard isDirectory(url) else {
                throw CatalogError.overrideNotADirectory(variable: overrideVariable, path: url.path)
            }
            return url
        }

        var searched = ["$\(overrideVariable) (unset)"]
        if let executableURL {
            let executableDirectory = executableURL.resolvingSymlinksInPath().deletingLastPathComponent()
            let installed = executableDirectory
                .deletingLastPathComponent()
                .appendingPathComponent("share/burrow/Distros")
                .standardizedFileURL
            if isDirectory(installed) { return installed }
            searched.append(installed.path)

            var candidate = executableDirectory.standardizedFileURL.path
            while true {
                let distros = URL(fileURLWithPath: candidate).appendingPathComponent("Distros")
                let manifest = URL(fileURLWithPath: candidate).appendingPathComponent("Package.swift")
                if isDirectory(distros), FileManager.default.fileExists(atPath: manifest.path) {
                    return distros
                }
                // NSString stops at "/", where URL would keep appending "..".
                let parent = (candidate as NSString).deletingLastPathComponent
                if parent == candidate || parent.isEmpty { break }
                candidate = parent
            }
            searched.append("ancestors of \(executableDirectory.path) holding Package.swift and Distros/")
        }
        throw CatalogError.distrosNotFound(searched: searched)
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
