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

        let folder = try sandbox.installKernel(version: "6.1.0-100-amd64")

        try await sandbox.start("a")
        let xml = try #require(sandbox.hypervisor.xml(ofDomain: domain))
        #expect(xml.contains("<kernel>\(folder.path)/vmlinuz</kernel>") && xml.contains("\(folder.path)/modules.img"))
        #expect(!xml.contains(EnvironmentSandbox.kernelRelease))
    }
}
