import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A CPU architecture a distro tarball is built for, named as `uname -m` names it on Linux.
///
/// `init(machine:)` also accepts the Debian/Docker spellings (`amd64`, `arm64`) so a value read
/// from any of those worlds maps to the same case.
public enum Architecture: String, Sendable, CaseIterable, Comparable {
    case x86_64
    case aarch64

    public init?(machine: String) {
        switch machine {
        case "x86_64", "amd64": self = .x86_64
        case "aarch64", "arm64": self = .aarch64
        default: return nil
        }
    }

    /// The architecture of the machine burrow runs on, as the kernel reports it.
    public static func host() throws -> Architecture {
        var info = utsname()
        guard uname(&info) == 0 else {
            throw CatalogError.unsupportedHostArchitecture(machine: "unknown (uname failed)")
        }
        let machine = withUnsafeBytes(of: &info.machine) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        guard let architecture = Architecture(machine: machine) else {
            throw CatalogError.unsupportedHostArchitecture(machine: machine)
        }
        return architecture
    }

    public static func < (lhs: Architecture, rhs: Architecture) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
