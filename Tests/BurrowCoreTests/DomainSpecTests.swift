import BurrowStore
import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

@Suite struct DomainSpecTests {
    static func spec(accelerator: Accelerator = .tcg, runAs: ProcessOwner? = nil, name: String = "burrow-abc-dev") -> DomainSpec {
        DomainSpec(
            name: name, environment: "dev", memoryMiB: 1536, cpus: 3, accelerator: accelerator,
            kernel: "/k/vmlinux", initrd: "/k/initrd.img", kernelArguments: "console=ttyS0 quiet",
            disks: [
                DiskSpec(path: "/e/dev/disk.qcow2", format: .qcow2, serial: "burrow-root", readOnly: false),
                DiskSpec(path: "/k/modules.img", format: .raw, serial: "burrow-modules", readOnly: true),
                DiskSpec(path: "/e/dev/seed.tar", format: .raw, serial: "burrow-seed", readOnly: true),
            ],
            sshPort: 45678, macAddress: "52:54:00:12:34:56", consoleLog: "/e/dev/console.log", runAs: runAs
        )
    }

    @Test(arguments: [
        (Accelerator.tcg, ProcessOwner?.none), (.kvm, ProcessOwner?.none), (.tcg, ProcessOwner(uid: 0, gid: 0)), (.kvm, ProcessOwner(uid: 1000, gid: 1000)),
    ])
    func everyVariantValidatesAgainstLibvirtsSchema(accelerator: Accelerator, runAs: ProcessOwner?) async throws {
        let result = try await validateDomainXML(Self.spec(accelerator: accelerator, runAs: runAs).xml())
        #expect(result.status == 0, "\(result.standardError)")
    }

    @Test func rendersWhatTheGuestNeeds() {
        let xml = Self.spec(accelerator: .kvm, runAs: ProcessOwner(uid: 1000, gid: 100)).xml()
        #expect(xml.contains("<domain type='kvm'"))
        #expect(xml.contains("<cpu mode='host-passthrough'/>"))
        #expect(xml.contains("<kernel>/k/vmlinux</kernel>") && xml.contains("<initrd>/k/initrd.img</initrd>"))
        #expect(xml.contains("<serial>burrow-seed</serial>") && xml.contains("<target dev='vdc' bus='virtio'/>"))
        #expect(xml.contains("hostfwd=tcp:127.0.0.1:45678-:22"))
        #expect(xml.contains("mac=52:54:00:12:34:56"))
        #expect(xml.contains("<label>+1000:+100</label>"))
        #expect(!xml.contains("<bootloader") && !xml.contains("<loader"))
        let tcg = Self.spec().xml()
        #expect(tcg.contains("<domain type='qemu'") && !tcg.contains("host-passthrough") && !tcg.contains("seclabel"))
    }

    /// A BIOS ROM becomes the domain's loader, valid for libvirt's schema and its test driver;
    /// with GPUs passed through qemu's default BIOS stays.
    @Test func aChosenBIOSIsTheLoaderExceptWithGPUs() async throws {
        var spec = Self.spec()
        spec.bios = "/usr/share/qemu/qboot.rom"
        let xml = spec.xml()
        #expect(xml.contains("<type arch='x86_64' machine='pc'>hvm</type>\n    <loader readonly='yes' type='rom'>/usr/share/qemu/qboot.rom</loader>\n    <kernel>"))
        let validation = try await validateDomainXML(xml)
        #expect(validation.status == 0, "\(validation.standardError)")
        let hypervisor = try LibvirtHypervisor(uri: "test:///default")
        spec.name = "burrow-test-bios-\(UUID().uuidString.prefix(6))"
        try hypervisor.define(xml: spec.xml())
        try hypervisor.undefine(domain: spec.name)

        spec.gpu = GPUDomainAdditions(passing: DomainSpecGPUTests.gpuAndAudio, guestMemoryBytes: Int64(spec.memoryMiB) << 20)
        #expect(!spec.xml().contains("<loader"))
    }

