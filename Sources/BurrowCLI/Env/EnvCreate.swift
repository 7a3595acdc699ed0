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
              burrow create web --image debian-12 --workspace . --port 8080:80 \\
                --env MODE=dev
              burrow create ml --image debian-12 --memory 16G --gpu 1 --cuda 12.4
            GPUs are chosen at each start, as whole IOMMU groups (see burrow gpu ls);
            --cuda installs NVIDIA's driver and that CUDA toolkit into a cached layer.
            """
    )

    @Argument(help: "Name of the new environment.") var name: String
    @Option(help: "Image to build it from (see burrow image ls).") var image: String
    @Option(help: "Virtual CPUs.") var cpus: Int = 2
    @Option(help: "Memory, e.g. 2G or 1536M.") var memory: String = "2G"
    @Option(help: "Disk size, e.g. 20G; the guest's filesystem grows to fill it (default and least: the image's size).") var disk: String?
    @Option(help: "Accelerator: kvm or tcg (default: $BURROW_ACCEL, else KVM where it works).") var accel: Accelerator?
    @Option(help: "GPUs to pass through at each start: all, a count, a PCI address or part of a model name.") var gpu: String?
    @Option(help: "CUDA toolkit version to install with NVIDIA's driver, e.g. 12.4.") var cuda: String?
    @Flag(help: "Print the environment as JSON.") var json = false
    @OptionGroup var shares: ShareOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (name, image, cpus, memory, disk, accel, gpu, cuda, json, shares, connection) = (name, image, cpus, memory, disk, accel, gpu, cuda, json, shares, connection)
        try await runCommand {
            let (folders, ports, variables) = (try shares.sharedFolders(), try shares.portRules(), try shares.environment())
            let context = try await CommandContext.open()
            let service = try context.environments(connection)
            var options = CreateOptions(
                name: name, image: image, cpus: cpus, memoryMiB: Int(try parseSize(memory) >> 20), diskBytes: try disk.map(parseSize), accelerator: accel,
                sharedFolders: folders, ports: ports, variables: variables
            )
            options.gpu = gpu
            options.cuda = cuda
            let record = try await service.create(options)
            if json {
                print(try JSONOutput.encode(EnvironmentSummary(try service.status(record), home: context.home)))
            } else {
                print("Created \(record.name) from \(record.imageName). Start it with: burrow start \(record.name)  (or: burrow shell \(record.name))")
            }
        }
    }
}

extension Accelerator: ExpressibleByArgument {}
