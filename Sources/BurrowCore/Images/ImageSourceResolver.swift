import Foundation

/// A local tarball ready to import; a downloaded one lives in a scratch folder that `release()`
/// deletes.
public struct LocalTarball: Sendable {
    public let url: URL
    let scratch: ScratchDirectory?

    public func release() {
        scratch?.release()
    }
}

/// Turns what a person typed as an image source (a path, a file:// URL or an http(s) URL) into a
/// local file, downloading with progress when needed.
public struct ImageSourceResolver: Sendable {
    let home: BurrowHome
    let progress: ProgressReporter

    public init(home: BurrowHome, progress: ProgressReporter) {
        self.home = home
        self.progress = progress
    }

    public func localFile(for source: String) async throws -> LocalTarball {
        guard let url = URL(string: source), let scheme = url.scheme?.lowercased(), scheme.count > 1 else {
            return LocalTarball(url: URL(fileURLWithPath: source), scratch: nil)
        }
        switch scheme {
        case "file":
            return LocalTarball(url: URL(fileURLWithPath: url.path), scratch: nil)
        case "http", "https":
            let scratch = try home.makeScratchDirectory(purpose: "download")
            let destination = scratch.url.appendingPathComponent("rootfs.download")
            do {
                progress.begin("downloading", total: nil)
                defer { progress.end() }
                let reporter = progress
                try await Downloader().download(from: url, to: destination) { received, total in
                    if let total { reporter.begin("downloading", total: total) }
                    reporter.advance(to: received)
                }
            } catch {
                scratch.release()
                throw error
            }
            return LocalTarball(url: destination, scratch: scratch)
        default:
            throw BurrowError(.invalidInput, "unsupported source '\(source)'", hint: "Give a local path, a file:// URL or an http(s):// URL.")
        }
    }
}
