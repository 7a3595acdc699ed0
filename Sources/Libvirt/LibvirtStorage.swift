import CLibvirt

/// A libvirt storage pool (for burrow, a directory pool holding qcow2 images), freed when the
/// last reference goes away.
///
/// Volumes created through the pool work the same on a remote host as locally. Failures throw
/// `LibvirtError`. `@unchecked Sendable` because libvirt pool objects are reference-counted and
/// locked by the library, and this class holds nothing mutable.
public final class LibvirtStoragePool: @unchecked Sendable {
    private let handle: virStoragePoolPtr

    init(_ handle: virStoragePoolPtr) {
        self.handle = handle
    }

    deinit {
        _ = virStoragePoolFree(handle)
    }

    public var name: String {
        virStoragePoolGetName(handle).map { String(cString: $0) } ?? ""
    }

    public func isActive() throws -> Bool {
        try check(virStoragePoolIsActive(handle), "ask whether storage pool '\(name)' is active") == 1
    }

    public func xmlDescription() throws -> String {
        try takeString(virStoragePoolGetXMLDesc(handle, 0), "read the XML of storage pool '\(name)'")
    }

    /// Prepares the pool's backing store; for a directory pool, creates the directory.
    public func build() throws {
        try check(virStoragePoolBuild(handle, 0), "build storage pool '\(name)'")
    }

    /// Activates a defined pool so its volumes can be used.
    public func start() throws {
        try check(virStoragePoolCreate(handle, 0), "start storage pool '\(name)'")
    }

    /// Deactivates the pool; its volumes stay on disk.
    public func destroy() throws {
        try check(virStoragePoolDestroy(handle), "stop storage pool '\(name)'")
    }

    /// Removes the pool's definition; the pool must be inactive.
    public func undefine() throws {
        try check(virStoragePoolUndefine(handle), "undefine storage pool '\(name)'")
    }

    public func setAutostart(_ enabled: Bool) throws {
        try check(virStoragePoolSetAutostart(handle, enabled ? 1 : 0), "set the autostart flag of storage pool '\(name)'")
    }

    /// Rescans the pool so files placed in it by other means show up as volumes.
    public func refresh() throws {
        try check(virStoragePoolRefresh(handle, 0), "refresh storage pool '\(name)'")
    }

    /// Creates a volume from `<volume>` XML, e.g. a qcow2 overlay with a `<backingStore>`.
    public func createVolume(xml: String) throws -> LibvirtStorageVolume {
        LibvirtStorageVolume(try check(virStorageVolCreateXML(handle, xml, 0), "create a volume in storage pool '\(name)'"))
    }

    /// The volume called `name` in this pool, or nil when there is none.
    public func lookupVolume(name volumeName: String) throws -> LibvirtStorageVolume? {
        guard let volume = virStorageVolLookupByName(handle, volumeName) else {
            let error = LibvirtError.last("look up volume '\(volumeName)' in storage pool '\(name)'")
            if error.code == .noStorageVolume { return nil }
            throw error
        }
        return LibvirtStorageVolume(volume)
    }

    public func listAllVolumes() throws -> [LibvirtStorageVolume] {
        var list: UnsafeMutablePointer<virStorageVolPtr?>?
        let count = try check(virStoragePoolListAllVolumes(handle, &list, 0), "list the volumes of storage pool '\(name)'")
        guard let list else { return [] }
        defer { free(list) }
        return (0..<Int(count)).compactMap { list[$0].map(LibvirtStorageVolume.init) }
    }
}

/// One volume (file) in a storage pool, freed when the last reference goes away.
/// `@unchecked Sendable` for the same reason as `LibvirtStoragePool`.
public final class LibvirtStorageVolume: @unchecked Sendable {
    private let handle: virStorageVolPtr

    init(_ handle: virStorageVolPtr) {
        self.handle = handle
    }

    deinit {
        _ = virStorageVolFree(handle)
    }

    public var name: String {
        virStorageVolGetName(handle).map { String(cString: $0) } ?? ""
    }

    /// Where the volume lives on the pool's host, the path a domain's `<disk>` names.
    public func path() throws -> String {
        try takeString(virStorageVolGetPath(handle), "read the path of volume '\(name)'")
    }

    public func xmlDescription() throws -> String {
        try takeString(virStorageVolGetXMLDesc(handle, 0), "read the XML of volume '\(name)'")
    }

    /// Deletes the volume's storage (the file, for a directory pool).
    public func delete() throws {
        try check(virStorageVolDelete(handle, 0), "delete volume '\(name)'")
    }
}
