import BurrowStore
import Crypto
import Foundation

/// Gives a bare rootfs (docker-style: no init, no sshd, no modprobe) what burrow's guest side
/// needs, once per base image: it boots the image in provisioning mode, where burrow's initramfs
/// runs the distro family's script from `Templates/provision/` with the guest's own package
/// manager, and keeps the result as a cached read-only layer that every environment of that
/// image is then built on. Ready images (WSL-style) skip all of this.
public struct GuestProvisioner: Sendable {
    let home: BurrowHome
    let database: BurrowDatabase
    let hypervisor: Hypervisor
    let runner: ProcessRunner
    let progress: @Sendable (String) -> Void

    public init(home: BurrowHome, database: BurrowDatabase, hypervisor: Hypervisor, runner: ProcessRunner, progress: @escaping @Sendable (String) -> Void) {
        self.home = home
        self.database = database
        self.hypervisor = hypervisor
        self.runner = runner
        self.progress = progress
    }

    /// The layer environments of this image are built on: nil for the base itself when it is
    /// ready, else the key of its provisioned layer, built now if it is not cached yet.
    public func guestReadyLayer(for base: BaseImageRecord, kernel: KernelCore, accelerator: Accelerator) async throws -> String? {
        guard let traits = base.guestTraits, !traits.isReady else { return nil }
        guard let family = traits.packageManager else {
            throw BurrowError(.invalidInput, "the image lacks \(Self.missing(traits)) and no known package manager (apt, dnf, apk, pacman) to install it", hint: "Use a rootfs that has them, or one of burrow image pull --list.")
        }
        let script = try Self.template("provision/\(family).sh")
        let key = Self.layerKey(parent: base.digest, script: script)
        let layer = LayerRecord(key: key, parentDigest: base.digest, parentKey: nil, kind: .provisioned, purpose: "guest tools (\(family))", createdAt: Date())
        if try isBuilt(layer) { return key }
        progress("installing \(Self.missing(traits)) into the image with \(family) (once per image; the result is cached)")
        try await build(layer, on: home.baseImagePath(digest: base.digest), script: script, kernel: kernel, accelerator: accelerator, memoryMiB: 1024, timeout: Self.timeout(accelerator))
        return key
    }

    /// Whether `layer` is recorded and its file is in place.
    func isBuilt(_ layer: LayerRecord) throws -> Bool {
        try database.layer(key: layer.key) != nil && FileManager.default.fileExists(atPath: home.layerFile(layer).path)
    }

