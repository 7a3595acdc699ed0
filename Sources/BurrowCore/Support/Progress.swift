/// Receives progress of long work. Implementations decide how (and how often) to show it;
/// `advance` may be called very frequently.
public protocol ProgressReporter: Sendable {
    func begin(_ phase: String, total: Int64?)
    func advance(to completed: Int64)
    func end()
}

/// Shows nothing: for scripts, `--json` and tests.
public struct SilentProgress: ProgressReporter {
    public init() {}
    public func begin(_ phase: String, total: Int64?) {}
    public func advance(to completed: Int64) {}
    public func end() {}
}
