import Foundation
import GuestFS
import Testing

@Suite struct GuestFSHandleTests {
    @Test func explicitBackendIsApplied() throws {
        _ = try GuestFSHandle(backend: "direct", backendSettings: ["force_tcg"])
        let error = try #require(throws: GuestFSError.self) { try GuestFSHandle(backend: "no-such-backend") }
        #expect(error.message.contains("no-such-backend"))
    }

    @Test func environmentSelectsTheBackend() throws {
        _ = try GuestFSHandle(environment: ["LIBGUESTFS_BACKEND": "direct", "LIBGUESTFS_BACKEND_SETTINGS": "force_tcg:foo=bar"])
        #expect(throws: GuestFSError.self) { try GuestFSHandle(environment: ["LIBGUESTFS_BACKEND": "no-such-backend"]) }
    }

    @Test func missingDriveThrowsLibguestfsMessage() throws {
        let handle = try GuestFSHandle(backend: "direct")
        let error = try #require(throws: GuestFSError.self) {
            try handle.addDrive(path: "/nonexistent/burrow-test.img", format: "raw")
        }
        #expect(error.message.contains("/nonexistent/burrow-test.img"))
        #expect(error.operation == "add drive /nonexistent/burrow-test.img")
    }

    @Test func errorsPrintNothing() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            let handle = try GuestFSHandle(backend: "direct")
            _ = try? handle.addDrive(path: "/nonexistent/burrow-test.img", format: "raw")
            _ = try? handle.readFile(path: "/etc/hostname")
        }
        #expect(result?.standardErrorContent.isEmpty == true)
    }
}

/// Boots the libguestfs appliance (~15 s under TCG), so it runs only when asked for.
/// This host needs LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg as well.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["BURROW_TEST_GUESTFS"] == "1", "set BURROW_TEST_GUESTFS=1 to boot the appliance"))
struct GuestFSImageTests {
    @Test func inspectsAnExt4Image() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("burrow-guestfs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let tree = work.appendingPathComponent("tree")
        let image = work.appendingPathComponent("image.raw").path
        let asRoot = getuid() == 0
        let ping = Array("not really ping".utf8)
        try makeTree(at: tree, ping: ping, asRoot: asRoot)
        try run("/usr/sbin/mkfs.ext4", "-q", "-F", "-d", tree.path, image, "32M")

        let guest = try GuestFSHandle()
        try guest.addDrive(path: image, format: "raw", readOnly: true)
        try guest.launch()
        #expect(try guest.listFilesystems() == [GuestFilesystem(device: "/dev/sda", type: "ext4")])
        try guest.mount(device: "/dev/sda")

        let pingStatus = try guest.lstat(path: "/usr/bin/ping")
        #expect(pingStatus.mode & 0o170000 == 0o100000)
        #expect(pingStatus.permissions == 0o4755)
        #expect(pingStatus.size == Int64(ping.count))
        #expect(pingStatus.linkCount == 2)
        #expect(try guest.lstat(path: "/usr/bin/ping6").inode == pingStatus.inode)
        #expect(try guest.readFile(path: "/usr/bin/ping") == ping)

        #expect(try guest.getxattr(path: "/usr/bin/ping", name: "user.burrow") == Array("hello".utf8))
        #expect(try guest.getxattr(path: "/usr/bin/ping", name: "user.absent") == nil)

        let link = try guest.lstat(path: "/etc/motd")
        #expect(link.mode & 0o170000 == 0o120000)
        #expect(try guest.readlink(path: "/etc/motd") == "hostname")
        #expect(try guest.stat(path: "/etc/motd").inode == guest.lstat(path: "/etc/hostname").inode)
        #expect(try guest.readFile(path: "/etc/hostname") == Array("burrow\n".utf8))
        #expect(try guest.exists(path: "/etc/hostname"))
        #expect(try !guest.exists(path: "/etc/absent"))
        let missing = try #require(throws: GuestFSError.self) { try guest.readFile(path: "/etc/absent") }
        #expect(missing.message.contains("No such file"))

        let secret = try guest.lstat(path: "/home/user/secret")
        #expect(secret.permissions == 0o600)
        if asRoot {
            #expect(secret.uid == 1234)
            #expect(secret.gid == 2345)
            let capability = try #require(try guest.getxattr(path: "/usr/bin/ping", name: "security.capability"))
            #expect(try capability == hostAttribute(tree.appendingPathComponent("usr/bin/ping").path, "security.capability"))
        }
        try guest.shutdown()
    }

    private func makeTree(at tree: URL, ping: [UInt8], asRoot: Bool) throws {
        let files = FileManager.default
        for directory in ["etc", "usr/bin", "home/user"] {
            try files.createDirectory(at: tree.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        try Data("burrow\n".utf8).write(to: tree.appendingPathComponent("etc/hostname"))
        try files.createSymbolicLink(atPath: tree.appendingPathComponent("etc/motd").path, withDestinationPath: "hostname")

        let pingPath = tree.appendingPathComponent("usr/bin/ping").path
        try Data(ping).write(to: URL(fileURLWithPath: pingPath))
        try files.linkItem(atPath: pingPath, toPath: tree.appendingPathComponent("usr/bin/ping6").path)
        try run("/usr/bin/setfattr", "-n", "user.burrow", "-v", "hello", pingPath)

        let secretPath = tree.appendingPathComponent("home/user/secret").path
        try Data("key".utf8).write(to: URL(fileURLWithPath: secretPath))
        #expect(chmod(secretPath, 0o600) == 0)
        if asRoot {
            #expect(chown(secretPath, 1234, 2345) == 0)
            // setcap clears setuid on some versions, so the mode is set after it.
            try run("/usr/sbin/setcap", "cap_net_raw+ep", pingPath)
        }
        #expect(chmod(pingPath, 0o4755) == 0)
    }

    private func hostAttribute(_ path: String, _ name: String) throws -> [UInt8] {
        try run("/usr/bin/getfattr", "--absolute-names", "--only-values", "-n", name, path)
    }

    /// Runs a tool and returns its standard output.
    @discardableResult
    private func run(_ arguments: String...) throws -> [UInt8] {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = output
        try process.run()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(arguments.joined(separator: " ")) failed")
        return Array(bytes)
    }
}
