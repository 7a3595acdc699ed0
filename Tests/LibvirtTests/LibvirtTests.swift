import Foundation
import Libvirt
import Testing

// test:///default is one in-process driver state shared by every connection in this process,
// and tests run in parallel: each test works on objects with names of its own.

private func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

private func domainXML(name: String) -> String {
    """
    <domain type='test'>
      <name>\(name)</name>
      <memory unit='MiB'>64</memory>
      <vcpu>1</vcpu>
      <os><type arch='x86_64'>hvm</type></os>
      <devices>
        <disk type='file' device='disk'>
          <driver name='qemu' type='qcow2'/>
          <source file='/burrow-test/\(name).qcow2'/>
          <target dev='vda' bus='virtio'/>
        </disk>
      </devices>
    </domain>
    """
}

@Suite struct ConnectionTests {
    @Test func opensTheTestDriver() throws {
        let connection = try LibvirtConnection(uri: "test:///default")
        #expect(connection.uri == "test:///default")
        #expect(try connection.hypervisorType() == "TEST")
        #expect(try connection.libvirtVersion() >= LibvirtVersion(major: 9, minor: 0, release: 0))
        _ = try connection.hypervisorVersion()
        #expect(try connection.capabilitiesXML().contains("<capabilities>"))
    }

    @Test func readOnlyConnectionsRefuseChanges() throws {
        let connection = try LibvirtConnection(uri: "test:///default", readOnly: true)
        #expect(throws: LibvirtError.self) { try connection.defineDomain(xml: domainXML(name: uniqueName("ro"))) }
    }

    @Test func missingDaemonIsAConnectionFailure() throws {
        let error = try #require(throws: LibvirtError.self) {
            try LibvirtConnection(uri: "qemu+unix:///system?socket=/nonexistent/burrow-test.sock")
        }
        #expect(error.isConnectionFailure)
        #expect(error.message.contains("/nonexistent/burrow-test.sock"))
        #expect(error.description.hasPrefix("could not connect to qemu+unix:///system"))
    }

    @Test func versionsDecodeLibvirtsEncoding() {
        let version = LibvirtVersion(major: 9, minor: 2, release: 1)
        #expect(version.description == "9.2.1")
        #expect(LibvirtVersion(major: 9, minor: 0, release: 0) < version)
    }
}

@Suite struct DomainTests {
    let connection: LibvirtConnection

    init() throws {
        connection = try LibvirtConnection(uri: "test:///default")
    }

    @Test func listsTheDefaultDomain() throws {
        let names = try connection.listAllDomains().map(\.name)
        #expect(names.contains("test"))
        let test = try #require(try connection.lookupDomain(name: "test"))
        #expect(try test.uuid().count == 36)
        #expect(try connection.listAllDomains(.active).map(\.name).contains("test"))
    }

    @Test func lookingUpAMissingDomainGivesNil() throws {
        #expect(try connection.lookupDomain(name: uniqueName("absent")) == nil)
    }

    @Test func invalidXMLThrowsLibvirtsMessage() throws {
        let error = try #require(throws: LibvirtError.self) { try connection.defineDomain(xml: "<domain type='test'><name>") }
        #expect(error.code == .xmlDetail)
        #expect(error.message.contains("Premature end of data"))
        #expect(error.operation == "define a domain")
    }

