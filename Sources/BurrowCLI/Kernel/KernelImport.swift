import ArgumentParser
import BurrowCore
import Foundation

struct KernelImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Install a guest kernel from a vmlinuz file and its modules.",
        discussion: """
            VMLINUZ is the kernel as a distribution ships it. --modules is its
            module tree (/lib/modules/<release>), a folder holding
            lib/modules/<release>, or a tar archive (optionally compressed) of
            either. The release is read from the kernel, else from a file name
            like vmlinuz-<release>, and must match the modules. Importing an
            installed release replaces it.

            Examples:
              burrow kernel import /boot/vmlinuz-6.1.0-26-amd64 \\
                  --modules /lib/modules/6.1.0-26-amd64
              burrow kernel import ./vmlinuz-6.12.0-custom --modules ./mods.tar.xz
            """
    )

    @Argument(help: "The kernel image (vmlinuz).") var vmlinuz: String
    @Option(help: "The kernel's module folder, or a tarball of it.") var modules: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let (vmlinuz, modules, json) = (vmlinuz, modules, json)
        try await runCommand {
            let context = try await CommandContext.open()
            let store = KernelStore(home: context.home)
            let kernel = try await store.importKernel(
                vmlinuz: URL(fileURLWithPath: vmlinuz), modules: URL(fileURLWithPath: modules),
                progress: StepProgress.make(json: json)
            )
            try printInstalledKernel(kernel, json: json, verb: "Imported")
        }
    }
}
