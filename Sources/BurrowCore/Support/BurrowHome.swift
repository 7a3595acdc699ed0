import Foundation

/// The folder holding all of burrow's state: `$BURROW_HOME`, else `$XDG_DATA_HOME/burrow`,
/// else `~/.local/share/burrow`. Every path burrow writes is derived from here, which makes a
/// temporary `BURROW_HOME` a complete, hermetic sandbox for tests.
public struct BurrowHome: Sendable, Equatable {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> BurrowHome {
        if let explicit = environment["BURROW_HOME"], !explicit.isEmpty {
            return BurrowHome(root: URL(fileURLWithPath: explicit))
        }
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return BurrowHome(root: URL(fileURLWithPath: xdg).appendingPathComponent("burrow"))
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return BurrowHome(root: URL(fileURLWithPath: home).appendingPathComponent(".local/share/burrow"))
    }

    public var databasePath: String { root.appendingPathComponent("burrow.sqlite").path }
    public var images: URL { root.appendingPathComponent("images") }
    public var scratch: URL { root.appendingPathComponent("tmp") }

    public func imageDirectory(digest: String) -> URL { images.appendingPathComponent(digest) }
    public func baseImagePath(digest: String) -> URL { imageDirectory(digest: digest).appendingPathComponent("base.qcow2") }

    /// Creates the folder layout (idempotent).
    public func prepare() throws {
        for directory in [root, images, scratch] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }
}