    /// Boots a throwaway guest on a new overlay of `backing` in provisioning mode, where the
    /// initramfs runs `script` as root in a chroot of the disk with the network up, and keeps
    /// the overlay as `layer` when the script succeeded. Nothing is kept otherwise.
    func build(_ layer: LayerRecord, on backing: URL, script: String, kernel: KernelCore, accelerator: Accelerator, memoryMiB: Int, timeout: TimeInterval) async throws {
        let scratch = try home.makeScratchDirectory(purpose: "provision")
        defer { scratch.release() }
        let operation = try database.beginOperation(kind: "provision", subject: layer.key, scratchPath: scratch.url.path)
        defer { try? database.endOperation(operation) }

        let disk = scratch.url.appendingPathComponent("layer.qcow2")
        try await runner.run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", backing.path, disk.path], what: "creating the provisioning disk")
        let hostKey = scratch.url.appendingPathComponent("host_key")
        try await SSHTools(home: home, runner: runner).generateKey(at: hostKey, comment: "burrow-provision")
        let seed = Seed(
            hostname: "burrow-provision", machineID: Seed.randomMachineID(), user: "root", uid: 0, gid: 0, mode: .provision,
            hostPrivateKey: try String(contentsOf: hostKey, encoding: .utf8),
            hostPublicKey: try String(contentsOf: hostKey.appendingPathExtension("pub"), encoding: .utf8), authorizedKeys: [], provisionScript: script
        )
        let seedFile = scratch.url.appendingPathComponent("seed.tar")
        try seed.write(to: seedFile)
        let console = scratch.url.appendingPathComponent("console.log")
        let domain = Self.domainName(home: home, key: layer.key)
        var spec = DomainSpec(
            name: domain, environment: "(provisioning \(layer.parentDigest.prefix(12)))", memoryMiB: memoryMiB, cpus: 2, accelerator: accelerator,
            kernel: kernel.bootKernel.path, initrd: kernel.initrd.path, kernelArguments: EnvironmentService.kernelArguments(for: accelerator),
            disks: [
                DiskSpec(path: disk.path, format: .qcow2, serial: "burrow-root", readOnly: false),
                DiskSpec(path: kernel.modulesImage.path, format: .raw, serial: "burrow-modules", readOnly: true),
                DiskSpec(path: seedFile.path, format: .raw, serial: "burrow-seed", readOnly: true),
            ],
            sshPort: try Self.throwawayPort(), macAddress: EnvironmentService.randomMAC(), consoleLog: console.path,
            runAs: hypervisor.uri.contains("/system") ? ProcessOwner(uid: Int(getuid()), gid: Int(getgid())) : nil
        )
        spec.bios = try GuestBIOS.rom(uri: hypervisor.uri)
        try? hypervisor.destroy(domain: domain)
        try hypervisor.undefine(domain: domain)
        try hypervisor.define(xml: spec.xml())
        defer {
            try? hypervisor.destroy(domain: domain)
            try? hypervisor.undefine(domain: domain)
        }
        try hypervisor.start(domain: domain)
        try await waitUntilStopped(domain, timeout: timeout)
        // Whatever else the guest wrote there, a byte that is not UTF-8 must not hide the line.
        let log = String(decoding: (try? Data(contentsOf: console)) ?? Data(), as: UTF8.self)
        guard log.contains("BURROW-PROVISION-OK") else {
            let tail = TerminalText.lastLines(in: log, count: 25).joined(separator: "\n  ")
            throw BurrowError(.failure, "provisioning (\(layer.purpose)) failed; the guest console ends with:\n  \(tail)", hint: "Nothing was kept. Fix the step (or the guest's network access to its package mirror) and retry.")
        }
        let layerPath = home.layerFile(layer)
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: disk.path)
        try FileManager.default.createDirectory(at: layerPath.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: layerPath)
        try FileManager.default.moveItem(at: disk, to: layerPath)
        try database.insertLayer(layer)
    }

    private func waitUntilStopped(_ domain: String, timeout: TimeInterval) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while let state = try hypervisor.state(ofDomain: domain), state == .running || state == .stopping {
            guard Date() < deadline else {
                throw BurrowError(.failure, "provisioning did not finish within \(Int(timeout)) s", hint: "Raise BURROW_PROVISION_TIMEOUT and retry.")
            }
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
    }

    static func domainName(home: BurrowHome, key: String) -> String {
        "\(home.domainName(for: "provision"))-\(key.prefix(8))"
    }

    static func layerKey(parent: String, script: String) -> String {
        SHA256.hash(data: Data((parent + "\n" + script).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func missing(_ traits: GuestTraits) -> String {
        [traits.hasInit ? nil : "an init system", traits.hasSSHServer ? nil : "an SSH server", traits.hasModuleTools ? nil : "kernel-module tools"]
            .compactMap { $0 }.joined(separator: ", ")
    }

    /// The text of `Templates/<path>`.
    static func template(_ path: String) throws -> String {
        try String(contentsOf: try ProjectResources.locate(folder: "Templates", overrideVariable: "BURROW_TEMPLATES").appendingPathComponent(path), encoding: .utf8)
    }

    /// `BURROW_PROVISION_TIMEOUT`, else `kvm` seconds under KVM and four times that under TCG.
    static func timeout(_ accelerator: Accelerator, kvm: TimeInterval = 600) -> TimeInterval {
        ProcessInfo.processInfo.environment["BURROW_PROVISION_TIMEOUT"].flatMap(TimeInterval.init) ?? (accelerator == .kvm ? kvm : kvm * 4)
    }

    /// The provisioning guest's sshd is never used, but the NIC's forward needs some free port.
    static func throwawayPort() throws -> Int {
        guard let port = PortPicker.candidate(excluding: []) else { throw BurrowError(.failure, "no free TCP port on 127.0.0.1") }
        return port
    }
}

extension BurrowHome {
    /// Environments' writable disks and frozen layers: `disks/<id>.qcow2`.
    public var disks: URL { root.appendingPathComponent("disks") }

    public func diskPath(id: String) -> URL { disks.appendingPathComponent("\(id).qcow2") }

    public func layerFile(_ layer: LayerRecord) -> URL {
        switch layer.kind {
        case .provisioned: imageDirectory(digest: layer.parentDigest).appendingPathComponent("layers/\(layer.key).qcow2")
        case .frozen: diskPath(id: layer.key)
        }
    }

    /// The file a disk built on `layerKey` (or on the image itself when nil) has as its backing file.
    public func backingFile(digest: String, layerKey: String?, database: BurrowDatabase) throws -> URL {
        guard let layerKey else { return baseImagePath(digest: digest) }
        guard let layer = try database.layer(key: layerKey) else {
            throw BurrowError(.failure, "layer \(layerKey) is missing from the store", hint: "burrow doctor shows what is inconsistent.")
        }
        return layerFile(layer)
    }
}
