import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// Environments follow the kernel core the way WSL's distributions do: the next cold start boots
/// the newest installed release. (Lives beside the GPU tests for their environment sandbox.)
@Suite struct KernelUpgradeTests {
    @Test func aColdStartBootsTheNewestKernel() async throws {
        let sandbox = try await EnvironmentSandbox()
        _ = try await sandbox.create("a")
        let domain = sandbox.home.domainName(for: "a")
        #expect(try #require(sandbox.hypervisor.xml(ofDomain: domain)).contains("/kernels/\(EnvironmentSandbox.kernelRelease)/"))

        let folder = try installKernelManifest(in: sandbox.home, version: "6.1.0-100-amd64")

        try await sandbox.start("a")
        let xml = try #require(sandbox.hypervisor.xml(ofDomain: domain))
        #expect(xml.contains("<kernel>\(folder.path)/vmlinuz</kernel>") && xml.contains("\(folder.path)/modules.img"))
        #expect(!xml.contains(EnvironmentSandbox.kernelRelease))
    }
}

/// A boot that burrow's initramfs gives up on ends the wait at once with its reason, instead of
/// after the whole boot timeout. (Lives beside the GPU tests for their environment sandbox.)
@Suite struct InitFailureTests {
    @Test func theInitramfsReasonEndsTheWait() async throws {
        let sandbox = try await EnvironmentSandbox()
        _ = try await sandbox.create("broken")
        let console = EnvironmentPaths(home: sandbox.home, name: "broken").consoleLog
        try Data("Run /init as init process\r\nBURROW-INIT-FAILED no disk with serial burrow-root\r\nburrow-init: this environment cannot boot\r\n/ # \u{1B}[6n\u{1B}]0;title\u{07}\r\n".utf8).write(to: console)
        let started = Date()
        let error = await #expect(throws: BurrowError.self) { try await sandbox.service().start("broken", timeout: 60) }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(error?.message.contains("cannot boot: no disk with serial burrow-root") == true)
        #expect(error?.hint?.contains("burrow stop --force broken") == true)
        // The guest's terminal queries and titles are not passed on to the user's terminal.
        #expect(error?.message.contains("\u{1B}") == false && error?.message.contains("/ #") == true)
    }

    @Test func onlyTheMarkedLineCounts() throws {
        let directory = try TemporaryDirectory(prefix: "burrow-console")
        let console = directory.path("console.log")
        #expect(EnvironmentService.initFailure(inConsole: console) == nil)
        try Data("echo BURROW-INIT-FAILED is only quoted here\nBURROW-NETWORK-UP\n".utf8).write(to: console)
        #expect(EnvironmentService.initFailure(inConsole: console) == nil)
        try Data("x\nBURROW-INIT-FAILED seed: bad BURROW_HOSTNAME 'a b'\r\n".utf8).write(to: console)
        #expect(EnvironmentService.initFailure(inConsole: console) == "seed: bad BURROW_HOSTNAME 'a b'")
    }
}
