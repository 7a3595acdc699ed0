import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One finding of `burrow gpu doctor`: what was checked, what was found, and the fix when it
/// did not pass.
public struct GPUHostCheck: Hashable, Sendable, Codable {
    /// `skip` means the check could not be made (libvirt unreachable); it does not fail the run.
    public enum Status: String, Sendable, Codable {
        case ok, fail, skip
    }

    /// A stable identifier for scripts (`iommu-cmdline`).
    public let id: String
    /// What was checked, for people.
    public let title: String
    public let status: Status
    public let detail: String
    public let fix: String?

    public init(id: String, title: String, status: Status, detail: String, fix: String? = nil) {
        self.id = id
        self.title = title
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}

/// Checks whether this host can pass GPUs to guests: IOMMU asked for and active, vfio-pci
/// available, the locked-memory limit, libvirt able to detach PCI devices, and ready GPUs.
/// Reads files and runs `modinfo`/`virsh`; changes nothing. The stored properties default to
/// this host and exist so tests can substitute fixtures and fake tools.
public struct GPUHostDoctor: Sendable {
    public var paths: GPUHostPaths
    /// The libvirt connection whose node devices are listed.
    public var libvirtURI: String
    public var modinfo = "modinfo"
    public var virsh = "virsh"
    /// The RLIMIT_MEMLOCK soft limit in bytes, nil when unlimited.
    public var memlockLimit: UInt64? = Self.currentMemlockLimit()
    public var isRoot = geteuid() == 0

    public init(paths: GPUHostPaths, libvirtURI: String) {
        self.paths = paths
        self.libvirtURI = libvirtURI
    }

    /// Every check, in the order a person fixes them.
    public func run() async -> [GPUHostCheck] {
        let groups = GPUInventory.iommuGroupCount(sysfs: paths.sysfs)
        let cmdline = kernelCommandLine(iommuActive: groups > 0)
        return [
            cmdline,
            iommuActive(groups: groups, commandLineAsks: cmdline.status == .ok),
            await vfioAvailable(),
            memoryLocking(),
            await libvirtLists(),
            gpus(),
        ]
    }

    /// Passes without parameters when the IOMMU is active anyway: some kernels (AMD's
    /// by default) turn it on unasked.
    private func kernelCommandLine(iommuActive: Bool) -> GPUHostCheck {
        let title = "IOMMU on the kernel command line"
        let path = paths.proc.appendingPathComponent("cmdline")
        let text = try? String(contentsOf: path, encoding: .utf8)
        let asked = Set((text ?? "").split(whereSeparator: \.isWhitespace).map(String.init))
            .intersection(["intel_iommu=on", "amd_iommu=on", "iommu=pt"]).sorted()
        if !asked.isEmpty {
            return GPUHostCheck(id: "iommu-cmdline", title: title, status: .ok, detail: asked.joined(separator: " "))
        }
        let parameters = iommuParameters()
        if iommuActive {
            return GPUHostCheck(id: "iommu-cmdline", title: title, status: .ok, detail: "none set, but this kernel turned the IOMMU on by default (\(parameters) would make it explicit)")
        }
        return GPUHostCheck(
            id: "iommu-cmdline", title: title, status: .fail,
            detail: text == nil ? "cannot read \(path.path)" : "none of intel_iommu=on, amd_iommu=on, iommu=pt in \(path.path)",
            fix: "Add \(parameters) to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, run `sudo update-grub`, and reboot."
        )
    }

    /// The exact parameters for this CPU's vendor (from cpuinfo), or both spellings when unknown.
    private func iommuParameters() -> String {
        let cpuinfo = (try? String(contentsOf: paths.proc.appendingPathComponent("cpuinfo"), encoding: .utf8)) ?? ""
        let vendor = cpuinfo.split(separator: "\n").first { $0.hasPrefix("vendor_id") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces)
        switch vendor {
        case "GenuineIntel": return "intel_iommu=on iommu=pt"
        case "AuthenticAMD": return "amd_iommu=on iommu=pt"
        default: return "intel_iommu=on iommu=pt (Intel CPUs) or amd_iommu=on iommu=pt (AMD CPUs)"
        }
    }

    private func iommuActive(groups: Int, commandLineAsks: Bool) -> GPUHostCheck {
        if groups > 0 {
            return GPUHostCheck(id: "iommu-active", title: "IOMMU active", status: .ok, detail: "\(groups) IOMMU groups")
        }
        return GPUHostCheck(
            id: "iommu-active", title: "IOMMU active", status: .fail, detail: "no IOMMU groups in \(paths.sysfs.path)/kernel/iommu_groups",
            fix: commandLineAsks
                ? "The kernel was asked for an IOMMU but made no groups: enable VT-d (Intel) or AMD-Vi/IOMMU (AMD) in the firmware settings."
                : "Fix the kernel command line (above), reboot, and enable VT-d / AMD-Vi in the firmware settings if groups are still missing."
        )
    }

