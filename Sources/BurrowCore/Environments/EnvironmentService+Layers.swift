import BurrowStore
import Foundation

/// Clones, snapshots and suspend. All of them rest on one move, `freezeDisk`: the environment's
/// writable disk becomes a read-only layer (for a running guest through a libvirt external
/// snapshot, after flushing the guest's caches) and the environment continues on a fresh
/// overlay above it. That costs the same whatever the disk holds.
extension EnvironmentService {
    // MARK: - Clone

    /// Makes `target` a copy of `source` (stopped or running) that shares its disk as a layer and
    /// gets its own identity: hostname, machine-id, SSH host key, MAC and SSH port.
    public func clone(_ source: String, to target: String) async throws -> EnvironmentRecord {
        try Names.validate(target, what: "environment")
        let locks = try await lockBoth(source, target)
        defer { locks.forEach { $0.release() } }
        let sourceRecord = try existing(source)
        if try database.environment(named: target) != nil { throw Self.exists(target) }
        let kernel = try kernels.current()
        let identity = GuestIdentity(user: sourceRecord.guestUser, uid: sourceRecord.guestUID, gid: sourceRecord.guestGID)
        let userKey = try await ssh.ensureUserKey()

        let scratch = try home.makeScratchDirectory(purpose: "clone")
        defer { scratch.release() }
        let operation = try database.beginOperation(kind: "create", subject: target, scratchPath: scratch.url.path)
        defer { try? database.endOperation(operation) }

        let frozen = try await freezeDisk(of: sourceRecord, kernel: kernel, purpose: "clone of \(source) into \(target)")
        var options = CreateOptions(name: target, image: sourceRecord.imageName, cpus: sourceRecord.cpus, memoryMiB: sourceRecord.memoryMiB, diskBytes: sourceRecord.diskBytes)
        options.gpu = sourceRecord.gpuRequest
        options.sharedFolders = sourceRecord.sharedFolders
        options.variables = sourceRecord.variables
        options.projectRoot = sourceRecord.projectRoot
        // Like the GPU request, the forwards are the clone's too; a host port reaches one guest,
        // so whichever of the two starts while the other runs goes without them.
        options.ports = sourceRecord.ports
        if !options.ports.isEmpty {
            notices("\(target) forwards the same host ports as \(source) (\(options.ports.map { "127.0.0.1:\($0.host)" }.joined(separator: ", "))); while one of them runs, the other starts without them")
        }
        guard let image = try database.image(named: sourceRecord.imageName) else { throw BurrowError(.notFound, "image '\(sourceRecord.imageName)' is gone") }
        let record = try claimName(options, image: image, identity: identity, accelerator: Accelerator(rawValue: sourceRecord.accelerator) ?? .tcg, layerKey: frozen.key)
        CrashPoint.reach("create.claimed")
        do {
            try await makeDisk(id: record.diskID, on: home.layerFile(frozen), size: nil)
            try await giveIdentity(to: record, kernel: kernel, userKey: userKey)
            return record
        } catch {
            try? rollBack(record)
            throw error
        }
    }

    // MARK: - Snapshots

    public func snapshot(_ name: String, as snapshotName: String?) async throws -> SnapshotRecord {
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        let record = try existing(name)
        let label = snapshotName ?? Self.timestampName()
        try Names.validate(label, what: "snapshot")
        if try database.snapshot(of: name, named: label) != nil {
            throw BurrowError(.wrongState, "environment '\(name)' already has a snapshot named '\(label)'", hint: "Pick another name, or remove it: burrow snapshot rm \(name) \(label)")
        }
        let frozen = try await freezeDisk(of: record, kernel: try kernels.current(), purpose: "snapshot \(label) of \(name)")
        let snapshot = SnapshotRecord(environment: name, name: label, layerKey: frozen.key, createdAt: Date())
        try database.write { try snapshot.insert($0) }
        return snapshot
    }

