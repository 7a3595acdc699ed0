import ArgumentParser
import BurrowCore
import Foundation

struct ProjectUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Create or start this project's environment, with the project mounted inside.",
        discussion: """
            Reads burrow.yaml (or .devcontainer/devcontainer.json) in the project
            folder: image or distro, cpus, memory, disk, mounts, ports, env, provision
            steps. Provisioning steps run once; their results are cached layers shared
            by every project with the same recipe. A running environment is left as
            it is.
            Examples:
              burrow init && burrow up
              burrow up ~/src/myproject
            """
    )

    @Argument(help: "Project folder.") var directory: String = "."
    @Flag(help: "Print the environment as JSON.") var json = false
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (directory, json, connection) = (directory, json, connection)
        try await runCommand {
            let context = try await CommandContext.open()
            let config = try ProjectConfig.load(projectRoot: URL(fileURLWithPath: ShareOptions.absolute(directory)))
            config.warnings.forEach(printNotice)
            let service = try context.environments(connection)
            let launcher = ProjectLauncher(service: service, home: context.home, database: context.database, hypervisor: service.hypervisorHandle, notices: printNotice)
            let home = context.home
            let database = context.database
            let launch = try await launcher.up(config) { distro in
                let catalog = try DistroCatalog(directory: try DistroCatalog.locate())
                _ = try await ImagePuller(home: home, database: database, progress: CommandContext.progress(json: json))
                    .pull(distro, as: nil, catalog: catalog, architecture: try Architecture.host())
            }
            let name = launch.environment.name
            if json {
                print(try JSONOutput.encode(EnvironmentSummary(try service.status(launch.environment), home: context.home)))
                return
            }
            switch launch.outcome {
            case .alreadyRunning: print("\(name) is already running.")
            case .started: print("Started \(name).")
            case .created: print("Created and started \(name) (\(launch.stepsRun) provisioning step(s) run, \(launch.stepsCached) cached).")
            }
            print("""
                Attach with:
                  burrow shell \(name)
                  ssh burrow-\(name)      (after adding `Include \(SSHTools(home: context.home).configFile.path)` to ~/.ssh/config)
                  burrow code \(name) \(launch.environment.sharedFolders.first?.guest ?? "")
                """)
        }
    }
}

struct ProjectDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop this project's environment.",
        discussion: "Example: burrow down   (burrow rm NAME removes it for good)"
    )

    @Argument(help: "Project folder.") var directory: String = "."
    @OptionGroup var choice: StopChoice
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let (directory, choice, connection) = (directory, choice, connection)
        try await runCommand {
            let context = try await CommandContext.open()
            let config = try ProjectConfig.load(projectRoot: URL(fileURLWithPath: ShareOptions.absolute(directory)))
            try await choice.apply(to: config.name, service: try context.environments(connection))
        }
    }
}
