import BurrowTestSupport
import Foundation
import Testing

@testable import BurrowCore

/// Runs functions of Templates/initramfs/init in the host's sh against a fixture root. The guest
/// runs them in busybox ash; both are POSIX shells, and the script passes shellcheck as POSIX sh.
/// `globals` assigns the script's variables (ROOT, cmdline, ...) before `call` runs.
private func runInitFunctions(_ names: [String], globals: String, call: String) async throws -> ProcessRunner.Output {
    let script = try String(contentsOf: repositoryRoot.appendingPathComponent("Templates/initramfs/init"), encoding: .utf8)
    let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
    var functions = ""
    for name in names {
        let start = try #require(lines.firstIndex(of: "\(name)() {"), "no function \(name) in /init")
        let end = try #require(lines[start...].firstIndex(of: "}"))
        functions += lines[start...end].joined(separator: "\n") + "\n"
    }
    // Each run gets a scratch folder of its own: tests run side by side, and /init's is /tmp.
    let work = try TemporaryDirectory(prefix: "burrow-init-work")
    defer { withExtendedLifetime(work) {} }
    return try await ProcessRunner().runAllowingFailure("sh", ["-c", "WORK='\(work.url.path)'\n" + functions + globals + "\n" + call])
}

private func makeExecutable(_ url: URL, _ text: String = "#!/bin/sh\n") throws {
    try writeText(text, to: url)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
}

@Suite struct InitFunctionTests {
    private static let generatorFunctions = ["root_has", "root_has_entries", "resolve_root_path", "root_executable", "sysv_scripts_all_have_units", "idle_generators"]

    /// `acpiTables` stands for /sys/firmware/acpi/tables; an empty folder when nil.
    private func idleGenerators(root: URL, cmdline: String = "console=ttyS0", acpiTables: URL? = nil) async throws -> [String] {
        let emptyTables = try TemporaryDirectory(prefix: "burrow-init-acpi")
        let globals = "ROOT='\(root.path)'\ncmdline='\(cmdline)'\nACPI_TABLES='\((acpiTables ?? emptyTables.url).path)'"
        let output = try await runInitFunctions(Self.generatorFunctions, globals: globals, call: "idle_generators")
        #expect(output.status == 0, "\(output.standardError)")
        return output.standardOutput.split(whereSeparator: \.isWhitespace).map(String.init)
    }