    /// Puts the environment's disk back to a snapshot; what changed since is discarded. A
    /// running environment is stopped first and started again afterwards.
    public func restore(_ name: String, to snapshotName: String) async throws {
        guard try database.snapshot(of: name, named: snapshotName) != nil else {
            throw BurrowError(.notFound, "environment '\(name)' has no snapshot named '\(snapshotName)'", hint: "See them with: burrow snapshot ls \(name)")
        }
        let wasRunning = try hypervisor.state(ofDomain: try existing(name).domainName) == .running
        if wasRunning { try await stop(name) }
        do {
            let lock = try await home.lockEnvironment(name)
            defer { lock.release() }
            var record = try existing(name)
            guard let snapshot = try database.snapshot(of: name, named: snapshotName), let layer = try database.layer(key: snapshot.layerKey) else {
                throw BurrowError(.notFound, "snapshot '\(snapshotName)' disappeared")
            }
            if try hypervisor.state(ofDomain: record.domainName) == .suspended { try hypervisor.undefine(domain: record.domainName) }
            let oldDisk = record.diskID
            record.diskID = Self.newDiskID()
            record.layerKey = layer.key
            try await makeDisk(id: record.diskID, on: home.layerFile(layer), size: nil)
            try database.updateEnvironment(record)
            try define(record, kernel: try kernels.current())
            try? FileManager.default.removeItem(at: home.diskPath(id: oldDisk))
            try releaseUnusedLayers()
        }
        if wasRunning { try await start(name) }
    }

    public func removeSnapshot(_ name: String, _ snapshotName: String) async throws {
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        _ = try existing(name)
        let deleted = try database.write { try SnapshotRecord.deleteOne($0, key: ["environment": name, "name": snapshotName]) }
        guard deleted else { throw BurrowError(.notFound, "environment '\(name)' has no snapshot named '\(snapshotName)'", hint: "See them with: burrow snapshot ls \(name)") }
        try releaseUnusedLayers()
    }

    // MARK: - Suspend

    /// Saves the guest's memory and stops it; `start`, `exec` and `shell` resume it.
    public func suspend(_ name: String) async throws {
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        let record = try existing(name)
        try Self.refuseSuspendingGPUs(record)
        guard try hypervisor.state(ofDomain: record.domainName) == .running else {
            throw BurrowError(.wrongState, "environment '\(name)' is not running", hint: "Only a running environment can be suspended.")
        }
        // Shared folders cannot be saved with the guest (9p blocks migration while mounted,
        // virtiofs even unmounted), so they are unmounted and unplugged first, and come back
        // after the resume.
        if !record.sharedFolders.isEmpty {
            let mountPoints = record.sharedFolders.reversed().map { SSHTools.shellQuote($0.guest) }.joined(separator: " ")
            try await guestCommand(record, "for point in \(mountPoints); do umount \"$point\" 2>/dev/null || umount -l \"$point\"; done; true")
            let spec = domainSpec(for: record, kernel: try kernels.current(), paths: EnvironmentPaths(home: home, name: name))
            if spec.shareDriver == .virtiofs {
                for share in spec.filesystems { try hypervisor.detachLive(domain: record.domainName, deviceXML: spec.filesystemXML(share)) }
            }
        }
        do {
            try hypervisor.saveAndStop(domain: record.domainName)
        } catch {
            try? await restoreAfterSave(record)
            throw error
        }
    }

    /// Brings a guest whose memory was saved back to the present in one login: its clock (as old
    /// as the save) set from the host's, and its shares plugged in again and mounted. That login
    /// opens the connection later commands share; `connectTimeout` bounds reaching sshd.
    func restoreAfterSave(_ record: EnvironmentRecord, connectTimeout: Int? = nil) async throws {
        var mount: [String] = []
        if !record.sharedFolders.isEmpty {
            let spec = domainSpec(for: record, kernel: try kernels.current(), paths: EnvironmentPaths(home: home, name: record.name))
            if spec.shareDriver == .virtiofs {
                for share in spec.filesystems { try? hypervisor.attachLive(domain: record.domainName, deviceXML: spec.filesystemXML(share)) }
            }
            // Freshly plugged devices take a moment to appear; mount retries until they do.
            mount = ["for attempt in 1 2 3 4 5 6 7 8 9 10; do mount -a -t virtiofs,9p && break; sleep 1; done"]
        }
        // Read after the plugging, which takes time. A clock that cannot be set is not worth
        // failing the resume for.
        let clock = "date -u -s @\(Int(Date().timeIntervalSince1970)) >/dev/null || :"
        try await guestCommand(record, ([clock] + mount).joined(separator: "; "), connectTimeout: connectTimeout)
    }

