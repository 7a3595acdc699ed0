import CLibvirt

/// An open connection to a libvirt driver (`qemu:///system`, `qemu+ssh://host/system`,
/// `test:///default`, ...), closed when the last reference goes away.
///
/// Every failure is thrown as `LibvirtError` carrying libvirt's own message; nothing is printed.
/// `@unchecked Sendable` because libvirt connections are thread-safe: the library locks each
/// connection and object internally and keeps errors per thread, and this class holds nothing
/// mutable of its own.
public final class LibvirtConnection: @unchecked Sendable {
    private let handle: virConnectPtr
    /// The URI libvirt resolved the connection to, e.g. "qemu:///system".
    public let uri: String

    /// Opens `uri`; read-only connections work without write access to the daemon's socket.
    public init(uri: String, readOnly: Bool = false) throws {
        _ = libvirtErrorsSilenced
        let connection = readOnly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri)
        let handle = try check(connection, "connect to \(uri)")
        self.handle = handle
        do {
            self.uri = try takeString(virConnectGetURI(handle), "read the URI of \(uri)")
        } catch {
            _ = virConnectClose(handle)
            throw error
        }
    }

    deinit {
        // Returns the remaining reference count; domains and pools still alive keep it open.
        _ = virConnectClose(handle)
    }

    /// The driver's name for its hypervisor, e.g. "QEMU" or "TEST".
    public func hypervisorType() throws -> String {
        let type = try check(virConnectGetType(handle), "read the hypervisor type")
        return String(cString: type)
    }

    /// The hypervisor's version (qemu's, for the QEMU driver).
    public func hypervisorVersion() throws -> LibvirtVersion {
        var version: UInt = 0
        try check(virConnectGetVersion(handle, &version), "read the hypervisor version")
        return LibvirtVersion(encoded: version)
    }

    /// The version of libvirt serving the connection (the daemon's, for remote connections).
    public func libvirtVersion() throws -> LibvirtVersion {
        var version: UInt = 0
        try check(virConnectGetLibVersion(handle, &version), "read the libvirt version")
        return LibvirtVersion(encoded: version)
    }

    /// The host capabilities XML (`virsh capabilities`).
    public func capabilitiesXML() throws -> String {
        try takeString(virConnectGetCapabilities(handle), "read the host capabilities")
    }

    /// What the hypervisor supports for one emulator/arch/machine/virt type (`virsh domcapabilities`);
    /// nil arguments let libvirt choose its default.
    public func domainCapabilitiesXML(emulatorBinary: String? = nil, architecture: String? = nil, machine: String? = nil, virtualizationType: String? = nil) throws -> String {
        let xml = virConnectGetDomainCapabilities(handle, emulatorBinary, architecture, machine, virtualizationType, 0)
        return try takeString(xml, "read the domain capabilities")
    }

    // MARK: - Domains

    /// Defines (or redefines, when the name or UUID already exists) a persistent domain.
    public func defineDomain(xml: String, validate: Bool = false) throws -> LibvirtDomain {
        let flags = validate ? UInt32(VIR_DOMAIN_DEFINE_VALIDATE.rawValue) : 0
        return LibvirtDomain(try check(virDomainDefineXMLFlags(handle, xml, flags), "define a domain"))
    }

    /// The domain called `name`, or nil when there is none.
    public func lookupDomain(name: String) throws -> LibvirtDomain? {
        guard let domain = virDomainLookupByName(handle, name) else {
            let error = LibvirtError.last("look up domain '\(name)'")
            if error.isNoDomain { return nil }
            throw error
        }
        return LibvirtDomain(domain)
    }

    /// Domains matching `filter` (all, persistent and transient, when empty).
    public func listAllDomains(_ filter: ListDomainsFilter = []) throws -> [LibvirtDomain] {
        var list: UnsafeMutablePointer<virDomainPtr?>?
        let count = try check(virConnectListAllDomains(handle, &list, filter.rawValue), "list domains")
        guard let list else { return [] }
        defer { free(list) }
        return (0..<Int(count)).compactMap { list[$0].map(LibvirtDomain.init) }
    }

    /// Filters for `listAllDomains`; groups are ANDed, flags within a group ORed.
    public struct ListDomainsFilter: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let active = Self(rawValue: UInt32(VIR_CONNECT_LIST_DOMAINS_ACTIVE.rawValue))
        public static let inactive = Self(rawValue: UInt32(VIR_CONNECT_LIST_DOMAINS_INACTIVE.rawValue))
        public static let persistent = Self(rawValue: UInt32(VIR_CONNECT_LIST_DOMAINS_PERSISTENT.rawValue))
        public static let transient = Self(rawValue: UInt32(VIR_CONNECT_LIST_DOMAINS_TRANSIENT.rawValue))
        public static let managedSave = Self(rawValue: UInt32(VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE.rawValue))
        public static let noManagedSave = Self(rawValue: UInt32(VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE.rawValue))
    }

    // MARK: - Storage

    /// The storage pool called `name`, or nil when there is none.
    public func lookupStoragePool(name: String) throws -> LibvirtStoragePool? {
        guard let pool = virStoragePoolLookupByName(handle, name) else {
            let error = LibvirtError.last("look up storage pool '\(name)'")
            if error.code == .noStoragePool { return nil }
            throw error
        }
        return LibvirtStoragePool(pool)
    }

    /// Defines a persistent, inactive pool; `build()` and `start()` it before use.
    public func defineStoragePool(xml: String) throws -> LibvirtStoragePool {
        LibvirtStoragePool(try check(virStoragePoolDefineXML(handle, xml, 0), "define a storage pool"))
    }

    /// Creates and starts a transient pool, gone once it is destroyed or the daemon restarts.
    public func createStoragePool(xml: String) throws -> LibvirtStoragePool {
        LibvirtStoragePool(try check(virStoragePoolCreateXML(handle, xml, 0), "create a storage pool"))
    }
}
