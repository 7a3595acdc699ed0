import ArgumentParser
import BurrowCore
import Foundation

struct EnvExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an environment's filesystem to a rootfs tarball.",
        discussion: """
            The tarball keeps owners, modes, file capabilities and links, and imports
            again as an image (here or on another host), into WSL (wsl --import) or
            into docker (docker import). Compression follows the file name: .tar,
            .tar.gz, .tar.xz or .tar.zst. The environment's disk is only read; a
            running environment keeps running and is exported as it stands after a
            sync (stop it first for a clean shutdown's state).

            Examples:
              burrow export dev dev.tar.zst
              burrow image import dev-snapshot dev.tar.zst
              burrow create dev2 --image dev-snapshot
            """
    )

    @Argument(help: "Environment name.") var name: String
    @Argument(help: "The tarball to write (must not exist).") var file: String
    @Flag(help: "Print the result as JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, file, json, connection) = (name, file, json, connection)
        try await runCommand {
            let destination = URL(fileURLWithPath: file)
            let result = try await CommandContext.open().environments(connection)
                .export(name, to: destination, progress: CommandContext.progress(json: json))
            if json {
                print(try JSONOutput.encode(result))
            } else {
                let size = ByteCountFormatter.string(fromByteCount: result.bytes, countStyle: .binary)
                print("Exported \(name) to \(result.file) (\(result.entries) entries, \(size)).")
            }
        }
    }
}
