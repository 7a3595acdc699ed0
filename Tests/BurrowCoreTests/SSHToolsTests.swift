import Foundation
import Testing

@testable import BurrowCore

struct SSHToolsTests {
    @Test func loginsShareOneConnectionPerGuest() {
        let tools = SSHTools(home: BurrowHome(root: URL(fileURLWithPath: "/home/ada/.local/share/burrow")))
        let block = tools.hostBlock(environment: "dev", port: 41022, user: "ada", knownHosts: URL(fileURLWithPath: "/k"))
        #expect(block.contains("Host burrow-dev\n  HostName 127.0.0.1\n  Port 41022\n  User ada\n"))
        #expect(block.contains("  ControlMaster auto\n  ControlPath \"/home/ada/.local/share/burrow/ssh/mux/dev\"\n  ControlPersist 120\n"))
    }

    /// A socket path ssh cannot bind would break every login, so such homes go without sharing.
    @Test func aHomeTooDeepForASocketPathGoesWithout() {
        let deep = "/" + Array(repeating: "folder", count: 14).joined(separator: "/")
        let tools = SSHTools(home: BurrowHome(root: URL(fileURLWithPath: deep)))
        let block = tools.hostBlock(environment: "dev", port: 41022, user: "ada", knownHosts: URL(fileURLWithPath: "/k"))
        #expect(block.contains("StrictHostKeyChecking yes"))
        #expect(!block.contains("Control"))
    }

    /// stop's poweroff and a clone's sync must give up on a hung guest, which a session on the
    /// shared connection would not do before its keepalives run out.
    @Test func boundedCommandsMakeTheirOwnConnection() {
        let tools = SSHTools(home: BurrowHome(root: URL(fileURLWithPath: "/h")))
        let bounded = tools.batchArguments(environment: "dev", connectTimeout: 5)
        #expect(bounded.suffix(7) == ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "ControlPath=none", "burrow-dev"])
        #expect(!tools.batchArguments(environment: "dev").contains("ControlPath=none"))
        // The first command after a resume opens the shared connection, within its bound.
        let opening = tools.batchArguments(environment: "dev", connectTimeout: 5, mayOpenShared: true)
        #expect(opening.suffix(5) == ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "burrow-dev"])
    }

    /// OpenSSH's default post-quantum hybrid key exchange costs an emulated guest more than
    /// plain curve25519 on connections that never leave the host.
    @Test func keyExchangePrefersCurve25519() {
        let tools = SSHTools(home: BurrowHome(root: URL(fileURLWithPath: "/h")))
        let block = tools.hostBlock(environment: "dev", port: 41022, user: "ada", knownHosts: URL(fileURLWithPath: "/k"))
        #expect(block.contains("  KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256\n"))
        #expect(!block.contains("sntrup"))
    }

    /// `start` skips knocking on sshd while the shared connection answers `ssh -O check`.
    @Test func theSharedConnectionIsCheckedThroughTheConfig() {
        let tools = SSHTools(home: BurrowHome(root: URL(fileURLWithPath: "/h")))
        #expect(tools.sharedConnectionCheckArguments(environment: "dev") == ["-F", "/h/ssh/config", "-O", "check", "burrow-dev"])
    }

    @Test(arguments: [
        ("dev:/tmp/x", "dev", "burrow-dev:/tmp/x"),
        ("dev:", "dev", "burrow-dev:"),
        ("notes.txt", nil, "notes.txt"),
        ("./a:b", nil, "./a:b"),
        ("/abs/a:b", nil, "/abs/a:b"),
        (":x", nil, ":x"),
    ] as [(String, String?, String)])
    func copyOperandsNameEnvironmentsAsScpDoes(operand: String, environment: String?, rewritten: String) {
        let parsed = SSHTools.copyOperand(operand)
        #expect(parsed.environment == environment && parsed.scpOperand == rewritten)
    }

    @Test func copiesGoThroughTheConfig() {
        let tools = SSHTools(home: BurrowHome(root: URL(fileURLWithPath: "/h")))
        #expect(tools.copyArguments(recursive: true, operands: ["a", "burrow-dev:/b"]) == ["-F", "/h/ssh/config", "-r", "--", "a", "burrow-dev:/b"])
    }
}
