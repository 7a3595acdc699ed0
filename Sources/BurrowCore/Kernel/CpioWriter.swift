import Foundation

/// Writes a "newc" cpio archive, the format the kernel unpacks an initramfs from. Output is
/// deterministic: owners are root, times are zero, inode numbers count up in the order entries
/// are added. Missing parent directories are added first (mode 0755), since the kernel creates
/// each entry inside an already unpacked folder. Device nodes need no privileges here, which is
/// why burrow writes the archive itself rather than running `cpio` over a staged tree.
final class CpioWriter {
    private static let regular: UInt32 = 0o100000
    private static let directoryType: UInt32 = 0o040000
    private static let symlinkType: UInt32 = 0o120000
    private static let characterDeviceType: UInt32 = 0o020000

    private let handle: FileHandle
    private var nextInode: UInt32 = 1
    private var directories: Set<String> = []

    init(creating url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw BurrowError(.failure, "cannot create \(url.path)", hint: "Check free space and permissions under that folder.")
        }
        handle = try FileHandle(forWritingTo: url)
    }

    func directory(_ path: String, mode: UInt32 = 0o755) throws {
        let path = Self.normalized(path)
        guard !directories.contains(path) else { return }
        try addParents(of: path)
        directories.insert(path)
        try entry(path, mode: Self.directoryType | mode, links: 2, data: Data())
    }

    func file(_ path: String, contents: Data, mode: UInt32 = 0o644) throws {
        let path = Self.normalized(path)
        try addParents(of: path)
        try entry(path, mode: Self.regular | mode, data: contents)
    }

    func symlink(_ path: String, target: String) throws {
        let path = Self.normalized(path)
        try addParents(of: path)
        try entry(path, mode: Self.symlinkType | 0o777, data: Data(target.utf8))
    }

    func characterDevice(_ path: String, major: UInt32, minor: UInt32, mode: UInt32 = 0o600) throws {
        let path = Self.normalized(path)
        try addParents(of: path)
        try entry(path, mode: Self.characterDeviceType | mode, data: Data(), device: (major, minor))
    }

    /// Writes the trailer and closes the file.
    func finish() throws {
        try entry("TRAILER!!!", mode: 0, links: 1, data: Data(), inode: 0)
        try handle.synchronize()
        try handle.close()
    }

    private func addParents(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty { try directory(parent) }
    }

    private func entry(_ path: String, mode: UInt32, links: UInt32 = 1, data: Data, device: (UInt32, UInt32) = (0, 0), inode: UInt32? = nil) throws {
        guard data.count <= UInt32.max else {
            throw BurrowError(.invalidInput, "\(path) is too large for an initramfs (\(data.count) bytes)")
        }
        let name = Data(path.utf8) + [0]
        let fields: [UInt32] = [
            inode ?? nextInode, mode, 0, 0, links, 0, UInt32(data.count),
            0, 0, device.0, device.1, UInt32(name.count), 0,
        ]
        if inode == nil { nextInode += 1 }
        var record = Data("070701".utf8)
        for field in fields { record.append(contentsOf: Array(String(format: "%08X", field).utf8)) }
        record.append(name)
        record.append(contentsOf: [UInt8](repeating: 0, count: Self.padding(record.count)))
        record.append(data)
        record.append(contentsOf: [UInt8](repeating: 0, count: Self.padding(data.count)))
        try handle.write(contentsOf: record)
    }

    private static func padding(_ count: Int) -> Int { (4 - count % 4) % 4 }

    private static func normalized(_ path: String) -> String {
        path.split(separator: "/").joined(separator: "/")
    }
}
