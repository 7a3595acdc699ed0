import ArgumentParser
import BurrowCore
import Foundation

struct EnvCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an environment from an image (a copy-on-write disk, no copying).",
        discussion: """
            Examples:
              burrow create dev --image debian-12
              burrow create big --image debian-12 --cpus 4 --memory 8G --disk 40G
              burrow create web --image debian-12 --workspace . --port 8080:80 --env MODE=dev
            """
    )

    @Argument(help: "Name of the new environment.") var name: String
    @Option(help: "Image to build it from (see burrow image ls).") var image: String
    @Option(help: "Virtual CPUs.") var cpus: Int = 2
    @Option(help: "Memory, e.g. 2G or 1536M.") var memory: String = "2G"
    @Option(help: "Disk size, e.g. 20G (default: the image's size).") var disk: String?
    @Option(help: "Accelerator: kvm or tcg (default: KVM where it works).") var accel: Accelerator?
    @Flag(help: "Print the environment as JSON.") var json = false
    @OptionGroup var shares: ShareOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, image, cpus, memory, disk, accel, json, connection) = (name, image, cpus, memory, disk, accel, json, connection)
        let (folders, ports, variables) = (try shares.sharedFolders(), try shares.portRules(), try shares.environment())
        try await runCommand {
            let context = try CommandContext.open()
            let service = try context.environments(connection)
            let options = CreateOptions(
                name: name, image: image, cpus: cpus, memoryMiB: Int(try parseSize(memory) >> 20), diskBytes: try disk.map(parseSize), accelerator: accel,
                sharedFolders: folders, ports: ports, variables: variables
            )
            let record = try await service.create(options)
            if json {
                print(try JSONOutput.encode(EnvironmentSummary(record, state: .stopped, diskUsage: 0)))
            } else {
                print("Created \(record.name) from \(record.imageName). Start it with: burrow start \(record.name)  (or: burrow shell \(record.name))")
            }
        }
    }
}

extension Accelerator: ExpressibleByArgument {}