    /// Runs a shell command in the guest as root (through sudo for an ordinary user), on the
    /// shared connection, opening it if needed within `connectTimeout` seconds when given.
    func guestCommand(_ record: EnvironmentRecord, _ command: String, connectTimeout: Int? = nil) async throws {
        let wrapped = record.guestUser == "root" ? command : "sudo -n sh -c \(SSHTools.shellQuote(command))"
        let arguments = ssh.batchArguments(environment: record.name, connectTimeout: connectTimeout, mayOpenShared: true)
        let output = try await runner.runAllowingFailure("ssh", arguments + [wrapped])
        guard output.status == 0 else {
            throw BurrowError(.failure, "a command in '\(record.name)' failed: \(output.standardError.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    // MARK: - Compact

    /// Rewrites a stopped environment's disk without the space its guest freed; returns the
    /// bytes it took before and after.
    public func compact(_ name: String) async throws -> (before: Int64, after: Int64) {
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        let record = try existing(name)
        guard try hypervisor.state(ofDomain: record.domainName) == .stopped else {
            throw BurrowError(.wrongState, "environment '\(name)' must be stopped to compact it", hint: "burrow stop \(name) && burrow compact \(name)")
        }
        guard let image = try database.image(named: record.imageName) else { throw BurrowError(.notFound, "image '\(record.imageName)' is gone") }
        let disk = home.diskPath(id: record.diskID)
        let backing = try home.backingFile(digest: image.digest, layerKey: record.layerKey, database: database)
        let compacted = disk.deletingPathExtension().appendingPathExtension("compacting")
        try? FileManager.default.removeItem(at: compacted)
        let before = Self.allocatedBytes(disk)
        do {
            try await runner.run(
                "qemu-img", ["convert", "-O", "qcow2", "-F", "qcow2", "-B", backing.path, disk.path, compacted.path], what: "compacting the disk"
            )
            guard rename(compacted.path, disk.path) == 0 else { throw BurrowError(.failure, "cannot replace \(disk.path): \(String(cString: strerror(errno)))") }
        } catch {
            try? FileManager.default.removeItem(at: compacted)
            throw error
        }
        return (before, Self.allocatedBytes(disk))
    }

    // MARK: - Helpers

    /// The root disk's target in every burrow domain, and the others (kernel modules, seed).
    static let rootDisk = "vda"
    static let otherDisks = ["vdb", "vdc"]

    /// Flushes a running guest's page cache, so a copy of its disk taken next holds everything
    /// written so far. Best effort: a guest that does not answer is copied as it stands.
    func syncGuestFilesystems(_ record: EnvironmentRecord) async {
        _ = try? await runner.runAllowingFailure("ssh", ssh.batchArguments(environment: record.name, connectTimeout: 10) + ["sync"])
    }

    /// Turns `record`'s writable disk into a frozen layer and moves the environment onto a new
    /// overlay above it; returns the layer. The store is updated right after the switch.
    func freezeDisk(of record: EnvironmentRecord, kernel: KernelCore, purpose: String) async throws -> LayerRecord {
        guard let image = try database.image(named: record.imageName) else { throw BurrowError(.notFound, "image '\(record.imageName)' is gone") }
        let state = try hypervisor.state(ofDomain: record.domainName)
        guard state == .running || state == .stopped || state == nil else {
            throw BurrowError(.wrongState, "environment '\(record.name)' is \(state?.rawValue ?? "gone")", hint: "Start or stop it first.")
        }
        let layer = LayerRecord(key: record.diskID, parentDigest: image.digest, parentKey: record.layerKey, kind: .frozen, purpose: purpose, createdAt: Date())
        var updated = record
        updated.diskID = Self.newDiskID()
        updated.layerKey = layer.key
        let newDisk = home.diskPath(id: updated.diskID)
        if state == .running {
            await syncGuestFilesystems(record)
            try hypervisor.switchToOverlay(domain: record.domainName, target: Self.rootDisk, overlay: newDisk.path, otherTargets: Self.otherDisks)
        } else {
            try await makeDisk(id: updated.diskID, on: home.diskPath(id: layer.key), size: nil)
        }
        try database.write { db in
            try layer.insert(db)
            try updated.update(db)
        }
        try? FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: home.diskPath(id: layer.key).path)
        try define(updated, kernel: kernel)
        return layer
    }

    /// Host key, known_hosts, seed, domain and SSH config for a freshly claimed environment.
    func giveIdentity(to record: EnvironmentRecord, kernel: KernelCore, userKey: String) async throws {
        let paths = EnvironmentPaths(home: home, name: record.name)
        try FileManager.default.createDirectory(at: paths.directory, withIntermediateDirectories: true)
        try await ssh.generateKey(at: paths.hostKey, comment: "burrow-\(record.name)-host")
        let hostPublicKey = try String(contentsOf: paths.hostPublicKey, encoding: .utf8)
        try Data(SSHTools.knownHostsLine(port: record.sshPort, hostPublicKey: hostPublicKey).utf8).write(to: paths.knownHosts)
        var seed = Seed(
            hostname: Seed.hostname(for: record.name), machineID: Seed.randomMachineID(), user: record.guestUser, uid: record.guestUID, gid: record.guestGID,
            mode: .run, hostPrivateKey: try String(contentsOf: paths.hostKey, encoding: .utf8), hostPublicKey: hostPublicKey, authorizedKeys: [userKey]
        )
        seed.fstab = fstabLines(for: record)
        seed.environment = record.variables
        try seed.write(to: paths.seed)
        CrashPoint.reach("create.seed-written")
        try define(record, kernel: kernel)
        CrashPoint.reach("create.defined")
        try writeSSHConfig()
    }

    /// Defines (or redefines, keeping its UUID) the environment's domain from its record, with
    /// `gpu` passed through; a running domain picks the new definition up at its next boot.
    func define(_ record: EnvironmentRecord, kernel: KernelCore, gpu: GPUDomainAdditions? = nil) throws {
        var spec = domainSpec(for: record, kernel: kernel, paths: EnvironmentPaths(home: home, name: record.name))
        spec.uuid = try hypervisor.uuid(ofDomain: record.domainName)
        spec.bios = try GuestBIOS.rom(uri: hypervisor.uri)
        spec.gpu = gpu
        try hypervisor.define(xml: spec.xml())
    }

    /// Locks two environments in name order, so two commands locking the same pair cannot deadlock.
    private func lockBoth(_ first: String, _ second: String) async throws -> [FileLock] {
        var locks: [FileLock] = []
        for name in Set([first, second]).sorted() { locks.append(try await home.lockEnvironment(name)) }
        return locks
    }

    static func timestampName() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}

/// Port forwards on a live environment. The forward lives in qemu's user-mode network (a
/// `hostfwd` rule); a running guest gets it at once through qemu's monitor, and the domain
/// definition is updated for the next boot.
extension EnvironmentService {
    public func addPort(_ rule: PortRule, to name: String) async throws {
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        var record = try existing(name)
        guard !record.ports.contains(where: { $0.host == rule.host }) else {
            throw BurrowError(.wrongState, "127.0.0.1:\(rule.host) is already forwarded to \(name)", hint: "Remove it first: burrow port \(name) rm \(rule.host)")
        }
        try validatePorts([rule], for: name)
        if try hypervisor.state(ofDomain: record.domainName) == .running {
            try await monitor(record, "hostfwd_add burrownet tcp:127.0.0.1:\(rule.host)-:\(rule.guest)")
        }
        record.ports.append(rule)
        try database.updateEnvironment(record)
        try define(record, kernel: try kernels.current())
    }

    public func removePort(_ hostPort: Int, from name: String) async throws {
        let lock = try await home.lockEnvironment(name)
        defer { lock.release() }
        var record = try existing(name)
        guard record.ports.contains(where: { $0.host == hostPort }) else {
            throw BurrowError(.notFound, "127.0.0.1:\(hostPort) is not forwarded to \(name)", hint: "See the forwards: burrow port \(name) ls")
        }
        if try hypervisor.state(ofDomain: record.domainName) == .running {
            try await monitor(record, "hostfwd_remove burrownet tcp:127.0.0.1:\(hostPort)")
        }
        record.ports.removeAll { $0.host == hostPort }
        try database.updateEnvironment(record)
        try define(record, kernel: try kernels.current())
    }

    /// One human-monitor command to the environment's qemu, through virsh.
    private func monitor(_ record: EnvironmentRecord, _ command: String) async throws {
        let output = try await runner.run("virsh", ["-c", hypervisor.uri, "qemu-monitor-command", record.domainName, "--hmp", command], what: "changing the port forwards")
        let reply = output.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        // Success is silent for hostfwd_add and a confirmation for hostfwd_remove.
        if ["could not", "invalid", "error"].contains(where: { reply.lowercased().contains($0) }) {
            throw BurrowError(.failure, "qemu refused '\(command)': \(reply)")
        }
    }
}
