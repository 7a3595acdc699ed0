import CLibvirt

/// A libvirt domain (a VM definition, running or not), freed when the last reference goes away.
///
/// The handle names the domain; it does not pin its state: every query asks libvirt afresh.
/// Failures throw `LibvirtError`. `@unchecked Sendable` because libvirt domain objects are
/// reference-counted and locked by the library, and this class holds nothing mutable.
public final class LibvirtDomain: @unchecked Sendable {
    private let handle: virDomainPtr

    init(_ handle: virDomainPtr) {
        self.handle = handle
    }

    deinit {
        // Only fails for an invalid pointer, which `handle` never is.
        _ = virDomainFree(handle)
    }

    public var name: String {
        // libvirt returns NULL only for an invalid domain object.
        virDomainGetName(handle).map { String(cString: $0) } ?? ""
    }

    /// The domain's UUID in its canonical 36-character form.
    public func uuid() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        try check(virDomainGetUUIDString(handle, &buffer), "read the UUID of domain '\(name)'")
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What a domain is doing, as libvirt reports it.
    public enum State: Sendable, Equatable {
        case noState
        case running
        /// Blocked on a resource (Xen-era; qemu does not report it).
        case blocked
        case paused
        /// A shutdown was requested and the guest has not finished it yet.
        case shuttingDown
        case shutoff
        case crashed
        /// Suspended by the guest's power management.
        case pmSuspended
        /// A state newer than this wrapper; the raw `virDomainState` value.
        case unknown(Int32)

        init(_ raw: Int32) {
            switch UInt32(bitPattern: raw) {
            case VIR_DOMAIN_NOSTATE.rawValue: self = .noState
            case VIR_DOMAIN_RUNNING.rawValue: self = .running
            case VIR_DOMAIN_BLOCKED.rawValue: self = .blocked
            case VIR_DOMAIN_PAUSED.rawValue: self = .paused
            case VIR_DOMAIN_SHUTDOWN.rawValue: self = .shuttingDown
            case VIR_DOMAIN_SHUTOFF.rawValue: self = .shutoff
            case VIR_DOMAIN_CRASHED.rawValue: self = .crashed
            case VIR_DOMAIN_PMSUSPENDED.rawValue: self = .pmSuspended
            default: self = .unknown(raw)
            }
        }
    }

    /// A state and why the domain is in it: `reason` is the raw value of the state's own reason
    /// enum (`virDomainShutoffReason` for `.shutoff`, `virDomainPausedReason` for `.paused`, ...).
    public struct StateInfo: Sendable, Equatable {
        public let state: State
        public let reason: Int32
    }

    public func state() throws -> StateInfo {
        var state: Int32 = 0
        var reason: Int32 = 0
        try check(virDomainGetState(handle, &state, &reason, 0), "read the state of domain '\(name)'")
        return StateInfo(state: State(state), reason: reason)
    }

    /// True while the domain runs (or is paused): it has a live process behind it.
    public func isActive() throws -> Bool {
        try check(virDomainIsActive(handle), "ask whether domain '\(name)' is running") == 1
    }

    /// True when the domain outlives being stopped (defined rather than created transient).
    public func isPersistent() throws -> Bool {
        try check(virDomainIsPersistent(handle), "ask whether domain '\(name)' is persistent") == 1
    }

