import ArgumentParser
import BurrowCLI

/// The process entry point; everything else lives in BurrowCLI.
@main
struct Burrow: AsyncParsableCommand {
    static let configuration = BurrowCommand.configuration
}
