import BurrowStore
import Foundation

/// How guests are executed: hardware virtualisation, or qemu's TCG emulation where KVM is not
/// usable (no /dev/kvm, or a nested PVM host whose KVM cannot run stock guest kernels).
public enum Accelerator: String, Sendable, Codable, CaseIterable {
    case kvm, tcg
}

/// One virtio disk; `serial` is how burrow's initramfs finds it (`/sys/block/vd*/serial`).
public struct DiskSpec: Sendable, Equatable {
    public enum Format: String, Sendable { case qcow2, raw }

    public var path: String
    public var format: Format
    public var serial: String
    public var readOnly: Bool

    public init(path: String, format: Format, serial: String, readOnly: Bool) {
        self.path = path
        self.format = format
        self.serial = serial
        self.readOnly = readOnly
    }
}

/// How host folders reach the guest: virtiofs (fast, needs virtiofsd and shared memory) or 9p.
public enum ShareDriver: String, Sendable, Codable {
    case virtiofs
    case ninep = "9p"

    /// What a share of this driver does about guest ownership when qemu runs as `qemuUID`.
    /// Passthrough keeps the guest's owners on host files, which needs a process that may chown:
    /// virtiofsd (libvirt runs it as root) or a root qemu. An unprivileged qemu creates files as
    /// itself, so they belong to the host user either way, but under passthrough its chown to
    /// any other owner fails and turns every file guest root creates into EPERM; squash ignores
    /// that failure (the file stays the host user's). Mapped would store owners in xattrs and
    /// show host files as root-owned in the guest.
    public func access(qemuUID: Int) -> ShareAccess {
        self == .virtiofs || qemuUID == 0 ? .passthrough : .squash
    }

    public static let virtiofsDaemons = ["/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd", "/usr/bin/virtiofsd"]

    /// virtiofs where the host has virtiofsd and libvirt runs it as root (system instance); 9p otherwise.
    public static func choose(uri: String) -> ShareDriver {
        uri.contains("/system") && virtiofsDaemon != nil ? .virtiofs : .ninep
    }

    public static var virtiofsDaemon: String? {
        virtiofsDaemons.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The guest's /etc/fstab line mounting share `tag` at `guestPath`.
    ///
    /// `nofail` keeps a missing share from stopping the boot, but under systemd it also drops the
    /// mount's ordering before local-fs.target, so the mount would race everything after it:
    /// systemd-tmpfiles-setup empties /tmp (`D /tmp`) and deleted a share's mount point there
    /// before a slow mount reached it, and services could start without the workspace.
    /// `x-systemd.before=local-fs.target` restores the ordering; tmpfiles then stops at the
    /// mount point. Without systemd, SysV init empties /tmp before it mounts, mount point and
    /// all: `x-mount.mkdir` has util-linux's mount make it again. Busybox's mount passes `x-`
    /// options to the kernel, which refuses them, so burrow's /init leaves them out there.
    public func fstabLine(tag: String, guestPath: String, readOnly: Bool) -> String {
        let options = (readOnly ? "ro" : "rw") + "," + (self == .ninep ? "trans=virtio,version=9p2000.L,msize=524288," : "")
            + "nofail,x-systemd.before=local-fs.target,x-mount.mkdir"
        return "\(tag) \(Self.fstabField(guestPath)) \(rawValue) \(options) 0 0"
    }

    /// A path as one fstab field: the octal escapes getmntent(3) reads back (a workspace in
    /// "My Project" keeps its space).
    static func fstabField(_ path: String) -> String {
        path.replacingOccurrences(of: "\\", with: "\\134").replacingOccurrences(of: " ", with: "\\040")
            .replacingOccurrences(of: "\t", with: "\\011").replacingOccurrences(of: "\n", with: "\\012")
    }
}

/// libvirt's `accessmode` for a shared folder; see `ShareDriver.access(qemuUID:)`.
public enum ShareAccess: String, Sendable {
    case passthrough, squash
}

/// One shared host folder as the domain sees it: the guest mounts it by `tag`.
public struct FilesystemSpec: Sendable, Equatable {
    public var hostPath: String
    public var tag: String
    public var readOnly: Bool

