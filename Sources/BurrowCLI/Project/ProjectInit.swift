import ArgumentParser
import BurrowCore
import Foundation

struct ProjectInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented burrow.yaml describing a project's environment.",
        discussion: """
            Every setting is documented with an example; only the base is active:
            the distro \(ProjectTemplate.defaultDistro) unless --distro or --image picks another.
            An existing burrow.yaml is kept unless --force. The folder is created if missing.

            Examples:
              burrow init
              burrow init ~/src/webapp --distro ubuntu-24.04
              burrow init --image my-base --force
            """
    )

    @Argument(help: "Project folder.") var directory: String = "."
    @Option(help: "Build from this imported image (see burrow image ls).") var image: String?
    @Option(help: "Build from this catalog distro (see burrow image pull --list).") var distro: String?
    @Flag(help: "Replace an existing burrow.yaml.") var force = false

    func run() async throws {
        let (directory, image, distro, force) = (directory, image, distro, force)
        try await runCommand {
            let base: ProjectBase
            switch (image, distro) {
            case (_?, _?):
                throw BurrowError(.invalidInput, "give --image or --distro, not both")
            case let (image?, nil):
                try Names.validate(image, what: "image")
                base = .image(image)
            case let (nil, distro):
                let name = distro ?? ProjectTemplate.defaultDistro
                _ = try DistroCatalog(directory: try DistroCatalog.locate()).entry(named: name)
                base = .distro(name)
            }
            let file = try ProjectTemplate.write(into: URL(fileURLWithPath: directory), base: base, force: force)
            print("Wrote \(file.path); edit it to describe this project's environment.")
        }
    }
}