    /// qboot where a local libvirt's qemu has it; qemu's default for a remote libvirt, without
    /// the ROM, or when BURROW_BIOS says so; BURROW_BIOS may also name a ROM.
    @Test func theBIOSIsQbootWhereThisHostsQemuHasIt() {
        let qboot = "/usr/share/qemu/qboot.rom"
        let has: (String) -> Bool = { $0 == qboot }
        #expect(GuestBIOS.choose(uri: "qemu:///system", environment: [:], fileExists: has).rom == qboot)
        #expect(GuestBIOS.choose(uri: "qemu:///session", environment: [:], fileExists: { $0 == "/usr/share/qemu-kvm/qboot.rom" }).rom == "/usr/share/qemu-kvm/qboot.rom")
        #expect(GuestBIOS.choose(uri: "qemu+ssh://gpu-box/system", environment: [:], fileExists: has).rom == nil)
        #expect(GuestBIOS.choose(uri: "qemu:///system", environment: [:], fileExists: { _ in false }).rom == nil)
        #expect(GuestBIOS.choose(uri: "qemu:///system", environment: ["BURROW_BIOS": "seabios"], fileExists: has).rom == nil)
        #expect(GuestBIOS.choose(uri: "qemu:///system", environment: ["BURROW_BIOS": "default"], fileExists: has).rom == nil)
        #expect(GuestBIOS.choose(uri: "qemu+ssh://gpu-box/system", environment: ["BURROW_BIOS": "/opt/rom.bin"], fileExists: has).rom == "/opt/rom.bin")
        #expect(GuestBIOS.choose(uri: "qemu:///system", environment: ["BURROW_BIOS": ""], fileExists: has).rom == qboot)
        // doctor tells why.
        #expect(GuestBIOS.choose(uri: "qemu+ssh://gpu-box/system", environment: [:], fileExists: has).reason.contains("another host"))
        #expect(GuestBIOS.choose(uri: "qemu:///system", environment: [:], fileExists: { _ in false }).reason.contains("no qboot.rom"))
    }

    /// A ROM that BURROW_BIOS names but this host lacks stops a start before libvirt, with a
    /// hint; one on another host's libvirt is that host's to have.
    @Test func aMissingROMThatBURROW_BIOSNamesIsAnErrorWithAHint() throws {
        let named = ["BURROW_BIOS": "/opt/missing.rom"]
        let error = #expect(throws: BurrowError.self) { try GuestBIOS.rom(uri: "qemu:///session", environment: named, fileExists: { _ in false }) }
        #expect(error?.message.contains("/opt/missing.rom") == true)
        #expect(error?.hint?.contains("unset it") == true)
        #expect(try GuestBIOS.rom(uri: "qemu+ssh://gpu-box/system", environment: named, fileExists: { _ in false }) == "/opt/missing.rom")
        #expect(try GuestBIOS.rom(uri: "qemu:///system", environment: named, fileExists: { $0 == "/opt/missing.rom" }) == "/opt/missing.rom")
        #expect(try GuestBIOS.rom(uri: "qemu:///system", environment: [:], fileExists: { _ in false }) == nil)
    }

