import CLibvirt

/// A failed libvirt call: what burrow was doing and libvirt's own error for it.
///
/// `code` and `domain` are libvirt's `virErrorNumber` and `virErrorDomain`, so callers can tell
/// "no such domain" from "the daemon is down" without importing the C module.
public struct LibvirtError: Error, CustomStringConvertible, Sendable {
    /// A libvirt error number (`virErrorNumber`).
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        init(_ number: virErrorNumber) { self.rawValue = Int32(number.rawValue) }

        public static let internalError = Code(VIR_ERR_INTERNAL_ERROR)
        public static let noSupport = Code(VIR_ERR_NO_SUPPORT)
        public static let noConnect = Code(VIR_ERR_NO_CONNECT)
        public static let xmlError = Code(VIR_ERR_XML_ERROR)
        /// Malformed XML; the message quotes the parser's complaint and position.
        public static let xmlDetail = Code(VIR_ERR_XML_DETAIL)
        public static let systemError = Code(VIR_ERR_SYSTEM_ERROR)
        public static let noDomain = Code(VIR_ERR_NO_DOMAIN)
        public static let noStoragePool = Code(VIR_ERR_NO_STORAGE_POOL)
        public static let noStorageVolume = Code(VIR_ERR_NO_STORAGE_VOL)
        public static let operationInvalid = Code(VIR_ERR_OPERATION_INVALID)
        public static let operationUnsupported = Code(VIR_ERR_OPERATION_UNSUPPORTED)
    }

    public let code: Code
    /// The part of libvirt that raised the error, a `virErrorDomain` value (e.g. `VIR_FROM_RPC`).
    public let domain: Int32
    public let message: String
    /// What burrow asked libvirt to do, phrased to follow "could not".
    public let operation: String

    public init(code: Code, domain: Int32, message: String, operation: String) {
        self.code = code
        self.domain = domain
        self.message = message
        self.operation = operation
    }

    public var description: String { "could not \(operation): \(message)" }

    public var isNoDomain: Bool { code == .noDomain }

    /// The object is in the wrong state for the request, e.g. starting a running domain.
    public var isOperationInvalid: Bool { code == .operationInvalid }

    /// libvirt could not reach its driver or daemon at all: no daemon listening on the socket,
    /// or no driver for the URI. Worth a hint to start libvirtd rather than a bare error.
    public var isConnectionFailure: Bool {
        code == .noConnect || (code == .systemError && domain == Int32(VIR_FROM_RPC.rawValue))
    }

    /// The error the failing libvirt call just recorded for this thread.
    ///
    /// libvirt keeps its last error per thread and every API entry point resets it, so it is
    /// read right after the failing call, in the same synchronous stretch of code, and before
    /// `operation` is evaluated: describing the operation may itself call libvirt (a name lookup).
    static func last(_ operation: @autoclosure () -> String) -> LibvirtError {
        guard let error = virGetLastError() else {
            return LibvirtError(code: Code(rawValue: 0), domain: 0, message: "libvirt reported no error", operation: operation())
        }
        let code = Code(rawValue: error.pointee.code)
        let domain = error.pointee.domain
        let message = error.pointee.message.map { String(cString: $0) } ?? "libvirt error \(error.pointee.code)"
        virResetLastError()
        return LibvirtError(code: code, domain: domain, message: message, operation: operation())
    }
}

/// libvirt's default handler prints every error to stderr; errors reach callers only as thrown
/// `LibvirtError`s, so the handler is replaced once, before any handle exists.
let libvirtErrorsSilenced: Void = burrow_virt_silence_errors()

/// Throws libvirt's last error when a status-returning call failed (returned -1).
@discardableResult
func check(_ status: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    guard status >= 0 else { throw LibvirtError.last(operation()) }
    return status
}

/// Returns a non-nil pointer, or throws libvirt's last error for a call that returned NULL.
func check<Pointer>(_ pointer: Pointer?, _ operation: @autoclosure () -> String) throws -> Pointer {
    guard let pointer else { throw LibvirtError.last(operation()) }
    return pointer
}

/// Copies and frees a string libvirt allocated for the caller, throwing its error when it is NULL.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?, _ operation: @autoclosure () -> String) throws -> String {
    let pointer = try check(pointer, operation())
    defer { free(pointer) }
    return String(cString: pointer)
}

/// A libvirt `unsigned long` version, encoded as major * 1,000,000 + minor * 1,000 + release.
public struct LibvirtVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let release: Int

    public init(major: Int, minor: Int, release: Int) {
        self.major = major
        self.minor = minor
        self.release = release
    }

    init(encoded: UInt) {
        self.init(major: Int(encoded / 1_000_000), minor: Int(encoded / 1_000 % 1_000), release: Int(encoded % 1_000))
    }

    public var description: String { "\(major).\(minor).\(release)" }

    public static func < (lhs: LibvirtVersion, rhs: LibvirtVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.release) < (rhs.major, rhs.minor, rhs.release)
    }
}
