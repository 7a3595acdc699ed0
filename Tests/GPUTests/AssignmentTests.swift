import BurrowStore
import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// GPU assignment through the environment use cases, on a fake hypervisor and a fixture host
/// with one GPU and its audio function.
@Suite struct AssignmentTests {
    @Test func twoEnvironmentsAskingForTheOnlyGPUGetItInTurn() async throws {
        let sandbox = try await EnvironmentSandbox()
        for name in ["a", "b"] { _ = try await sandbox.create(name, gpu: "1") }

        // Two services with their own store connections: two burrow processes starting at once.
        let (first, second) = (try sandbox.service(), try sandbox.service())
        async let startA = outcome { try await sandbox.start("a", with: first) }
        async let startB = outcome { try await sandbox.start("b", with: second) }
        let outcomes = await ["a": startA, "b": startB]

        let winners = outcomes.filter { $0.value == nil }.map(\.key)
        try #require(winners.count == 1, "exactly one start must win: \(outcomes)")
        let winner = winners[0]
        let loser = winner == "a" ? "b" : "a"
        let refusal = try #require(outcomes[loser] as? BurrowError)
        #expect(refusal.kind == .wrongState)
        #expect(refusal.message.contains("held by environment '\(winner)'"), "\(refusal.message)")
        #expect(try sandbox.state(winner) == .running)
        #expect(try sandbox.state(loser) == .stopped)
        #expect(try sandbox.holders() == [EnvironmentSandbox.gpu: winner, EnvironmentSandbox.audio: winner])
        #expect(try sandbox.database.gpuHolders()[try #require(PCIAddress(EnvironmentSandbox.audio))] == winner)

        try await sandbox.service().stop(winner)
        #expect(try sandbox.holders().isEmpty)
        try await sandbox.start(loser)
        #expect(try sandbox.state(loser) == .running)
        #expect(try sandbox.holders() == [EnvironmentSandbox.gpu: loser, EnvironmentSandbox.audio: loser])
    }

    @Test func theDomainGetsTheWholeGroupAndValidates() async throws {
        let sandbox = try await EnvironmentSandbox()
        _ = try await sandbox.create("a", gpu: "h100")
        let domain = sandbox.home.domainName(for: "a")
        let before = try #require(sandbox.hypervisor.xml(ofDomain: domain))
        #expect(before.contains("machine='pc'") && !before.contains("<hostdev"))

        try await sandbox.start("a")
        let xml = try #require(sandbox.hypervisor.xml(ofDomain: domain))
        #expect(xml.contains("machine='q35'"))
        #expect(xml.contains("bus=pcie.0,addr=0x10"))
        #expect(xml.components(separatedBy: "<hostdev mode='subsystem' type='pci' managed='yes'>").count - 1 == 2)
        #expect(xml.contains("<address domain='0x0000' bus='0x65' slot='0x00' function='0x1'/>"))
        // 2 GiB of guest memory + 1 GiB, in KiB.
        #expect(xml.contains("<hard_limit unit='KiB'>3145728</hard_limit>"))

        let validation = try await validateDomainXML(xml)
        #expect(validation.status == 0, "\(validation.standardError)")

        let libvirt = try LibvirtHypervisor(uri: "test:///default")
        try libvirt.define(xml: xml)
        try libvirt.start(domain: domain)
        #expect(try libvirt.state(ofDomain: domain) == .running)
        try libvirt.destroy(domain: domain)
        try libvirt.undefine(domain: domain)
    }

    @Test func aFailedStartGivesTheGPUBack() async throws {
        let sandbox = try await EnvironmentSandbox()
        _ = try await sandbox.create("a", gpu: "all")
        sandbox.hypervisor.failNextStart(of: sandbox.home.domainName(for: "a"))
        let error = await outcome { try await sandbox.start("a") }
        #expect((error as? BurrowError)?.message.contains("qemu unexpectedly closed") == true)
        #expect(try sandbox.holders().isEmpty)
        try await sandbox.start("a")
        #expect(try sandbox.holders().count == 2)
    }

