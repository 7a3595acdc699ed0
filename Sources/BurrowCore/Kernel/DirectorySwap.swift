import Foundation

/// Puts a finished folder in place in one step. A new name is a plain rename; an existing
/// folder is exchanged with the new one by `renameat2(RENAME_EXCHANGE)`, so a reader sees the
/// old folder or the new one, never neither, and the old one ends up where the new one was
/// (inside the caller's scratch folder, which deletes it).
enum DirectorySwap {
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32
    // From <linux/fs.h>; Swift's Glibc module hides renameat2 and its flags behind _GNU_SOURCE.
    private static let noReplace: UInt32 = 1
    private static let exchange: UInt32 = 2

    /// Moves `source` to `destination`, swapping with what is there. Returns whether an old
    /// folder was displaced (it is now at `source`).
    static func install(_ source: URL, at destination: URL) throws -> Bool {
        guard let renameat2 = lookUpRenameAt2() else { return try installInTwoSteps(source, at: destination) }
        if renameat2(AT_FDCWD, source.path, AT_FDCWD, destination.path, noReplace) == 0 { return false }
        var failure = errno
        if failure == EEXIST || failure == ENOTEMPTY {
            if renameat2(AT_FDCWD, source.path, AT_FDCWD, destination.path, exchange) == 0 { return true }
            failure = errno
        }
        // Filesystems without the flags answer EINVAL; they get the two-step version.
        if failure == EINVAL || failure == ENOSYS { return try installInTwoSteps(source, at: destination) }
        throw BurrowError(.failure, "cannot move \(source.path) to \(destination.path): \(String(cString: strerror(failure)))")
    }

    /// Without an atomic exchange the old folder is moved aside first: a crash in between leaves
    /// no folder, never a half-written one.
    private static func installInTwoSteps(_ source: URL, at destination: URL) throws -> Bool {
        guard FileManager.default.fileExists(atPath: destination.path) else {
            try FileManager.default.moveItem(at: source, to: destination)
            return false
        }
        let aside = source.deletingLastPathComponent().appendingPathComponent(source.lastPathComponent + ".old")
        try FileManager.default.moveItem(at: destination, to: aside)
        try FileManager.default.moveItem(at: source, to: destination)
        try FileManager.default.moveItem(at: aside, to: source)
        return true
    }

    private static func lookUpRenameAt2() -> RenameAt2? {
        guard let program = dlopen(nil, RTLD_NOW) else { return nil }
        // The C library stays loaded after the handle is closed, and so does the function.
        defer { dlclose(program) }
        guard let symbol = dlsym(program, "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }
}
