import CGuestFS
import Foundation

/// A failed libguestfs call: what burrow was doing and libguestfs's own message and errno.
public struct GuestFSError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let message: String
    /// The errno behind the failure, from the appliance when it came from there; 0 when unknown.
    public let errno: Int32

    public var description: String { "could not \(operation): \(message)" }
}

/// A partition or filesystem libguestfs found on the added drives.
public struct GuestFilesystem: Sendable, Equatable {
    /// The appliance's name for it, e.g. "/dev/sda" or "/dev/sda1": what `mount` takes.
    public let device: String
    /// The filesystem type, e.g. "ext4", or "unknown" / "swap".
    public let type: String

    public init(device: String, type: String) {
        self.device = device
        self.type = type
    }
}

/// What `stat`/`lstat` report about a file inside the image.
public struct GuestFileStatus: Sendable, Equatable {
    /// File type and permission bits, as in `st_mode`.
    public let mode: UInt32
    public let uid: UInt32
    public let gid: UInt32
    public let size: Int64
    public let inode: Int64
    public let linkCount: Int64
    public let modificationTime: Int64

    /// The permission bits including setuid, setgid and sticky.
    public var permissions: UInt32 { mode & 0o7777 }
}

/// A libguestfs handle: add drives, `launch()` the appliance, then inspect the images offline.
///
/// For checks and repairs, never the hot path: a launch boots a small VM (about 12 s under TCG).
/// The handle is closed, and its appliance stopped, when the last reference goes away. Failures
/// throw `GuestFSError` with libguestfs's message; the library prints nothing (its error handler
/// is removed and warnings are swallowed). `@unchecked Sendable` because libguestfs (≥ 1.38) locks
/// each handle on every call and keeps the last error per thread; this class holds nothing
/// mutable of its own.
public final class GuestFSHandle: @unchecked Sendable {
    private let handle: OpaquePointer

    /// A handle that ignores the process environment and uses exactly this backend.
    ///
    /// - Parameters:
    ///   - backend: e.g. "direct" (qemu run by libguestfs) or "libvirt"; nil keeps the built-in default.
    ///   - backendSettings: e.g. ["force_tcg"] where KVM cannot boot the appliance; nil keeps none.
    public init(backend: String? = nil, backendSettings: [String]? = nil) throws {
        guard let handle = burrow_guestfs_create_without_environment() else {
            let code = Foundation.errno
            throw GuestFSError(operation: "create a libguestfs handle", message: String(cString: strerror(code)), errno: code)
        }
        self.handle = handle
        guestfs_set_error_handler(handle, nil, nil)
        let warnings = UInt64(GUESTFS_EVENT_WARNING)
        try check(guestfs_set_event_callback(handle, { _, _, _, _, _, _, _, _, _ in }, warnings, 0, nil), "silence libguestfs warnings")
        if let backend {
            try check(guestfs_set_backend(handle, backend), "select the libguestfs backend \(backend)")
        }
        if let backendSettings {
            try withCStringArray(backendSettings) { settings in
                try check(guestfs_set_backend_settings(handle, settings), "set the libguestfs backend settings \(backendSettings)")
            }
        }
    }

