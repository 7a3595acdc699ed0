import ArgumentParser
import BurrowCore
import Foundation

struct EnvCompact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Give the space a stopped environment's guest freed back to the host.",
        discussion: """
            Guests mount their disk with discard, so freed blocks are usually returned
            at once; compact rewrites what is left.
            Example: burrow stop dev && burrow compact dev
            """
    )

    @Argument(help: "Environment name.") var name: String
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, connection) = (name, connection)
        try await runCommand {
            let (before, after) = try await CommandContext.open().environments(connection).compact(name)
            let format = { (bytes: Int64) in ByteCountFormatter.string(fromByteCount: bytes, countStyle: .binary) }
            print("Compacted \(name): \(format(before)) → \(format(after)).")
        }
    }
}