    /// Every driver with qemu running as root and as an ordinary user.
    @Test(arguments: [ShareDriver.virtiofs, .ninep], [0, 1000])
    func sharedFoldersRenderAndValidate(driver: ShareDriver, qemuUID: Int) async throws {
        var spec = Self.spec()
        spec.filesystems = [
            FilesystemSpec(hostPath: "/home/me/project", tag: "burrow0", readOnly: false),
            FilesystemSpec(hostPath: "/data", tag: "burrow1", readOnly: true),
        ]
        spec.shareDriver = driver
        spec.shareAccess = driver.access(qemuUID: qemuUID)
        spec.forwardedPorts = [PortRule(host: 8080, guest: 80)]
        let xml = spec.xml()
        let validation = try await validateDomainXML(xml)
        #expect(validation.status == 0, "\(validation.standardError)")
        #expect(xml.contains("<source dir='/home/me/project'/>") && xml.contains("<target dir='burrow1'/>"))
        #expect(xml.contains("hostfwd=tcp:127.0.0.1:45678-:22,hostfwd=tcp:127.0.0.1:8080-:80"))
        // Only an unprivileged qemu serving 9p cannot give files the guest's owners.
        let access = driver == .ninep && qemuUID != 0 ? "squash" : "passthrough"
        #expect(xml.components(separatedBy: "<filesystem type='mount' accessmode='\(access)'>").count == 3)
        switch driver {
        case .virtiofs:
            #expect(xml.contains("<driver type='virtiofs'/>") && xml.contains("<access mode='shared'/>"))
            #expect(!xml.contains("<readonly/>\n    </filesystem>"))
            #expect(driver.fstabLine(tag: "burrow1", guestPath: "/data", readOnly: true) == "burrow1 /data virtiofs ro,nofail,x-systemd.before=local-fs.target,x-mount.mkdir 0 0")
        case .ninep:
            #expect(!xml.contains("virtiofs") && !xml.contains("memoryBacking"))
            #expect(xml.contains("<target dir='burrow1'/>\n      <readonly/>"))
            #expect(
                driver.fstabLine(tag: "burrow0", guestPath: "/src", readOnly: false)
                    == "burrow0 /src 9p rw,trans=virtio,version=9p2000.L,msize=524288,nofail,x-systemd.before=local-fs.target,x-mount.mkdir 0 0")
        }
        let hypervisor = try LibvirtHypervisor(uri: "test:///default")
        var named = spec
        named.name = "burrow-test-shares-\(UUID().uuidString.prefix(6))"
        try hypervisor.define(xml: named.xml())
        try hypervisor.undefine(domain: named.name)
    }

    @Test func environmentVariablesAreQuotedForPamEnv() {
        let lines = Seed.environmentLines(["GREETING": "say \"hi\"", "PATHLIKE": "a\\b", "bad-name": "x", "MULTI": "a\nb"])
        #expect(lines == "GREETING=\"say \\\"hi\\\"\"\nPATHLIKE=\"a\\\\b\"\n")
    }

    @Test func escapesHostileValues() async throws {
        var spec = Self.spec()
        spec.disks[0].path = "/tmp/a'b<c>&d"
        let xml = spec.xml()
        #expect(xml.contains("/tmp/a&apos;b&lt;c&gt;&amp;d"))
        #expect(try await validateDomainXML(xml).status == 0)
    }

    /// A guest path with spaces ("My Project", where `up` mounts a workspace at its host path)
    /// is one fstab field in getmntent's escapes; control characters are refused at create.
    @Test func guestPathsWithSpacesAreEscapedForFstab() throws {
        #expect(ShareDriver.virtiofs.fstabLine(tag: "burrow0", guestPath: "/home/me/My Project\\x", readOnly: false)
            == "burrow0 /home/me/My\\040Project\\134x virtiofs rw,nofail,x-systemd.before=local-fs.target,x-mount.mkdir 0 0")
        let folder = try TemporaryDirectory(prefix: "burrow-share")
        try EnvironmentService.validateShares([SharedFolder(host: folder.url.path, guest: "/home/me/My Project", readOnly: false)])
        for guest in ["/work\nUUID=1 / ext4", "/a\tb", "relative", "/"] {
            #expect(throws: BurrowError.self) {
                try EnvironmentService.validateShares([SharedFolder(host: folder.url.path, guest: guest, readOnly: false)])
            }
        }
    }

    /// Snapshot and backup XML quote paths through the same function as the domain: a home
    /// with `&` in its path broke both when they escaped only quotes.
    @Test func xmlTextEscapesEveryDelimiter() {
        #expect(XMLText.escaped("/a&b/'c'/\"d\"/<e>") == "/a&amp;b/&apos;c&apos;/&quot;d&quot;/&lt;e&gt;")
        #expect(XMLText.escaped("&amp;") == "&amp;amp;")
    }

    /// The test driver runs no qemu, but it parses and keeps the definition like any driver.
    @Test func definesAndRunsOnTheTestDriver() throws {
        let hypervisor = try LibvirtHypervisor(uri: "test:///default")
        let name = "burrow-test-\(UUID().uuidString.prefix(6))"
        try hypervisor.define(xml: Self.spec(name: name).xml())
        #expect(try hypervisor.state(ofDomain: name) == .stopped)
        try hypervisor.start(domain: name)
        #expect(try hypervisor.state(ofDomain: name) == .running)
        try hypervisor.destroy(domain: name)
        #expect(try hypervisor.state(ofDomain: name) == .stopped)
        try hypervisor.undefine(domain: name)
        #expect(try hypervisor.state(ofDomain: name) == nil)
        #expect(try !hypervisor.domainNames().contains(name))
    }

    @Test func missingDomainsAreNilNotErrors() throws {
        let hypervisor = try LibvirtHypervisor(uri: "test:///default")
        #expect(try hypervisor.state(ofDomain: "no-such-domain") == nil)
        try hypervisor.undefine(domain: "no-such-domain")
        #expect(throws: BurrowError.self) { try hypervisor.start(domain: "no-such-domain") }
    }

    @Test func anUnreachableDaemonSaysHowToStartIt() {
        let error = #expect(throws: BurrowError.self) { try LibvirtHypervisor(uri: "qemu+unix:///system?socket=/nonexistent/libvirt-sock") }
        #expect(error?.message.contains("cannot reach libvirt") == true)
        #expect(error?.hint?.contains("libvirtd") == true)
    }
}

