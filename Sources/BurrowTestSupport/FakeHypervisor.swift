import BurrowCore
import Foundation

/// An in-memory `Hypervisor` for tests of the use cases: domains are defined from their XML's
/// `<name>`, and start, shut down and stop at once, with libvirt's refusals (starting a running
/// domain, acting on a missing one). It keeps each domain's latest definition so tests can read
/// what burrow would have given libvirt. Safe to share between tasks.
public final class FakeHypervisor: Hypervisor, @unchecked Sendable {
    /// Plays the guest of a domain being started, given its name and XML; returns the state the
    /// domain is in afterwards (a provisioning guest writes its console log and powers off).
    public typealias Guest = @Sendable (_ name: String, _ xml: String) -> DomainState

    // @unchecked: `domains` and `failingStarts` are only touched under `lock`.
    private let lock = NSLock()
    private var domains: [String: (xml: String, state: DomainState, uuid: String)] = [:]
    private var failingStarts: Set<String> = []
    private let guest: Guest
    public let uri: String

    public init(uri: String = "test:///fake", guest: @escaping Guest = { _, _ in .running }) {
        self.uri = uri
        self.guest = guest
    }

    /// The latest definition of `name`, nil when it is not defined.
    public func xml(ofDomain name: String) -> String? {
        lock.withLock { domains[name]?.xml }
    }

    /// Makes the next start of `name` fail, as qemu does when a device cannot be opened.
    public func failNextStart(of name: String) {
        lock.withLock { _ = failingStarts.insert(name) }
    }

    /// The guest powers itself off, without burrow knowing.
    public func powerOffFromInside(_ name: String) {
        lock.withLock { domains[name]?.state = .stopped }
    }

    public func define(xml: String) throws {
        guard let start = xml.range(of: "<name>"), let end = xml.range(of: "</name>", range: start.upperBound..<xml.endIndex) else {
            throw BurrowError(.invalidInput, "domain XML without a <name>")
        }
        let name = String(xml[start.upperBound..<end.lowerBound])
        lock.withLock {
            let old = domains[name]
            domains[name] = (xml, old?.state ?? .stopped, old?.uuid ?? UUID().uuidString.lowercased())
        }
    }

    public func state(ofDomain name: String) throws -> DomainState? {
        lock.withLock { domains[name]?.state }
    }

    public func start(domain name: String) throws {
        if lock.withLock({ failingStarts.remove(name) != nil }) {
            throw BurrowError(.failure, "libvirt: internal error: qemu unexpectedly closed the monitor")
        }
        try change(name) { state in
            guard state != .running else { throw BurrowError(.wrongState, "libvirt refused: domain \(name) is already running") }
            return .running
        }
        guard let xml = xml(ofDomain: name) else { return }
        let after = guest(name, xml)
        lock.withLock { domains[name]?.state = after }
    }

    public func requestShutdown(domain name: String) throws {
        try change(name) { state in state == .running ? .stopped : state }
    }

    public func destroy(domain name: String) throws {
        try change(name) { state in state == .running || state == .paused || state == .stopping ? .stopped : state }
    }

    public func undefine(domain name: String) throws {
        lock.withLock { _ = domains.removeValue(forKey: name) }
    }

    public func domainNames() throws -> [String] {
        lock.withLock { domains.keys.sorted() }
    }

    public func uuid(ofDomain name: String) throws -> String? {
        lock.withLock { domains[name]?.uuid }
    }

    public func switchToOverlay(domain name: String, target: String, overlay: String, otherTargets: [String]) throws {
        try change(name) { state in state }
    }

    public func saveAndStop(domain name: String) throws {
        try change(name) { state in
            guard state == .running else { throw BurrowError(.wrongState, "libvirt refused: domain \(name) is not running") }
            return .suspended
        }
    }

    /// Copies the file the domain's XML names for `target` with `qemu-img convert`, as a backup
    /// job would.
    public func copyDiskLive(domain name: String, target: String, to path: String, otherTargets: [String]) async throws {
        let xml = try lock.withLock {
            guard let domain = domains[name] else { throw BurrowError(.notFound, "libvirt has no domain \(name)") }
            guard domain.state == .running else { throw BurrowError(.wrongState, "libvirt refused: domain \(name) is not running") }
            return domain.xml
        }
        // The first disk in a burrow domain is its root disk (vda), as DomainSpec writes them.
        guard target == "vda", let source = xml.components(separatedBy: "<source file='").dropFirst().first?.components(separatedBy: "'").first else {
            throw BurrowError(.notFound, "domain \(name) has no disk \(target)")
        }
        try await ProcessRunner().run("qemu-img", ["convert", "-O", "raw", source, path], what: "copying the disk")
    }

    public func attachLive(domain name: String, deviceXML: String) throws {
        try change(name) { state in
            guard state == .running else { throw BurrowError(.wrongState, "libvirt refused: domain \(name) is not running") }
            return state
        }
    }

    public func detachLive(domain name: String, deviceXML: String) throws {
        try attachLive(domain: name, deviceXML: deviceXML)
    }

    private func change(_ name: String, _ transition: (DomainState) throws -> DomainState) throws {
        try lock.withLock {
            guard let domain = domains[name] else {
                throw BurrowError(.notFound, "libvirt has no domain \(name)")
            }
            domains[name]?.state = try transition(domain.state)
        }
    }
}
