import ArgumentParser

/// `burrow image …`: the cached base images environments are made from.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Import, download, list and remove base images.",
        subcommands: [ImageImport.self, ImagePull.self, ImageList.self, ImageRemove.self, ImagePrune.self]
    )
}
