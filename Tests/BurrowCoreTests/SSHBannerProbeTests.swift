import Foundation
import Testing

@testable import BurrowCore

/// A one-connection TCP server on 127.0.0.1 that sends `greeting` (or nothing) and closes.
private final class OneShotServer: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32

    init(greeting: String?) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        guard bound else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        descriptor = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            if let greeting { _ = greeting.withCString { send(client, $0, strlen($0), 0) } }
            close(client)
        }
    }

    deinit { close(descriptor) }
}

struct SSHBannerProbeTests {
    @Test func anSSHBannerCounts() throws {
        let server = try OneShotServer(greeting: "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        #expect(SSHBannerProbe.answers(port: server.port, timeout: 5))
    }

    /// What qemu's user-mode forwarding does while the guest's sshd is not listening yet.
    @Test func aConnectionClosedWithoutABannerDoesNot() throws {
        let server = try OneShotServer(greeting: nil)
        #expect(!SSHBannerProbe.answers(port: server.port, timeout: 5))
    }

    @Test func anotherProtocolDoesNot() throws {
        let server = try OneShotServer(greeting: "HTTP/1.1 400 Bad Request\r\n\r\n")
        #expect(!SSHBannerProbe.answers(port: server.port, timeout: 5))
    }

    @Test func aClosedPortDoesNot() throws {
        let port = try #require(PortPicker.candidate(excluding: []))
        #expect(!SSHBannerProbe.answers(port: port, timeout: 1))
    }
}
