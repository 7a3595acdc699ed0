import Archive
import BurrowStore
import Ext4
import Foundation

/// What to import and under which name.
public struct ImportRequest: Sendable {
    public var name: String
    /// A local rootfs tarball (.tar, .tar.gz, .tar.xz, .tar.zst, .wsl).
    public var tarball: URL
    /// Where the tarball came from, as recorded in the store (a URL for pulls, else the path).
    public var source: String
    /// The tarball's expected SHA-256 (lowercase hex); the import fails when the bytes differ.
    public var expectedDigest: String?
    public var distro: String?
    public var stripComponents: Int
    /// Size of the image's filesystem; nil picks a generous sparse size from the input size.
    public var filesystemSize: Int64?

    public init(name: String, tarball: URL, source: String? = nil, expectedDigest: String? = nil, distro: String? = nil, stripComponents: Int = 0, filesystemSize: Int64? = nil) {
        self.name = name
        self.tarball = tarball
        self.source = source ?? tarball.path
        self.expectedDigest = expectedDigest?.lowercased()
        self.distro = distro
        self.stripComponents = stripComponents
        self.filesystemSize = filesystemSize
    }
}

/// The outcome of an import.
public struct ImportResult: Sendable {
    public let image: ImageRecord
    public let base: BaseImageRecord
    /// True when the bytes were already imported and their base image was reused.
    public let reusedCachedImage: Bool
    public let entries: Int
}

/// Turns a rootfs tarball into an immutable, content-addressed base image
/// (`images/<sha256>/base.qcow2`, ext4 inside) in one streaming pass: libarchive decodes, each
/// entry is validated and written straight into a fresh ext4 filesystem through libext2fs (no
/// staging tree, no root needed), and the SHA-256 is computed on the way.
///
/// All work happens in a locked scratch folder; the image folder and its rows appear only after
/// everything succeeded, so a failure, Ctrl-C or SIGKILL leaves nothing half-made behind (the
/// journal row and scratch folder of a killed import are swept by the next command).
public struct ImageImporter: Sendable {
    public static let minimumFilesystemSize: Int64 = 8 << 30

    let home: BurrowHome
    let database: BurrowDatabase
    let runner: ProcessRunner
    let progress: ProgressReporter

    public init(home: BurrowHome, database: BurrowDatabase, runner: ProcessRunner = ProcessRunner(), progress: ProgressReporter = SilentProgress()) {
        self.home = home
        self.database = database
        self.runner = runner
        self.progress = progress
    }

    public func importImage(_ request: ImportRequest) async throws -> ImportResult {
        try Names.validate(request.name, what: "image")
        if let expected = request.expectedDigest { try Self.validateDigest(expected) }
        let path = request.tarball.path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw BurrowError(.notFound, "cannot read \(path)", hint: "Check the path, or give an http(s) URL.")
        }
        let inputSize = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0

        // Knowing the digest up front turns a re-import into a lookup; hashing costs a small
        // fraction of an import, so it is worth it when no digest was given.
        let knownDigest: String
        if let expected = request.expectedDigest {
            knownDigest = expected
        } else {
            progress.begin("hashing", total: inputSize)
            knownDigest = try HashingFileSource.digest(ofFileAt: path, progress: progress)
            progress.end()
        }
        if let cached = try reuseCachedImage(request, digest: knownDigest) { return cached }

        let scratch = try home.makeScratchDirectory(purpose: "import")
        defer { scratch.release() }
        let operation = try database.beginOperation(kind: "import", subject: knownDigest, scratchPath: scratch.url.path)
        defer { try? database.endOperation(operation) }

        let rawImage = scratch.url.appendingPathComponent("root.ext4")
        let size = request.filesystemSize ?? max(Self.minimumFilesystemSize, Self.roundUp(inputSize * 20, to: 1 << 30))
        try await makeEmptyFilesystem(at: rawImage, size: size)
        CrashPoint.reach("import.filesystem-made")