    @Test func aGuestThatPoweredItselfOffHoldsNothing() async throws {
        let sandbox = try await EnvironmentSandbox()
        for name in ["a", "b"] { _ = try await sandbox.create(name, gpu: EnvironmentSandbox.gpu) }
        try await sandbox.start("a")
        sandbox.hypervisor.powerOffFromInside(sandbox.home.domainName(for: "a"))
        let service = try sandbox.service()
        #expect(try service.idleGPUAssignments() == ["a": [EnvironmentSandbox.gpu, EnvironmentSandbox.audio]])

        // Not while another command works on it: it may be starting.
        let lock = try await sandbox.home.lockEnvironment("a")
        #expect(try await service.releaseIdleGPUs(of: "a") == false)
        lock.release()

        try await sandbox.start("b")
        #expect(try sandbox.holders() == [EnvironmentSandbox.gpu: "b", EnvironmentSandbox.audio: "b"])
        #expect(try service.idleGPUAssignments().isEmpty)
    }

    @Test func stopOfAnEnvironmentAlreadyOffStillGivesTheGPUBack() async throws {
        let sandbox = try await EnvironmentSandbox()
        _ = try await sandbox.create("a", gpu: "1")
        try await sandbox.start("a")
        sandbox.hypervisor.powerOffFromInside(sandbox.home.domainName(for: "a"))
        try await sandbox.service().stop("a")
        #expect(try sandbox.holders().isEmpty)
    }

    @Test func removingAnEnvironmentReleasesItsGPU() async throws {
        let sandbox = try await EnvironmentSandbox()
        _ = try await sandbox.create("a", gpu: "1")
        try await sandbox.start("a")
        try await sandbox.service().remove("a", force: true)
        #expect(try sandbox.holders().isEmpty)
    }

    @Test func gpuEnvironmentsCannotSuspend() async throws {
        let sandbox = try await EnvironmentSandbox()
        _ = try await sandbox.create("a", gpu: "1")
        try await sandbox.start("a")
        let error = await outcome { try await sandbox.service().suspend("a") }
        let refusal = try #require(error as? BurrowError)
        #expect(refusal.kind == .wrongState && refusal.message.contains("cannot be suspended"))
        #expect(try sandbox.state("a") == .running)
    }

    @Test func aCloneAsksForTheSameGPUsWhenItStarts() async throws {
        let sandbox = try await EnvironmentSandbox()
        _ = try await sandbox.create("a", gpu: "h100")
        try await sandbox.start("a")
        let clone = try await sandbox.service().clone("a", to: "a2")
        #expect(clone.gpuRequest == "h100")
        #expect(try sandbox.holders().values.allSatisfy { $0 == "a" })
        let refusal = await outcome { try await sandbox.start("a2") }
        #expect((refusal as? BurrowError)?.message.contains("held by environment 'a'") == true)
    }

    @Test(arguments: [("0", nil), (nil, "12.4.1"), (nil, "twelve"), ("", nil)] as [(String?, String?)])
    func createRefusesBadRequestsBeforeMakingAnything(gpu: String?, cuda: String?) async throws {
        let sandbox = try await EnvironmentSandbox()
        let error = await outcome { _ = try await sandbox.create("a", gpu: gpu, cuda: cuda) }
        #expect((error as? BurrowError)?.kind == .invalidInput)
        #expect(try sandbox.database.allEnvironments().isEmpty)
    }

    @Test func environmentsWithoutARequestNeverTouchTheTable() async throws {
        let sandbox = try await EnvironmentSandbox()
        _ = try await sandbox.create("plain")
        try await sandbox.start("plain")
        #expect(try sandbox.holders().isEmpty)
        let xml = try #require(sandbox.hypervisor.xml(ofDomain: sandbox.home.domainName(for: "plain")))
        #expect(xml.contains("machine='pc'") && xml.contains("bus=pci.0,addr=0x10"))
    }
}
