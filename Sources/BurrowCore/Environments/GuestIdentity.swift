import Foundation

/// The person burrow acts for: the guest user gets the same name and uid, so files in shared
/// folders belong to the same person on both sides. Root maps to the guest's root.
public struct GuestIdentity: Sendable, Equatable {
    public let user: String
    public let uid: Int
    public let gid: Int

    public static func current() -> GuestIdentity {
        let uid = getuid()
        let gid = getgid()
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else {
            return GuestIdentity(user: uid == 0 ? "root" : "user\(uid)", uid: Int(uid), gid: Int(gid))
        }
        return GuestIdentity(user: String(cString: name), uid: Int(uid), gid: Int(gid))
    }

    /// The longest user name the guest accepts (that of useradd and most distributions).
    public static let maximumUserLength = 32

    /// Refuses a user name the guest's passwd, sudoers and sshd cannot all take (burrow's /init
    /// applies the same rule): letters, digits, '.', '_' and '-', not starting with a digit,
    /// '.' or '-'. Directory-service names ("DOMAIN\user", "user@realm") are refused here, where
    /// they would otherwise fail the guest's boot.
    public func validate() throws {
        let startsWell = user.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } == true
        let allowed = user.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        guard startsWell, allowed, user.utf8.count <= Self.maximumUserLength else {
            throw BurrowError(
                .invalidInput, "your user name '\(TerminalText.sanitized(user))' cannot be the guest user's",
                hint: "The guest user takes your name and uid; it needs 1–\(Self.maximumUserLength) letters, digits, '.', '_' or '-', starting with a letter or '_'. Run burrow as a user with such a name."
            )
        }
    }
}

/// Picks free TCP ports on 127.0.0.1. The store's unique constraint on ports is what makes the
/// choice race-free between burrow processes; the bind check only avoids ports other programs hold.
public enum PortPicker {
    public static let range = 41000..<61000

    public static func candidate(excluding used: Set<Int>) -> Int? {
        for _ in 0..<200 {
            let port = Int.random(in: range)
            if !used.contains(port), isFree(port) { return port }
        }
        return nil
    }

    public static func isFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}
