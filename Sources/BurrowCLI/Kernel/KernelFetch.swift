import ArgumentParser
import BurrowCore
import Foundation

struct KernelFetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Install this host distribution's newest kernel for guests.",
        discussion: """
            Debian and Ubuntu hosts: the kernel package that linux-image-amd64 (or
            -arm64; linux-image-generic on Ubuntu) depends on is downloaded with
            apt-get download and unpacked. No root is needed and nothing is
            installed on the host. Fetching an installed release replaces it.

            Examples:
              burrow kernel fetch
              burrow kernel fetch --json | jq -r .bootKernel
            """
    )

    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let json = json
        try await runCommand {
            let context = try await CommandContext.open()
            let store = KernelStore(home: context.home)
            let kernel = try await store.fetch(progress: StepProgress.make(json: json))
            try printInstalledKernel(kernel, json: json, verb: "Fetched")
        }
    }
}

/// How `kernel fetch` and `kernel import` report the kernel they installed.
func printInstalledKernel(_ kernel: KernelCore, json: Bool, verb: String) throws {
    if json {
        print(try JSONOutput.encode(KernelSummary(kernel, current: false)))
        return
    }
    let boot = kernel.vmlinux == nil ? "vmlinuz (no ELF kernel could be extracted)" : "vmlinux"
    print("\(verb) kernel \(kernel.version) into \(kernel.directory.path); guests boot its \(boot).")
}
