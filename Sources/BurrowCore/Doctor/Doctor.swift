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
/// GPUs held by environments that are not running.
public struct Doctor: Sendable {
    let home: BurrowHome
    let database: BurrowDatabase
    let hypervisorURI: String
    let runner: ProcessRunner

    public init(home: BurrowHome, database: BurrowDatabase, hypervisorURI: String, runner: ProcessRunner = ProcessRunner()) {
        self.home = home
        self.database = database
        self.hypervisorURI = hypervisorURI
        self.runner = runner
    }

    public func run(fix: Bool) async throws -> [DoctorFinding] {
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
        let virtiofsd = ["/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd", "/usr/bin/virtiofsd"].first { FileManager.default.isExecutableFile(atPath: $0) }
        findings.append(virtiofsd.map { DoctorFinding(severity: .ok, subject: "virtiofsd", detail: $0, action: nil) }
            ?? DoctorFinding(severity: .info, subject: "virtiofsd", detail: "not found; workspace mounts fall back to 9p", action: "apt-get install virtiofsd (or qemu-system-common on Debian 12)"))
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
            var finding = DoctorFinding(severity: .problem, subject: domain, detail: "libvirt domain with no environment", action: "undefine it")
            if fix {
                try? hypervisor.destroy(domain: domain)
                try hypervisor.undefine(domain: domain)
                finding.fixed = true
            }
            findings.append(finding)
        }
        for record in records where try hypervisor.state(ofDomain: record.domainName) == nil {
            var finding = DoctorFinding(severity: .problem, subject: record.name, detail: "environment without its libvirt domain", action: "define the domain again")
            if fix {
                let kernel = try KernelStore(home: home, runner: runner).current()
                try service.define(record, kernel: kernel)
                finding.fixed = true
            }
            findings.append(finding)
        }
        let names = Set(records.map(\.name))
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: home.environments.path)) ?? []
        for folder in folders where !names.contains(folder) {
            var finding = DoctorFinding(severity: .problem, subject: "envs/\(folder)", detail: "disk and keys no environment refers to", action: "delete the folder")
            if fix {
                try FileManager.default.removeItem(at: home.environments.appendingPathComponent(folder))
                finding.fixed = true
            }
            findings.append(finding)
        }
        for record in records where !FileManager.default.fileExists(atPath: home.diskPath(id: record.diskID).path) {
            findings.append(DoctorFinding(severity: .problem, subject: record.name, detail: "its disk is missing", action: "remove it and create it again: burrow rm --force \(record.name)"))
        }
        let referenced = Set(records.map(\.diskID) + (try database.allLayers()).filter { $0.kind == .frozen }.map(\.key))
        let diskFiles = (try? FileManager.default.contentsOfDirectory(atPath: home.disks.path)) ?? []
        for file in diskFiles where !referenced.contains((file as NSString).deletingPathExtension) {
            var finding = DoctorFinding(severity: .problem, subject: "disks/\(file)", detail: "disk no environment or layer refers to", action: "delete it")
            if fix {
                try FileManager.default.removeItem(at: home.disks.appendingPathComponent(file))
                finding.fixed = true
            }
            findings.append(finding)
        }
        for base in try database.allBaseImages() {
            let known = Set(try database.layers(of: base.digest).map(\.key))
            let layerFolder = home.imageDirectory(digest: base.digest).appendingPathComponent("layers")
            for file in (try? FileManager.default.contentsOfDirectory(atPath: layerFolder.path)) ?? [] where !known.contains((file as NSString).deletingPathExtension) {
                var finding = DoctorFinding(severity: .problem, subject: "layer \(file)", detail: "layer file with no record", action: "delete it")
                if fix {
                    try FileManager.default.removeItem(at: layerFolder.appendingPathComponent(file))
                    finding.fixed = true
                }
                findings.append(finding)
            }
        }
        for (environment, addresses) in try service.idleGPUAssignments().sorted(by: { $0.key < $1.key }) {
            var finding = DoctorFinding(severity: .problem, subject: environment, detail: "holds GPU functions \(addresses.joined(separator: ", ")) but is not running", action: "give them back")
            if fix { finding.fixed = try await service.releaseIdleGPUs(of: environment) }
            findings.append(finding)
        }
        if findings.isEmpty {
            findings.append(DoctorFinding(severity: .ok, subject: "store", detail: "\(records.count) environment(s) agree with libvirt and the files", action: nil))
        }
        return findings
    }
}
