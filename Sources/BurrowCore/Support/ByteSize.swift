import Foundation

/// Parses sizes people type: "512M", "16G", "1.5T", "4096" (bytes); K/M/G/T are powers of 1024,
/// with an optional "i"/"iB"/"B" suffix.
public func parseSize(_ text: String) throws -> Int64 {
    var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
    for suffix in ["IB", "B", "I"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
        digits.removeLast(suffix.count)
        break
    }
    let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776]
    var multiplier: Double = 1
    if let last = digits.last, let unit = units[last] {
        multiplier = unit
        digits.removeLast()
    }
    guard let number = Double(digits), number > 0, number * multiplier < Double(Int64.max) else {
        throw BurrowError(.invalidInput, "'\(text)' is not a size", hint: "Use a number with an optional unit, e.g. 512M or 16G.")
    }
    return Int64(number * multiplier)
}
