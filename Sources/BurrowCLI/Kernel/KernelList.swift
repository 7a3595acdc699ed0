import ArgumentParser
import BurrowCore
import Foundation

struct KernelList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List guest kernels, newest first; new guests boot the first.",
        discussion: "Example: burrow kernel ls --json | jq -r '.[] | select(.current) | .version'",
        aliases: ["list"]
    )

    @Flag(help: "Print the kernels as a JSON array.") var json = false

    func run() async throws {
        let json = json
        try await runCommand {
            let context = try await CommandContext.open()
            let kernels = try KernelStore(home: context.home).installed()
            if json {
                print(try JSONOutput.encode(kernels.enumerated().map { KernelSummary($1, current: $0 == 0) }))
                return
            }
            guard !kernels.isEmpty else {
                print("No kernels yet. Get one: burrow kernel fetch, or burrow kernel import VMLINUZ --modules DIR")
                return
            }
            let rows = kernels.enumerated().map { index, kernel in
                [
                    kernel.version, kernel.bootKernel.lastPathComponent,
                    kernel.createdAt.formatted(date: .abbreviated, time: .shortened), index == 0 ? "yes" : "", kernel.source,
                ]
            }
            print(Table(header: ["VERSION", "BOOTS", "CREATED", "CURRENT", "SOURCE"], rows: rows).render())
        }
    }
}
