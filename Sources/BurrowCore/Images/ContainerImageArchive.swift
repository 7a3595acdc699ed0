import Archive
import Foundation

/// A container image saved as one tar: `docker save` / `podman save` (a manifest.json naming
/// layer tarballs) or an OCI image layout (oci-layout, index.json, content-addressed blobs).
///
/// `unpack` copies the archive's files into a scratch folder under names of its own (never a
/// path taken from the archive), remembering each by its path in the archive, symlinks included;
/// `layers()` reads the manifests and returns the layer files bottom first, each with the digest
/// its bytes must have where the format names one.
struct ContainerImageArchive {
    /// One layer tarball (any compression) and the SHA-256 its bytes must hash to, when known.
    struct Layer {
        let file: URL
        let shownName: String
        let expectedDigest: String?
    }

    private let source: String
    private var files: [ImagePath: URL] = [:]
    private var links: [ImagePath: [UInt8]] = [:]

    /// Manifests and indexes are small; a bigger one is not a manifest, and reading it whole
    /// would only cost memory.
    private static let largestManifest = 16 << 20

    /// Whether a tree written from an archive, one without a top-level /etc, is a container image
    /// archive. `repositories` is not required beside manifest.json: images saved untagged lack it.
    static func isOne(contains: (String) -> Bool) -> Bool {
        contains("/oci-layout") || contains("/manifest.json")
    }

    /// Copies every regular file of the archive `reader` reads into `folder` (which must not exist).
    static func unpack(_ reader: ArchiveReader, into folder: URL, source: String) throws -> ContainerImageArchive {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        var archive = ContainerImageArchive(source: source)
        let paths = EntryValidator()
        while let entry = try reader.nextEntry() {
            guard let path = try paths.normalize(entry.path, shown: entry.pathString), !path.isRoot else { continue }
            switch entry.kind {
            case .regular:
                let file = folder.appendingPathComponent("file-\(archive.files.count)")
                try copyData(of: reader, size: entry.size, to: file)
                archive.files[path] = file
            case .symlink:
                archive.links[path] = entry.linkTarget
            case .hardlink:
                let target = try entry.linkTarget.flatMap { try paths.normalize($0, shown: entry.pathString) }
                archive.files[path] = target.flatMap { archive.files[$0] }
            default:
                continue
            }
        }
        return archive
    }

    /// The layers that make up the image's root filesystem, bottom first.
    func layers() throws -> [Layer] {
        if let manifest = try json([SavedImage].self, at: "manifest.json") {
            guard let image = manifest.first else { throw damaged("its manifest.json lists no image") }
            guard manifest.count == 1 else {
                let names = manifest.map { TerminalText.sanitized($0.repoTags?.joined(separator: ", ") ?? $0.config ?? "untagged") }
                throw BurrowError(
                    .invalidInput, "\(source) holds \(manifest.count) images (\(names.joined(separator: "; "))); burrow imports one",
                    hint: "Save one image per archive: docker save IMAGE -o image.tar"
                )
            }
            return try image.layers.map { name in
                let digest = name.hasPrefix("blobs/sha256/") ? String(name.dropFirst("blobs/sha256/".count)) : nil
                let shown = TerminalText.sanitized(name)
                return Layer(file: try file(at: name, what: "layer \(shown)"), shownName: shown, expectedDigest: digest)
            }
        }
        guard let index = try json(ImageIndex.self, at: "index.json") else {
            throw damaged("it has neither manifest.json nor index.json")
        }
        let manifest = try imageManifest(in: index, depth: 0)
        return try manifest.layers.map { descriptor in
            let shown = TerminalText.sanitized(descriptor.digest)
            return Layer(file: try file(at: descriptor.blobPath, what: "layer \(shown)"), shownName: shown, expectedDigest: descriptor.sha256)
        }
    }

    // MARK: - Formats

    /// One image of `docker save`'s manifest.json.
    private struct SavedImage: Decodable {
        let config: String?
        let repoTags: [String]?
        let layers: [String]

        enum CodingKeys: String, CodingKey {
            case config = "Config", repoTags = "RepoTags", layers = "Layers"
        }
    }

    private struct Platform: Decodable {
        let architecture: String?
        let os: String?
    }

    private struct Descriptor: Decodable {
        let mediaType: String?
        let digest: String
        let platform: Platform?

        var blobPath: String { "blobs/" + digest.replacingOccurrences(of: ":", with: "/") }
        var sha256: String? { digest.hasPrefix("sha256:") ? String(digest.dropFirst("sha256:".count)) : nil }
        var isIndex: Bool { mediaType?.hasSuffix("image.index.v1+json") == true || mediaType?.hasSuffix("manifest.list.v2+json") == true }
        /// Images for this machine, or with no platform at all; attestations (platform unknown) and other architectures are not.
        var runsHere: Bool { platform.map { $0.os == "linux" && $0.architecture == "amd64" } ?? true }
    }

