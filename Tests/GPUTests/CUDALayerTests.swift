import BurrowStore
import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// `Templates/cuda` in the checkout this test file belongs to.
private let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Templates/cuda")

private let aptImage = GuestTraits(hasInit: true, hasSSHServer: true, hasModuleTools: true, packageManager: "apt")

/// The CUDA templates and the layer they make. Installing for real needs NVIDIA's servers and a
/// guest; here the scripts are linted and their pure parts run, and the layer plumbing runs
/// against a fake guest that only reports success.
@Suite struct CUDALayerTests {
    @Test func templatesPassShellcheck() async throws {
        let files = ["common.sh", "apt.sh", "dnf.sh"].map { templates.appendingPathComponent($0).path }
        let output = try await ProcessRunner().runAllowingFailure("shellcheck", ["-s", "sh"] + files)
        #expect(output.status == 0, "\(output.standardOutput)")
    }

    /// What the guest runs: the version line, common.sh, then the family's script.
    @Test(arguments: ["apt", "dnf"])
    func theScriptSentToTheGuestPassesShellcheck(family: String) async throws {
        let base = BaseImageRecord(digest: "d", virtualSize: 1, fileSize: 1, createdAt: Date(), guestTraits: GuestTraits(hasInit: true, hasSSHServer: true, hasModuleTools: true, packageManager: family))
        let script = GuestProvisioner.cudaScript(try GuestProvisioner.cudaTemplate(for: base), version: "12.4")
        #expect(script.hasPrefix("BURROW_CUDA_VERSION='12.4'\nexport BURROW_CUDA_VERSION\n"))
        let directory = try TemporaryDirectory()
        let file = directory.path("provision.sh")
        try script.write(to: file, atomically: true, encoding: .utf8)
        let output = try await ProcessRunner().runAllowingFailure("shellcheck", ["-s", "sh", file.path])
        #expect(output.status == 0, "\(output.standardOutput)")
    }

    @Test(arguments: [("12.4", "cuda-toolkit-12-4"), ("12", "cuda-toolkit-12"), ("11.8", "cuda-toolkit-11-8")])
    func versionsNameNVIDIAsPackages(version: String, package: String) async throws {
        let output = try await toolkitPackage(version)
        #expect(output.status == 0 && output.standardOutput == package + "\n", "\(output.standardError)")
    }

    @Test(arguments: ["", "12.4.1", "12.", ".4", "12..4", "twelve", "12;reboot"])
    func badVersionsStopTheScript(version: String) async throws {
        let output = try await toolkitPackage(version)
        #expect(output.status != 0 && output.standardError.contains("burrow-cuda: BURROW_CUDA_VERSION must be"))
        #expect(!CUDAVersion.isValid(version))
    }

    @Test func onlyAptAndDnfImagesCanHaveCUDA() {
        for traits in [GuestTraits(hasInit: true, hasSSHServer: true, hasModuleTools: true, packageManager: "apk"), nil] {
            let base = BaseImageRecord(digest: "d", virtualSize: 1, fileSize: 1, createdAt: Date(), guestTraits: traits)
            let error = #expect(throws: BurrowError.self) { try GuestProvisioner.cudaTemplate(for: base) }
            #expect(error?.kind == .invalidInput && error?.message.contains("apt or dnf") == true)
        }
    }

    @Test func theKeyChangesWithEachInput() {
        let key = GuestProvisioner.cudaLayerKey(parent: "p", kernelRelease: "6.1.0-1", version: "12.4", script: "s")
        #expect(key == GuestProvisioner.cudaLayerKey(parent: "p", kernelRelease: "6.1.0-1", version: "12.4", script: "s"))
        for other in [
            GuestProvisioner.cudaLayerKey(parent: "q", kernelRelease: "6.1.0-1", version: "12.4", script: "s"),
            GuestProvisioner.cudaLayerKey(parent: "p", kernelRelease: "6.1.0-2", version: "12.4", script: "s"),
            GuestProvisioner.cudaLayerKey(parent: "p", kernelRelease: "6.1.0-1", version: "12.5", script: "s"),
            GuestProvisioner.cudaLayerKey(parent: "p", kernelRelease: "6.1.0-1", version: "12.4", script: "t"),
        ] {
            #expect(other != key)
        }
    }

    /// The layer is built once in a provisioning guest given the versioned script, recorded on
    /// its parent, and shared: a second environment with the same version boots nothing.
    @Test func environmentsWithCUDAShareOneCachedLayer() async throws {
        let guest = ProvisioningGuest()
        let sandbox = try await EnvironmentSandbox(guestTraits: aptImage, guest: guest.run)
        let first = try await sandbox.create("ml", cuda: "12.4")
        let key = try #require(first.layerKey)
        let layer = try #require(try sandbox.database.layer(key: key))
        #expect(layer.kind == .provisioned && layer.parentKey == nil && layer.purpose.contains("CUDA 12.4"))
        #expect(FileManager.default.fileExists(atPath: sandbox.home.layerFile(layer).path))
        #expect(guest.scripts.count == 1)
        #expect(guest.scripts.first?.hasPrefix("BURROW_CUDA_VERSION='12.4'\n") == true)
        #expect(guest.scripts.first?.contains("cuda_finish") == true)
        let backing = try await ProcessRunner().run("qemu-img", ["info", "--output=json", sandbox.home.diskPath(id: first.diskID).path], what: "qemu-img info")
        #expect(backing.standardOutput.contains(sandbox.home.layerFile(layer).path))

        let second = try await sandbox.create("ml2", cuda: "12.4")
        #expect(second.layerKey == key)
        #expect(guest.scripts.count == 1)
        _ = try await sandbox.create("other", cuda: "12.5")
        #expect(guest.scripts.count == 2)
    }

    private func toolkitPackage(_ version: String) async throws -> ProcessRunner.Output {
        let common = templates.appendingPathComponent("common.sh").path
        return try await ProcessRunner().runAllowingFailure("sh", ["-c", ". \"$1\"; cuda_toolkit_package", "sh", common], environment: ["BURROW_CUDA_VERSION": version])
    }
}

/// Plays a provisioning guest: keeps the script its seed carries, and reports success on the
/// console the way burrow's initramfs does, then powers off.
private final class ProvisioningGuest: @unchecked Sendable {
    // @unchecked: `collected` is only touched under `lock`.
    private let lock = NSLock()
    private var collected: [String] = []

    var scripts: [String] { lock.withLock { collected } }

    var run: FakeHypervisor.Guest {
        { [self] _, xml in
            guard let seed = Self.path(in: xml, after: "<source file='", ending: "seed.tar"),
                  let console = Self.path(in: xml, after: "<log file='", ending: "console.log")
            else { return .running }
            let script = Self.extract("burrow/provision.sh", from: seed)
            lock.withLock { collected.append(script) }
            // Package managers write progress bars and colours, and programs any bytes at all:
            // a console that is not valid UTF-8 still reports the result.
            let output = Data("Setting up cuda-toolkit \u{1B}[1m50%\u{1B}[0m\r\n".utf8) + Data([0xFF, 0xFE, 0x0A]) + Data("BURROW-PROVISION-OK\n".utf8)
            try? output.write(to: URL(fileURLWithPath: console))
            return .stopped
        }
    }

    private static func path(in xml: String, after prefix: String, ending suffix: String) -> String? {
        xml.components(separatedBy: prefix).dropFirst().compactMap { $0.components(separatedBy: "'").first }.first { $0.hasSuffix(suffix) }
    }

    private static func extract(_ member: String, from archive: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = ["-xOf", archive, member]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
