/// A failure reported to the user: one line saying what happened, an optional line saying what
/// to do, and the category that picks the process exit code.
public struct BurrowError: Error, CustomStringConvertible, Sendable {
    /// Stable categories; the CLI maps each to a distinct exit code.
    public enum Kind: Sendable {
        case failure, notFound, wrongState, invalidInput, interrupted
    }

    public let kind: Kind
    public let message: String
    public let hint: String?

    public init(_ kind: Kind = .failure, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message)\n\(hint)"
    }
}
