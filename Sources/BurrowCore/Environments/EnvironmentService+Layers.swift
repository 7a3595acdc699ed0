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
        guard let image = try database.image(named: sourceRecord.imageName) else { throw BurrowError(.notFound, "image '\(sourceRecord.imageName)' is gone") }
        let record = try claimName(options, image: image, identity: identity, accelerator: Accelerator(rawValue: sourceRecord.accelerator) ?? .tcg, layerKey: frozen.key)
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
        try hypervisor.saveAndStop(domain: record.domainName)
    }

    /// After a resume the guest clock is as old as the save; set it from the host's.
    func correctClock(_ record: EnvironmentRecord) async {
        let now = Int(Date().timeIntervalSince1970)
        let command = "sudo -n date -u -s @\(now) >/dev/null 2>&1 || date -u -s @\(now) >/dev/null 2>&1"
        _ = try? await runner.runAllowingFailure("ssh", ssh.clientArguments(environment: record.name, tty: false, extra: ["-o", "BatchMode=yes"]) + [command])
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
            // Flush the guest's page cache so the frozen layer holds a clean filesystem.
            _ = try? await runner.runAllowingFailure("ssh", ssh.clientArguments(environment: record.name, tty: false, extra: ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]) + ["sync"])
            try hypervisor.switchToOverlay(domain: record.domainName, target: "vda", overlay: newDisk.path, otherTargets: ["vdb", "vdc"])
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
        let seed = Seed(
            hostname: Seed.hostname(for: record.name), machineID: Seed.randomMachineID(), user: record.guestUser, uid: record.guestUID, gid: record.guestGID,
            mode: .run, hostPrivateKey: try String(contentsOf: paths.hostKey, encoding: .utf8), hostPublicKey: hostPublicKey, authorizedKeys: [userKey]
        )
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
