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

    /// Finds the Distros folder through `ProjectResources` (`$BURROW_DISTROS`, the installed
    /// `share/burrow/Distros`, or the checkout), reporting failures as `CatalogError`s.
    public static func locate(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executableURL: URL? = Bundle.main.executableURL
    ) throws -> URL {
        switch ProjectResources.search(folder: "Distros", overrideVariable: overrideVariable, environment: environment, executableURL: executableURL) {
        case let .found(url):
            return url
        case let .overrideNotADirectory(path):
            throw CatalogError.overrideNotADirectory(variable: overrideVariable, path: path)
        case let .notFound(searched):
            throw CatalogError.distrosNotFound(searched: searched)
        }
    }
}
