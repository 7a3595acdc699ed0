import Foundation

/// Reads an ext4 image (raw or inside qcow2) from the host without mounting it, through
/// e2fsprogs' debugfs, so tests can check what an import wrote.
public struct ImageInspector {
    public let rawImage: URL
    private let scratch: TemporaryDirectory?

    /// Opens a raw ext4 image, or converts a qcow2 image to a temporary raw copy first.
    public init(image: URL) throws {
        if image.pathExtension == "qcow2" {
            let scratch = try TemporaryDirectory(prefix: "burrow-inspect")
            let raw = scratch.path("image.raw")
            try Self.run("/usr/bin/qemu-img", ["convert", "-O", "raw", image.path, raw.path])
            self.scratch = scratch
            rawImage = raw
        } else {
            scratch = nil
            rawImage = image
        }
    }

    /// Fields of `debugfs -R 'stat PATH'`: mode (octal string with type), uid, gid, links, inode.
    public func stat(_ path: String) throws -> (mode: UInt32, uid: UInt32, gid: UInt32, links: Int, inode: Int)? {
        let out = try debugfs("stat \"\(path)\"")
        guard let inodeLine = out.split(separator: "\n").first(where: { $0.hasPrefix("Inode:") }) else { return nil }
        func value(after key: String, in line: Substring) -> String? {
            guard let range = line.range(of: key) else { return nil }
            return line[range.upperBound...].split(separator: " ").first.map(String.init)
        }
        let lines = out.split(separator: "\n")
        guard let userLine = lines.first(where: { $0.contains("User:") }),
              let linksLine = lines.first(where: { $0.contains("Links:") }),
              let inode = value(after: "Inode: ", in: inodeLine).flatMap({ Int($0) }),
              let mode = value(after: "Mode:  ", in: inodeLine) ?? value(after: "Mode: ", in: inodeLine),
              let uid = value(after: "User: ", in: userLine).flatMap({ UInt32($0.trimmingCharacters(in: .whitespaces)) }),
              let gid = value(after: "Group: ", in: userLine).flatMap({ UInt32($0.trimmingCharacters(in: .whitespaces)) }),
              let links = value(after: "Links: ", in: linksLine).flatMap({ Int($0) }),
              let modeValue = UInt32(mode, radix: 8)
        else { return nil }
        let typeLine = String(inodeLine)
        let typeBits: UInt32 = typeLine.contains("Type: regular") ? 0o100000 : typeLine.contains("Type: directory") ? 0o040000
            : typeLine.contains("Type: symlink") ? 0o120000 : typeLine.contains("Type: character") ? 0o020000
            : typeLine.contains("Type: block") ? 0o060000 : typeLine.contains("Type: FIFO") ? 0o010000 : 0
        return (typeBits | modeValue, uid, gid, links, inode)
    }

    public func contents(_ path: String) throws -> String {
        try debugfs("cat \"\(path)\"")
    }

    /// The hex value of one extended attribute, or nil when it is absent.
    public func extendedAttribute(_ path: String, _ name: String) throws -> [UInt8]? {
        let dump = FileManager.default.temporaryDirectory.appendingPathComponent("burrow-xattr-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dump) }
        _ = try debugfs("ea_get -f \(dump.path) \"\(path)\" \(name)")
        return FileManager.default.fileExists(atPath: dump.path) ? Array(try Data(contentsOf: dump)) : nil
    }

    public func exists(_ path: String) throws -> Bool { try stat(path) != nil }

    public func listing(_ path: String) throws -> [String] {
        try debugfs("ls -p \"\(path)\"").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "/", omittingEmptySubsequences: false)
            return fields.count > 5 && !fields[5].isEmpty ? String(fields[5]) : nil
        }.filter { $0 != "." && $0 != ".." }
    }

    /// Runs e2fsck read-only and returns whether the filesystem is clean.
    public func isConsistent() throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/e2fsck")
        process.arguments = ["-fn", rawImage.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    private func debugfs(_ request: String) throws -> String {
        try Self.run("/usr/sbin/debugfs", ["-R", request, rawImage.path])
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
