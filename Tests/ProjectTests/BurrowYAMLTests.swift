import Foundation
import Testing
@testable import BurrowCore

@Suite("burrow.yaml")
struct BurrowYAMLTests {
    @Test func everyKeyAndEverySpellingIsRead() throws {
        let project = try ProjectFolder()
        for folder in ["data", "cache", "ro", "data2"] { try project.makeFolder(folder) }
        try project.makeFolder("dotfiles", underHome: true)
        try project.write("scripts/setup.sh", "#!/bin/sh\necho hi\n", mode: 0o755)
        try project.write("config/app.toml", "port = 80\n")
        let config = try project.load(yaml: """
            name: web-app
            distro: debian-12
            cpus: 4
            memory: 8G
            disk: 42949672960
            workspace: {path: /work}
            mounts:
              - data
              - ./cache:/cache
              - ro:/ro:ro
              - ~/dotfiles:/dotfiles:rw
              - {host: data2, guest: /d2/, read_only: true}
            ports:
              - 8080
              - "3000:80"
              - 8022:22
              - "9000"
              - {host: 5433, guest: 5432}
            gpu: all
            cuda: 12.4
            env:
              RUST_LOG: debug
              DEBUG: 1
            provision:
              - run: apt-get update
              - script: scripts/setup.sh
              - copy: config/app.toml
                to: /etc/app/app.toml
            """)
        let root = project.root.standardizedFileURL.path
        #expect(config.root.path == root)
        #expect(config.file == "burrow.yaml")
        #expect(config.name == "web-app")
        #expect(config.base == .distro("debian-12"))
        #expect(config.cpus == 4)
        #expect(config.memory == 8 << 30)
        #expect(config.disk == 40 << 30)
        #expect(config.workspace == "/work")
        #expect(config.mounts == [
            ProjectMount(host: root, guest: "/work", readOnly: false),
            ProjectMount(host: "\(root)/data", guest: "\(root)/data", readOnly: false),
            ProjectMount(host: "\(root)/cache", guest: "/cache", readOnly: false),
            ProjectMount(host: "\(root)/ro", guest: "/ro", readOnly: true),
            ProjectMount(host: project.home.appendingPathComponent("dotfiles").path, guest: "/dotfiles", readOnly: false),
            ProjectMount(host: "\(root)/data2", guest: "/d2", readOnly: true),
        ])
        #expect(config.ports == [
            PortForward(host: 8080, guest: 8080),
            PortForward(host: 3000, guest: 80),
            PortForward(host: 8022, guest: 22),
            PortForward(host: 9000, guest: 9000),
            PortForward(host: 5433, guest: 5432),
        ])
        #expect(config.gpu == "all")
        #expect(config.cuda == "12.4")
        #expect(config.env == ["RUST_LOG": "debug", "DEBUG": "1"])
        #expect(config.provision.steps == [
            .run("apt-get update"),
            .script(ProjectFile(path: "scripts/setup.sh", url: URL(fileURLWithPath: "\(root)/scripts/setup.sh"))),
            .copy(ProjectFile(path: "config/app.toml", url: URL(fileURLWithPath: "\(root)/config/app.toml")), to: "/etc/app/app.toml"),
        ])
        #expect(config.warnings.isEmpty)
    }

    @Test func omittedKeysTakeDefaults() throws {
        let project = try ProjectFolder()
        let config = try project.load(yaml: "image: deb12\n")
        let root = project.root.standardizedFileURL.path
        #expect(config.name == "demo")
        #expect(config.base == .image("deb12"))
        #expect(config.cpus == nil && config.memory == nil && config.disk == nil)
        #expect(config.workspace == root)
        #expect(config.mounts == [ProjectMount(host: root, guest: root, readOnly: false)])
        #expect(config.ports.isEmpty && config.env.isEmpty && config.provision.steps.isEmpty)
        #expect(config.gpu == nil && config.cuda == nil)
    }

    @Test func aFileOfOnlyCommentsIsAllDefaults() throws {
        let config = try ProjectFolder().load(yaml: "# nothing yet\n")
        #expect(config.base == nil)
        #expect(config.name == "demo")
    }

    @Test func workspaceCanBeLeftOut() throws {
        let config = try ProjectFolder().load(yaml: "workspace: false\n")
        #expect(config.workspace == nil)
        #expect(config.mounts.isEmpty)
    }

    @Test(arguments: [("gpu: 1", "1"), ("gpu: \"0000:65:00.0\"", "0000:65:00.0"), ("gpu: 0000:65:00.0", "0000:65:00.0"), ("gpu: A100", "A100")])
    func gpuIsKeptAsWritten(line: String, expected: String) throws {
        #expect(try ProjectFolder().load(yaml: line + "\n").gpu == expected)
    }

    @Test(arguments: [("cuda: \"12.4\"", "12.4"), ("cuda: 12.10", "12.10"), ("cuda: 12", "12")])
    func cudaVersionIsKeptAsWritten(line: String, expected: String) throws {
        #expect(try ProjectFolder().load(yaml: line + "\n").cuda == expected)
    }

    static let unknownKeys: [(yaml: String, message: String)] = [
        ("prots: [8080]\n",
         "burrow.yaml:1: prots: unknown key; allowed here: name, image, distro, cpus, memory, disk, workspace, mounts, ports, gpu, cuda, env, provision"),
        ("mounts:\n  - {hots: ./x}\n", "burrow.yaml:2: mounts[0].hots: unknown key; allowed here: host, guest, read_only"),
        ("ports:\n  - {host: 1, guets: 2}\n", "burrow.yaml:2: ports[0].guets: unknown key; allowed here: host, guest"),
        ("workspace:\n  paht: /w\n", "burrow.yaml:2: workspace.paht: unknown key; allowed here: path"),
        ("provision:\n  - run: make\n    as: root\n", "burrow.yaml:3: provision[0].as: unknown key; allowed here: run, script, copy, to"),
        ("provision:\n  - run: make\n    to: /x\n", "burrow.yaml:3: provision[0].to: unknown key; allowed here: run"),
    ]

    @Test(arguments: unknownKeys)
    func unknownKeysAreErrors(yaml: String, message: String) throws {
        let error = try ProjectFolder().failure(yaml: yaml)
        #expect(error.kind == .invalidInput)
        #expect(error.message == message)
    }

    static let wrongTypes: [(yaml: String, message: String)] = [
        ("distro: debian-12\nports:\n  - 8080\n  - true\n",
         #"burrow.yaml:4: ports[1]: expected "HOST:GUEST" or a port number, found the boolean true"#),
        ("cpus: four\n", "burrow.yaml:1: cpus: expected an integer, found the string 'four'"),
        ("memory: [8G]\n", "burrow.yaml:1: memory: expected a size such as 8G or 512M, found a list"),
        ("env: [A]\n", "burrow.yaml:1: env: expected a mapping, found a list"),
        ("env:\n  A: [1]\n", "burrow.yaml:2: env.A: expected a string, found a list"),
        ("workspace: /work\n", "burrow.yaml:1: workspace: expected true, false or {path: /guest/path}, found the string '/work'"),
        ("mounts: ./data\n", "burrow.yaml:1: mounts: expected a list of mounts, found the string './data'"),
        ("mounts:\n  - 12\n", #"burrow.yaml:2: mounts[0]: expected "HOST:GUEST" or {host: …, guest: …}, found the integer 12"#),
        ("ports:\n  - {host: web, guest: 80}\n", "burrow.yaml:2: ports[0].host: expected an integer, found the string 'web'"),
        ("gpu: true\n", "burrow.yaml:1: gpu: expected a GPU count, all, a PCI address or a model name, found the boolean true"),
        ("cuda: [12]\n", #"burrow.yaml:1: cuda: expected a CUDA version such as "12.4", found a list"#),
        ("provision:\n  - echo hi\n",
         "burrow.yaml:2: provision[0]: expected a step: {run: …}, {script: …} or {copy: …, to: …}, found the string 'echo hi'"),
        ("provision:\n  - run: [make]\n", "burrow.yaml:2: provision[0].run: expected a string, found a list"),
        ("name:\nimage: deb\n", "burrow.yaml:1: name: expected a string, found empty"),
        ("- 1\n- 2\n", "burrow.yaml:1: the document: expected a mapping, found a list"),
    ]

    @Test(arguments: wrongTypes)
    func wrongTypesAreErrors(yaml: String, message: String) throws {
        let error = try ProjectFolder().failure(yaml: yaml)
        #expect(error.kind == .invalidInput)
        #expect(error.message == message)
    }

    static let invalidValues: [(yaml: String, message: String)] = [
        ("ports:\n  - 70000\n", "burrow.yaml:2: ports[0]: port 70000 is outside 1–65535"),
        ("ports:\n  - \"80:0\"\n", "burrow.yaml:2: ports[0]: port 0 is outside 1–65535"),
        ("ports:\n  - \"80:abc\"\n", "burrow.yaml:2: ports[0]: '80:abc' is not HOST:GUEST or a port number"),
        ("ports:\n  - 80/udp\n", "burrow.yaml:2: ports[0]: '80/udp' is not HOST:GUEST or a port number"),
        ("ports: [8080, \"8080:80\"]\n", "burrow.yaml:1: ports[1]: host port 8080 is forwarded twice"),
        ("image: deb\ndistro: debian-12\n", "burrow.yaml:2: distro: give image or distro, not both"),
        ("image: Deb 12\n", "burrow.yaml:1: image: invalid image name 'Deb 12'. Use 1–63 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit."),
        ("name: My Env\n", "burrow.yaml:1: name: invalid environment name 'My Env'. Use 1–63 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit."),
        ("cpus: 0\n", "burrow.yaml:1: cpus: must be at least 1"),
        ("memory: lots\n", "burrow.yaml:1: memory: 'lots' is not a size; write a number with an optional unit, e.g. 8G or 512M"),
        ("disk: 0\n", "burrow.yaml:1: disk: must be more than 0 bytes"),
        ("cuda: twelve\n", "burrow.yaml:1: cuda: 'twelve' is not a CUDA version such as 12.4"),
        ("env:\n  1A: x\n", "burrow.yaml:2: env.1A: '1A' is not a variable name (letters, digits and '_', not starting with a digit)"),
        ("workspace: {path: work}\n", "burrow.yaml:1: workspace.path: guest path 'work' must be absolute"),
        ("workspace: {path: /}\n", "burrow.yaml:1: workspace.path: cannot mount over the guest's root folder"),
        ("mounts:\n  - \".:/a:rx\"\n", "burrow.yaml:2: mounts[0]: '.:/a:rx' is not HOST, HOST:GUEST or HOST:GUEST:ro"),
        ("mounts:\n  - .:/w/../etc\n", "burrow.yaml:2: mounts[0]: guest path '/w/../etc' must not contain '..'"),
        ("workspace: {path: /work}\nmounts:\n  - .:/work\n", "burrow.yaml:3: mounts[0]: guest path /work is mounted twice"),
        ("provision:\n  - run: make\n    script: x.sh\n", "burrow.yaml:2: provision[0]: a step has exactly one of run, script or copy; found run and script"),
        ("provision:\n  - to: /x\n", "burrow.yaml:2: provision[0]: a step has exactly one of run, script or copy; found none"),
        ("provision:\n  - run: \"\"\n", "burrow.yaml:2: provision[0].run: must not be empty"),
        ("cpus: 1\ncpus: 2\n", "burrow.yaml:1: 'cpus' appears more than once in one mapping; keep one"),
    ]

    @Test(arguments: invalidValues)
    func invalidValuesAreErrors(yaml: String, message: String) throws {
        let error = try ProjectFolder().failure(yaml: yaml)
        #expect(error.kind == .invalidInput)
        #expect(error.message == message)
    }

    @Test func malformedYAMLGivesItsPosition() throws {
        let error = try ProjectFolder().failure(yaml: "ports: [8080\n")
        #expect(error.message.hasPrefix("burrow.yaml:2:1: not valid YAML: "), "\(error.message)")
    }

    @Test func copyNeedsADestination() throws {
        let project = try ProjectFolder()
        try project.write("app.toml", "")
        let error = try project.failure(yaml: "provision:\n  - copy: app.toml\n")
        #expect(error.message == "burrow.yaml:2: provision[0].to: required key is missing")
    }

    @Test func mountedFoldersMustExist() throws {
        let project = try ProjectFolder()
        let error = try project.failure(yaml: "mounts:\n  - {host: nope, guest: /n}\n")
        let missing = project.root.standardizedFileURL.appendingPathComponent("nope").path
        #expect(error.message == "burrow.yaml:2: mounts[0].host: \(missing) is not a folder; create it or remove the mount")
    }

    @Test func filesNamedByStepsMustExist() throws {
        let project = try ProjectFolder()
        let root = project.root.standardizedFileURL.path
        let script = try project.failure(yaml: "provision:\n  - run: make\n  - script: setup.sh\n")
        #expect(script.message == "burrow.yaml:3: provision[1].script: no file \(root)/setup.sh")
        let copy = try project.failure(yaml: "provision:\n  - copy: ~/.gitconfig\n    to: /etc/gitconfig\n")
        #expect(copy.message == "burrow.yaml:2: provision[0].copy: no file \(project.home.path)/.gitconfig")
        try project.makeFolder("scripts")
        let folder = try project.failure(yaml: "provision:\n  - script: scripts\n")
        #expect(folder.message == "burrow.yaml:2: provision[0].script: \(root)/scripts is a folder; name a file")
    }
}

@Suite("Finding the settings file")
struct LoadTests {
    @Test(arguments: [
        ("My Project", "my-project"), ("web_app.v2", "web_app.v2"), ("__Tools--", "tools"),
        ("Ünïcode Stuff", "n-code-stuff"), (String(repeating: "a", count: 80), String(repeating: "a", count: 63)),
    ])
    func nameDefaultsToTheFolderName(folder: String, expected: String) throws {
        let project = try ProjectFolder(named: folder)
        #expect(try project.load(yaml: "distro: debian-12\n").name == expected)
    }

    @Test func aFolderNameWithNothingUsableNeedsAName() throws {
        let project = try ProjectFolder(named: "???")
        let error = try project.failure(yaml: "distro: debian-12\n")
        #expect(error.message == "cannot make an environment name from the folder name '???'")
        #expect(error.hint == "Set name: in burrow.yaml.")
        #expect(try project.load(yaml: "name: tools\n").name == "tools")
    }

    @Test func burrowYmlIsReadToo() throws {
        let project = try ProjectFolder()
        try project.write("burrow.yml", "cpus: 3\n")
        let config = try project.load()
        #expect(config.file == "burrow.yml")
        #expect(config.cpus == 3)
    }

    @Test func bothSpellingsAtOnceAreRefused() throws {
        let project = try ProjectFolder()
        try project.write("burrow.yml", "cpus: 3\n")
        let error = try project.failure(yaml: "cpus: 2\n")
        #expect(error.message.hasSuffix("has both burrow.yaml and burrow.yml"))
    }

    @Test func burrowYAMLWinsOverDevcontainer() throws {
        let project = try ProjectFolder()
        try project.write(".devcontainer/devcontainer.json", #"{"hostRequirements": {"cpus": 8}}"#)
        #expect(try project.load(yaml: "cpus: 2\n").cpus == 2)
    }

    @Test func noSettingsFileIsNotFound() throws {
        let error = try ProjectFolder().failure()
        #expect(error.kind == .notFound)
        #expect(error.message.hasPrefix("no burrow.yaml in "))
        #expect(error.hint?.hasPrefix("Write one with: burrow init ") == true)
    }
}
