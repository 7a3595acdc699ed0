import ArgumentParser
import BurrowCore
import Foundation

struct ImageImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a rootfs tarball as a base image.",
        discussion: """
            SOURCE is a local .tar, .tar.gz, .tar.xz, .tar.zst or .wsl file, or an
            http(s) or file URL. Importing the same bytes again reuses the cached
            image. A container image archive (docker save, podman save, an OCI
            layout in a tar) is imported as its layers stacked, whiteouts applied.

            Examples:
              burrow image import deb12 ./debian-12-rootfs.tar.zst
              burrow image import alpine https://example.org/alpine.tar.gz \\
                --sha256 <hex>
              burrow image import arch ./archlinux-bootstrap.tar.zst \\
                --strip-components 1
              docker save fedora:42 -o fedora.tar
              burrow image import fedora fedora.tar
            """
    )

    @Argument(help: "Name for the image.") var name: String
    @Argument(help: "Path or URL of the rootfs tarball.") var source: String
    @Option(help: "Expected SHA-256 of the tarball; the import fails if it differs.") var sha256: String?
    @Option(help: "Leading path components to drop from every entry.") var stripComponents: Int = 0
    @Option(help: "Filesystem size, e.g. 16G (default: generous, sparse).") var size: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let request = (name, source, sha256, stripComponents, size, json)
        try await runCommand {
            let (name, source, sha256, stripComponents, size, json) = request
            let context = try await CommandContext.open()
            let importer = ImageImporter(home: context.home, database: context.database, progress: CommandContext.progress(json: json))
            let tarball = try await ImageSourceResolver(home: context.home, progress: CommandContext.progress(json: json)).localFile(for: source)
            defer { tarball.release() }
            let result = try await importer.importImage(ImportRequest(
                name: name, tarball: tarball.url, source: source, expectedDigest: sha256,
                stripComponents: stripComponents, filesystemSize: try size.map(parseSize)
            ))
            try printImportResult(result, json: json)
        }
    }
}

func printImportResult(_ result: ImportResult, json: Bool) throws {
    if json {
        print(try JSONOutput.encode(ImageSummary(result.image, result.base, usedBy: 0)))
        return
    }
    let short = result.base.digest.prefix(12)
    if result.reusedCachedImage {
        print("Image \(result.image.name) is the cached image \(short) (same bytes already imported).")
    } else {
        print("Imported \(result.image.name) (\(short), \(result.entries) entries).")
    }
}
