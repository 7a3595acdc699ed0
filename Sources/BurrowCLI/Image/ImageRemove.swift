import ArgumentParser
import BurrowCore
import BurrowStore
import Foundation

struct ImageRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove an image name, and its cached image once no name refers to it.",
        discussion: "Refused while an environment uses the image. Example: burrow image rm deb12",
        aliases: ["remove"]
    )

    @Argument(help: "Image name.") var name: String

    func run() async throws {
        let name = name
        try await runCommand {
            let context = try await CommandContext.open()
            try ImageRemoval(home: context.home, database: context.database).remove(name)
            print("Removed image \(name).")
        }
    }
}
