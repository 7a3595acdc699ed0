import Foundation

/// Finds a folder burrow ships beside its executable (`Distros`, `Templates`), trying in order:
/// 1. the override variable (an error when set to something that is not a directory, since the
///    user named that folder explicitly);
/// 2. `<executable dir>/../share/burrow/<folder>`, the installed layout;
/// 3. the nearest ancestor of the executable's folder holding both `Package.swift` and
///    `<folder>/`, which is the checkout when running from `.build/` (tests included).
public enum ProjectResources {
    /// The outcome of a search, for callers that report failures in their own words.
    public enum Location: Equatable, Sendable {
        case found(URL)
        case overrideNotADirectory(path: String)
        /// Every place tried, in order, as text for the user.
        case notFound(searched: [String])
    }

    public static func search(
        folder: String,
        overrideVariable: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executableURL: URL? = Bundle.main.executableURL
    ) -> Location {
        if let override = environment[overrideVariable], !override.isEmpty {
            let url = URL(fileURLWithPath: override)
            return isDirectory(url) ? .found(url) : .overrideNotADirectory(path: url.path)
        }
        var searched = ["$\(overrideVariable) (unset)"]
        guard let executableURL else { return .notFound(searched: searched) }

        let executableDirectory = executableURL.resolvingSymlinksInPath().deletingLastPathComponent()
        let installed = executableDirectory
            .deletingLastPathComponent()
            .appendingPathComponent("share/burrow/\(folder)")
            .standardizedFileURL
        if isDirectory(installed) { return .found(installed) }
        searched.append(installed.path)

        var candidate = executableDirectory.standardizedFileURL.path
        while true {
            let resources = URL(fileURLWithPath: candidate).appendingPathComponent(folder)
            let manifest = URL(fileURLWithPath: candidate).appendingPathComponent("Package.swift")
            if isDirectory(resources), FileManager.default.fileExists(atPath: manifest.path) {
                return .found(resources)
            }
            // NSString stops at "/", where URL would keep appending "..".
            let parent = (candidate as NSString).deletingLastPathComponent
            if parent == candidate || parent.isEmpty { break }
            candidate = parent
        }
        searched.append("ancestors of \(executableDirectory.path) holding Package.swift and \(folder)/")
        return .notFound(searched: searched)
    }

    /// The folder, or a `BurrowError` naming every place that was tried.
    public static func locate(
        folder: String,
        overrideVariable: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executableURL: URL? = Bundle.main.executableURL
    ) throws -> URL {
        switch search(folder: folder, overrideVariable: overrideVariable, environment: environment, executableURL: executableURL) {
        case let .found(url):
            return url
        case let .overrideNotADirectory(path):
            throw BurrowError(
                .invalidInput, "\(overrideVariable) is set to \(path), which is not a directory",
                hint: "Point \(overrideVariable) at burrow's \(folder) folder, or unset it."
            )
        case let .notFound(searched):
            throw BurrowError(
                .notFound, "cannot find burrow's \(folder) folder (looked in: \(searched.joined(separator: ", ")))",
                hint: "Set \(overrideVariable) to its path, or reinstall burrow."
            )
        }
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