    public struct XMLFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Includes secrets such as VNC passwords.
        public static let secure = Self(rawValue: UInt32(VIR_DOMAIN_XML_SECURE.rawValue))
        /// The persistent definition rather than the running one.
        public static let inactive = Self(rawValue: UInt32(VIR_DOMAIN_XML_INACTIVE.rawValue))
        public static let updateCPU = Self(rawValue: UInt32(VIR_DOMAIN_XML_UPDATE_CPU.rawValue))
        public static let migratable = Self(rawValue: UInt32(VIR_DOMAIN_XML_MIGRATABLE.rawValue))
    }

    public func xmlDescription(_ flags: XMLFlags = []) throws -> String {
        try takeString(virDomainGetXMLDesc(handle, flags.rawValue), "read the XML of domain '\(name)'")
    }

    public struct StartFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Creates the guest with its vCPUs stopped; `resume()` lets it run.
        public static let paused = Self(rawValue: UInt32(VIR_DOMAIN_START_PAUSED.rawValue))
        /// Destroys the guest when this connection closes.
        public static let autoDestroy = Self(rawValue: UInt32(VIR_DOMAIN_START_AUTODESTROY.rawValue))
        public static let bypassCache = Self(rawValue: UInt32(VIR_DOMAIN_START_BYPASS_CACHE.rawValue))
        /// Boots afresh, discarding a managed save image instead of restoring it.
        public static let forceBoot = Self(rawValue: UInt32(VIR_DOMAIN_START_FORCE_BOOT.rawValue))
    }

    /// Starts a defined domain; restores its managed save image when it has one (unless `.forceBoot`).
    public func start(_ flags: StartFlags = []) throws {
        try check(virDomainCreateWithFlags(handle, flags.rawValue), "start domain '\(name)'")
    }

    /// Asks the guest to power off (ACPI or agent); returns before it has. Poll `state()`.
    public func shutdown() throws {
        try check(virDomainShutdown(handle), "shut down domain '\(name)'")
    }

    /// Stops the guest at once, like pulling the plug.
    public func destroy() throws {
        try check(virDomainDestroy(handle), "destroy domain '\(name)'")
    }

    public func suspend() throws {
        try check(virDomainSuspend(handle), "pause domain '\(name)'")
    }

    public func resume() throws {
        try check(virDomainResume(handle), "resume domain '\(name)'")
    }

    public struct UndefineFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Also removes the managed save image; without it, undefining a saved domain fails.
        public static let managedSave = Self(rawValue: UInt32(VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue))
        /// Also drops snapshot metadata; without it, undefining a domain with snapshots fails.
        public static let snapshotsMetadata = Self(rawValue: UInt32(VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue))
        public static let checkpointsMetadata = Self(rawValue: UInt32(VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue))
        /// Also deletes the UEFI variable store.
        public static let nvram = Self(rawValue: UInt32(VIR_DOMAIN_UNDEFINE_NVRAM.rawValue))
        public static let keepNVRAM = Self(rawValue: UInt32(VIR_DOMAIN_UNDEFINE_KEEP_NVRAM.rawValue))
    }

    /// Removes the persistent definition; a running domain keeps running as a transient one.
    public func undefine(_ flags: UndefineFlags = []) throws {
        try check(virDomainUndefineFlags(handle, flags.rawValue), "undefine domain '\(name)'")
    }

    /// Starts a backup job: libvirt copies the disks `xml` (a `<domainbackup>`) names as they are
    /// at this instant while the guest runs on. `jobState()` says when it has ended.
    public func beginBackup(xml: String) throws {
        try check(virDomainBackupBegin(handle, xml, nil, 0), "start a backup of domain '\(name)'")
    }

    /// What a domain's background job is doing.
    public enum JobState: Sendable, Equatable {
        case none, running, completed, failed, cancelled
    }

    /// The state of the job running now, or with `lastFinished` of the last one that ended.
    public func jobState(lastFinished: Bool = false) throws -> JobState {
        var type: Int32 = 0
        var parameters: virTypedParameterPtr?
        var count: Int32 = 0
        let flags = lastFinished ? UInt32(VIR_DOMAIN_JOB_STATS_COMPLETED.rawValue) : 0
        try check(virDomainGetJobStats(handle, &type, &parameters, &count, flags), "read the job of domain '\(name)'")
        virTypedParamsFree(parameters, count)
        switch UInt32(type) {
        case VIR_DOMAIN_JOB_BOUNDED.rawValue, VIR_DOMAIN_JOB_UNBOUNDED.rawValue: return .running
        case VIR_DOMAIN_JOB_COMPLETED.rawValue: return .completed
        case VIR_DOMAIN_JOB_FAILED.rawValue: return .failed
        case VIR_DOMAIN_JOB_CANCELLED.rawValue: return .cancelled
        default: return .none
        }
    }

    public func abortJob() throws {
        try check(virDomainAbortJob(handle), "stop the job of domain '\(name)'")
    }

    public func hasManagedSave() throws -> Bool {
        try check(virDomainHasManagedSaveImage(handle, 0), "ask whether domain '\(name)' has a saved state") == 1
    }

    /// Saves the running guest's memory to libvirt's managed image and stops it; the next
    /// `start()` restores from there.
    public func managedSave() throws {
        try check(virDomainManagedSave(handle, 0), "save domain '\(name)'")
    }

    /// Plugs a device (given as its domain XML element) into the running guest only; the
    /// persistent definition is left as it is.
    public func attachDeviceLive(xml: String) throws {
        try check(virDomainAttachDeviceFlags(handle, xml, VIR_DOMAIN_AFFECT_LIVE.rawValue), "attach a device to domain '\(name)'")
    }

    /// Unplugs a device from the running guest only; it returns at the next cold boot.
    public func detachDeviceLive(xml: String) throws {
        try check(virDomainDetachDeviceFlags(handle, xml, VIR_DOMAIN_AFFECT_LIVE.rawValue), "detach a device from domain '\(name)'")
    }

    public func managedSaveRemove() throws {
        try check(virDomainManagedSaveRemove(handle, 0), "remove the saved state of domain '\(name)'")
    }

    public func autostart() throws -> Bool {
        var autostart: Int32 = 0
        try check(virDomainGetAutostart(handle, &autostart), "read the autostart flag of domain '\(name)'")
        return autostart != 0
    }

    /// Whether the daemon starts the domain when it starts itself.
    public func setAutostart(_ enabled: Bool) throws {
        try check(virDomainSetAutostart(handle, enabled ? 1 : 0), "set the autostart flag of domain '\(name)'")
    }

    // MARK: - Snapshots

    public struct SnapshotFlags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Snapshots disks only (external overlays for a running domain), no memory state.
        public static let diskOnly = Self(rawValue: UInt32(VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY.rawValue))
        /// Leaves no snapshot record in libvirt: the overlays are all that remains.
        public static let noMetadata = Self(rawValue: UInt32(VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA.rawValue))
        /// Freezes guest filesystems through the guest agent for the snapshot.
        public static let quiesce = Self(rawValue: UInt32(VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE.rawValue))
        /// All disks or none: no partial snapshot is left behind on failure.
        public static let atomic = Self(rawValue: UInt32(VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC.rawValue))
        /// Uses overlay files the caller already created instead of creating them.
        public static let reuseExternal = Self(rawValue: UInt32(VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT.rawValue))
    }

    /// Takes a snapshot described by `xml` (`<domainsnapshot>`).
    public func snapshotCreate(xml: String, flags: SnapshotFlags = []) throws -> LibvirtDomainSnapshot {
        let snapshot = try check(virDomainSnapshotCreateXML(handle, xml, flags.rawValue), "snapshot domain '\(name)'")
        return LibvirtDomainSnapshot(snapshot)
    }
}

/// A snapshot libvirt returned; with `.noMetadata` it only describes what was made.
/// `@unchecked Sendable` for the same reason as `LibvirtDomain`.
public final class LibvirtDomainSnapshot: @unchecked Sendable {
    private let handle: virDomainSnapshotPtr

    init(_ handle: virDomainSnapshotPtr) {
        self.handle = handle
    }

    deinit {
        _ = virDomainSnapshotFree(handle)
    }

    public var name: String {
        virDomainSnapshotGetName(handle).map { String(cString: $0) } ?? ""
    }

    /// The snapshot's XML, which names the overlay files a disk-only snapshot created.
    public func xmlDescription() throws -> String {
        try takeString(virDomainSnapshotGetXMLDesc(handle, 0), "read the XML of snapshot '\(name)'")
    }
}
