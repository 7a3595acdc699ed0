import Foundation
import Testing
@testable import BurrowCore

@Suite("devcontainer.json")
struct DevcontainerTests {
    static let file = ".devcontainer/devcontainer.json"

    func load(_ json: String, at file: String = file) throws -> ProjectConfig {
        let project = try ProjectFolder()
        try project.write(file, json)
        return try project.load()
    }

    func failure(_ json: String) throws -> BurrowError {
        let project = try ProjectFolder()
        try project.write(Self.file, json)
        return try project.failure()
    }

    @Test func everyMappedKeyIsRead() throws {
        let config = try load("""
            // A typical template, comments and trailing commas included.
            {
            \t"name": "Node.js & TypeScript",
            \t"image": "mcr.microsoft.com/devcontainers/typescript-node:20", /* not used */
            \t"forwardPorts": [3000, "localhost:8080", "db:5432",],
            \t"postCreateCommand": {
            \t\t"zinstall": "npm ci",
            \t\t"build": ["npm", "run", "build:all", "--", "it's"],
            \t\t"amigrate": "npm run migrate",
            \t},
            \t"containerEnv": {"NODE_ENV": "development", "SHARED": "container"},
            \t"remoteEnv": {"SHARED": "remote", "EDITOR": "vim", "NODE_ENV": null},
            \t"hostRequirements": {"cpus": 4, "memory": "8gb", "storage": "32gb", "gpu": true},
            }
            """)
        let root = config.root.path
        #expect(config.file == Self.file)
        #expect(config.name == "node.js-typescript")
        #expect(config.base == nil)
        #expect(config.ports == [
            PortForward(host: 3000, guest: 3000), PortForward(host: 8080, guest: 8080), PortForward(host: 5432, guest: 5432),
        ])
        #expect(config.provision.steps == [
            .run("npm ci"), .run("npm run build:all -- 'it'\\''s'"), .run("npm run migrate"),
        ])
        #expect(config.env == ["SHARED": "remote", "EDITOR": "vim"])
        #expect(config.cpus == 4)
        #expect(config.memory == 8 << 30)
        #expect(config.disk == 32 << 30)
        #expect(config.gpu == "1")
        #expect(config.workspace == root)
        #expect(config.mounts == [ProjectMount(host: root, guest: root, readOnly: false)])
        #expect(config.warnings == [
            "\(Self.file): image is ignored: burrow builds a VM from a distro image, not a container image; "
                + "choose one with image: or distro: in a burrow.yaml",
        ])
    }

    @Test func commentMarkersInsideStringsAreKept() throws {
        let config = try load(#"""
            {
              "postCreateCommand": "curl -fsS https://example.org/x // y /* z */ , ] } \"quoted, // not a comment\"", // end
              /* a block
                 comment, with a trailing comma, */
              "name": "x/*y*/",
            }
            """#)
        #expect(config.provision.steps == [
            .run(#"curl -fsS https://example.org/x // y /* z */ , ] } "quoted, // not a comment""#),
        ])
        #expect(config.name == "x-y")
    }

    @Test(arguments: [("\"echo hi\"", ["echo hi"]), ("[\"ls\", \"-l\", \"my dir\"]", ["ls -l 'my dir'"])])
    func postCreateCommandForms(json: String, expected: [String]) throws {
        let config = try load("{\"postCreateCommand\": \(json)}")
        #expect(config.provision.steps == expected.map(ProvisionStep.run))
    }

    @Test(arguments: [("true", "1"), ("\"optional\"", "1"), ("{\"cores\": 2, \"memory\": \"8gb\"}", "1"), ("false", nil)] as [(String, String?)])
    func gpuRequirement(json: String, expected: String?) throws {
        #expect(try load("{\"hostRequirements\": {\"gpu\": \(json)}}").gpu == expected)
    }

    @Test func keysBurrowDoesNotUseAreWarnings() throws {
        let config = try load("""
            {
              "build": {"dockerfile": "Dockerfile"},
              "features": {"ghcr.io/devcontainers/features/go:1": {}},
              "customizations": {"vscode": {"extensions": ["golang.go"]}},
              "hostRequirements": {"cpus": 2, "gpuCount": 1},
              "remoteUser": "vscode"
            }
            """)
        #expect(config.cpus == 2)
        #expect(config.warnings == [
            "\(Self.file): build is ignored: burrow builds a VM from a distro image, not a container image; "
                + "choose one with image: or distro: in a burrow.yaml",
            "\(Self.file): features is not used by burrow and is ignored",
            "\(Self.file): customizations is not used by burrow and is ignored",
            "\(Self.file): hostRequirements.gpuCount is not used by burrow and is ignored",
            "\(Self.file): remoteUser is not used by burrow and is ignored",
        ])
    }

    @Test func rootLevelFileIsFound() throws {
        let config = try load(#"{"name": "tools"}"#, at: ".devcontainer.json")
        #expect(config.file == ".devcontainer.json")
        #expect(config.name == "tools")
    }

    @Test func nameDefaultsToTheFolder() throws {
        #expect(try load("{}").name == "demo")
    }

    static let errors: [(json: String, message: String)] = [
        (#"{"forwardPorts": [3000, true]}"#,
         #".devcontainer/devcontainer.json: forwardPorts[1]: expected a port number or "HOST:PORT", found the boolean true"#),
        (#"{"forwardPorts": ["db:http"]}"#, ".devcontainer/devcontainer.json: forwardPorts[0]: 'db:http' is not a port or HOST:PORT"),
        (#"{"forwardPorts": [0]}"#, ".devcontainer/devcontainer.json: forwardPorts[0]: port 0 is outside 1–65535"),
        (#"{"postCreateCommand": 42}"#,
         ".devcontainer/devcontainer.json: postCreateCommand: expected a command string, a list of arguments or an object of named commands, found the integer 42"),
        (#"{"postCreateCommand": {"a": {"b": "c"}}}"#,
         ".devcontainer/devcontainer.json: postCreateCommand.a: expected a command string or a list of arguments, found a mapping"),
        (#"{"hostRequirements": {"memory": "lots"}}"#,
         ".devcontainer/devcontainer.json: hostRequirements.memory: 'lots' is not a size; write a number with an optional unit, e.g. 8G or 512M"),
        (#"{"hostRequirements": {"gpu": "yes please"}}"#,
         #".devcontainer/devcontainer.json: hostRequirements.gpu: expected true, false, "optional" or {cores, memory}, found the string 'yes please'"#),
        (#"{"containerEnv": {"A": ["x"]}}"#, ".devcontainer/devcontainer.json: containerEnv.A: expected a string, found a list"),
        ("[1]", ".devcontainer/devcontainer.json: the document: expected a mapping, found a list"),
        ("{\n  \"name\": \"x\",\n  \"name\": \"y\"\n}", ".devcontainer/devcontainer.json:3: not valid JSON: key 'name' appears more than once in one object; keep one"),
        ("{\n  \"name\": \"x\" /* open\n}", ".devcontainer/devcontainer.json:2: not valid JSON: a /* comment is never closed"),
    ]

    @Test(arguments: errors)
    func invalidFilesAreErrors(json: String, message: String) throws {
        let error = try failure(json)
        #expect(error.kind == .invalidInput)
        #expect(error.message == message)
    }

    @Test func jsonSyntaxErrorsGiveTheLine() throws {
        let error = try failure("{\n  // fine\n  \"name\": \"x\",\n  \"cpus\" 2\n}")
        #expect(error.message.hasPrefix(".devcontainer/devcontainer.json:4: not valid JSON: "), "\(error.message)")
    }
}