    public init(hostPath: String, tag: String, readOnly: Bool) {
        self.hostPath = hostPath
        self.tag = tag
        self.readOnly = readOnly
    }
}

/// A numeric uid:gid pair.
public struct ProcessOwner: Sendable, Equatable {
    public var uid: Int
    public var gid: Int

    public init(uid: Int, gid: Int) {
        self.uid = uid
        self.gid = gid
    }
}

/// Everything that goes into an environment's libvirt domain. `xml()` renders it; the same spec
/// always renders the same XML.
public struct DomainSpec: Sendable, Equatable {
    public var name: String
    /// burrow's environment name, kept in the domain metadata so stray domains can be traced back.
    public var environment: String
    public var memoryMiB: Int
    public var cpus: Int
    public var accelerator: Accelerator
    public var kernel: String
    public var initrd: String
    public var kernelArguments: String
    public var disks: [DiskSpec]
    /// Host port on 127.0.0.1 forwarded to the guest's sshd.
    public var sshPort: Int
    public var macAddress: String
    public var consoleLog: String
    /// Under qemu:///system, run qemu as this uid:gid instead of libvirt's default user, so it
    /// can reach files in the owner's home without relabelling shared base images.
    public var runAs: ProcessOwner?
    /// Set when redefining an existing domain: libvirt matches definitions by UUID.
    public var uuid: String?
    public var filesystems: [FilesystemSpec] = []
    public var shareDriver: ShareDriver = .ninep
    public var shareAccess: ShareAccess = .passthrough
    /// More 127.0.0.1 ports forwarded to the guest besides SSH.
    public var forwardedPorts: [PortRule] = []
    /// Passed-through GPUs; they switch the machine to q35.
    public var gpu: GPUDomainAdditions?
    /// The BIOS ROM qemu runs instead of its default (see `GuestBIOS`). Left out with GPUs:
    /// their 64-bit memory regions want SeaBIOS's PCI setup, which qboot does not do.
    public var bios: String?

    /// The machine type: q35 with passed-through GPUs, else pc.
    public var machine: String { gpu?.machine ?? "pc" }

    /// The kernel command line the domain boots with: `kernelArguments`, and on pc
    /// `acpi=noirq`. Every virtio device there uses MSI-X, so the legacy interrupt lines that
    /// ACPI would route (evaluating its link objects, 0.7 s of an emulated boot) go unused; ACPI
    /// itself stays for power-off and hot-plug. q35 keeps ACPI routing for passed-through devices.
    public var commandLine: String { machine == "pc" ? kernelArguments + " acpi=noirq" : kernelArguments }

    public init(
        name: String, environment: String, memoryMiB: Int, cpus: Int, accelerator: Accelerator, kernel: String, initrd: String,
        kernelArguments: String, disks: [DiskSpec], sshPort: Int, macAddress: String, consoleLog: String, runAs: ProcessOwner?
    ) {
        self.name = name
        self.environment = environment
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.accelerator = accelerator
        self.kernel = kernel
        self.initrd = initrd
        self.kernelArguments = kernelArguments
        self.disks = disks
        self.sshPort = sshPort
        self.macAddress = macAddress
        self.consoleLog = consoleLog
        self.runAs = runAs
    }

    public static let metadataNamespace = "https://burrow.dev/xmlns/libvirt/1"

