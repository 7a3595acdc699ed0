import Archive
import BurrowStore
import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// The Debian rootfs `Scripts/build-rootfs` leaves in the checkout of the main worktree.
let bootTestRootfs: URL? = [
    repositoryRoot.appendingPathComponent(".cache/rootfs/debian-bookworm-ready.tar.zst"),
    URL(fileURLWithPath: "/work/main/.cache/rootfs/debian-bookworm-ready.tar.zst"),
].first { FileManager.default.isReadableFile(atPath: $0.path) }

/// Boots real guests under qemu (TCG) with burrow's kernel core, proving the initramfs's /init
/// end to end: disks found by serial, root and modules mounted, the seed applied, then either
/// sshd reachable with the seed's pinned host key or provision.sh run and the machine off.
@Suite(
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["BURROW_TEST_BOOT"] == "1", "set BURROW_TEST_BOOT=1 to boot guests under qemu (about a minute)"),
    .enabled(if: hostKernel != nil, "no Debian kernel in /boot"),
    .enabled(if: bootTestRootfs != nil, "no Debian rootfs tarball (Scripts/build-rootfs makes one)"),
    .enabled(if: ProcessRunner.which("qemu-system-x86_64") != nil, "qemu-system-x86_64 is not installed")
)
struct BootTests {
    @Test(arguments: ["vmlinux", "vmlinuz"])
    func runModeReachesSSHWithThePinnedHostKey(bootFile: String) async throws {
        let guest = try await BootSandbox()
        let port = try freePort()
        try await guest.writeSeed(user: "root", uid: 0, mode: "run")
        let knownHosts = guest.directory.path("known_hosts")
        let hostKey = try String(contentsOf: guest.seedFile("ssh/ssh_host_ed25519_key.pub"), encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try writeText("[127.0.0.1]:\(port) \(hostKey)\n", to: knownHosts)

        let kernel = bootFile == "vmlinux" ? try #require(guest.kernel.vmlinux) : guest.kernel.vmlinuz
        let started = Date()
        let qemu = try guest.startQEMU(kernel: kernel, port: port)
        defer { stop(qemu) }

        let ssh = [
            "-i", guest.clientKey.path, "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(knownHosts.path)",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "-p", String(port), "root@127.0.0.1",
        ]
        var reached: Double?
        while Date().timeIntervalSince(started) < 180, qemu.isRunning {
            let output = try await ProcessRunner().runAllowingFailure("ssh", ssh + ["hostname"])
            if output.status == 0, output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "boottest" {
                reached = Date().timeIntervalSince(started)
                break
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        let console = guest.console()
        try #require(reached != nil, "no SSH within 180 s; console:\n\(console)")
        print("boot test: \(bootFile) reached SSH \(String(format: "%.1f", reached ?? 0)) s after qemu started")
        #expect(!console.contains("BURROW-INIT-FAILED"))

        let facts = try await ProcessRunner().run("ssh", ssh + [
            "cat /etc/machine-id; ip -4 -o addr show eth0; findmnt -n -o SOURCE,OPTIONS /usr/lib/modules/$(uname -r); modprobe 9p && echo 9p-loaded",
        ], what: "ssh").standardOutput
        #expect(facts.contains(BootSandbox.machineID))
        #expect(facts.contains("inet 10.0.2.15/24"))
        #expect(facts.contains("ro,"))
        #expect(facts.contains("9p-loaded"))
    }

    @Test func provisionModeRunsTheScriptAndPowersOff() async throws {
        let guest = try await BootSandbox()
        try await guest.writeSeed(user: "dev", uid: 1000, mode: "provision", provision: """
            set -e
            id dev
            stat -c 'home %U:%G %a' /home/dev
            stat -c 'keys %U:%G %a' /home/dev/.ssh/authorized_keys
            grep -q '^dev ALL=(ALL) NOPASSWD:ALL$' /etc/sudoers.d/burrow
            exit 7
            """)
        let qemu = try guest.startQEMU(kernel: guest.kernel.bootKernel, port: try freePort())
        defer { stop(qemu) }
        let started = Date()
        while qemu.isRunning, Date().timeIntervalSince(started) < 120 {
            try await Task.sleep(for: .milliseconds(200))
        }
        let console = guest.console()
        #expect(!qemu.isRunning, "the guest did not power off; console:\n\(console)")
        #expect(console.contains("uid=1000(dev) gid=1000(dev)"), "\(console)")
        #expect(console.contains("home dev:dev 700"))
        #expect(console.contains("keys dev:dev 600"))
        #expect(console.contains("BURROW-PROVISION-FAILED 7"))
        print("boot test: provision run and power-off took \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}

/// A temporary BURROW_HOME with the host's kernel imported, the Debian rootfs imported as a base
/// image, an overlay over it, SSH keys and the files qemu needs.
final class BootSandbox {
    static let machineID = "0123456789abcdef0123456789abcdef"

    let directory: TemporaryDirectory
    let kernel: KernelCore
    let overlay: URL
    let seed: URL
    let clientKey: URL
    private let seedTree: URL

    init() async throws {
        let hostKernel = try #require(hostKernel)
        let rootfs = try #require(bootTestRootfs)
        directory = try TemporaryDirectory(prefix: "burrow-boot")
        let home = BurrowHome(root: directory.path("home"))
        try home.prepare()
        kernel = try await KernelStore(home: home).importKernel(vmlinuz: hostKernel.vmlinuz, modules: hostKernel.modules)
        let imported = try await ImageImporter(home: home, database: try BurrowDatabase(path: home.databasePath))
            .importImage(ImportRequest(name: "debian", tarball: rootfs))
        overlay = directory.path("disk.qcow2")
        try await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", home.baseImagePath(digest: imported.base.digest).path, overlay.path])
        seedTree = directory.path("seed")
        seed = directory.path("seed.tar")
        clientKey = directory.path("client")
        try await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "burrow-test", "-f", clientKey.path])
    }

    func seedFile(_ name: String) -> URL { seedTree.appendingPathComponent("burrow/\(name)") }

    /// Writes the seed disk: a plain tar archive, zero padded to whole sectors.
    func writeSeed(user: String, uid: Int, mode: String, provision: String? = nil) async throws {
        try FileManager.default.createDirectory(at: seedFile("ssh"), withIntermediateDirectories: true)
        try await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "boottest", "-f", seedFile("ssh/ssh_host_ed25519_key").path])
        let environment = """
            BURROW_HOSTNAME='boottest'
            BURROW_MACHINE_ID='\(Self.machineID)'
            BURROW_USER='\(user)'
            BURROW_UID='\(uid)'
            BURROW_GID='\(uid)'
            BURROW_MODE='\(mode)'
            BURROW_NET_ADDRESS='10.0.2.15/24'
            BURROW_NET_GATEWAY='10.0.2.2'
            BURROW_NET_DNS='10.0.2.3'

            """
        var tar = TarballBuilder()
        tar.directory("burrow")
        tar.directory("burrow/ssh", mode: 0o700)
        tar.file("burrow/seed.env", environment)
        tar.file("burrow/ssh/ssh_host_ed25519_key", try String(contentsOf: seedFile("ssh/ssh_host_ed25519_key"), encoding: .utf8), mode: 0o600)
        tar.file("burrow/ssh/ssh_host_ed25519_key.pub", try String(contentsOf: seedFile("ssh/ssh_host_ed25519_key.pub"), encoding: .utf8))
        tar.file("burrow/ssh/authorized_keys", try String(contentsOf: clientKey.appendingPathExtension("pub"), encoding: .utf8))
        if let provision { tar.file("burrow/provision.sh", provision + "\n", mode: 0o755) }
        try tar.write(to: seed)
        let handle = try FileHandle(forWritingTo: seed)
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: (size + 511) / 512 * 512)
        try handle.close()
    }

    func startQEMU(kernel: URL, port: Int) throws -> Process {
        let qemu = Process()
        qemu.executableURL = URL(fileURLWithPath: try #require(ProcessRunner.which("qemu-system-x86_64")))
        qemu.arguments = [
            "-accel", "tcg", "-m", "1024", "-smp", "2", "-nographic", "-no-reboot",
            "-kernel", kernel.path, "-initrd", self.kernel.initrd.path, "-append", "console=ttyS0 quiet burrow.debug=1",
            "-drive", "file=\(overlay.path),if=none,id=root,format=qcow2", "-device", "virtio-blk-pci,drive=root,serial=burrow-root",
            "-drive", "file=\(self.kernel.modulesImage.path),if=none,id=modules,format=raw,readonly=on",
            "-device", "virtio-blk-pci,drive=modules,serial=burrow-modules",
            "-drive", "file=\(seed.path),if=none,id=seed,format=raw,readonly=on", "-device", "virtio-blk-pci,drive=seed,serial=burrow-seed",
            "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:\(port)-:22", "-device", "virtio-net-pci,netdev=net0",
        ]
        try #require(FileManager.default.createFile(atPath: directory.path("console.log").path, contents: nil))
        qemu.standardOutput = try FileHandle(forWritingTo: directory.path("console.log"))
        qemu.standardError = qemu.standardOutput
        qemu.standardInput = FileHandle.nullDevice
        try qemu.run()
        return qemu
    }

    func console() -> String {
        String(decoding: (try? Data(contentsOf: directory.path("console.log"))) ?? Data(), as: UTF8.self)
    }
}

/// Kills qemu with SIGKILL: it inherits the test runner thread's blocked-signal mask, in which
/// SIGTERM (what `terminate()` sends) stays pending forever.
func stop(_ qemu: Process) {
    if qemu.isRunning { kill(qemu.processIdentifier, SIGKILL) }
    qemu.waitUntilExit()
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
    }
    try #require(bound, "cannot bind a socket on 127.0.0.1")
    return Int(UInt16(bigEndian: address.sin_port))
}
