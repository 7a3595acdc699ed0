import Foundation

/// Tells whether an sshd answers on a 127.0.0.1 port by reading its identification line
/// ("SSH-2.0-…"), without a key exchange or a login. Waiting for a boot this way costs the guest
/// nothing, where every trial login costs it a session; the host key is still checked, strictly,
/// by the first real `ssh` that follows.
public enum SSHBannerProbe {
    /// True when a connection to `port` yields an SSH identification line within `timeout`.
    /// qemu's user-mode forwarding accepts every connection on the host side and closes it when
    /// the guest refuses, so "connected" alone means nothing; the banner is the signal.
    public static func answers(port: Int, timeout: TimeInterval) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int(timeout.truncatingRemainder(dividingBy: 1) * 1_000_000))
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            _ = setsockopt(descriptor, SOL_SOCKET, option, &wait, socklen_t(MemoryLayout<timeval>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        let deadline = Date().addingTimeInterval(timeout)
        while received.count < 4, Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            received += buffer.prefix(count)
        }
        return received.starts(with: Array("SSH-".utf8))
    }
}
