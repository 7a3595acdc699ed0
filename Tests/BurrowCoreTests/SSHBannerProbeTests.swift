import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// A one-connection TCP server on 127.0.0.1 that sends `greeting` (or nothing) and closes;
/// with `silentFirst`, it first accepts a connection that it holds open without a word.
private final class OneShotServer: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32
    private let lock = NSLock()
    private var firstAcceptedAt: Date?
    /// When the server accepted its first connection.
    var acceptedAt: Date? { lock.withLock { firstAcceptedAt } }

    init(greeting: String?, silentFirst: Bool = false) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        guard bound else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        descriptor = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            let silent = silentFirst ? accept(listener, nil, nil) : -1
            defer { if silent >= 0 { close(silent) } }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            lock.withLock { if firstAcceptedAt == nil { firstAcceptedAt = Date() } }
            if let greeting { _ = greeting.withCString { send(client, $0, strlen($0), 0) } }
            close(client)
        }
    }

    deinit { close(descriptor) }
}

struct SSHBannerProbeTests {
    @Test func anSSHBannerCounts() throws {
        let server = try OneShotServer(greeting: "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        #expect(SSHBannerProbe(port: server.port).answered(within: 5))
    }

    /// What qemu's user-mode forwarding does while the guest's sshd is not listening yet.
    @Test func aConnectionClosedWithoutABannerDoesNot() throws {
        let server = try OneShotServer(greeting: nil)
        #expect(!SSHBannerProbe(port: server.port).answered(within: 1))
    }

    @Test func anotherProtocolDoesNot() throws {
        let server = try OneShotServer(greeting: "HTTP/1.1 400 Bad Request\r\n\r\n")
        #expect(!SSHBannerProbe(port: server.port).answered(within: 1))
    }

    @Test func aClosedPortDoesNot() throws {
        let port = try #require(PortPicker.candidate(excluding: []))
        #expect(!SSHBannerProbe(port: port).answered(within: 1))
    }

    /// A connection whose forwarded SYN the booting guest lost stays silent for seconds: a fresh
    /// one beside it is answered meanwhile.
    @Test func aSilentConnectionDoesNotHideALaterAnswer() throws {
        let server = try OneShotServer(greeting: "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", silentFirst: true)
        let probe = SSHBannerProbe(port: server.port, freshConnectionInterval: 0.2)
        let start = Date()
        #expect(probe.answered(within: 3))
        #expect(Date().timeIntervalSince(start) < 3)
    }

    /// Told when the guest's network is up, the probe opens nothing before: slirp would deliver
    /// such a connection later, when it costs the guest's sshd a process.
    @Test func noConnectionBeforeTheNetworkIsUp() throws {
        let server = try OneShotServer(greeting: "SSH-2.0-OpenSSH_10.0p2 Debian-7\r\n")
        let networkUpAt = Date().addingTimeInterval(0.5)
        let probe = SSHBannerProbe(port: server.port, networkUp: { Date() >= networkUpAt })
        #expect(!probe.answered(within: 0.3))
        #expect(server.acceptedAt == nil)
        #expect(probe.answered(within: 3))
        #expect(try #require(server.acceptedAt) >= networkUpAt)
    }

    /// Without the word, past the wait it probes as it would without being told anything.
    @Test func aNetworkThatNeverSaysSoFallsBackToProbing() throws {
        let server = try OneShotServer(greeting: "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        let probe = SSHBannerProbe(port: server.port, networkUp: { false }, networkWait: 0.3)
        #expect(probe.answered(within: 3))
    }

    @Test func theConsoleTellsWhenTheNetworkIsUp() throws {
        let directory = try TemporaryDirectory(prefix: "burrow-console")
        let console = directory.path("console.log")
        #expect(!EnvironmentService.consoleSaysNetworkUp(console))
        try Data("Linux version 6.1\r\n".utf8).write(to: console)
        #expect(!EnvironmentService.consoleSaysNetworkUp(console))
        try Data("Linux version 6.1\r\nBURROW-NETWORK-UP\r\n".utf8).write(to: console)
        #expect(EnvironmentService.consoleSaysNetworkUp(console))
    }
}
