import Foundation
import Libvirt

/// What burrow needs to know of a domain's life.
public enum DomainState: String, Sendable, Codable {
    case running, paused, stopped, crashed, suspended, starting, stopping
}

/// The seam between burrow's use cases and the virtualisation layer: libvirt in production
/// (`LibvirtHypervisor`), libvirt's `test:///default` driver or a fake in tests. Domain names
/// are libvirt's; a missing domain is `nil` state, not an error.
public protocol Hypervisor: Sendable {
    var uri: String { get }
    func define(xml: String) throws
    func state(ofDomain name: String) throws -> DomainState?
    func start(domain name: String) throws
    /// Asks the guest to power off (ACPI); returns at once.
    func requestShutdown(domain name: String) throws
    /// Pulls the plug.
    func destroy(domain name: String) throws
    /// Forgets the domain definition (and any managed save). A missing domain is not an error.
    func undefine(domain name: String) throws
    /// Names of every defined domain.
    func domainNames() throws -> [String]
    /// The UUID of a defined domain, or nil; a redefinition must carry it.
    func uuid(ofDomain name: String) throws -> String?
    /// Switches a running domain's disk `target` (e.g. "vda") to a new qcow2 overlay at
    /// `overlay` whose backing file is the current one (an external, disk-only snapshot);
    /// other disks are left out. The old file is no longer written afterwards.
    func switchToOverlay(domain name: String, target: String, overlay: String, otherTargets: [String]) throws
    /// Saves the guest's memory to disk and stops it; the next `start` resumes it.
    func saveAndStop(domain name: String) throws
    /// Copies a running domain's disk `target` into a new raw file at `path` as it is at this
    /// instant (what a power cut would leave), while the guest runs on; returns once the copy
    /// is complete. `otherTargets` are the domain's other disks, left out.
    func copyDiskLive(domain name: String, target: String, to path: String, otherTargets: [String]) async throws
    /// Plugs or unplugs a device of a running guest (not its persistent definition).
    func attachLive(domain name: String, deviceXML: String) throws
    func detachLive(domain name: String, deviceXML: String) throws
}

/// `Hypervisor` over a libvirt connection. Errors become `BurrowError`s that say what to do,
/// e.g. how to start libvirtd when it is not running.
public final class LibvirtHypervisor: Hypervisor, @unchecked Sendable {
    // @unchecked: LibvirtConnection is documented thread-safe (libvirt connections are).
    private let connection: LibvirtConnection
    public let uri: String

    public init(uri: String) throws {
        do {
            connection = try LibvirtConnection(uri: uri)
        } catch let error as LibvirtError {
            throw Self.translateOpenFailure(error, uri: uri)
        }
        self.uri = uri
    }

    /// `--connect` or `BURROW_CONNECT` when given, else `fallback`, else `qemu:///system` for
    /// root and `qemu:///session` otherwise.
    public static func defaultURI(explicit: String?, fallback: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["BURROW_CONNECT"], !fromEnvironment.isEmpty { return fromEnvironment }
        return fallback ?? (getuid() == 0 ? "qemu:///system" : "qemu:///session")
    }

    public func define(xml: String) throws {
        _ = try call { try connection.defineDomain(xml: xml) }
    }

    public func state(ofDomain name: String) throws -> DomainState? {
        try call {
            guard let domain = try connection.lookupDomain(name: name) else { return nil }
            switch try domain.state().state {
            case .running, .blocked: return .running
            case .paused: return .paused
            case .shuttingDown: return .stopping
            case .crashed: return .crashed
            case .pmSuspended: return .suspended
            case .shutoff, .noState, .unknown: return try domain.hasManagedSave() ? .suspended : .stopped
            }
        }
    }

    public func start(domain name: String) throws {
        try call { try domain(name).start() }
    }

    public func requestShutdown(domain name: String) throws {
        try call { try domain(name).shutdown() }
    }

    public func destroy(domain name: String) throws {
        try call {
            let domain = try domain(name)
            if try domain.isActive() { try domain.destroy() }
        }
    }

    public func undefine(domain name: String) throws {
        try call {
            guard let domain = try connection.lookupDomain(name: name) else { return }
            try domain.undefine([.managedSave, .snapshotsMetadata])
        }
    }

    public func domainNames() throws -> [String] {
        try call { try connection.listAllDomains().map(\.name) }
    }

