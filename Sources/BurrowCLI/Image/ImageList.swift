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

    func run() async throws {
        let json = json
        try await runCommand {
            let context = try CommandContext.open()
            let listings = try context.database.imageListings()
            if json {
                print(try JSONOutput.encode(listings.map { ImageSummary($0.image, $0.base, usedBy: $0.usedBy) }))
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
