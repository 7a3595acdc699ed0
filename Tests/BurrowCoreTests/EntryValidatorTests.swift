import BurrowTestSupport
import Foundation
import Archive
import Testing

@testable import BurrowCore

@Suite struct EntryValidatorTests {
    private func path(_ raw: String, strip: Int = 0) throws -> String? {
        try EntryValidator(stripComponents: strip).normalize(Array(raw.utf8), shown: raw)?.description
    }

    @Test func normalisesHarmlessSpellings() throws {
        #expect(try path("./etc/passwd") == "/etc/passwd")
        #expect(try path("/etc//passwd") == "/etc/passwd")
        #expect(try path("etc/./passwd/") == "/etc/passwd")
        #expect(try path("./") == "/")
        #expect(try path("root.x86_64/etc/hostname", strip: 1) == "/etc/hostname")
        #expect(try path("./root.x86_64/", strip: 1) == "/")
        #expect(try path("./", strip: 1) == nil)
    }

    @Test(arguments: ["..", "../x", "a/../../b", "./a/..", "/../etc"])
    func refusesParentComponents(_ raw: String) {
        #expect(throws: HostileEntryError.self) { try path(raw) }
    }

    @Test func refusesOverlongNamesAndHugeOwners() {
        #expect(throws: HostileEntryError.self) { try path(String(repeating: "x", count: 256)) }
        let entry = ArchiveEntry(path: Array("./f".utf8), kind: .regular, uid: 1 << 40)
        #expect(throws: HostileEntryError.self) { try EntryValidator().validate(entry) }
    }

    @Test func devicesOnlyUnderDev() throws {
        let good = ArchiveEntry(path: Array("./dev/tty".utf8), kind: .characterDevice, deviceMajor: 5, deviceMinor: 0)
        #expect(try EntryValidator().validate(good) != nil)
        let bad = ArchiveEntry(path: Array("./dev".utf8), kind: .characterDevice, deviceMajor: 5, deviceMinor: 0)
        #expect(throws: HostileEntryError.self) { try EntryValidator().validate(bad) }
    }

    @Test func keepsNonUTF8NamesByteForByte() throws {
        let raw: [UInt8] = Array("./caf".utf8) + [0xE9]
        let validated = try #require(try EntryValidator().validate(ArchiveEntry(path: raw, kind: .regular)))
        #expect(validated.path.components == [Array("caf".utf8) + [0xE9]])
    }
}

@Suite struct SmallParsersTests {
    @Test func sizes() throws {
        #expect(try parseSize("512M") == 512 << 20)
        #expect(try parseSize("16G") == 16 << 30)
        #expect(try parseSize("16GiB") == 16 << 30)
        #expect(try parseSize("4096") == 4096)
        #expect(try parseSize("1.5g") == 3 << 29)
        #expect(throws: BurrowError.self) { try parseSize("lots") }
        #expect(throws: BurrowError.self) { try parseSize("-1G") }
    }

    @Test func names() throws {
        try Names.validate("deb12", what: "image")
        try Names.validate("my-env_2.0", what: "image")
        for bad in ["", "-x", "Upper", "a/b", "a b", String(repeating: "a", count: 64), "..", ".hidden"] {
            #expect(throws: BurrowError.self) { try Names.validate(bad, what: "image") }
        }
    }

    @Test func streamingDigestMatchesAKnownValue() throws {
        let directory = try BurrowTestSupport.TemporaryDirectory()
        let file = directory.path("abc")
        try Array("abc".utf8).withUnsafeBytes { try Data($0).write(to: file) }
        #expect(try HashingFileSource.digest(ofFileAt: file.path, progress: SilentProgress())
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