        progress.begin("importing", total: inputSize)
        let written = try fill(rawImage, from: path, request: request, size: size)
        progress.end()
        let tree: WrittenTree
        if let written {
            tree = written
        } else {
            // That pass wrote the archive's own files; the root filesystem is its layers, stacked.
            try FileManager.default.removeItem(at: rawImage)
            try await makeEmptyFilesystem(at: rawImage, size: size)
            tree = try flatten(rawImage, from: path, request: request, size: size, scratch: scratch.url, inputSize: inputSize)
        }
        try verify(tree.digest, of: request, knownDigest: knownDigest)

        let converted = scratch.url.appendingPathComponent("base.qcow2")
        try await runner.run("qemu-img", ["convert", "-W", "-O", "qcow2", "-o", "cluster_size=65536", rawImage.path, converted.path], what: "converting the image to qcow2")
        try FileManager.default.removeItem(at: rawImage)
        CrashPoint.reach("import.converted")
        let base = try publish(converted, digest: tree.digest, virtualSize: size, traits: tree.traits)
        CrashPoint.reach("import.published")
        let image = try register(request, base: base)
        return ImportResult(image: image, base: base, reusedCachedImage: false, entries: tree.entries)
    }

    /// Binds the request's name to an already imported base image with this digest, if there
    /// is one; nil when the bytes still have to be imported.
    public func reuseCachedImage(_ request: ImportRequest, digest: String) throws -> ImportResult? {
        try Names.validate(request.name, what: "image")
        try checkNameIsFree(request.name, for: digest)
        guard let cached = try database.baseImage(digest: digest),
              FileManager.default.fileExists(atPath: home.baseImagePath(digest: digest).path)
        else { return nil }
        let image = try register(request, base: cached)
        return ImportResult(image: image, base: cached, reusedCachedImage: true, entries: 0)
    }

    // MARK: - Steps

    private func makeEmptyFilesystem(at url: URL, size: Int64) async throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw BurrowError(.failure, "cannot create \(url.path)", hint: "Check free space and permissions under \(home.root.path).")
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        // The file is sparse, so the storage really is zeroed: mkfs need not write inode tables,
        // and the guest kernel will not zero them lazily into every environment's overlay.
        try await runner.run(
            "mkfs.ext4",
            ["-q", "-F", "-L", "burrow-root", "-E", "root_owner=0:0,assume_storage_prezeroed=1", url.path],
            what: "creating the ext4 filesystem"
        )
    }

    /// What one pass over the input left in the image's filesystem.
    private struct WrittenTree {
        let digest: String
        let entries: Int
        let traits: GuestTraits
    }

    /// Writes the archive's entries as the image's tree, hashing the input on the way; nil when
    /// they turned out to be a container image archive, whose layers `flatten` stacks instead.
    private func fill(_ rawImage: URL, from path: String, request: ImportRequest, size: Int64) throws -> WrittenTree? {
        let source = try HashingFileSource(path: path, progress: progress)
        let filesystem = try Ext4Filesystem(imagePath: rawImage.path)
        let reader: ArchiveReader
        do {
            reader = try ArchiveReader(source: source)
        } catch let error as ArchiveError {
            throw notATarball(request, error)
        }
        let writer = try ImageTreeWriter(filesystem: filesystem)
        let validator = EntryValidator(stripComponents: request.stripComponents)
        do {
            try explainingFullDisks(size: size) {
                while let entry = try reader.nextEntry() {
                    guard let validated = try validator.validate(entry) else { continue }
                    try writer.add(validated, nextDataBlock: reader.nextDataBlock)
                }
            }
        } catch let error as ArchiveError {
            throw writer.entriesWritten == 0 ? notATarball(request, error) : BurrowError(
                .invalidInput, "\(request.source) is damaged or truncated: \(error.message)",
                hint: "Download it again; nothing was imported."
            )
        }
        guard writer.entriesWritten > 0 else {
            throw BurrowError(.invalidInput, "\(request.source) holds no files", hint: "Check that it is a rootfs tarball (and that --strip-components is right).")
        }
        if !writer.contains("/etc") && ContainerImageArchive.isOne(contains: writer.contains) { return nil }
        if let mistake = Self.wrappedInAFolder(request, contains: writer.contains, topLevelNames: writer.topLevelNames) { throw mistake }
        try explainingFullDisks(size: size) { try filesystem.close() }
        return WrittenTree(digest: try source.finish(), entries: writer.entriesWritten, traits: GuestTraits.detect(resolve: writer.resolvedPath))
    }

    /// Writes the root filesystem of a container image archive (`docker save`, an OCI layout):
    /// its files are unpacked into the scratch folder, then its layers are stacked bottom first,
    /// each checked against the digest its manifest names.
    private func flatten(_ rawImage: URL, from path: String, request: ImportRequest, size: Int64, scratch: URL, inputSize: Int64) throws -> WrittenTree {
        progress.begin("unpacking the container image", total: inputSize)
        let source = try HashingFileSource(path: path, progress: progress)
        let archive: ContainerImageArchive
        do {
            archive = try ContainerImageArchive.unpack(try ArchiveReader(source: source), into: scratch.appendingPathComponent("container"), source: request.source)
        } catch let error as ArchiveError {
            throw BurrowError(.invalidInput, "\(request.source) is damaged or truncated: \(error.message)", hint: "Save it again; nothing was imported.")
        }
        let digest = try source.finish()
        progress.end()

        let layers = try archive.layers()
        let filesystem = try Ext4Filesystem(imagePath: rawImage.path)
        let writer = try ImageTreeWriter(filesystem: filesystem)
        var stack = LayerStack(writer: writer)
        let validator = EntryValidator()
        for (number, layer) in zip(1..., layers) {
            let layerSize = (try FileManager.default.attributesOfItem(atPath: layer.file.path)[.size] as? NSNumber)?.int64Value
            progress.begin("layer \(number) of \(layers.count)", total: layerSize)
            let layerSource = try HashingFileSource(path: layer.file.path, progress: progress)
            stack.beginLayer()
            do {
                let reader = try ArchiveReader(source: layerSource)
                try explainingFullDisks(size: size) {
                    while let entry = try reader.nextEntry() {
                        guard let validated = try validator.validate(entry) else { continue }
                        try stack.add(validated, nextDataBlock: reader.nextDataBlock)
                    }
                }
            } catch let error as ArchiveError {
                throw BurrowError(.invalidInput, "layer \(layer.shownName) of \(request.source) is not a readable tarball: \(error.message)", hint: "Save the image again; nothing was imported.")
            }
            if let expected = layer.expectedDigest, try layerSource.finish() != expected {
                throw BurrowError(.invalidInput, "layer \(layer.shownName) of \(request.source) does not match its digest", hint: "The archive is damaged; save the image again. Nothing was imported.")
            }
            progress.end()
        }
        try explainingFullDisks(size: size) { try filesystem.close() }
        return WrittenTree(digest: digest, entries: writer.entriesWritten, traits: GuestTraits.detect(resolve: writer.resolvedPath))
    }

    /// Writing into the image's filesystem ran out of room: on the host, or in the filesystem itself.
    private func explainingFullDisks<Result>(size: Int64, _ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch let error as Ext4Error where error.code == Int(ENOSPC) {
            throw BurrowError(.failure, "no space left on the host under \(home.root.path)", hint: "Free some space (burrow image rm, burrow rm) and retry; nothing was imported.")
        } catch let error as Ext4Error where error.isOutOfSpace {
            throw BurrowError(.failure, "the rootfs does not fit in a \(size >> 30) GiB filesystem", hint: "Retry with --size \(2 * (size >> 30))G.")
        }
    }

    private func verify(_ digest: String, of request: ImportRequest, knownDigest: String) throws {
        if let expected = request.expectedDigest, expected != digest {
            throw BurrowError(
                .invalidInput, "checksum mismatch for \(request.source): expected sha256 \(expected), got \(digest)",
                hint: "The download is corrupt or the checksum is wrong; nothing was imported."
            )
        }
        guard digest == knownDigest else {
            throw BurrowError(.failure, "\(request.source) changed while it was being imported", hint: "Retry once the file is no longer being written.")
        }
    }

    /// Moves the finished image into the cache. Its folder appears complete (file synced, then
    /// renamed into place) or not at all.
    private func publish(_ converted: URL, digest: String, virtualSize: Int64, traits: GuestTraits) throws -> BaseImageRecord {
        let handle = try FileHandle(forUpdating: converted)
        try handle.synchronize()
        try handle.close()
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: converted.path)
        let staged = converted.deletingLastPathComponent().appendingPathComponent("image")
        try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        try FileManager.default.moveItem(at: converted, to: staged.appendingPathComponent("base.qcow2"))
        let destination = home.imageDirectory(digest: digest)
        try FileManager.default.createDirectory(at: home.images, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: destination.path) {
            // A concurrent import of the same bytes won, or a stale folder lingers without a row.
            if let existing = try database.baseImage(digest: digest) { return existing }
            try FileManager.default.removeItem(at: destination)
        }
        try FileManager.default.moveItem(at: staged, to: destination)
        let fileSize = (try FileManager.default.attributesOfItem(atPath: home.baseImagePath(digest: digest).path)[.size] as? NSNumber)?.int64Value ?? 0
        return BaseImageRecord(digest: digest, virtualSize: virtualSize, fileSize: fileSize, createdAt: Date(), guestTraits: traits)
    }

    private func register(_ request: ImportRequest, base: BaseImageRecord) throws -> ImageRecord {
        let image = ImageRecord(name: request.name, digest: base.digest, distro: request.distro, source: request.source, createdAt: Date())
        do {
            try database.register(base: base, image: image)
        } catch StoreError.nameTaken(let name) {
            throw Self.nameTakenError(name)
        }
        return try database.image(named: request.name) ?? image
    }

    private func checkNameIsFree(_ name: String, for digest: String) throws {
        if let existing = try database.image(named: name), existing.digest != digest {
            throw Self.nameTakenError(name)
        }
    }

    // MARK: - Helpers

    static func nameTakenError(_ name: String) -> BurrowError {
        BurrowError(.wrongState, "an image named '\(name)' already exists with different contents", hint: "Choose another name, or remove it first: burrow image rm \(name)")
    }

    static func validateDigest(_ digest: String) throws {
        guard digest.count == 64, digest.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw BurrowError(.invalidInput, "'\(digest)' is not a sha256 digest", hint: "Give 64 hexadecimal digits.")
        }
    }

    /// A tree wrapped in one folder (Arch's `root.x86_64/`), which an import would keep as an
    /// image no environment can boot. Nil for anything with a top-level /etc.
    static func wrappedInAFolder(_ request: ImportRequest, contains: (String) -> Bool, topLevelNames: [String]) -> BurrowError? {
        if contains("/etc") { return nil }
        if topLevelNames.count == 1, let folder = topLevelNames.first, contains("/\(folder)/etc") {
            return BurrowError(
                .invalidInput, "\(request.source) holds its root filesystem inside the folder \(folder)/",
                hint: "Import it without that folder: burrow image import \(request.name) \(request.source) --strip-components \(request.stripComponents + 1)"
            )
        }
        return nil
    }

    private func notATarball(_ request: ImportRequest, _ error: ArchiveError) -> BurrowError {
        BurrowError(.invalidInput, "\(request.source) is not a readable tar archive: \(error.message)", hint: "burrow imports .tar, .tar.gz, .tar.xz, .tar.zst and .wsl rootfs tarballs.")
    }

    static func roundUp(_ value: Int64, to multiple: Int64) -> Int64 {
        (value + multiple - 1) / multiple * multiple
    }
}
