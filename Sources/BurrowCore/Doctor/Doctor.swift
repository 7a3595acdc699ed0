import BurrowStore
import Foundation

/// One thing `burrow doctor` looked at: a host check or a mismatch between the store, libvirt
/// and the files, with what it would do about it.
public struct DoctorFinding: Sendable, Encodable {
    public enum Severity: String, Sendable, Encodable { case ok, info, warning, problem }

    public let severity: Severity
    public let subject: String
    public let detail: String
    /// What `--fix` does, or how the person can fix it; nil when nothing needs doing.
    public let action: String?
    /// Whether `--fix` took the action.
    public var fixed: Bool = false
}

/// Checks the host and reconciles burrow's store with libvirt and the files under BURROW_HOME.
/// Without `fix` it only reports; with `fix` it removes orphans (domains without rows, folders
/// without rows, unregistered layers), redefines domains that rows still need and gives back
/// GPUs held by environments that are not running — holding the store exclusively, so it waits
/// for running commands (up to `lockTimeout`) and no command runs beside it.
public struct Doctor: Sendable {
    let home: BurrowHome
    let database: BurrowDatabase
    let hypervisorURI: String
    let runner: ProcessRunner
    let notices: @Sendable (String) -> Void

    public init(
        home: BurrowHome, database: BurrowDatabase, hypervisorURI: String, runner: ProcessRunner = ProcessRunner(),
        notices: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.home = home
        self.database = database
        self.hypervisorURI = hypervisorURI
        self.runner = runner
        self.notices = notices
    }

    public func run(fix: Bool, lockTimeout: TimeInterval? = nil) async throws -> [DoctorFinding] {
        let storeLock = fix ? try await lockStoreForRepair(timeout: lockTimeout) : nil
        defer { storeLock?.release() }
        var findings = hostChecks()
        let repairs = try ImageCacheRepair(home: home, database: database).run()
        findings += repairs.map { DoctorFinding(severity: .info, subject: "cache", detail: $0, action: nil, fixed: true) }
        let hypervisor: LibvirtHypervisor
        do {
            hypervisor = try LibvirtHypervisor(uri: hypervisorURI)
        } catch let error as BurrowError {
            findings.append(DoctorFinding(severity: .problem, subject: "libvirt", detail: error.message, action: error.hint))
            return findings
        }
        findings.append(DoctorFinding(severity: .ok, subject: "libvirt", detail: "reachable at \(hypervisorURI)", action: nil))
        let service = EnvironmentService(home: home, database: database, hypervisor: hypervisor, runner: runner)
        findings += try service.recoverInterruptedOperations().map { DoctorFinding(severity: .info, subject: "journal", detail: $0, action: nil, fixed: true) }
        findings += try await reconcile(service: service, hypervisor: hypervisor, fix: fix)
        return findings
    }

    /// The store, exclusively; a wait for other commands is announced rather than silent.
    private func lockStoreForRepair(timeout: TimeInterval?) async throws -> FileLock {
        if let lock = try? await home.lockStore(exclusive: true, timeout: 0) { return lock }
        notices("waiting for other burrow commands to finish before repairing (at most BURROW_LOCK_TIMEOUT seconds)")
        return try await home.lockStore(exclusive: true, timeout: timeout)
    }

    // MARK: - Host