    /// A handle configured from `LIBGUESTFS_BACKEND` and `LIBGUESTFS_BACKEND_SETTINGS`
    /// (colon-separated, as libguestfs itself reads it); other `LIBGUESTFS_*` variables are ignored.
    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let settings = environment["LIBGUESTFS_BACKEND_SETTINGS"].map { $0.split(separator: ":").map(String.init) }
        try self.init(backend: environment["LIBGUESTFS_BACKEND"], backendSettings: settings)
    }

    deinit {
        guestfs_close(handle)
    }

    /// Adds a disk image before `launch()`.
    ///
    /// - Parameter format: "raw" or "qcow2"; always name it for images from outside, since
    ///   letting libguestfs probe lets a raw image claim to be qcow2 with a host backing file.
    public func addDrive(path: String, format: String?, readOnly: Bool = true) throws {
        // The header's *_BITMASK macros (UINT64_C(1) << n) do not import; n is the option's index.
        var options = guestfs_add_drive_opts_argv()
        options.bitmask = 1 << UInt64(GUESTFS_ADD_DRIVE_OPTS_READONLY)
        options.readonly = readOnly ? 1 : 0
        let status: Int32 = if let format {
            format.withCString { format in
                options.bitmask |= 1 << UInt64(GUESTFS_ADD_DRIVE_OPTS_FORMAT)
                options.format = format
                return guestfs_add_drive_opts_argv(handle, path, &options)
            }
        } else {
            guestfs_add_drive_opts_argv(handle, path, &options)
        }
        try check(status, "add drive \(path)")
    }

    /// Boots the appliance over the added drives.
    public func launch() throws {
        try check(guestfs_launch(handle), "launch the libguestfs appliance")
    }

    /// Syncs and stops the appliance; the handle accepts no further calls. Needed before trusting
    /// writes to a drive added read-write.
    public func shutdown() throws {
        try check(guestfs_shutdown(handle), "shut down the libguestfs appliance")
    }

    public func listFilesystems() throws -> [GuestFilesystem] {
        let list = try takeStringList(guestfs_list_filesystems(handle), "list filesystems")
        return stride(from: 0, to: list.count - 1, by: 2).map { GuestFilesystem(device: list[$0], type: list[$0 + 1]) }
    }

    public func mount(device: String, mountpoint: String = "/", readOnly: Bool = true) throws {
        let status = readOnly ? guestfs_mount_ro(handle, device, mountpoint) : guestfs_mount(handle, device, mountpoint)
        try check(status, "mount \(device) on \(mountpoint)")
    }

    /// Status of `path`, following a final symlink.
    public func stat(path: String) throws -> GuestFileStatus {
        try status(guestfs_statns(handle, path), "stat \(path)")
    }

    /// Status of `path` itself, even when it is a symlink.
    public func lstat(path: String) throws -> GuestFileStatus {
        try status(guestfs_lstatns(handle, path), "lstat \(path)")
    }

    /// The value of extended attribute `name` (e.g. "security.capability") on `path` itself,
    /// or nil when the file has no such attribute.
    public func getxattr(path: String, name: String) throws -> [UInt8]? {
        var size = 0
        guard let value = guestfs_lgetxattr(handle, path, name, &size) else {
            let error = lastError("read attribute \(name) of \(path)")
            if error.errno == ENODATA { return nil }
            throw error
        }
        defer { free(value) }
        return Array(UnsafeRawBufferPointer(start: value, count: size))
    }

    public func readlink(path: String) throws -> String {
        let target = try check(guestfs_readlink(handle, path), "read link \(path)")
        defer { free(target) }
        return String(cString: target)
    }

    public func readFile(path: String) throws -> [UInt8] {
        var size = 0
        let contents = try check(guestfs_read_file(handle, path, &size), "read \(path)")
        defer { free(contents) }
        return Array(UnsafeRawBufferPointer(start: contents, count: size))
    }

    /// Whether `path` names anything; a symlink counts only when its target exists.
    public func exists(path: String) throws -> Bool {
        try check(guestfs_exists(handle, path), "check for \(path)") == 1
    }

    // MARK: - Internals

    private func lastError(_ operation: String) -> GuestFSError {
        let message = guestfs_last_error(handle).map { String(cString: $0) } ?? "libguestfs reported no error"
        return GuestFSError(operation: operation, message: message, errno: guestfs_last_errno(handle))
    }

    @discardableResult
    private func check(_ status: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
        guard status >= 0 else { throw lastError(operation()) }
        return status
    }

    private func check<Pointer>(_ pointer: Pointer?, _ operation: @autoclosure () -> String) throws -> Pointer {
        guard let pointer else { throw lastError(operation()) }
        return pointer
    }

    private func status(_ result: UnsafeMutablePointer<guestfs_statns>?, _ operation: String) throws -> GuestFileStatus {
        let result = try check(result, operation)
        defer { guestfs_free_statns(result) }
        let stat = result.pointee
        return GuestFileStatus(
            mode: UInt32(truncatingIfNeeded: stat.st_mode),
            uid: UInt32(truncatingIfNeeded: stat.st_uid),
            gid: UInt32(truncatingIfNeeded: stat.st_gid),
            size: stat.st_size,
            inode: stat.st_ino,
            linkCount: stat.st_nlink,
            modificationTime: stat.st_mtime_sec
        )
    }

    /// Copies and frees a NULL-terminated string list libguestfs allocated for the caller.
    private func takeStringList(_ list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ operation: String) throws -> [String] {
        let list = try check(list, operation)
        defer { free(list) }
        var strings: [String] = []
        var index = 0
        while let string = list[index] {
            strings.append(String(cString: string))
            free(string)
            index += 1
        }
        return strings
    }
}

/// Calls `body` with `strings` as a NULL-terminated `char *const *` array.
@discardableResult
private func withCStringArray<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) throws -> Result) rethrows -> Result {
    let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
    for (index, string) in strings.enumerated() { array[index] = strdup(string) }
    array[strings.count] = nil
    defer {
        for index in strings.indices { free(array[index]) }
        array.deallocate()
    }
    return try body(array)
}