    public func uuid(ofDomain name: String) throws -> String? {
        try call { try connection.lookupDomain(name: name)?.uuid() }
    }

    public func switchToOverlay(domain name: String, target: String, overlay: String, otherTargets: [String]) throws {
        let others = otherTargets.map { "    <disk name='\($0)' snapshot='no'/>" }.joined(separator: "\n")
        let xml = """
            <domainsnapshot>
              <disks>
                <disk name='\(target)' snapshot='external'>
                  <driver type='qcow2'/>
                  <source file='\(XMLText.escaped(overlay))'/>
                </disk>
            \(others)
              </disks>
            </domainsnapshot>
            """
        _ = try call { try domain(name).snapshotCreate(xml: xml, flags: [.diskOnly, .noMetadata, .atomic]) }
    }

    public func saveAndStop(domain name: String) throws {
        try call { try domain(name).managedSave() }
    }

    public func copyDiskLive(domain name: String, target: String, to path: String, otherTargets: [String]) async throws {
        let domain = try domain(name)
        let others = otherTargets.map { "    <disk name='\($0)' backup='no'/>" }.joined(separator: "\n")
        let xml = """
            <domainbackup mode='push'>
              <disks>
                <disk name='\(target)' type='file' backupmode='full'>
                  <driver type='raw'/>
                  <target file='\(XMLText.escaped(path))'/>
                </disk>
            \(others)
              </disks>
            </domainbackup>
            """
        try call { try domain.beginBackup(xml: xml) }
        do {
            while try call({ try domain.jobState() }) == .running {
                try await Task.sleep(for: .milliseconds(50))
            }
        } catch is CancellationError {
            try? domain.abortJob()
            throw CancellationError()
        }
        guard try call({ try domain.jobState(lastFinished: true) }) == .completed else {
            throw BurrowError(.failure, "libvirt could not copy the disk of domain \(name)", hint: "burrow logs shows the guest's side; stop the environment and export it then.")
        }
    }

    public func attachLive(domain name: String, deviceXML: String) throws {
        try call { try domain(name).attachDeviceLive(xml: deviceXML) }
    }

    public func detachLive(domain name: String, deviceXML: String) throws {
        try call { try domain(name).detachDeviceLive(xml: deviceXML) }
    }

    private func domain(_ name: String) throws -> LibvirtDomain {
        guard let domain = try connection.lookupDomain(name: name) else {
            throw BurrowError(.notFound, "libvirt has no domain \(name)", hint: "burrow doctor --fix reconciles environments with libvirt.")
        }
        return domain
    }

    private func call<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as LibvirtError {
            throw Self.translate(error, uri: uri)
        }
    }

    /// Opening a connection fails for two reasons people can act on: the daemon is not running,
    /// or an ordinary user may not use the system instance (socket permissions, or polkit, which
    /// needs the system bus).
    static func translateOpenFailure(_ error: LibvirtError, uri: String) -> BurrowError {
        let deniedWords = ["permission denied", "authentication", "polkit", "system bus"]
        if getuid() != 0, uri.contains("/system"), deniedWords.contains(where: { error.message.localizedCaseInsensitiveContains($0) }) {
            return BurrowError(
                .failure, "no permission to use libvirt at \(uri): \(error.message)",
                hint: "Join the libvirt group (sudo usermod -aG libvirt $USER, then log in again), or use your own session: --connect qemu:///session"
            )
        }
        if error.isConnectionFailure || error.message.localizedCaseInsensitiveContains("failed to connect") {
            return translate(LibvirtError(code: .noConnect, domain: error.domain, message: error.message, operation: error.operation), uri: uri)
        }
        return translate(error, uri: uri)
    }

    static func translate(_ error: LibvirtError, uri: String) -> BurrowError {
        if error.isConnectionFailure {
            let hint = uri.contains("/system")
                ? "Start it: sudo systemctl start libvirtd (without systemd: sudo sh -c 'virtlogd -d; libvirtd -d'), or choose another URI with --connect."
                : "Check that libvirt is installed (Scripts/setup) and that you may use \(uri), or choose another URI with --connect."
            return BurrowError(.failure, "cannot reach libvirt at \(uri): \(error.message)", hint: hint)
        }
        if error.isOperationInvalid {
            return BurrowError(.wrongState, "libvirt refused: \(error.message)")
        }
        return BurrowError(.failure, "libvirt: \(error.description)")
    }
}