    func hostChecks() -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        let verdict = AcceleratorProbe().detect()
        if verdict.accelerator == .kvm {
            findings.append(DoctorFinding(severity: .ok, subject: "accelerator", detail: "KVM is usable", action: nil))
        } else {
            findings.append(DoctorFinding(severity: .warning, subject: "accelerator", detail: "TCG emulation: \(verdict.reason ?? "KVM unavailable")", action: "Guests work but run much slower; enable virtualisation or load kvm_intel/kvm_amd."))
        }
        for (program, purpose) in [("qemu-system-x86_64", "runs guests"), ("qemu-img", "makes disks"), ("mkfs.ext4", "makes image filesystems"), ("ssh", "reaches guests"), ("ssh-keygen", "makes keys")] {
            if ProcessRunner.which(program) != nil {
                findings.append(DoctorFinding(severity: .ok, subject: program, detail: "installed (\(purpose))", action: nil))
            } else {
                findings.append(DoctorFinding(severity: .problem, subject: program, detail: "missing (\(purpose))", action: "Install it: Scripts/setup"))
            }
        }
        findings.append(ShareDriver.virtiofsDaemon.map { DoctorFinding(severity: .ok, subject: "virtiofsd", detail: $0, action: nil) }
            ?? DoctorFinding(severity: .info, subject: "virtiofsd", detail: "not found; workspace mounts fall back to 9p", action: "apt-get install virtiofsd (or qemu-system-common on Debian 12)"))
        let bios = GuestBIOS.choose(uri: hypervisorURI)
        do {
            _ = try GuestBIOS.rom(uri: hypervisorURI)
            findings.append(bios.rom.map { DoctorFinding(severity: .ok, subject: "guest BIOS", detail: "\($0): \(bios.reason)", action: nil) }
                ?? DoctorFinding(severity: .info, subject: "guest BIOS", detail: "qemu's default (SeaBIOS): \(bios.reason)", action: "qboot.rom starts guests sooner; it comes with qemu on Debian and Ubuntu (qemu-system-data), and BURROW_BIOS may name a ROM"))
        } catch {
            findings.append(DoctorFinding(severity: .problem, subject: "guest BIOS", detail: error.message, action: error.hint))
        }
        findings.append(ProcessRunner.which("passt") != nil
            ? DoctorFinding(severity: .ok, subject: "passt", detail: "installed", action: nil)
            : DoctorFinding(severity: .info, subject: "passt", detail: "not installed; user-mode networking uses qemu's slirp", action: nil))
        do {
            let kernel = try KernelStore(home: home, runner: runner).current()
            findings.append(DoctorFinding(severity: .ok, subject: "kernel core", detail: kernel.version, action: nil))
        } catch let error as BurrowError {
            findings.append(DoctorFinding(severity: .problem, subject: "kernel core", detail: error.message, action: error.hint))
        } catch {
            findings.append(DoctorFinding(severity: .problem, subject: "kernel core", detail: "\(error)", action: "burrow kernel fetch"))
        }
        var stats = statvfs()
        if statvfs(home.root.path, &stats) == 0 {
            let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
            let text = ByteCountFormatter.string(fromByteCount: free, countStyle: .binary)
            findings.append(free < 2 << 30
                ? DoctorFinding(severity: .warning, subject: "disk space", detail: "\(text) free under \(home.root.path)", action: "Free space: burrow image rm / burrow rm unused ones.")
                : DoctorFinding(severity: .ok, subject: "disk space", detail: "\(text) free under \(home.root.path)", action: nil))
        }
        return findings
    }

    // MARK: - Store, libvirt and files

    private func reconcile(service: EnvironmentService, hypervisor: Hypervisor, fix: Bool) async throws -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        let records = try database.allEnvironments()
        let expectedDomains = Set(records.map(\.domainName))
        let prefix = home.domainName(for: "")
        for domain in try hypervisor.domainNames() where domain.hasPrefix(prefix) && !expectedDomains.contains(domain) {
            findings.append(try await problem(domain, "libvirt domain with no environment", action: "undefine it", fix: fix) {
                try? hypervisor.destroy(domain: domain)
                try hypervisor.undefine(domain: domain)
                return true
            })
        }
        for record in records where try hypervisor.state(ofDomain: record.domainName) == nil {
            findings.append(try await problem(record.name, "environment without its libvirt domain", action: "define the domain again", fix: fix) {
                let kernel = try KernelStore(home: home, runner: runner).current()
                try service.define(record, kernel: kernel)
                return true
            })
        }
        let names = Set(records.map(\.name))
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: home.environments.path)) ?? []
        for folder in folders where !names.contains(folder) {
            findings.append(try await problem("envs/\(folder)", "disk and keys no environment refers to", action: "delete the folder", fix: fix) {
                try FileManager.default.removeItem(at: home.environments.appendingPathComponent(folder))
                return true
            })
        }
        for record in records where !FileManager.default.fileExists(atPath: home.diskPath(id: record.diskID).path) {
            findings.append(DoctorFinding(severity: .problem, subject: record.name, detail: "its disk is missing", action: "remove it and create it again: burrow rm --force \(record.name)"))
        }
        let referenced = Set(records.map(\.diskID) + (try database.allLayers()).filter { $0.kind == .frozen }.map(\.key))
        let diskFiles = (try? FileManager.default.contentsOfDirectory(atPath: home.disks.path)) ?? []
        for file in diskFiles where !referenced.contains((file as NSString).deletingPathExtension) {
            findings.append(try await problem("disks/\(file)", "disk no environment or layer refers to", action: "delete it", fix: fix) {
                try FileManager.default.removeItem(at: home.disks.appendingPathComponent(file))
                return true
            })
        }
        for base in try database.allBaseImages() {
            let known = Set(try database.layers(of: base.digest).map(\.key))
            let layerFolder = home.imageDirectory(digest: base.digest).appendingPathComponent("layers")
            for file in (try? FileManager.default.contentsOfDirectory(atPath: layerFolder.path)) ?? [] where !known.contains((file as NSString).deletingPathExtension) {
                findings.append(try await problem("layer \(file)", "layer file with no record", action: "delete it", fix: fix) {
                    try FileManager.default.removeItem(at: layerFolder.appendingPathComponent(file))
                    return true
                })
            }
        }
        for (environment, addresses) in try service.idleGPUAssignments().sorted(by: { $0.key < $1.key }) {
            findings.append(try await problem(environment, "holds GPU functions \(addresses.joined(separator: ", ")) but is not running", action: "give them back", fix: fix) {
                try await service.releaseIdleGPUs(of: environment)
            })
        }
        if findings.isEmpty {
            findings.append(DoctorFinding(severity: .ok, subject: "store", detail: "\(records.count) environment(s) agree with libvirt and the files", action: nil))
        }
        return findings
    }

    /// A problem `--fix` knows how to repair: always reported, repaired only when fixing.
    /// `repair` answers whether it could; a GPU still in use, for one, is left alone.
    private func problem(
        _ subject: String, _ detail: String, action: String, fix: Bool, repair: () async throws -> Bool
    ) async rethrows -> DoctorFinding {
        var finding = DoctorFinding(severity: .problem, subject: subject, detail: detail, action: action)
        if fix { finding.fixed = try await repair() }
        return finding
    }
}
