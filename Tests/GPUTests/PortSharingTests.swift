import BurrowStore
import Foundation
import Testing

@testable import BurrowCore

/// A clone shares its source's port forwards, as it shares its GPU request: a host port reaches
/// one guest, so whichever starts while the other runs goes without it, until a later start.
/// (Lives beside the GPU tests for their environment sandbox.)
@Suite struct PortSharingTests {
    @Test func aCloneTakesTheForwardsAtStartWhenNoRunningGuestHoldsThem() async throws {
        let sandbox = try await EnvironmentSandbox()
        let port = try #require(PortPicker.candidate(excluding: []))
        var options = CreateOptions(name: "a", image: "deb", memoryMiB: 2048, accelerator: .tcg)
        options.ports = [PortRule(host: port, guest: 80)]
        _ = try await sandbox.service().create(options)
        _ = try await sandbox.service().clone("a", to: "b")
        #expect(try sandbox.database.environment(named: "b")?.ports == [PortRule(host: port, guest: 80)])

        let forward = "hostfwd=tcp:127.0.0.1:\(port)-:80"
        func domainXML(_ name: String) throws -> String { try #require(sandbox.hypervisor.xml(ofDomain: sandbox.home.domainName(for: name))) }
        try await sandbox.start("a")
        #expect(try domainXML("a").contains(forward))
        try await sandbox.start("b")
        #expect(try sandbox.state("b") == .running)
        #expect(try !domainXML("b").contains(forward))
        #expect(try sandbox.database.environment(named: "b")?.ports == [PortRule(host: port, guest: 80)])

        try await sandbox.service().stop("b", force: true)
        try await sandbox.service().stop("a", force: true)
        try await sandbox.start("b")
        #expect(try domainXML("b").contains(forward))
    }
}
