/// What `--gpu` asks for: every free ready GPU (`all`), a number of them (`2`), one by PCI
/// address (`0000:65:00.0` or `65:00.0`), or one whose model name contains the text,
/// ignoring case (`h100`).
public enum GPURequest: Hashable, Sendable, CustomStringConvertible {
    case all
    case count(Int)
    case address(PCIAddress)
    case model(String)

    public init(parsing text: String) throws {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.lowercased() == "all" {
            self = .all
        } else if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) {
            guard let count = Int(text), count > 0 else {
                throw BurrowError(.invalidInput, "--gpu \(text) asks for no GPU", hint: "Give a count of at least 1, or leave --gpu out.")
            }
            self = .count(count)
        } else if let address = PCIAddress(text) {
            self = .address(address)
        } else if !text.isEmpty {
            self = .model(text)
        } else {
            throw BurrowError(.invalidInput, "--gpu needs a value", hint: "Use all, a count (2), a PCI address (0000:65:00.0) or part of a model name (h100).")
        }
    }

    public var description: String {
        switch self {
        case .all: "all GPUs"
        case let .count(count): count == 1 ? "1 GPU" : "\(count) GPUs"
        case let .address(address): "the GPU at \(address)"
        case let .model(model): "a GPU matching '\(model)'"
        }
    }
}
