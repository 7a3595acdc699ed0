import ArgumentParser
import BurrowCore
import Foundation

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the host and reconcile burrow's records with libvirt and the files.",
        discussion: """
            Reports each finding with the action it would take; --fix takes them.
            Exits 0 when nothing is left to fix. Examples:
              burrow doctor
              burrow doctor --fix --json
            """
    )

    @Flag(help: "Take the actions instead of only reporting them.") var fix = false
    @Flag(help: "Print the findings as JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (fix, json, connection) = (fix, json, connection)
        try await runCommand {
            let context = try await CommandContext.open(holdingStore: !fix)
            let doctor = Doctor(home: context.home, database: context.database, hypervisorURI: LibvirtHypervisor.defaultURI(explicit: connection.uri), notices: printNotice)
            let findings = try await doctor.run(fix: fix)
            if json {
                print(try JSONOutput.encode(findings))
            } else {
                for finding in findings {
                    let mark = switch finding.severity {
                    case .ok: "ok     "
                    case .info: "info   "
                    case .warning: "warning"
                    case .problem: finding.fixed ? "fixed  " : "PROBLEM"
                    }
                    var line = "\(mark)  \(finding.subject): \(finding.detail)"
                    if let action = finding.action, !finding.fixed { line += "\n         → \(action)" }
                    print(line)
                }
            }
            let open = findings.filter { $0.severity == .problem && !$0.fixed }
            if !open.isEmpty {
                throw BurrowError(.failure, "\(open.count) problem(s) found", hint: fix ? "See the actions above." : "Run burrow doctor --fix to take the actions.")
            }
        }
    }
}
