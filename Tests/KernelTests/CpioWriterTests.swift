import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// Unpacks a cpio archive with GNU cpio (device nodes left out: making them needs root).
func unpackCpio(_ archive: URL, into directory: URL) async throws -> URL {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try await run("sh", ["-c", #"cd "$1" && cpio -i -d --quiet --no-absolute-filenames -f 'dev/*' <"$2""#, "sh", directory.path, archive.path])
    return directory
}

@Suite struct CpioWriterTests {
    @Test func gnuCpioReadsWhatItWrites() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-cpio")
        let archive = directory.path("test.cpio")
        let writer = try CpioWriter(creating: archive)
        try writer.directory("etc/burrow", mode: 0o700)
        // Odd lengths exercise the padding of names and data.
        try writer.file("etc/burrow/a", contents: Data("abc".utf8))
        try writer.file("deep/er/file.bin", contents: Data([0, 1, 2, 3, 4, 5, 6]), mode: 0o755)
        try writer.file("empty", contents: Data())
        try writer.symlink("bin/sh", target: "busybox")
        try writer.characterDevice("dev/console", major: 5, minor: 1)
        try writer.finish()

        let listing = try await run("sh", ["-c", #"cpio -t -v --quiet <"$1""#, "sh", archive.path])
        let lines = listing.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        let names = lines.compactMap { $0.last.map(String.init) }
        #expect(names == ["etc", "etc/burrow", "etc/burrow/a", "deep", "deep/er", "deep/er/file.bin", "empty", "bin", "busybox", "dev", "dev/console"])
        let console = try #require(lines.first { $0.last == "dev/console" })
        #expect(console.first == "crw-------" && console.contains("5,") && console.contains("1"))

        let unpacked = try await unpackCpio(archive, into: directory.path("out"))
        #expect(try Data(contentsOf: unpacked.appendingPathComponent("etc/burrow/a")) == Data("abc".utf8))
        #expect(try Data(contentsOf: unpacked.appendingPathComponent("deep/er/file.bin")) == Data([0, 1, 2, 3, 4, 5, 6]))
        #expect(try Data(contentsOf: unpacked.appendingPathComponent("empty")).isEmpty)
        #expect(FileManager.default.isExecutableFile(atPath: unpacked.appendingPathComponent("deep/er/file.bin").path))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: unpacked.appendingPathComponent("bin/sh").path) == "busybox")
        let mode = try FileManager.default.attributesOfItem(atPath: unpacked.appendingPathComponent("etc/burrow").path)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }
}
