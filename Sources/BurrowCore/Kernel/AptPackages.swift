import Foundation

/// The host's apt, used to obtain a distribution's kernel and a static busybox without
/// installing anything: `apt-cache` names the packages, `apt-get download` fetches a `.deb` into
/// a folder (no root needed) and `dpkg-deb -x` unpacks it there.
struct AptPackages {
    let runner: ProcessRunner

    static var isAvailable: Bool {
        ["apt-get", "apt-cache", "dpkg-deb"].allSatisfy { ProcessRunner.which($0) != nil }
    }

    /// The package that always depends on the distribution's newest kernel, for a host whose
    /// `/etc/os-release` is `osRelease`.
    static func kernelMetapackage(osRelease: String, architecture: Architecture) throws -> String {
        var identities: [String] = []
        var name = "this host's distribution"
        for line in osRelease.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            switch parts[0] {
            case "ID": identities.insert(value, at: 0)
            case "ID_LIKE": identities += value.split(separator: " ").map(String.init)
            case "PRETTY_NAME": name = value
            default: break
            }
        }
        // Ubuntu says it is like Debian, but its kernels are packaged differently.
        if identities.contains("ubuntu") { return "linux-image-generic" }
        if identities.contains("debian") {
            switch architecture {
            case .x86_64: return "linux-image-amd64"
            case .aarch64: return "linux-image-arm64"
            }
        }
        throw BurrowError(
            .wrongState, "burrow kernel fetch knows Debian and Ubuntu hosts, not \(name)",
            hint: "Import a kernel instead: burrow kernel import VMLINUZ --modules DIR"
        )
    }

    /// The package names on `Depends:` lines of `apt-cache depends` output, in order
    /// (virtual packages, shown as `<name>`, are left out).
    static func dependencies(inAptCacheOutput text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0] == "Depends:" || fields[0] == "|Depends:", !fields[1].hasPrefix("<") else { return nil }
            return String(fields[1])
        }
    }

    func dependencies(of package: String) async throws -> [String] {
        let output = try await runner.run("apt-cache", ["depends", package], what: "looking up \(package) with apt-cache")
        return Self.dependencies(inAptCacheOutput: output.standardOutput)
    }

    /// Downloads the candidate version of `package` into `folder`; returns the `.deb`.
    func download(_ package: String, into folder: URL) async throws -> URL {
        do {
            try await runner.run(["apt-get", "download", "-q", package], in: folder, what: "downloading \(package)")
        } catch let error as BurrowError {
            throw BurrowError(error.kind, error.message, hint: "Refresh the package lists (apt-get update) and retry, or import a kernel: burrow kernel import VMLINUZ --modules DIR")
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        guard let deb = files.sorted().first(where: { $0.hasPrefix("\(package)_") && $0.hasSuffix(".deb") }) else {
            throw BurrowError(.failure, "apt-get download \(package) left no .deb in \(folder.path)", hint: "Refresh the package lists (apt-get update) and retry.")
        }
        return folder.appendingPathComponent(deb)
    }

    /// The `Version` field of a `.deb`.
    func version(of deb: URL) async throws -> String {
        try await runner.run("dpkg-deb", ["-f", deb.path, "Version"], what: "reading \(deb.lastPathComponent)")
            .standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func unpack(_ deb: URL, into root: URL) async throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try await runner.run("dpkg-deb", ["-x", deb.path, root.path], what: "unpacking \(deb.lastPathComponent)")
    }
}
