import ArgumentParser
import BurrowCore
import Foundation

struct ImageList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List base images.",
        discussion: "Example: burrow image ls --json | jq '.[].name'",
        aliases: ["list"]
    )

    @Flag(help: "Print the images as a JSON array.") var json = false
    @Flag(help: "Also show each image's tree of cached layers (with --json: a layers array naming each parent).") var layers = false

    func run() async throws {
        let (json, showLayers) = (json, layers)
        try await runCommand {
            let context = try await CommandContext.open()
            let listings = try context.database.imageListings()
            let all = showLayers ? try context.database.allLayers() : []
            let users = showLayers ? Dictionary(grouping: try context.database.allEnvironments(), by: { $0.layerKey ?? "" }) : [:]
            if json {
                print(try JSONOutput.encode(listings.map { listing in
                    let layers = showLayers ? all.filter { $0.parentDigest == listing.base.digest }.map { LayerSummary($0, environments: users[$0.key]?.map(\.name) ?? []) } : nil
                    return ImageSummary(listing.image, listing.base, usedBy: listing.usedBy, layers: layers)
                }))
                return
            }
            if showLayers {
                func render(parent: String?, digest: String, depth: Int) -> [String] {
                    all.filter { $0.parentDigest == digest && $0.parentKey == parent }.flatMap { layer -> [String] in
                        let envs = users[layer.key]?.map(\.name).joined(separator: ", ") ?? ""
                        let line = String(repeating: "  ", count: depth) + "└ \(layer.key.prefix(12))  \(layer.kind.rawValue)  \(layer.purpose)" + (envs.isEmpty ? "" : "  ← \(envs)")
                        return [line] + render(parent: layer.key, digest: digest, depth: depth + 1)
                    }
                }
                for listing in listings {
                    let envs = users[""]?.filter { $0.imageName == listing.image.name }.map(\.name).joined(separator: ", ") ?? ""
                    print("\(listing.image.name)  \(listing.base.digest.prefix(12))" + (envs.isEmpty ? "" : "  ← \(envs)"))
                    render(parent: nil, digest: listing.base.digest, depth: 1).forEach { print($0) }
                }
                return
            }
            guard !listings.isEmpty else {
                print("No images yet. Import one: burrow image pull debian-12, or burrow image import NAME TARBALL")
                return
            }
            let rows = listings.map { listing in
                [
                    listing.image.name, listing.image.distro ?? "-", String(listing.base.digest.prefix(12)),
                    ByteCountFormatter.string(fromByteCount: listing.base.fileSize, countStyle: .binary),
                    listing.image.createdAt.formatted(date: .abbreviated, time: .shortened), String(listing.usedBy),
                    listing.base.guestTraits?.isReady ?? true ? "yes" : "provisioned on first use",
                ]
            }
            print(Table(header: ["NAME", "DISTRO", "DIGEST", "SIZE", "CREATED", "USED BY", "GUEST READY"], rows: rows).render())
        }
    }
}