    private struct ImageIndex: Decodable {
        let manifests: [Descriptor]
    }

    private struct ImageManifest: Decodable {
        let layers: [Descriptor]
    }

    /// The one image manifest an index (or an index it names) holds for linux/amd64.
    private func imageManifest(in index: ImageIndex, depth: Int) throws -> ImageManifest {
        let candidates = index.manifests.filter(\.runsHere)
        guard let chosen = candidates.first else {
            throw BurrowError(.invalidInput, "\(source) holds no image for linux/amd64", hint: "Save the amd64 variant: docker save --platform linux/amd64 IMAGE -o image.tar")
        }
        guard candidates.count == 1 else {
            throw BurrowError(.invalidInput, "\(source) holds \(candidates.count) images for linux/amd64; burrow imports one", hint: "Save one image per archive: docker save IMAGE -o image.tar")
        }
        let what = "manifest \(TerminalText.sanitized(chosen.digest))"
        if chosen.isIndex {
            guard depth < 2, let nested = try json(ImageIndex.self, at: chosen.blobPath) else { throw damaged("its \(what) is missing or nested too deeply") }
            return try imageManifest(in: nested, depth: depth + 1)
        }
        guard let manifest = try json(ImageManifest.self, at: chosen.blobPath) else { throw damaged("its \(what) is missing") }
        return manifest
    }

    // MARK: - Files

    private func json<Value: Decodable>(_ type: Value.Type, at path: String) throws -> Value? {
        guard let url = resolve(path) else { return nil }
        let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
        guard size <= Self.largestManifest else { throw damaged("its \(path) is \(size >> 20) MiB, too big for a manifest") }
        do {
            return try JSONDecoder().decode(type, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw damaged("its \(path) is not what that file should be (\(Self.describe(error)))")
        }
    }

    private func file(at path: String, what: String) throws -> URL {
        guard let url = resolve(path) else { throw damaged("its \(what) is missing") }
        return url
    }

    /// The unpacked file at an archive path, following the archive's own symlinks (older
    /// `docker save` links repeated layers to their first copy); nil when nothing is there.
    private func resolve(_ path: String) -> URL? {
        guard var components = Self.split(Array(path.utf8), under: []) else { return nil }
        var followed = 0
        var depth = 1
        while depth <= components.count {
            let prefix = ImagePath(Array(components[..<depth]))
            guard let target = links[prefix] else {
                depth += 1
                continue
            }
            followed += 1
            let base = target.first == UInt8(ascii: "/") ? [] : Array(components[..<(depth - 1)])
            guard followed <= 40, let resolved = Self.split(target, under: base) else { return nil }
            components = resolved + components[depth...]
            depth = 1
        }
        return files[ImagePath(components)]
    }

    /// `path`'s components appended to `base`, with "." dropped and ".." going up; nil when ".." would leave the archive.
    private static func split(_ path: [UInt8], under base: [[UInt8]]) -> [[UInt8]]? {
        var components = base
        for component in path.split(separator: UInt8(ascii: "/")) {
            if component.elementsEqual([UInt8(ascii: ".")]) { continue }
            if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                guard components.popLast() != nil else { return nil }
                continue
            }
            components.append(Array(component))
        }
        return components
    }

    private static func copyData(of reader: ArchiveReader, size: Int64, to file: URL) throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil), let handle = FileHandle(forWritingAtPath: file.path) else {
            throw BurrowError(.failure, "cannot create \(file.path)", hint: "Check free space and permissions there.")
        }
        defer { try? handle.close() }
        while let block = try reader.nextDataBlock() {
            guard let base = block.bytes.baseAddress else { continue }
            guard pwrite(handle.fileDescriptor, base, block.bytes.count, off_t(block.offset)) == block.bytes.count else {
                throw BurrowError(.failure, "cannot write \(file.path): \(String(cString: strerror(errno)))", hint: "Check free space there.")
            }
        }
        // A sparse entry may end in a hole, which no data block covers.
        try handle.truncate(atOffset: UInt64(max(0, size)))
    }

    /// `detail` may quote the archive's own names; they are made safe to print here.
    private func damaged(_ detail: String) -> BurrowError {
        BurrowError(.invalidInput, "\(source) looks like a container image archive, but \(TerminalText.sanitized(detail))", hint: "Save the image again (docker save IMAGE -o image.tar); nothing was imported.")
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "no \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            context.codingPath.isEmpty ? context.debugDescription : "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: "\(error)"
        }
    }
}
