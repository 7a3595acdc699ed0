import Foundation

/// The burrow.yaml that `burrow init` writes: every key documented with an example, optional
/// ones commented out, so the file explains itself and loads as written.
public enum ProjectTemplate {
    /// The base written when none is chosen: the distro the quick start uses.
    public static let defaultDistro = "debian-12"

    /// The template's text for a project folder named `folderName` built from `base`.
    public static func burrowYAML(base: ProjectBase, folderName: String) -> String {
        let baseLines: String
        switch base {
        case let .distro(name): baseLines = "distro: \(name)\n# image: my-image"
        case let .image(name): baseLines = "# distro: \(defaultDistro)\nimage: \(name)"
        }
        // A folder name with nothing usable in it cannot supply the default, so the name is
        // then written out for the user to change.
        let nameLine = ProjectContext.sanitisedName(folderName).map { "# name: \($0)" } ?? "name: project"
        return """
            # burrow.yaml: the Linux environment burrow builds for this project.
            # Everything except the base is optional; commented lines are examples.

            # Environment name (default: this folder's name, lowercased, with other characters
            # turned into '-').
            \(nameLine)

            # What to build it from: a catalog distro to pull (burrow image pull --list) or an
            # image already imported (burrow image ls). Give one of them.
            \(baseLines)

            # Virtual CPUs, memory and disk size (default: burrow's defaults).
            # cpus: 4
            # memory: 8G
            # disk: 40G

            # This folder is mounted at the same path in the guest; false leaves it out, or give
            # another guest path.
            # workspace: {path: /work}

            # More host folders: HOST, HOST:GUEST or HOST:GUEST:ro, HOST relative to this folder
            # (~ is your home folder); GUEST defaults to the host folder's path.
            # mounts:
            #   - ~/.cache/pip:/var/cache/pip
            #   - {host: ./data, guest: /data, read_only: true}

            # TCP ports forwarded from the host's 127.0.0.1 into the guest.
            # ports:
            #   - 8080                  # the same port on both sides
            #   - "3000:80"             # host 3000 to guest 80
            #   - {host: 5433, guest: 5432}

            # GPU passthrough: a count, all, a PCI address or a model (burrow gpu ls).
            # gpu: 1
            # CUDA toolkit version to install in the guest.
            # cuda: "12.4"

            # Environment variables set in the guest.
            # env:
            #   RUST_LOG: debug

            # Provisioning steps, run in order when the environment is built. Files are relative
            # to this folder and must exist.
            # provision:
            #   - run: apt-get update && apt-get install -y build-essential
            #   - script: scripts/setup.sh
            #   - copy: config/app.toml
            #     to: /etc/app/app.toml

            """
    }

    /// Writes the template into `directory` (created if missing) and returns the file. An
    /// existing burrow.yaml or burrow.yml is replaced only with `force`; the one that exists is
    /// the one replaced, so a folder never ends up with both.
    @discardableResult
    public static func write(into directory: URL, base: ProjectBase, force: Bool) throws -> URL {
        let folder = directory.absoluteURL.standardizedFileURL
        let existing = ["burrow.yaml", "burrow.yml"].map { folder.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
        if let existing, !force {
            throw BurrowError(.wrongState, "\(existing.path) already exists", hint: "Pass --force to replace it.")
        }
        let file = existing ?? folder.appendingPathComponent("burrow.yaml")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(burrowYAML(base: base, folderName: folder.lastPathComponent).utf8).write(to: file, options: .atomic)
        } catch {
            throw BurrowError(.failure, "cannot write \(file.path): \(error.localizedDescription)")
        }
        return file
    }
}
