import BurrowStore
import Foundation

/// Downloads a catalog distro's official rootfs tarball for this host's architecture, verifies
/// it against the catalog's sha256 and imports it. A digest already in the cache skips the
/// download entirely.
public struct ImagePuller: Sendable {
    let home: BurrowHome
    let importer: ImageImporter
    let progress: ProgressReporter

    public init(home: BurrowHome, database: BurrowDatabase, progress: ProgressReporter) {
        self.home = home
        self.importer = ImageImporter(home: home, database: database, progress: progress)
        self.progress = progress
    }

    public func pull(_ distro: String, as name: String?, catalog: DistroCatalog, architecture: Architecture) async throws -> ImportResult {
        let entry = try catalog.entry(named: distro)
        let source = try entry.source(for: architecture)
        var request = ImportRequest(
            name: name ?? entry.name, tarball: source.url, source: source.url.absoluteString,
            expectedDigest: source.sha256, distro: entry.name, stripComponents: entry.stripComponents
        )
        if let cached = try importer.reuseCachedImage(request, digest: source.sha256) { return cached }
        let tarball = try await ImageSourceResolver(home: home, progress: progress).localFile(for: source.url.absoluteString)
        defer { tarball.release() }
        request.tarball = tarball.url
        return try await importer.importImage(request)
    }
}
