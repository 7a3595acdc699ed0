import ArgumentParser

public struct BurrowCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "burrow", abstract: "Per-project Linux machines.")
    public init() {}
}
