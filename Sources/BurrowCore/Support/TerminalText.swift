import Foundation

/// Text from a guest made safe to print in the user's terminal: escape sequences (CSI, OSC and
/// the two-character ones) and other control characters are dropped, tabs kept. A guest's console
/// is the guest's to write, so what burrow quotes from it must not move the cursor, retitle the
/// window or answer terminal queries.
public enum TerminalText {
    public static func sanitized<Text: StringProtocol>(_ text: Text) -> String {
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let value = scalars[index].value
            index += 1
            switch value {
            case 0x1B:
                index = endOfEscapeSequence(in: scalars, after: index)
            case 0x00..<0x09, 0x0A..<0x20, 0x7F..<0xA0:
                continue
            default:
                result.append(scalars[index - 1])
            }
        }
        return String(result)
    }

    /// The last `count` lines of a file a guest wrote (its console), sanitized, blank ones left
    /// out; none when it cannot be read. Bytes that are not UTF-8 become replacement characters.
    public static func lastLines(of file: URL, count: Int) -> [String] {
        lastLines(in: String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self), count: count)
    }

    /// The last `count` lines of `text`, sanitized, blank ones left out.
    public static func lastLines(in text: String, count: Int) -> [String] {
        let lines = text.split(whereSeparator: \.isNewline).map { sanitized($0) }
        return Array(lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.suffix(count))
    }

    /// Where the escape sequence whose ESC came just before `start` ends: a CSI sequence at its
    /// final byte, an OSC string at BEL or ST (ESC \), any other escape after one character.
    private static func endOfEscapeSequence(in scalars: [Unicode.Scalar], after start: Int) -> Int {
        guard start < scalars.count else { return start }
        switch scalars[start] {
        case "[":
            var index = start + 1
            while index < scalars.count, !(0x40...0x7E).contains(scalars[index].value) { index += 1 }
            return min(index + 1, scalars.count)
        case "]":
            var index = start + 1
            while index < scalars.count {
                if scalars[index].value == 0x07 { return index + 1 }
                if scalars[index].value == 0x1B, index + 1 < scalars.count, scalars[index + 1] == "\\" { return index + 2 }
                index += 1
            }
            return index
        default:
            return start + 1
        }
    }
}
