import ArgumentParser

/// `burrow image …`: the cached base images environments are made from.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Import, download, list and remove base images.",
        discussion: """
            A base image is a rootfs tarball turned once into a read-only disk, which
            environments share; provisioning results are cached layers on top.
            Examples:
              burrow image pull debian-12
              burrow image import mydistro ./rootfs.tar.zst
              burrow image ls --layers
              burrow image prune
            """,
        subcommands: [ImageImport.self, ImagePull.self, ImageList.self, ImageRemove.self, ImagePrune.self]
    )
}