    private func vfioAvailable() async -> GPUHostCheck {
        let title = "vfio-pci available"
        if let evidence = GPUInventory.vfioPCIEvidence(sysfs: paths.sysfs) {
            return GPUHostCheck(id: "vfio-pci", title: title, status: .ok, detail: "loaded (\(evidence))")
        }
        let fix = "Install your kernel's modules (vfio-pci ships with the kernel package), then `sudo modprobe vfio-pci`."
        do {
            let output = try await ProcessRunner().runAllowingFailure(modinfo, ["-n", "vfio-pci"])
            guard output.status == 0 else {
                return GPUHostCheck(id: "vfio-pci", title: title, status: .fail, detail: "not loaded, and modinfo does not find the module", fix: fix)
            }
            let file = output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            return GPUHostCheck(id: "vfio-pci", title: title, status: .ok, detail: "not loaded yet; module \(file) (libvirt loads it when it detaches a device)")
        } catch {
            return GPUHostCheck(id: "vfio-pci", title: title, status: .fail, detail: "not loaded, and \(error)", fix: fix)
        }
    }

    private func memoryLocking() -> GPUHostCheck {
        let title = "memory locking limit"
        let limit = memlockLimit.map { "\($0 / 1024) KiB" } ?? "unlimited"
        if isRoot {
            return GPUHostCheck(id: "memlock", title: title, status: .ok, detail: "\(limit); running as root, so libvirt raises it for each GPU guest itself")
        }
        if memlockLimit == nil {
            return GPUHostCheck(id: "memlock", title: title, status: .ok, detail: limit)
        }
        return GPUHostCheck(
            id: "memlock", title: title, status: .fail, detail: "\(limit) (ulimit -l): too small to pin a guest's memory for DMA",
            fix: "Run burrow as root (qemu:///system), where libvirt raises the limit itself; otherwise set `memlock unlimited` for your user in /etc/security/limits.conf and log in again."
        )
    }

    private func libvirtLists() async -> GPUHostCheck {
        let title = "libvirt can detach PCI devices"
        do {
            let output = try await ProcessRunner().runAllowingFailure(virsh, ["-c", libvirtURI, "nodedev-list", "--cap", "pci"])
            let message = output.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            if output.status == 0 {
                let count = output.standardOutput.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.count
                return GPUHostCheck(id: "libvirt-nodedev", title: title, status: .ok, detail: "\(libvirtURI) lists \(count) PCI devices")
            }
            if message.localizedCaseInsensitiveContains("failed to connect") {
                return GPUHostCheck(
                    id: "libvirt-nodedev", title: title, status: .skip, detail: "libvirt at \(libvirtURI) is not reachable: \(message)",
                    fix: "Start libvirtd (`sudo systemctl start libvirtd`, or `virtlogd -d; libvirtd -d` without systemd) and run the doctor again."
                )
            }
            return GPUHostCheck(id: "libvirt-nodedev", title: title, status: .fail, detail: "virsh nodedev-list failed: \(message)", fix: "Check that your user may manage \(libvirtURI) (root, or the libvirt group).")
        } catch {
            return GPUHostCheck(id: "libvirt-nodedev", title: title, status: .fail, detail: "\(error)", fix: "Install libvirt: `sudo apt-get install libvirt-daemon-system libvirt-clients`.")
        }
    }

    private func gpus() -> GPUHostCheck {
        let title = "NVIDIA GPUs ready for passthrough"
        let found: [GPUDevice]
        do {
            found = try GPUInventory.scan(sysfs: paths.sysfs, pciIDs: paths.pciIDs)
        } catch {
            return GPUHostCheck(id: "gpus", title: title, status: .fail, detail: "\(error)")
        }
        guard !found.isEmpty else {
            return GPUHostCheck(id: "gpus", title: title, status: .fail, detail: "no NVIDIA GPU found", fix: "burrow passes NVIDIA GPUs only; check that the card is seated and shows in `lspci -d 10de:`.")
        }
        let ready = found.filter(\.isReady)
        if !ready.isEmpty {
            return GPUHostCheck(id: "gpus", title: title, status: .ok, detail: ready.map { "\($0.address) \($0.model)" }.joined(separator: ", "))
        }
        let problems = found.flatMap(\.problems)
        return GPUHostCheck(
            id: "gpus", title: title, status: .fail,
            detail: found.map { "\($0.address): \($0.problems.map(\.description).joined(separator: "; "))" }.joined(separator: "; "),
            fix: problems.reduce(into: [String]()) { hints, problem in if !hints.contains(problem.hint) { hints.append(problem.hint) } }.joined(separator: " ")
        )
    }

    /// This process's RLIMIT_MEMLOCK soft limit in bytes, nil when unlimited. getrlimit fails
    /// only for an invalid resource, so a failure is not told apart.
    public static func currentMemlockLimit() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return UInt64(limit.rlim_cur)
    }
}
