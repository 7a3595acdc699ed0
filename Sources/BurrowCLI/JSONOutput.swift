import BurrowStore
import Foundation

/// Stable JSON for scripts: sorted keys, ISO-8601 dates.
enum JSONOutput {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// One image as `image ls --json` and `image import --json` print it.
struct ImageSummary: Encodable {
    let name: String
    let distro: String?
    let digest: String
    let source: String
    let virtualSize: Int64
    let fileSize: Int64
    let createdAt: Date
    let usedBy: Int
    /// Whether it boots as is; false means burrow provisions init/sshd/kmod once before first use.
    let guestReady: Bool
    let packageManager: String?
    /// With `--layers`: the cached layers on this image, each naming its parent (nil: the image).
    let layers: [LayerSummary]?

    init(_ image: ImageRecord, _ base: BaseImageRecord, usedBy: Int, layers: [LayerSummary]? = nil) {
        name = image.name
        distro = image.distro
        digest = base.digest
        source = image.source
        virtualSize = base.virtualSize
        fileSize = base.fileSize
        createdAt = image.createdAt
        self.usedBy = usedBy
        guestReady = base.guestTraits?.isReady ?? true
        packageManager = base.guestTraits?.packageManager
        self.layers = layers
    }
}

/// One cached layer in `image ls --layers --json`, with the environments whose disks sit on it.
struct LayerSummary: Encodable {
    let key: String
    let parentKey: String?
    let kind: String
    let purpose: String
    let createdAt: Date
    let environments: [String]

    init(_ layer: LayerRecord, environments: [String]) {
        key = layer.key
        parentKey = layer.parentKey
        kind = layer.kind.rawValue
        purpose = layer.purpose
        createdAt = layer.createdAt
        self.environments = environments
    }
}