    @Test func invalidXMLPrintsNothing() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            let connection = try LibvirtConnection(uri: "test:///default")
            do {
                _ = try connection.defineDomain(xml: "<domain type='test'><name>")
                exit(1)
            } catch {
                _ = try connection.lookupDomain(name: "burrow-no-such-domain")
                _ = try? connection.lookupStoragePool(name: "burrow-no-such-pool")
            }
        }
        #expect(result?.standardErrorContent.isEmpty == true)
    }

    @Test func lifecycle() throws {
        let name = uniqueName("life")
        let domain = try connection.defineDomain(xml: domainXML(name: name))
        #expect(domain.name == name)
        #expect(try domain.isPersistent())
        #expect(try domain.state().state == .shutoff)
        #expect(try !domain.isActive())
        #expect(try domain.xmlDescription([.inactive]).contains("<name>\(name)</name>"))

        try domain.start()
        #expect(try domain.state().state == .running)
        #expect(try domain.isActive())
        #expect(throws: LibvirtError.self) { try domain.start() }

        try domain.suspend()
        #expect(try domain.state().state == .paused)
        try domain.resume()
        try domain.shutdown()
        #expect(try domain.state().state == .shutoff)
        let notRunning = try #require(throws: LibvirtError.self) { try domain.destroy() }
        #expect(notRunning.isOperationInvalid)

        try domain.start()
        try domain.destroy()
        let stopped = try domain.state()
        #expect(stopped.state == .shutoff)
        #expect(stopped.reason == 2)  // VIR_DOMAIN_SHUTOFF_DESTROYED

        try domain.setAutostart(true)
        #expect(try domain.autostart())

        try domain.undefine()
        #expect(try connection.lookupDomain(name: name) == nil)
        let gone = try #require(throws: LibvirtError.self) { try domain.state() }
        #expect(gone.isNoDomain)
    }

    @Test func managedSave() throws {
        let name = uniqueName("save")
        let domain = try connection.defineDomain(xml: domainXML(name: name))
        try domain.start()
        #expect(try !domain.hasManagedSave())
        try domain.managedSave()
        #expect(try domain.hasManagedSave())
        #expect(try domain.state().state == .shutoff)
        #expect(try connection.listAllDomains(.managedSave).map(\.name).contains(name))

        try domain.start()
        #expect(try domain.state().state == .running)
        #expect(try !domain.hasManagedSave())

        try domain.managedSave()
        try domain.managedSaveRemove()
        #expect(try !domain.hasManagedSave())

        try domain.start()
        try domain.managedSave()
        try domain.undefine(.managedSave)
        #expect(try connection.lookupDomain(name: name) == nil)
    }

    @Test func snapshotOfARunningDomain() throws {
        let name = uniqueName("snap")
        let domain = try connection.defineDomain(xml: domainXML(name: name))
        try domain.start()
        // The test driver takes no disk-only snapshots; its refusal shows the flag reaches libvirt.
        let diskOnly = try #require(throws: LibvirtError.self) {
            try domain.snapshotCreate(xml: "<domainsnapshot/>", flags: [.diskOnly, .atomic])
        }
        #expect(diskOnly.message.contains("unsupported flags (0x10)"))

        let snapshot = try domain.snapshotCreate(xml: "<domainsnapshot><name>frozen</name></domainsnapshot>", flags: [.atomic])
        #expect(snapshot.name == "frozen")
        #expect(try snapshot.xmlDescription().contains("<name>frozen</name>"))
        #expect(try domain.state().state == .running)

        try domain.destroy()
        let withSnapshots = try #require(throws: LibvirtError.self) { try domain.undefine() }
        #expect(withSnapshots.isOperationInvalid)
        try domain.undefine(.snapshotsMetadata)
        #expect(try connection.lookupDomain(name: name) == nil)
    }
}

@Suite struct StorageTests {
    @Test func directoryPoolAndVolumes() throws {
        let connection = try LibvirtConnection(uri: "test:///default")
        let poolName = uniqueName("pool")
        #expect(try connection.lookupStoragePool(name: poolName) == nil)

        let pool = try connection.defineStoragePool(xml: """
            <pool type='dir'><name>\(poolName)</name><target><path>/burrow-test/\(poolName)</path></target></pool>
            """)
        #expect(try !pool.isActive())
        try pool.build()
        try pool.start()
        #expect(try pool.isActive())
        try pool.refresh()
        #expect(try connection.lookupStoragePool(name: poolName)?.name == poolName)

        let volume = try pool.createVolume(xml: """
            <volume><name>disk.qcow2</name><capacity unit='GiB'>8</capacity>
            <target><format type='qcow2'/></target></volume>
            """)
        #expect(volume.name == "disk.qcow2")
        #expect(try volume.path() == "/burrow-test/\(poolName)/disk.qcow2")
        #expect(try pool.listAllVolumes().map(\.name) == ["disk.qcow2"])
        #expect(try pool.lookupVolume(name: "disk.qcow2")?.name == "disk.qcow2")

        try volume.delete()
        #expect(try pool.lookupVolume(name: "disk.qcow2") == nil)

        try pool.destroy()
        try pool.undefine()
        #expect(try connection.lookupStoragePool(name: poolName) == nil)
    }

    @Test func transientPool() throws {
        let connection = try LibvirtConnection(uri: "test:///default")
        let poolName = uniqueName("transient")
        let pool = try connection.createStoragePool(xml: """
            <pool type='dir'><name>\(poolName)</name><target><path>/burrow-test/\(poolName)</path></target></pool>
            """)
        #expect(try pool.isActive())
        try pool.destroy()
        #expect(try connection.lookupStoragePool(name: poolName) == nil)
    }
}
