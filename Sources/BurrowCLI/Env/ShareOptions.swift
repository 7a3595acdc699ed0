import ArgumentParser
import BurrowCore
import BurrowStore
import Foundation

/// `--workspace`, `--mount`, `--port` and `--env`, shared by the commands that create environments.
struct ShareOptions: ParsableArguments {
    @Option(help: "Share this host folder into the guest (at the same path unless --workspace-path).") var workspace: String?
    @Option(help: "Where the workspace appears in the guest.") var workspacePath: String?
    @Option(name: .customLong("mount"), help: ArgumentHelp("Share another folder: HOST (at the same path), HOST:GUEST or HOST:GUEST:ro (repeatable).", valueName: "HOST[:GUEST[:ro]]"))
    var mounts: [String] = []
    @Option(name: .customLong("port"), help: ArgumentHelp("Forward 127.0.0.1:HOST to the guest's GUEST port (repeatable).", valueName: "HOST:GUEST"))
    var ports: [String] = []
    @Option(name: .customLong("env"), help: ArgumentHelp("An environment variable for guest sessions (repeatable).", valueName: "NAME=VALUE"))
    var variables: [String] = []

    func sharedFolders() throws -> [SharedFolder] {
        var folders: [SharedFolder] = []
        if let workspace {
            let host = Self.absolute(workspace)
            folders.append(SharedFolder(host: host, guest: workspacePath ?? host, readOnly: false))
        }
        for spec in mounts {
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 || (parts.count == 3 && parts[2] == "ro"), !parts.contains(where: \.isEmpty) else {
                throw BurrowError(.invalidInput, "--mount \(spec): expected HOST, HOST:GUEST or HOST:GUEST:ro")
            }
            // A host folder alone appears at its own path, as in burrow.yaml.
            let host = Self.absolute(parts[0])
            folders.append(SharedFolder(host: host, guest: parts.count > 1 ? parts[1] : host, readOnly: parts.count == 3))
        }
        return folders
    }

    func portRules() throws -> [PortRule] {
        try ports.map(Self.portRule)
    }

    func environment() throws -> [String: String] {
        var result: [String: String] = [:]
        for assignment in variables {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw BurrowError(.invalidInput, "--env \(assignment): expected NAME=VALUE")
            }
            result[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        return result
    }

    /// "8080:80" or "8080" (the same port on both sides).
    static func portRule(_ spec: String) throws -> PortRule {
        let parts = spec.split(separator: ":").compactMap { Int($0) }
        guard (parts.count == 1 || parts.count == 2), parts.count == spec.split(separator: ":").count else {
            throw BurrowError(.invalidInput, "'\(spec)' is not a port forward", hint: "Write HOST:GUEST, e.g. 8080:80, or one port for both sides.")
        }
        return PortRule(host: parts[0], guest: parts.last ?? parts[0])
    }

    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return URL(fileURLWithPath: expanded, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
    }
}
