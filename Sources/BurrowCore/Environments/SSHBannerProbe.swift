import Foundation

/// Waits for an sshd on a 127.0.0.1 port by reading its identification line ("SSH-2.0-…"),
/// without a key exchange or a login. A connection sshd accepts costs the guest one process (a
/// fork, or from OpenSSH 9.8 an exec of `sshd-session`) and a refused one nothing, where every
/// trial login would cost it a session; the host key is still checked, strictly, by the first
/// real `ssh` that follows.
///
/// qemu's user-mode forwarding accepts every connection on the host side at once, then connects
/// to the guest. Until the guest's network is up, that SYN is lost and slirp resends it only
/// seconds later, so a connection made then stays silent long after sshd listens: while none has
/// been answered, a fresh one is opened every `freshConnectionInterval` beside those waiting (the
/// oldest dropped past `maximumOpen`). Once the guest answers at all, a refusal (sshd not listening
/// yet: the connection is closed) comes back at once, so from then on one connection at a time is
/// kept for up to `connectionLifetime`, time enough for a loaded guest's sshd, and a refused one
/// is retried 50 ms later.
///
/// slirp still delivers those early connections when it resends their SYNs, closed or not, and
/// each costs the guest's sshd a process (OpenSSH 9.8 and later exec `sshd-session` for it) just
/// as the first login needs the CPU. So when `networkUp` can tell that the guest's network is up
/// (burrow's `/init` says so on the console), no connection is opened before it does, and then
/// only one at a time; past `networkWait` without that word it falls back to the above. Not safe
/// to share between tasks.
public final class SSHBannerProbe {
    private struct Connection {
        let descriptor: Int32
        let opened: Date
        var received: [UInt8] = []
    }

    private let port: Int
    private let freshConnectionInterval: TimeInterval
    private let connectionLifetime: TimeInterval
    private let maximumOpen: Int
    /// Between a refused connection and the next: a refusal comes back at once.
    private let retryInterval: TimeInterval = 0.05
    /// How often `networkUp` is asked while no connection may be opened.
    private let networkPollInterval: TimeInterval = 0.05
    private var connections: [Connection] = []
    private var lastOpened = Date.distantPast
    /// The guest's network is up: a connection made now is answered at once, if only refused.
    private var guestReachable = false
    /// Asked until it says yes or `networkWaitEnds`; nil from then on.
    private var networkUp: (() -> Bool)?
    private let networkWaitEnds: Date

    public init(
        port: Int, freshConnectionInterval: TimeInterval = 0.25, connectionLifetime: TimeInterval = 5, maximumOpen: Int = 8,
        networkUp: (() -> Bool)? = nil, networkWait: TimeInterval = 20
    ) {
        self.port = port
        self.freshConnectionInterval = freshConnectionInterval
        self.connectionLifetime = connectionLifetime
        self.maximumOpen = maximumOpen
        self.networkUp = networkUp
        networkWaitEnds = Date().addingTimeInterval(networkWait)
    }

    deinit {
        for connection in connections { close(connection.descriptor) }
    }

    /// Watches for up to `duration` seconds; true once any connection has yielded an SSH banner.
    public func answered(within duration: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(duration)
        while true {
            let now = Date()
            if let networkUp {
                if networkUp() {
                    guestReachable = true
                    self.networkUp = nil
                } else if now < networkWaitEnds {
                    guard now < deadline else { return false }
                    Thread.sleep(until: min(deadline, now.addingTimeInterval(networkPollInterval)))
                    continue
                } else {
                    self.networkUp = nil
                }
            }
            closeConnections { now.timeIntervalSince($0.opened) >= connectionLifetime }
            let opensMore = connections.isEmpty || !guestReachable
            let nextOpening = lastOpened.addingTimeInterval(connections.isEmpty ? retryInterval : freshConnectionInterval)
            if opensMore, now >= nextOpening {
                if connections.count >= maximumOpen, let oldest = connections.first?.descriptor {
                    closeConnections { $0.descriptor == oldest }
                }
                openConnection()
                continue
            }
            guard now < deadline else { return false }
            let expiry = connections.map { $0.opened.addingTimeInterval(connectionLifetime) }.min() ?? deadline
            let wake = min(deadline, expiry, opensMore ? nextOpening : deadline)
            if waitForData(until: wake) { return true }
        }
    }

    private func openConnection() {
        lastOpened = Date()
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 || errno == EINPROGRESS else {
            close(descriptor)
            return
        }
        connections.append(Connection(descriptor: descriptor, opened: lastOpened))
    }

    /// Polls the open connections until `wake`; true when one of them has sent an SSH banner.
    /// Connections that fail are dropped; those that close or speak another protocol are
    /// dropped too, and mean the guest answered.
    private func waitForData(until wake: Date) -> Bool {
        var descriptors = connections.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        let milliseconds = Int32(max(1, min(wake.timeIntervalSinceNow * 1000, 60_000)))
        guard poll(&descriptors, nfds_t(descriptors.count), milliseconds) > 0 else { return false }
        var finished: Set<Int32> = []
        var failed: Set<Int32> = []
        var buffer = [UInt8](repeating: 0, count: 64)
        for (index, entry) in descriptors.enumerated() where entry.revents != 0 {
            let count = buffer.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                // Refused or reset by the host, not closed by slirp for the guest: no answer.
                if errno != EAGAIN && errno != EINTR { failed.insert(entry.fd) }
                continue
            }
            guard count > 0 else {
                finished.insert(entry.fd)
                continue
            }
            connections[index].received += buffer.prefix(count)
            let received = connections[index].received
            if received.count >= 4 {
                if received.starts(with: Array("SSH-".utf8)) { return true }
                finished.insert(entry.fd)
            }
        }
        closeConnections { failed.contains($0.descriptor) }
        guard !finished.isEmpty else { return false }
        // The first answer means the guest's network is up: connections still silent were made
        // before, and slirp would resend their SYNs only seconds from now.
        let staleToo = !guestReachable
        guestReachable = true
        closeConnections { staleToo || finished.contains($0.descriptor) }
        return false
    }

    private func closeConnections(where shouldClose: (Connection) -> Bool) {
        connections.removeAll { connection in
            guard shouldClose(connection) else { return false }
            close(connection.descriptor)
            return true
        }
    }
}