    @Test func everyGeneratorIsIdleInABareRoot() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try writeText("# none\n\n", to: root.path("etc/crypttab"))
        try makeExecutable(root.path("etc/init.d/hwclock.sh"))
        try writeText("[Unit]\n", to: root.path("lib/systemd/system/hwclock.service"))
        try writeText("not executable\n", to: root.path("etc/init.d/README"))
        #expect(try await idleGenerators(root: root.url) == [
            "gpt-auto", "hibernate-resume", "run", "cryptsetup", "integritysetup", "veritysetup", "rc-local", "tpm2", "system-update", "sysv",
        ])
    }

    /// Each generator with something to do in the guest keeps running.
    @Test func generatorsWithInputsRun() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try writeText("# name device\nsecret UUID=1 none luks\n", to: root.path("etc/crypttab"))
        try writeText("data /dev/vdb - -\n", to: root.path("etc/integritytab"))
        try FileManager.default.createSymbolicLink(atPath: root.path("etc/veritytab").path, withDestinationPath: "/elsewhere/veritytab")
        try makeExecutable(root.path("etc/rc.local"))
        try FileManager.default.createSymbolicLink(atPath: root.path("system-update").path, withDestinationPath: "/var/lib/update")
        try makeExecutable(root.path("etc/init.d/legacy-daemon"))
        let firmware = try TemporaryDirectory(prefix: "burrow-init-acpi")
        try writeText("TPM2", to: firmware.path("TPM2"))
        #expect(try await idleGenerators(root: root.url, acpiTables: firmware.url) == ["gpt-auto", "hibernate-resume", "run"])
    }

    /// An absolute /etc/init.d link resolves into the initramfs, not the root: the SysV
    /// generator cannot be judged idle, so it runs.
    @Test func aLinkedInitFolderKeepsTheSysVGenerator() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try FileManager.default.createDirectory(at: root.path("etc"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path("etc/init.d").path, withDestinationPath: "/etc/rc.d/init.d")
        #expect(try await !idleGenerators(root: root.url).contains("sysv"))
    }

    @Test func theKernelCommandLineKeepsEncryptionAndVerityGenerators() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try FileManager.default.createDirectory(at: root.path("etc"), withIntermediateDirectories: true)
        let idle = try await idleGenerators(root: root.url, cmdline: "console=ttyS0 rd.luks.uuid=1 roothash=ab")
        #expect(!idle.contains("cryptsetup") && !idle.contains("veritysetup") && idle.contains("integritysetup"))
    }

    @Test func cpuFeatureConditionsMatchTheModalias() async throws {
        let directory = try TemporaryDirectory(prefix: "burrow-init-cpu")
        try writeText("cpu:type:x86,ven0002fam0019mod0011:feature:,0000,0081,0094,00A3\n", to: directory.path("modalias"))
        let expectations = ["cpu=0094": true, "cpu=0099": false, "cpu=0099,0094": true, "cpu=0081+0099": false, "cpu=0081+00A3": true, "cpu=009": false]
        for (condition, expected) in expectations {
            let output = try await runInitFunctions(["cpu_has"], globals: "CPU_MODALIAS='\(directory.path("modalias").path)'", call: "cpu_has \(condition)")
            #expect((output.status == 0) == expected, "\(condition)")
        }
        // A CPU that cannot be asked gets every module tried.
        let unknown = try await runInitFunctions(["cpu_has"], globals: "CPU_MODALIAS='\(directory.path("missing").path)'", call: "cpu_has cpu=0099 2>/dev/null")
        #expect(unknown.status == 0)
    }

    /// Files written into the root get their owners and modes from one chown per owner and one
    /// chmod per mode; a symlink at a target is replaced, never followed, and what was there
    /// before keeps neither its owner nor its mode.
    @Test func rootFilesGetTheirOwnersAndModesInOneGo() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        let outside = try TemporaryDirectory(prefix: "burrow-init-outside")
        try writeText("keep\n", to: outside.path("passwd"))
        try FileManager.default.createDirectory(at: root.path("etc"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path("etc/hostname").path, withDestinationPath: outside.path("passwd").path)
        try writeText("old\n", to: root.path("etc/hosts"))
        try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: root.path("etc/hosts").path)
        let asRoot = getuid() == 0
        if asRoot { try FileManager.default.setAttributes([.ownerAccountID: 5, .groupOwnerAccountID: 5], ofItemAtPath: root.path("etc/hosts").path) }
        let call = """
            umask 077
            write_root_text etc/hostname 0644 'box
            ' || exit 1
            write_root_file etc/hosts 0644 <<EOF || exit 1
            new-hosts
            EOF
            write_root_text etc/sudoers.d/burrow 0440 'me ALL=(ALL) NOPASSWD:ALL
            ' || exit 1
            make_root_dir home/me/.ssh && set_root_mode_later 1000:1000 0700 home/me/.ssh || exit 1
            write_root_text home/me/.ssh/authorized_keys 0600 key 1000:1000 || exit 1
            set_root_modes
            """
        let functions = ["error", "make_root_dir", "set_root_mode_later", "root_file_target", "write_root_file", "write_root_text", "set_root_modes"]
        let output = try await runInitFunctions(functions, globals: "ROOT='\(root.url.path)'\npending_modes=", call: call)
        #expect(output.status == 0, "\(output.standardError)")

        #expect(try String(contentsOf: outside.path("passwd"), encoding: .utf8) == "keep\n")
        #expect(try String(contentsOf: root.path("etc/hostname"), encoding: .utf8) == "box\n")
        #expect(try String(contentsOf: root.path("etc/hosts"), encoding: .utf8) == "new-hosts\n")
        let expected: [(String, Int, Int)] = [
            ("etc/hostname", 0o644, 0), ("etc/hosts", 0o644, 0), ("etc/sudoers.d/burrow", 0o440, 0),
            ("home/me/.ssh", 0o700, 1000), ("home/me/.ssh/authorized_keys", 0o600, 1000),
        ]
        for (path, mode, owner) in expected {
            let attributes = try FileManager.default.attributesOfItem(atPath: root.path(path).path)
            #expect((attributes[.posixPermissions] as? Int) == mode, "\(path)")
            #expect(attributes[.type] as? FileAttributeType != .typeSymbolicLink, "\(path)")
            if asRoot { #expect((attributes[.ownerAccountID] as? Int) == owner, "\(path)") }
        }
    }

    private func sshdExecStart(unitText: String, emulated: Bool, adminUnit: Bool = false, sessionProgram: String? = nil) async throws -> String {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try writeText(unitText, to: root.path("lib/systemd/system/ssh.service"))
        if let sessionProgram { try makeExecutable(root.path(sessionProgram)) }
        if adminUnit { try writeText(unitText, to: root.path("etc/systemd/system/ssh.service")) }
        let globals = "ROOT='\(root.url.path)'\nemulated=\(emulated ? 1 : 0)\nunit=ssh.service\nunit_dir=lib/systemd/system"
        let output = try await runInitFunctions(["root_has", "sshd_has_session_program", "sshd_without_reexec"], globals: globals, call: "sshd_without_reexec")
        #expect(output.status == 0, "\(output.standardError)")
        return output.standardOutput
    }

    @Test func emulatedGuestsStartSshdWithoutReexec() async throws {
        let debian = "[Service]\nEnvironmentFile=-/etc/default/ssh\nExecStartPre=/usr/sbin/sshd -t\nExecStart=/usr/sbin/sshd -D $SSHD_OPTS\nExecReload=/bin/kill -HUP $MAINPID\n"
        #expect(try await sshdExecStart(unitText: debian, emulated: true) == "ExecStart=\nExecStart=/usr/sbin/sshd -r -D $SSHD_OPTS\n")
        #expect(try await sshdExecStart(unitText: "[Service]\nExecStart=/usr/bin/sshd\n", emulated: true) == "ExecStart=\nExecStart=/usr/bin/sshd -r\n")
        #expect(try await sshdExecStart(unitText: debian, emulated: false) == "")
        #expect(try await sshdExecStart(unitText: debian, emulated: true, adminUnit: true) == "")
        // Commands burrow does not understand stay as they are.
        #expect(try await sshdExecStart(unitText: "ExecStart=-/usr/sbin/sshd -D\n", emulated: true) == "")
        #expect(try await sshdExecStart(unitText: "ExecStart=/usr/sbin/sshd -D\nExecStart=/bin/true\n", emulated: true) == "")
        #expect(try await sshdExecStart(unitText: "ExecStart=/usr/sbin/dropbear -F\n", emulated: true) == "")
        // OpenSSH 9.8 and later have an sshd-session, and ignore -r; where distributions put it.
        for session in ["usr/lib/openssh/sshd-session", "usr/libexec/openssh/sshd-session", "usr/lib/ssh/sshd-session", "usr/libexec/sshd-session"] {
            #expect(try await sshdExecStart(unitText: debian, emulated: true, sessionProgram: session) == "", "\(session)")
        }
        let local = "[Service]\nExecStart=/usr/local/sbin/sshd -D\n"
        #expect(try await sshdExecStart(unitText: local, emulated: true, sessionProgram: "usr/local/libexec/sshd-session") == "")
        #expect(try await sshdExecStart(unitText: local, emulated: true) == "ExecStart=\nExecStart=/usr/local/sbin/sshd -r -D\n")
        // A folder of that name is no sshd-session.
        #expect(try await sshdExecStart(unitText: debian, emulated: true, sessionProgram: "usr/lib/other/sshd-session/readme") != "")
    }

    /// Host key generation units order sshd after the early boot; burrow masks the packaged ones
    /// for the boot, in the root's /run, once that is mounted.
    @Test func hostKeyGenerationIsMaskedForTheBoot() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try writeText("[Unit]\nBefore=ssh.service\n", to: root.path("usr/lib/systemd/system/sshd-keygen.service"))
        try writeText("[Unit]\nBefore=sshd.service\n", to: root.path("lib/systemd/system/sshdgenkeys.service"))
        let functions = ["root_has", "find_packaged_unit", "make_root_dir", "error", "mask_host_key_generation"]
        let unmounted = try await runInitFunctions(functions, globals: "ROOT='\(root.url.path)'\nroot_run_mounted=0", call: "mask_host_key_generation")
        #expect(unmounted.status == 0 && !FileManager.default.fileExists(atPath: root.path("run").path))

        let output = try await runInitFunctions(functions, globals: "ROOT='\(root.url.path)'\nroot_run_mounted=1", call: "mask_host_key_generation")
        #expect(output.status == 0, "\(output.standardError)")
        let masks = try FileManager.default.contentsOfDirectory(atPath: root.path("run/systemd/system").path).sorted()
        #expect(masks == ["sshd-keygen.service", "sshdgenkeys.service"])
        for mask in masks {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root.path("run/systemd/system/\(mask)").path) == "/dev/null")
        }
    }

    /// A systemd root gets the marks that say /etc and /var are up to date with /usr, a second
    /// newer than /usr, so its first boot skips the update units; a mark the root has stays, and
    /// a root without systemd-update-done gets none.
    @Test func theFirstBootDoesNotRunSystemdsUpdateUnits() async throws {
        let functions = ["root_has", "find_packaged_unit", "make_root_dir", "error", "set_root_mode_later", "root_file_target", "write_root_file", "mark_root_up_to_date"]
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try writeText("[Unit]\n", to: root.path("usr/lib/systemd/system/systemd-update-done.service"))
        try writeText("the image's own\n", to: root.path("var/.updated"))
        let usrTime = Date(timeIntervalSince1970: 1_700_000_000)
        try FileManager.default.setAttributes([.modificationDate: usrTime], ofItemAtPath: root.path("usr").path)
        let output = try await runInitFunctions(functions, globals: "ROOT='\(root.url.path)'", call: "mark_root_up_to_date")
        #expect(output.status == 0 && output.standardOutput.isEmpty, "\(output.standardOutput)\(output.standardError)")
        let mark = try FileManager.default.attributesOfItem(atPath: root.path("etc/.updated").path)[.modificationDate] as? Date
        #expect(mark == usrTime.addingTimeInterval(1))
        #expect(try String(contentsOf: root.path("etc/.updated"), encoding: .utf8).contains("\nTIMESTAMP_NSEC=1700000001000000000\n"))
        #expect(try String(contentsOf: root.path("var/.updated"), encoding: .utf8) == "the image's own\n")

        let withoutUnit = try TemporaryDirectory(prefix: "burrow-init-root")
        try FileManager.default.createDirectory(at: withoutUnit.path("etc"), withIntermediateDirectories: true)
        _ = try await runInitFunctions(functions, globals: "ROOT='\(withoutUnit.url.path)'", call: "mark_root_up_to_date")
        #expect(!FileManager.default.fileExists(atPath: withoutUnit.path("etc/.updated").path))
    }

    private func startSSHDThisBoot(root: URL, mounted: Bool = true) async throws {
        let functions = ["root_has", "resolve_root_path", "make_root_dir", "error", "set_root_mode_later", "root_file_target", "write_root_file", "early_unit_lines", "early_sshd_unit", "socket_accepts_connections", "start_sshd_this_boot"]
        let globals = "ROOT='\(root.path)'\nroot_run_mounted=\(mounted ? 1 : 0)\nunit=ssh.service\nunit_dir=lib/systemd/system\nafter_logind=After=systemd-logind.service"
        let output = try await runInitFunctions(functions, globals: globals, call: "start_sshd_this_boot")
        #expect(output.status == 0 && output.standardOutput.isEmpty, "\(output.standardOutput)\(output.standardError)")
    }

    /// An installed sshd that the image does not enable is wanted for the boot, in /run only.
    @Test func sshdIsWantedForTheBootWhateverTheImageEnables() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try writeText("[Service]\nExecStart=/usr/sbin/sshd -D\n", to: root.path("lib/systemd/system/ssh.service"))
        try await startSSHDThisBoot(root: root.url, mounted: false)
        #expect(!FileManager.default.fileExists(atPath: root.path("run").path))

        try await startSSHDThisBoot(root: root.url)
        let want = root.path("run/systemd/system/multi-user.target.wants/ssh.service").path
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: want) == "/lib/systemd/system/ssh.service")
        #expect(!FileManager.default.fileExists(atPath: root.path("etc").path))
    }

    /// An enabled socket serves sshd instead and listens early: one handing its listener over
    /// (Ubuntu's) to ssh.service, one starting an sshd per connection to ssh@.service instances,
    /// which start early too, after the units sshd would wait for.
    @Test func anEnabledSSHSocketServesInsteadOfTheService() async throws {
        for accept in ["no", "yes"] {
            let root = try rootWithEnabledSSHSocket(accept: accept)
            try await startSSHDThisBoot(root: root.url)
            #expect(!FileManager.default.fileExists(atPath: root.path("run/systemd/system/multi-user.target.wants").path))
            let dropIn = root.path("run/systemd/system/ssh.socket.d/burrow-early.conf")
            #expect(try String(contentsOf: dropIn, encoding: .utf8).contains("DefaultDependencies=no\n"))
            let instances = try? String(contentsOf: root.path("run/systemd/system/ssh@.service.d/burrow-early.conf"), encoding: .utf8)
            if accept == "no" {
                #expect(instances == nil)
            } else {
                #expect(instances?.contains("DefaultDependencies=no\n") == true)
                #expect(instances?.contains("After=systemd-logind.service\n") == true)
                #expect(instances?.contains("\nExecStart=") == false)
            }
        }
    }

    /// The socket's Accept= is the one systemd ends up with: an administrator's copy of the unit
    /// in /etc replaces the packaged one, drop-ins follow by name, a drop-in in /etc hides a
    /// packaged one of its name (a link to /dev/null included), and the last setting wins.
    @Test(arguments: [
        ("no", ["etc/systemd/system/ssh.socket.d/override.conf": "[Socket]\nAccept=yes\n"], true),
        ("yes", ["etc/systemd/system/ssh.socket": "[Socket]\nListenStream=22\nAccept=no\n"], false),
        ("yes", ["lib/systemd/system/ssh.socket.d/50-single.conf": "[Socket]\nAccept = false\n"], false),
        ("yes", ["lib/systemd/system/ssh.socket.d/50-single.conf": "[Socket]\nAccept=no\n", "etc/systemd/system/ssh.socket.d/50-single.conf": "/dev/null"], true),
        ("no", ["etc/systemd/system/ssh.socket.d/10-yes.conf": "[Socket]\nAccept=Yes\n", "lib/systemd/system/ssh.socket.d/20-reset.conf": "[Socket]\nAccept=\n"], false),
        ("no", ["lib/systemd/system/ssh.socket.d/10-no.conf": "[Socket]\nAccept=no\n", "etc/systemd/system/ssh.socket.d/20-yes.conf": "[Socket]\nAccept=on\n"], true),
    ])
    func theSocketsAcceptSettingIsTheOneSystemdReads(packaged: String, overrides: [String: String], perConnection: Bool) async throws {
        let root = try rootWithEnabledSSHSocket(accept: packaged)
        for (path, text) in overrides {
            if text == "/dev/null" {
                try FileManager.default.createDirectory(at: root.path(path).deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: root.path(path).path, withDestinationPath: "/dev/null")
            } else {
                try writeText(text, to: root.path(path))
            }
        }
        try await startSSHDThisBoot(root: root.url)
        #expect(FileManager.default.fileExists(atPath: root.path("run/systemd/system/ssh@.service.d/burrow-early.conf").path) == perConnection)
    }

    /// A root with sshd and an enabled ssh.socket whose packaged unit says `Accept=accept`.
    private func rootWithEnabledSSHSocket(accept: String) throws -> TemporaryDirectory {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try writeText("[Service]\nExecStart=/usr/sbin/sshd -D\n", to: root.path("lib/systemd/system/ssh.service"))
        try writeText("[Unit]\nBefore=sockets.target ssh.service\n[Socket]\nListenStream=22\nAccept=\(accept)\n", to: root.path("lib/systemd/system/ssh.socket"))
        try FileManager.default.createDirectory(at: root.path("etc/systemd/system/sockets.target.wants"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path("etc/systemd/system/sockets.target.wants/ssh.socket").path, withDestinationPath: "/lib/systemd/system/ssh.socket")
        return root
    }

    /// Runs `apply_ssh` `boots` times against a root holding `files`; returns the root.
    private func rootAfterApplySSH(_ files: [String: String], boots: Int = 1) async throws -> TemporaryDirectory {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        for (path, text) in files { try writeText(text, to: root.path(path)) }
        let seed = try TemporaryDirectory(prefix: "burrow-init-seed")
        try writeText("private\n", to: seed.path("burrow/ssh/ssh_host_ed25519_key"))
        try writeText("public\n", to: seed.path("burrow/ssh/ssh_host_ed25519_key.pub"))
        let functions = ["make_root_dir", "error", "fail", "set_root_mode_later", "root_file_target", "write_root_file", "sshd_reads_include", "apply_ssh"]
        for _ in 0..<boots {
            let output = try await runInitFunctions(functions, globals: "ROOT='\(root.url.path)'\nSEED='\(seed.url.path)'", call: "apply_ssh")
            #expect(output.status == 0 && output.standardOutput.isEmpty, "\(output.standardOutput)\(output.standardError)")
        }
        return root
    }

    /// The sshd configuration `apply_ssh` leaves in a root holding `files`, nil when it has none.
    private func sshdConfigAfterApplySSH(_ files: [String: String]) async throws -> String? {
        let root = try await rootAfterApplySSH(files)
        #expect(FileManager.default.fileExists(atPath: root.path("etc/ssh/sshd_config.d/burrow.conf").path))
        return try? String(contentsOf: root.path("etc/ssh/sshd_config"), encoding: .utf8)
    }

    /// The host forwards port 22, so an sshd configured for another port listens on 22 too,
    /// boot after boot.
    @Test func sshdListensOnPort22WhateverElseItListensOn() async throws {
        let include = "Include /etc/ssh/sshd_config.d/*.conf\n"
        func addsPort22(_ files: [String: String]) async throws -> Bool {
            let root = try await rootAfterApplySSH(files, boots: 2)
            return try String(contentsOf: root.path("etc/ssh/sshd_config.d/burrow.conf"), encoding: .utf8).contains("\nPort 22\n")
        }
        #expect(try await addsPort22(["etc/ssh/sshd_config": include + "Port 2222\n"]))
        #expect(try await addsPort22(["etc/ssh/sshd_config": include, "etc/ssh/sshd_config.d/10-port.conf": "  port 2200\n"]))
        #expect(try await !addsPort22(["etc/ssh/sshd_config": include + "Port 2222\nPort 22\n"]))
        #expect(try await !addsPort22(["etc/ssh/sshd_config": include + "#Port 22\n"]))
    }

    /// burrow.conf is included first whatever configuration the image has, and sshd keeps the
    /// image's own settings after it.
    @Test func sshdReadsBurrowsSettingsFirst() async throws {
        let include = "Include /etc/ssh/sshd_config.d/*.conf\n"
        let debian = include + "KbdInteractiveAuthentication no\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
        #expect(try await sshdConfigAfterApplySSH(["etc/ssh/sshd_config": debian]) == debian)
        let withoutInclude = "Port 22\nSubsystem sftp /usr/libexec/sftp-server\n"
        #expect(try await sshdConfigAfterApplySSH(["etc/ssh/sshd_config": withoutInclude]) == include + withoutInclude)
        // openSUSE: defaults in /usr/etc, read only where /etc has no configuration.
        let vendor = include + "Include /usr/etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n"
        #expect(try await sshdConfigAfterApplySSH(["usr/etc/ssh/sshd_config": vendor]) == nil)
        let vendorWithoutInclude = "UsePAM yes\n"
        #expect(try await sshdConfigAfterApplySSH(["usr/etc/ssh/sshd_config": vendorWithoutInclude]) == include + "Include /usr/etc/ssh/sshd_config\n")
        #expect(try await sshdConfigAfterApplySSH([:]) == include + "Subsystem sftp internal-sftp\n")
    }

    private func owner(_ url: URL) throws -> Int? {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.ownerAccountID] as? NSNumber)?.intValue
    }

    /// Runs `apply_user` (then `set_root_modes`, as root) for the host user `user` (uid 1001,
    /// gid 1002) against `root`.
    private func applyUser(_ user: String, root: URL) async throws {
        let seed = try TemporaryDirectory(prefix: "burrow-init-seed")
        try writeText("ssh-ed25519 KEY host\n", to: seed.path("burrow/ssh/authorized_keys"))
        let functions = [
            "error", "fail", "resolve_root_path", "root_executable", "append_missing", "make_root_dir", "set_root_mode_later", "root_file_target", "write_root_file", "write_root_text",
            "set_root_modes", "take_host_ids", "claim_uid", "apply_user",
        ]
        let globals = "ROOT='\(root.path)'\nSEED='\(seed.url.path)'\nBURROW_USER=\(user)\nBURROW_UID=1001\nBURROW_GID=1002\npending_modes="
        let output = try await runInitFunctions(functions, globals: globals, call: getuid() == 0 ? "apply_user && set_root_modes" : "apply_user")
        #expect(output.status == 0, "\(output.standardOutput)\(output.standardError)")
    }

    /// A user of the host user's name already in the image takes the host's ids, keeps its home,
    /// and gets the key there; other users stay as they are.
    @Test func anImagesUserOfTheSameNameTakesTheHostsIDs() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try writeText("root:x:0:0:root:/root:/bin/sh\nubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/sh\nsvc:x:998:998::/srv/svc:/bin/sh\n", to: root.path("etc/passwd"))
        try writeText("root:x:0:\nubuntu:x:1000:\nsvc:x:998:\n", to: root.path("etc/group"))
        try writeText("notes\n", to: root.path("home/ubuntu/notes.txt"))
        try writeText("data\n", to: root.path("srv/svc/data"))

        try await applyUser("ubuntu", root: root.url)
        #expect(try String(contentsOf: root.path("etc/passwd"), encoding: .utf8) == "root:x:0:0:root:/root:/bin/sh\nubuntu:x:1001:1002:Ubuntu:/home/ubuntu:/bin/sh\nsvc:x:998:998::/srv/svc:/bin/sh\n")
        #expect(try String(contentsOf: root.path("etc/group"), encoding: .utf8) == "root:x:0:\nubuntu:x:1002:\nsvc:x:998:\n")
        #expect(FileManager.default.fileExists(atPath: root.path("home/ubuntu/.ssh/authorized_keys").path))
        if getuid() == 0 { #expect(try owner(root.path("home/ubuntu/notes.txt")) == 1001) }

        // The key goes to the home the image gives the user, not to /home/NAME; a home outside
        // /home changes hands, not what it holds.
        try await applyUser("svc", root: root.url)
        #expect(try String(contentsOf: root.path("etc/passwd"), encoding: .utf8).contains("\nsvc:x:1001:1002::/srv/svc:/bin/sh\n"))
        #expect(FileManager.default.fileExists(atPath: root.path("srv/svc/.ssh/authorized_keys").path))
        #expect(!FileManager.default.fileExists(atPath: root.path("home/svc").path))
        if getuid() == 0 {
            #expect(try owner(root.path("srv/svc")) == 1001)
            #expect(try owner(root.path("srv/svc/data")) == 0)
        }

        // A new user gets the host's ids and /home/NAME.
        try await applyUser("alice", root: root.url)
        #expect(try String(contentsOf: root.path("etc/passwd"), encoding: .utf8).contains("\nalice:*:1001:1002::/home/alice:/bin/sh\n"))
        #expect(FileManager.default.fileExists(atPath: root.path("home/alice/.ssh/authorized_keys").path))
    }

    /// An image whose own user has the host user's uid (a container image's "ubuntu" at 1000)
    /// keeps it, but lookups by uid (whoami, sudo) find the host user first; the group of that
    /// gid serves as the user's. A second boot changes nothing.
    @Test func theHostUserComesFirstForItsUID() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try writeText("root:x:0:0:root:/root:/bin/sh\nubuntu:x:1001:1002:Ubuntu:/home/ubuntu:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n", to: root.path("etc/passwd"))
        try writeText("root:x:0:\nubuntu:x:1002:\n", to: root.path("etc/group"))
        for _ in 0..<2 {
            try await applyUser("alice", root: root.url)
            #expect(try String(contentsOf: root.path("etc/passwd"), encoding: .utf8)
                == "root:x:0:0:root:/root:/bin/sh\nalice:*:1001:1002::/home/alice:/bin/sh\nubuntu:x:1001:1002:Ubuntu:/home/ubuntu:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n")
            #expect(try String(contentsOf: root.path("etc/group"), encoding: .utf8) == "root:x:0:\nubuntu:x:1002:\n")
        }
    }

    /// /init takes exactly the user names the host lets through to the seed.
    @Test func initAndHostAgreeOnGuestUserNames() async throws {
        let names = [
            "alice", "root", "first.last", "John", "_svc", "build-bot", "a1", String(repeating: "a", count: 32),
            "", "1abc", ".hidden", "-x", "DOMAIN\\user", "user@realm", "with space", String(repeating: "a", count: 33), "é",
        ]
        for name in names {
            let quoted = "'" + name.replacingOccurrences(of: "'", with: "'\\''") + "'"
            let output = try await runInitFunctions(["valid_user_name"], globals: "", call: "valid_user_name \(quoted)")
            let hostAccepts = (try? GuestIdentity(user: name, uid: 1000, gid: 1000).validate()) != nil
            #expect((output.status == 0) == hostAccepts, "\(name): /init \(output.status == 0 ? "accepts" : "refuses"), the host \(hostAccepts ? "accepts" : "refuses")")
        }
        #expect(throws: BurrowError.self) { try GuestIdentity(user: "DOMAIN\\user", uid: 1000, gid: 1000).validate() }
        try GuestIdentity(user: "first.last", uid: 1000, gid: 1000).validate()
    }

    /// The user's sudo rule is in /etc/sudoers.d, which a sudoers shipped with the line commented
    /// out would never read.
    @Test func sudoersReadsTheDropInFolder() async throws {
        for (shipped, read) in [("root ALL=(ALL) ALL\n# @includedir /etc/sudoers.d\n", false), ("@includedir /etc/sudoers.d\n", true), ("#includedir  /etc/sudoers.d", true)] {
            let root = try TemporaryDirectory(prefix: "burrow-init-root")
            try writeText("root:x:0:0:root:/root:/bin/sh\n", to: root.path("etc/passwd"))
            try writeText(shipped, to: root.path("etc/sudoers"))
            try FileManager.default.createDirectory(at: root.path("etc/sudoers.d"), withIntermediateDirectories: true)
            try await applyUser("alice", root: root.url)
            let sudoers = try String(contentsOf: root.path("etc/sudoers"), encoding: .utf8)
            #expect(sudoers == (read ? shipped : shipped + "#includedir /etc/sudoers.d\n"))
            #expect(try String(contentsOf: root.path("etc/sudoers.d/burrow"), encoding: .utf8) == "alice ALL=(ALL) NOPASSWD:ALL\n")
        }
    }

    /// An image's fstab entries for disks a burrow machine never has are commented out, once;
    /// the root's line, other mounts and burrow's own block stay.
    @Test func fstabEntriesForDisksThisMachineLacksAreCommentedOut() async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        let seed = try TemporaryDirectory(prefix: "burrow-init-seed")
        try writeText("burrow0 /work 9p trans=virtio 0 0\nburrow1 /tmp/My\\040Project 9p trans=virtio 0 0\n", to: seed.path("burrow/fstab"))
        try writeText("# cloud image\nLABEL=cloudimg-rootfs\t/\text4\tdiscard\t0 1\nLABEL=UEFI\t/boot/efi\tvfat\tumask=0077\t0 1\n UUID=0a1b none swap sw 0 0\n/swap.img none swap sw 0 0\ntmpfs /scratch tmpfs defaults 0 0\n", to: root.path("etc/fstab"))
        let functions = ["error", "fail", "make_root_dir", "set_root_mode_later", "root_file_target", "write_root_file", "apply_block", "resolve_root_path", "root_mount_takes_x_options", "root_fstab_lines", "apply_mounts_and_environment"]
        for _ in 0..<2 {
            let output = try await runInitFunctions(functions, globals: "ROOT='\(root.url.path)'\nSEED='\(seed.url.path)'", call: "apply_mounts_and_environment")
            #expect(output.status == 0 && output.standardOutput.isEmpty, "\(output.standardOutput)\(output.standardError)")
        }
        #expect(try String(contentsOf: root.path("etc/fstab"), encoding: .utf8) == """
            # cloud image
            LABEL=cloudimg-rootfs\t/\text4\tdiscard\t0 1
            # burrow: this machine has no such disk: LABEL=UEFI\t/boot/efi\tvfat\tumask=0077\t0 1
            # burrow: this machine has no such disk:  UUID=0a1b none swap sw 0 0
            /swap.img none swap sw 0 0
            tmpfs /scratch tmpfs defaults 0 0
            # burrow-begin
            burrow0 /work 9p trans=virtio 0 0
            burrow1 /tmp/My\\040Project 9p trans=virtio 0 0
            # burrow-end

            """)
        // Mount points are made where the escaped fields lead.
        #expect(FileManager.default.fileExists(atPath: root.path("work").path) && FileManager.default.fileExists(atPath: root.path("tmp/My Project").path))
    }

    /// Busybox's mount hands x- options to the kernel, which refuses the mount (as Alpine's
    /// would a share with systemd's ordering option); util-linux's keeps them, found through
    /// the root's own links.
    @Test(arguments: [
        ("busybox", ["bin/busybox": "\u{7f}ELF busybox"], ["bin/mount": "/bin/busybox"], false),
        ("busybox, merged /usr", ["usr/bin/busybox": "\u{7f}ELF busybox"], ["bin": "usr/bin", "usr/bin/mount": "busybox"], false),
        ("util-linux", ["usr/bin/mount": "\u{7f}ELF libmount.so.1"], [:], true),
        ("util-linux through an absolute link", ["opt/util-linux/mount": "\u{7f}ELF libmount.so.1"], ["bin/mount": "/opt/util-linux/mount"], true),
        ("no mount at all", [:], [:], false),
    ])
    func shareOptionsSuitTheRootsMount(shape: String, files: [String: String], links: [String: String], keepsXOptions: Bool) async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        let seed = try TemporaryDirectory(prefix: "burrow-init-seed")
        for (path, contents) in files { try writeText(contents, to: root.path(path)) }
        for (path, target) in links.sorted(by: { $0.key < $1.key }) {
            try FileManager.default.createDirectory(at: root.path(path).deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root.path(path).path, withDestinationPath: target)
        }
        let line = ShareDriver.virtiofs.fstabLine(tag: "burrow0", guestPath: "/tmp/work", readOnly: false)
        try writeText(line + "\nburrow1 /data 9p x-only 0 0\n", to: seed.path("burrow/fstab"))
        let output = try await runInitFunctions(["resolve_root_path", "root_mount_takes_x_options", "root_fstab_lines"], globals: "ROOT='\(root.url.path)'\nSEED='\(seed.url.path)'", call: "root_fstab_lines")
        #expect(output.status == 0, "\(shape): \(output.standardError)")
        #expect(output.standardOutput == (keepsXOptions
            ? line + "\nburrow1 /data 9p x-only 0 0\n"
            : "burrow0 /tmp/work virtiofs rw,nofail 0 0\nburrow1 /data 9p defaults 0 0\n"), "\(shape)")
    }

    /// A disk larger than the root's ext4 (`create --disk`) gets it grown with the root's own
    /// tool; a disk the filesystem fills is left alone. `chroot` stands in for running the tool.
    @Test(arguments: [
        ("the filesystem fills the disk", 64, ["sbin/resize2fs"], nil as String?),
        ("resize2fs", 1024, ["usr/sbin/resize2fs", "lib/systemd/systemd-growfs"], "/usr/sbin/resize2fs /dev/vda"),
        ("systemd-growfs without e2fsprogs", 1024, ["lib/systemd/systemd-growfs"], "/lib/systemd/systemd-growfs /"),
        ("no tool", 1024, [], nil),
    ])
    func aLargerDiskGetsTheRootGrown(shape: String, diskMiB: Int, tools: [String], expectedCall: String?) async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        try FileManager.default.createDirectory(at: root.path("dev"), withIntermediateDirectories: true)
        let device = root.path("dev/vda")
        try await ProcessRunner().run("truncate", ["-s", "64M", device.path], what: "making a disk")
        try await ProcessRunner().run("mkfs.ext4", ["-q", "-F", device.path], what: "making its filesystem")
        try writeText("\(diskMiB * 2048)\n", to: root.path("sys/block/vda/size"))
        try writeText("254:0\n", to: root.path("sys/block/vda/dev"))
        for tool in tools { try makeExecutable(root.path(tool)) }
        let globals = "ROOT='\(root.url.path)'\nroot_disk=vda\ndebug=0\nchroot() { echo \"chroot $*\" >&3; }"
        // The tool's own output is discarded; the stand-in reports on descriptor 3.
        let output = try await runInitFunctions(["log", "error", "resolve_root_path", "root_executable", "grow_root"], globals: globals, call: "exec 3>&1; grow_root")
        #expect(output.status == 0, "\(shape): \(output.standardError)")
        if let expectedCall {
            #expect(output.standardOutput == "chroot \(root.url.path) \(expectedCall)\n", "\(shape)")
        } else {
            #expect(!output.standardOutput.contains("chroot"), "\(shape): \(output.standardOutput)")
        }
        #expect(output.standardOutput.contains("neither resize2fs nor systemd-growfs") == (shape == "no tool"), "\(shape)")
        let link = try? FileManager.default.destinationOfSymbolicLink(atPath: root.path("dev/block/254:0").path)
        #expect((link == "../vda") == (expectedCall?.contains("growfs") == true), "\(shape)")
    }

    /// OpenSSH before 8.2 has no Include: burrow's settings head sshd_config itself, once.
    @Test func olderSSHDGetsBurrowsSettingsInline() async throws {
        let config = "PasswordAuthentication yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n"
        let old = try await rootAfterApplySSH(["etc/ssh/sshd_config": config, "usr/sbin/sshd": "\u{7f}ELF..OpenSSH_7.6p1 Ubuntu-4..OpenSSH_7.6p1.."], boots: 2)
        let written = try String(contentsOf: old.path("etc/ssh/sshd_config"), encoding: .utf8)
        let settings = try String(contentsOf: old.path("etc/ssh/sshd_config.d/burrow.conf"), encoding: .utf8)
        #expect(written == "# burrow-begin\n" + settings + "# burrow-end\n" + config)
        #expect(settings.contains("PasswordAuthentication no\n"))

        let current = try await rootAfterApplySSH(["etc/ssh/sshd_config": config, "usr/sbin/sshd": "\u{7f}ELF..OpenSSH_8.2p1.."], boots: 2)
        #expect(try String(contentsOf: current.path("etc/ssh/sshd_config"), encoding: .utf8) == "Include /etc/ssh/sshd_config.d/*.conf\n" + config)
    }

    /// An OpenRC root whose sshd is in no runlevel gets it in the default one; one that has it
    /// anywhere is left alone.
    @Test(arguments: ["sshd", "ssh"])
    func openRCSSHDJoinsTheDefaultRunlevel(service: String) async throws {
        for enabledIn in [nil, "default", "boot"] as [String?] {
            let root = try TemporaryDirectory(prefix: "burrow-init-root")
            try makeExecutable(root.path("sbin/openrc"))
            try makeExecutable(root.path("etc/init.d/\(service)"), "#!/sbin/openrc-run\n")
            try FileManager.default.createDirectory(at: root.path("etc/runlevels/default"), withIntermediateDirectories: true)
            if let enabledIn {
                try FileManager.default.createDirectory(at: root.path("etc/runlevels/\(enabledIn)"), withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: root.path("etc/runlevels/\(enabledIn)/\(service)").path, withDestinationPath: "/etc/init.d/\(service)")
            }
            let output = try await runInitFunctions(["error", "root_has", "resolve_root_path", "root_executable", "start_openrc_sshd"], globals: "ROOT='\(root.url.path)'", call: "start_openrc_sshd")
            #expect(output.status == 0 && output.standardOutput.isEmpty, "\(output.standardOutput)\(output.standardError)")
            let links = try FileManager.default.subpathsOfDirectory(atPath: root.path("etc/runlevels").path).filter { $0.hasSuffix("/\(service)") }
            #expect(links == [enabledIn.map { "\($0)/\(service)" } ?? "default/\(service)"])
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: root.path("etc/runlevels/\(enabledIn ?? "default")/\(service)").path)
            #expect(target == "/etc/init.d/\(service)")
        }
    }

    /// Logins register with logind where sshd's PAM stack has pam_systemd, followed through the
    /// include forms of Debian, Fedora (authselect's absolute links), Arch and openSUSE's vendor
    /// folder; without the module, or with it only in a comment or an auth stack, they do not.
    @Test(arguments: [
        ("Debian with libpam-systemd", "usr/lib/x86_64-linux-gnu/security", ["etc/pam.d/sshd": "@include common-auth\n@include common-session\n", "etc/pam.d/common-session": "session\trequired\tpam_unix.so\nsession\toptional\tpam_systemd.so\n"], [:], true),
        ("Debian without it", nil, ["etc/pam.d/sshd": "@include common-session\n", "etc/pam.d/common-session": "session\trequired\tpam_unix.so\n"], [:], false),
        ("the module installed, its line commented out", "usr/lib/x86_64-linux-gnu/security", ["etc/pam.d/sshd": "@include common-session\n", "etc/pam.d/common-session": "# session optional pam_systemd.so\n"], [:], false),
        ("Fedora", "usr/lib64/security", ["etc/pam.d/sshd": "auth substack password-auth\nsession include password-auth\n", "etc/authselect/password-auth": "-session optional pam_systemd.so\n"], ["etc/pam.d/password-auth": "/etc/authselect/password-auth"], true),
        ("Arch", "usr/lib/security", ["etc/pam.d/sshd": "session include system-remote-login\n", "etc/pam.d/system-remote-login": "session include system-login\n", "etc/pam.d/system-login": "-session optional pam_systemd.so\n"], [:], true),
        ("only an auth stack includes it", "usr/lib/security", ["etc/pam.d/sshd": "auth include system-login\n", "etc/pam.d/system-login": "-session optional pam_systemd.so\n"], [:], false),
        ("openSUSE's vendor folder", "usr/lib64/security", ["usr/lib/pam.d/sshd": "session include common-session\n", "usr/lib/pam.d/common-session": "session optional pam_systemd.so\n"], [:], true),
        ("an include by absolute path", "usr/lib/security", ["etc/pam.d/sshd": "session include /etc/security/remote-session\n", "etc/security/remote-session": "session optional pam_systemd.so\n"], [:], true),
        ("a stack that includes itself", "usr/lib/security", ["etc/pam.d/sshd": "@include other\n", "etc/pam.d/other": "@include sshd\n@include ../../x\n", "x": "session optional pam_systemd.so\n"], [:], false),
    ] as [(String, String?, [String: String], [String: String], Bool)])
    func sshdLoginsRegisterWithLogind(shape: String, moduleFolder: String?, files: [String: String], links: [String: String], registers: Bool) async throws {
        let root = try TemporaryDirectory(prefix: "burrow-init-root")
        if let moduleFolder { try writeText("", to: root.path("\(moduleFolder)/pam_systemd.so")) }
        for (path, text) in files { try writeText(text, to: root.path(path)) }
        for (path, target) in links {
            try FileManager.default.createDirectory(at: root.path(path).deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root.path(path).path, withDestinationPath: target)
        }
        let output = try await runInitFunctions(["resolve_root_path", "sshd_logins_register_with_logind"], globals: "ROOT='\(root.url.path)'", call: "sshd_logins_register_with_logind")
        #expect(output.status == (registers ? 0 : 1), "\(shape): \(output.standardError)")
        #expect(output.standardOutput.isEmpty && output.standardError.isEmpty, "\(shape)")
    }

    /// Where logins wait for the user's service manager, it is wanted for the boot in /run, for
    /// the guest user's uid (root's is 0); nothing without /run or a user@.service.
    @Test func theUsersServiceManagerIsWantedForTheBoot() async throws {
        func wants(user: String, uid: Int, mounted: Bool = true, manager: String? = "lib/systemd/system/user@.service") async throws -> [String: String] {
            let root = try TemporaryDirectory(prefix: "burrow-init-root")
            if let manager { try writeText("[Service]\nExecStart=/lib/systemd/systemd --user\n", to: root.path(manager)) }
            let globals = "ROOT='\(root.url.path)'\nroot_run_mounted=\(mounted ? 1 : 0)\nBURROW_USER=\(user)\nBURROW_UID=\(uid)"
            let output = try await runInitFunctions(["error", "root_has", "find_packaged_unit", "make_root_dir", "start_user_manager_this_boot"], globals: globals, call: "start_user_manager_this_boot")
            #expect(output.status == 0 && output.standardOutput.isEmpty, "\(output.standardOutput)\(output.standardError)")
            let folder = root.path("run/systemd/system/multi-user.target.wants")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            return try Dictionary(uniqueKeysWithValues: names.map { ($0, try FileManager.default.destinationOfSymbolicLink(atPath: folder.appendingPathComponent($0).path)) })
        }
        #expect(try await wants(user: "alice", uid: 1000) == ["user@1000.service": "/lib/systemd/system/user@.service"])
        #expect(try await wants(user: "root", uid: 4242, manager: "usr/lib/systemd/system/user@.service") == ["user@0.service": "/usr/lib/systemd/system/user@.service"])
        #expect(try await wants(user: "alice", uid: 1000, mounted: false).isEmpty)
        #expect(try await wants(user: "alice", uid: 1000, manager: nil).isEmpty)
    }
}
