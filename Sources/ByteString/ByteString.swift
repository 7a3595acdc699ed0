extension Array where Element == UInt8 {
    /// Calls `body` with a NUL-terminated copy of these bytes, for C APIs that take `char *`
    /// names which need not be valid UTF-8.
    public func withCString<Result>(_ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: count + 1)
        defer { pointer.deallocate() }
        for (index, byte) in enumerated() { pointer[index] = CChar(bitPattern: byte) }
        pointer[count] = 0
        return try body(pointer)
    }
}

/// Copies a C string's bytes out without interpreting them as any encoding.
public func bytesOfCString(_ pointer: UnsafePointer<CChar>?) -> [UInt8] {
    guard let pointer else { return [] }
    var length = 0
    while pointer[length] != 0 { length += 1 }
    return Array(UnsafeRawBufferPointer(start: pointer, count: length))
}
