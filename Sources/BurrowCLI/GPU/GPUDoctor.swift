import ArgumentParser
import BurrowCore
import Foundation

struct GPUDoctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that this host can pass GPUs to environments, and say how to fix what cannot.",
        discussion: """
            Checks the IOMMU (kernel command line, active groups), vfio-pci, the
            locked-memory limit, libvirt's view of PCI devices, and the GPUs.
            Exits 0 only when no check fails; a check that cannot be made
            (libvirt not running) is skipped, not failed.

            Examples:
              burrow gpu doctor
              burrow gpu doctor --json | jq '.checks[] | select(.status == "fail")'
            """
    )

    @Flag(help: "Print the checks as JSON.") var json = false
    @Option(help: "The libvirt connection to ask about PCI devices (default: $BURROW_CONNECT, else qemu:///system, which passthrough needs).") var connect: String?

    func run() async throws {
        let json = json
        // Passthrough needs the system instance, whoever asks.
        let connect = LibvirtHypervisor.defaultURI(explicit: connect, fallback: "qemu:///system")
        try await runCommand {
            let checks = await GPUHostDoctor(paths: .fromEnvironment(), libvirtURI: connect).run()
            let failed = checks.filter { $0.status == .fail }.count
            if json {
                print(try JSONOutput.encode(Report(passed: failed == 0, checks: checks)))
            } else {
                for check in checks {
                    print("\(check.status.rawValue.uppercased().padding(toLength: 5, withPad: " ", startingAt: 0)) \(check.title): \(check.detail)")
                    if check.status != .ok, let fix = check.fix { print("      fix: \(fix)") }
                }
            }
            guard failed == 0 else {
                throw BurrowError(.failure, "\(failed) of \(checks.count) GPU checks failed")
            }
        }
    }

    private struct Report: Encodable {
        let passed: Bool
        let checks: [GPUHostCheck]
    }
}