    public func xml() -> String {
        let letters = ["a", "b", "c", "d", "e", "f", "g", "h"]
        let disks = disks.enumerated().map { index, disk in
            """
                <disk type='file' device='disk'>
                  <driver name='qemu' type='\(disk.format.rawValue)'\(disk.readOnly ? "" : " discard='unmap'")/>
                  <source file='\(XMLText.escaped(disk.path))'/>
                  <target dev='vd\(letters[index % letters.count])' bus='virtio'/>
                  <serial>\(XMLText.escaped(disk.serial))</serial>\(disk.readOnly ? "\n      <readonly/>" : "")
                </disk>
            """
        }.joined(separator: "\n")
        let cpu = accelerator == .kvm ? "\n  <cpu mode='host-passthrough'/>" : ""
        let seclabel = runAs.map { "\n  <seclabel type='static' model='dac' relabel='no'>\n    <label>+\($0.uid):+\($0.gid)</label>\n  </seclabel>" } ?? ""
        // libvirt 9.0 has no passt port forwarding, so user-mode networking with a hostfwd is
        // passed straight to qemu; the NIC gets a fixed PCI slot clear of libvirt's own.
        let forwards = [PortRule(host: sshPort, guest: 22)] + forwardedPorts
        let netdev = "user,id=burrownet," + forwards.map { "hostfwd=tcp:127.0.0.1:\($0.host)-:\($0.guest)" }.joined(separator: ",")
        let virtiofs = shareDriver == .virtiofs && !filesystems.isEmpty
        // virtiofsd maps guest memory, which must then be shared, file-backed memory.
        let memoryBacking = virtiofs ? "\n  <memoryBacking>\n    <source type='memfd'/>\n    <access mode='shared'/>\n  </memoryBacking>" : ""
        let shares = filesystems.map { "\n" + filesystemXML($0).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") }.joined()
        // q35's root bus is the PCI Express root complex pcie.0; pc's is the PCI bus pci.0.
        let nic = "virtio-net-pci,netdev=burrownet,mac=\(macAddress),bus=\(machine == "q35" ? "pcie.0" : "pci.0"),addr=0x10"
        let memtune = gpu.map { "\n" + $0.memtuneXML } ?? ""
        let gpuDevices = gpu.map { "\n" + $0.controllersXML + "\n" + $0.hostdevsXML } ?? ""
        let loader = (gpu == nil ? bios : nil).map { "\n    <loader readonly='yes' type='rom'>\(XMLText.escaped($0))</loader>" } ?? ""
        // No USB controller: nothing in a burrow guest uses one, and probing it costs a quarter
        // of a second of every boot under emulation.
        return """
            <domain type='\(accelerator == .kvm ? "kvm" : "qemu")' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
              <name>\(XMLText.escaped(name))</name>\(uuid.map { "\n  <uuid>\(XMLText.escaped($0))</uuid>" } ?? "")
              <metadata>
                <burrow:environment xmlns:burrow='\(Self.metadataNamespace)' name='\(XMLText.escaped(environment))'/>
              </metadata>
              <memory unit='MiB'>\(memoryMiB)</memory>
              <vcpu>\(cpus)</vcpu>\(memtune)\(memoryBacking)
              <os>
                <type arch='x86_64' machine='\(machine)'>hvm</type>\(loader)
                <kernel>\(XMLText.escaped(kernel))</kernel>
                <initrd>\(XMLText.escaped(initrd))</initrd>
                <cmdline>\(XMLText.escaped(commandLine))</cmdline>
              </os>
              <features>
                <acpi/>
              </features>\(cpu)
              <clock offset='utc'/>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>restart</on_reboot>
              <on_crash>destroy</on_crash>
              <devices>
            \(disks)\(shares)
                <serial type='pty'>
                  <log file='\(XMLText.escaped(consoleLog))' append='off'/>
                  <target port='0'/>
                </serial>
                <console type='pty'>
                  <target type='serial' port='0'/>
                </console>
                <rng model='virtio'>
                  <backend model='random'>/dev/urandom</backend>
                </rng>
                <controller type='usb' model='none'/>
                <memballoon model='none'/>\(gpuDevices)
              </devices>\(seclabel)
              <qemu:commandline>
                <qemu:arg value='-netdev'/>
                <qemu:arg value='\(XMLText.escaped(netdev))'/>
                <qemu:arg value='-device'/>
                <qemu:arg value='\(XMLText.escaped(nic))'/>
              </qemu:commandline>
            </domain>
            """
    }

    /// One share's `<filesystem>` element, also what is unplugged and plugged around a suspend.
    public func filesystemXML(_ share: FilesystemSpec) -> String {
        let virtiofs = shareDriver == .virtiofs
        let driver = virtiofs
            ? "\n  <driver type='virtiofs'/>\n  <binary path='\(XMLText.escaped(ShareDriver.virtiofsDaemon ?? ShareDriver.virtiofsDaemons[0]))'/>"
            : ""
        // virtiofs in libvirt 9.0 has no <readonly/>: the guest mounts those read-only instead.
        let readOnly = share.readOnly && !virtiofs ? "\n  <readonly/>" : ""
        return """
            <filesystem type='mount' accessmode='\(shareAccess.rawValue)'>\(driver)
              <source dir='\(XMLText.escaped(share.hostPath))'/>
              <target dir='\(XMLText.escaped(share.tag))'/>\(readOnly)
            </filesystem>
            """
    }
}
