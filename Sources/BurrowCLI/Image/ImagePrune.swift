import ArgumentParser
import BurrowCore
import Foundation

struct ImagePrune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove cached provisioning layers that no environment is built on.",
        discussion: "They are rebuilt when a project needs them again. Example: burrow image prune"
    )

    func run() async throws {
        try await runCommand {
            let context = try await CommandContext.open()
            let released = try context.database.releaseUnusedLayers(kind: .provisioned)
            var freed: Int64 = 0
            for layer in released {
                let file = context.home.layerFile(layer)
                freed += EnvironmentService.allocatedBytes(file)
                try? FileManager.default.removeItem(at: file)
            }
            print("Removed \(released.count) unused layer(s), \(ByteCountFormatter.string(fromByteCount: freed, countStyle: .binary)).")
        }
    }
}
