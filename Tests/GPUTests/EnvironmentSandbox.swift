import BurrowStore
import BurrowTestSupport
import Foundation

@testable import BurrowCore

/// A BURROW_HOME with a kernel core (a manifest only: nothing boots), one image `deb` with a
/// real base qcow2, and a fake hypervisor; the host's sysfs holds one H100 and its audio
/// function, alone in IOMMU group 1.
final class EnvironmentSandbox: @unchecked Sendable {
    // @unchecked: every property is set once in init; the fixture and folder are only read after.
    static let kernelRelease = "6.1.0-99-amd64"
    static let gpu = "0000:65:00.0"
    static let audio = "0000:65:00.1"

    let host: HostFixture
    let directory: TemporaryDirectory
    let home: BurrowHome
    let hypervisor: FakeHypervisor
    let database: BurrowDatabase

    init(guestTraits: GuestTraits? = nil, guest: @escaping FakeHypervisor.Guest = { _, _ in .running }) async throws {
        host = try HostFixture()
        try host.addFunction(Self.gpu, vendor: 0x10de, device: 0x2330, classCode: 0x030200, driver: "nvidia", group: 1, numaNode: 0)
        try host.addFunction(Self.audio, vendor: 0x10de, device: 0x22ba, classCode: 0x040300, driver: "snd_hda_intel", group: 1, numaNode: 0)
        directory = try TemporaryDirectory(prefix: "burrow-gpu-env")
        home = BurrowHome(root: directory.path("home"))
        try home.prepare()
        hypervisor = FakeHypervisor(guest: guest)
        database = try BurrowDatabase(path: home.databasePath)
        try installKernelManifest(in: home, version: Self.kernelRelease)
        let digest = String(repeating: "ab", count: 32)
        try FileManager.default.createDirectory(at: home.imageDirectory(digest: digest), withIntermediateDirectories: true)
        try await ProcessRunner().run("qemu-img", ["create", "-q", "-f", "qcow2", home.baseImagePath(digest: digest).path, "64M"], what: "making a base image")
        try database.register(
            base: BaseImageRecord(digest: digest, virtualSize: 64 << 20, fileSize: 0, createdAt: Date(), guestTraits: guestTraits),
            image: ImageRecord(name: "deb", digest: digest, distro: nil, source: "test", createdAt: Date())
        )
    }

    /// The use cases over their own store connection, as another burrow process would have them.
    func service() throws -> EnvironmentService {
        var service = EnvironmentService(home: home, database: try BurrowDatabase(path: home.databasePath), hypervisor: hypervisor)
        service.gpuHostPaths = host.paths
        return service
    }

    func create(_ name: String, gpu: String? = nil, cuda: String? = nil) async throws -> EnvironmentRecord {
        var options = CreateOptions(name: name, image: "deb", memoryMiB: 2048, accelerator: .tcg)
        options.gpu = gpu
        options.cuda = cuda
        return try await service().create(options)
    }

    /// Starts `name` as `burrow start` does. A fake domain has no guest to answer SSH, so the wait
    /// for it is cut to nothing: its timeout is how a start that got that far ends here.
    func start(_ name: String, with service: EnvironmentService? = nil) async throws {
        do {
            try await (service ?? self.service()).start(name, timeout: 0)
        } catch let error as BurrowError where error.message.contains("did not answer on SSH") {}
    }

    func state(_ name: String) throws -> DomainState? {
        try hypervisor.state(ofDomain: home.domainName(for: name))
    }

    /// Who holds each function, in the store.
    func holders() throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try database.gpuAssignments().map { ($0.address, $0.environment) })
    }
}