@Suite struct EnvironmentPieceTests {
    @Test func seedCarriesIdentityAndKeys() throws {
        let directory = try TemporaryDirectory()
        let seed = Seed(
            hostname: "dev", machineID: Seed.randomMachineID(), user: "alice", uid: 1000, gid: 1000, mode: .run,
            hostPrivateKey: "PRIVATE", hostPublicKey: "ssh-ed25519 AAAA host", authorizedKeys: ["ssh-ed25519 BBBB user"]
        )
        let file = directory.path("seed.tar")
        try seed.write(to: file)
        #expect((try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? 1) % 512 == 0)
        let listing = try String(decoding: runTool("/usr/bin/tar", ["-tvf", file.path]), as: UTF8.self)
        #expect(listing.contains("burrow/seed.env") && listing.contains("burrow/ssh/authorized_keys") && listing.contains("-rw------- 0/0"))
        let env = try String(decoding: runTool("/usr/bin/tar", ["-xOf", file.path, "burrow/seed.env"]), as: UTF8.self)
        #expect(env.contains("BURROW_USER='alice'\n") && env.contains("BURROW_UID='1000'\n") && env.contains("BURROW_MODE='run'\n"))
        #expect(env.split(separator: "\n").allSatisfy { $0.range(of: "^BURROW_[A-Z_]+='[^']*'$", options: .regularExpression) != nil })
        #expect(seed.machineID.count == 32)
    }

    @Test func seedValuesCannotBreakOutOfQuotes() {
        let seed = Seed(hostname: "x'; reboot; '", machineID: "0", user: "u", uid: 1, gid: 1, mode: .provision, hostPrivateKey: "", hostPublicKey: "", authorizedKeys: [])
        #expect(seed.environmentFile.contains("BURROW_HOSTNAME='x; reboot; '\n"))
    }

    @Test func hostnamesAndDomainNames() {
        #expect(Seed.hostname(for: "my_env.2") == "my-env-2")
        let home = BurrowHome(root: URL(fileURLWithPath: "/tmp/a"))
        #expect(home.domainName(for: "dev").hasPrefix("burrow-") && home.domainName(for: "dev").hasSuffix("-dev"))
        #expect(home.domainName(for: "dev") != BurrowHome(root: URL(fileURLWithPath: "/tmp/b")).domainName(for: "dev"))
    }

    @Test func remoteArgumentsAreQuotedForTheShell() {
        #expect(SSHTools.shellQuote("ls") == "ls")
        #expect(SSHTools.shellQuote("a b") == "'a b'")
        #expect(SSHTools.shellQuote("it's") == "'it'\\''s'")
        #expect(SSHTools.shellQuote("") == "''")
        #expect(SSHTools.shellQuote("$(reboot)") == "'$(reboot)'")
    }

    @Test func acceleratorProbeRefusesPVMAndMissingKVM() throws {
        let sysfs = try TemporaryDirectory()
        let device = sysfs.path("kvm")
        _ = FileManager.default.createFile(atPath: device.path, contents: Data())
        #expect(AcceleratorProbe(sysfsModules: sysfs.url, kvmDevice: sysfs.path("missing").path).detect().accelerator == .tcg)
        try FileManager.default.createDirectory(at: sysfs.path("kvm_pvm"), withIntermediateDirectories: true)
        let pvm = AcceleratorProbe(sysfsModules: sysfs.url, kvmDevice: device.path).detect()
        #expect(pvm.accelerator == .tcg && pvm.reason?.contains("PVM") == true)
        try FileManager.default.removeItem(at: sysfs.path("kvm_pvm"))
        try FileManager.default.createDirectory(at: sysfs.path("kvm_intel"), withIntermediateDirectories: true)
        #expect(AcceleratorProbe(sysfsModules: sysfs.url, kvmDevice: device.path).detect().accelerator == .kvm)
        #expect(AcceleratorProbe(sysfsModules: sysfs.url, kvmDevice: device.path).choose(explicit: .tcg).accelerator == .tcg)
    }

    private func runTool(_ executable: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }
}
