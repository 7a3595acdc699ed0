import ArgumentParser
import BurrowCore
import Foundation

/// Options shared by every command that talks to libvirt.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("connect"), help: "libvirt URI (default: qemu:///system as root, qemu:///session otherwise; or $BURROW_CONNECT).")
    var uri: String?
}

extension CommandContext {
    /// The environment use cases over the chosen libvirt connection; notices go to stderr.
    func environments(_ connection: ConnectionOptions) throws -> EnvironmentService {
        let hypervisor = try LibvirtHypervisor(uri: LibvirtHypervisor.defaultURI(explicit: connection.uri))
        let service = EnvironmentService(home: home, database: database, hypervisor: hypervisor, notices: printNotice)
        try service.recoverInterruptedOperations()
        return service
    }
}

/// Shows a notice (not an error) on stderr, prefixed like every burrow message.
@Sendable func printNotice(_ notice: String) {
    FileHandle.standardError.write(Data("burrow: \(notice)\n".utf8))
}

/// Replaces this process with `ssh` into an environment, so the terminal, stdin/stdout/stderr
/// and the exit status are the remote command's own.
func execSSH(_ arguments: [String]) throws -> Never {
    try execTool("ssh", arguments, package: "openssh-client")
}

/// Replaces this process with an OpenSSH client tool (`ssh`, `scp`), found on PATH.
func execTool(_ name: String, _ arguments: [String], package: String) throws -> Never {
    guard let tool = ProcessRunner.which(name) else {
        throw BurrowError(.failure, "\(name) is not installed", hint: "Install \(package) (Scripts/setup does).")
    }
    let argv = ([tool] + arguments).map { strdup($0) } + [nil]
    execv(tool, argv)
    throw BurrowError(.failure, "could not run \(name): \(String(cString: strerror(errno)))")
}
