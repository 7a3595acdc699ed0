import ArgumentParser
import BurrowCore
import Foundation

struct ImagePull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download a distro's official rootfs from the catalog and import it.",
        discussion: """
            The catalog is the Distros/ folder (or $BURROW_DISTROS): one YAML file per
            distro with the tarball URL and sha256 for each architecture. The download
            is verified before anything is kept; an image already cached is not
            downloaded again.

            Examples:
              burrow image pull debian-12
              burrow image pull alpine-3.22 --as alpine
              burrow image pull --list
            """
    )

    @Argument(help: "Distro name from the catalog, e.g. debian-12.") var distro: String?
    @Option(name: .customLong("as"), help: "Name for the image (default: the distro name).") var name: String?
    @Flag(help: "List the distros in the catalog.") var list = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let (distro, name, list, json) = (distro, name, list, json)
        try await runCommand {
            let catalog = try DistroCatalog(directory: try DistroCatalog.locate())
            guard let distro, !list else {
                guard list else { throw BurrowError(.invalidInput, "name a distro to pull", hint: "See them with: burrow image pull --list") }
                try printCatalog(catalog, json: json)
                return
            }
            let context = try await CommandContext.open()
            let puller = ImagePuller(home: context.home, database: context.database, progress: CommandContext.progress(json: json))
            let result = try await puller.pull(distro, as: name, catalog: catalog, architecture: try Architecture.host())
            try printImportResult(result, json: json)
        }
    }

    private func printCatalog(_ catalog: DistroCatalog, json: Bool) throws {
        struct Row: Encodable { let name, description, family, release: String; let architectures: [String] }
        let rows = catalog.all.map { Row(name: $0.name, description: $0.description, family: $0.family.rawValue, release: $0.release, architectures: $0.architectures.map(\.rawValue)) }
        if json {
            print(try JSONOutput.encode(rows))
        } else {
            print(Table(header: ["NAME", "FAMILY", "ARCHITECTURES", "DESCRIPTION"], rows: rows.map { [$0.name, $0.family, $0.architectures.joined(separator: ","), $0.description] }).render())
        }
    }
}
