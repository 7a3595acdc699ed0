import Foundation
import Yams

/// Decodes JSON with comments, as devcontainer.json is written, into a Yams node tree, so the
/// strict reader that checks burrow.yaml checks it too.
///
/// `//` and `/* */` comments and trailing commas are blanked outside strings, byte for byte, so
/// the offsets JSONSerialization reports still point into the file; JSONSerialization decodes
/// the rest. Object keys keep their order in the file, which its dictionaries lose; a key
/// repeated in one object is an error, as it is in YAML.
enum JSONC {
    /// What is wrong, and the 1-based line when it is known.
    struct Failure: Error {
        let reason: String
        let line: Int?
    }

    static func decode(_ text: String) throws(Failure) -> Node {
        let bytes = Array(text.utf8)
        let cleaned = try clean(bytes)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(cleaned.json))
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw Failure(reason: reason, line: offset(in: reason).map { line(at: $0, in: bytes) })
        }
        var nextObject = 0
        return node(object, keyOrders: cleaned.keyOrders, nextObject: &nextObject)
    }

    /// The text with comments and trailing commas blanked, and the keys of every object in the
    /// order they are written, one list per `{` in the order the braces appear.
    private static func clean(_ bytes: [UInt8]) throws(Failure) -> (json: [UInt8], keyOrders: [[String]]) {
        var out = bytes
        var keyOrders: [[String]] = []
        // Per open container: its index in keyOrders when it is an object, and whether the next
        // string there is a key.
        var open: [(object: Int?, expectingKey: Bool)] = []
        // A comma is only known to be trailing once the next token shows up.
        var pendingComma: Int?
        var index = 0
        func blank(_ range: Range<Int>) {
            for position in range where out[position] != UInt8(ascii: "\n") { out[position] = UInt8(ascii: " ") }
        }
        while index < bytes.count {
            let byte = bytes[index]
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "/") where next == UInt8(ascii: "/"):
                let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                blank(index..<end)
                index = end
            case UInt8(ascii: "/") where next == UInt8(ascii: "*"):
                guard let close = closingComment(in: bytes, from: index + 2) else {
                    throw Failure(reason: "a /* comment is never closed", line: line(at: index, in: bytes))
                }
                blank(index..<close)
                index = close
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if let comma = pendingComma { out[comma] = UInt8(ascii: " ") }
                pendingComma = nil
                _ = open.popLast()
                index += 1
            default:
                pendingComma = nil
                switch byte {
                case UInt8(ascii: "\""):
                    let end = closingQuote(in: bytes, from: index + 1)
                    if let top = open.last, let object = top.object, top.expectingKey {
                        let key = decodeKey(bytes[index..<end])
                        if let key, keyOrders[object].contains(key) {
                            throw Failure(reason: "key '\(key)' appears more than once in one object; keep one", line: line(at: index, in: bytes))
                        }
                        keyOrders[object].append(key ?? "")
                        open[open.count - 1].expectingKey = false
                    }
                    index = end
                case UInt8(ascii: ","):
                    pendingComma = index
                    if let top = open.last, top.object != nil { open[open.count - 1].expectingKey = true }
                    index += 1
                case UInt8(ascii: "{"):
                    keyOrders.append([])
                    open.append((keyOrders.count - 1, true))
                    index += 1
                case UInt8(ascii: "["):
                    open.append((nil, false))
                    index += 1
                default:
                    index += 1
                }
            }
        }
        return (out, keyOrders)
    }

    /// The index just past the `*/` that closes a comment whose body starts at `start`.
    private static func closingComment(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "*"), bytes[index + 1] == UInt8(ascii: "/") { return index + 2 }
            index += 1
        }
        return nil
    }

    /// The index just past the quote that ends a string whose body starts at `start`, or the
    /// end of the text when it is never closed (JSONSerialization then says so).
    private static func closingQuote(in bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return bytes.count
    }

    /// A key's text with its escapes decoded; nil when the literal is malformed, which
    /// JSONSerialization then reports.
    private static func decodeKey(_ literal: ArraySlice<UInt8>) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(literal), options: .fragmentsAllowed)) as? String
    }

    /// The byte offset in JSONSerialization's "… around character 15." messages.
    private static func offset(in reason: String) -> Int? {
        guard let range = reason.range(of: "around character ") else { return nil }
        return Int(reason[range.upperBound...].prefix(while: \.isNumber))
    }

    private static func line(at offset: Int, in bytes: [UInt8]) -> Int {
        bytes.prefix(offset).count(where: { $0 == UInt8(ascii: "\n") }) + 1
    }

    /// Rebuilds the decoded value as nodes with the tags YAML would resolve for the same values,
    /// visiting objects in the order their braces appear so `keyOrders` lines up.
    private static func node(_ value: Any, keyOrders: [[String]], nextObject: inout Int) -> Node {
        switch value {
        case let dictionary as [String: Any]:
            let written = nextObject < keyOrders.count ? keyOrders[nextObject] : []
            nextObject += 1
            let keys = written.filter { dictionary[$0] != nil } + dictionary.keys.filter { !written.contains($0) }.sorted()
            let pairs = keys.compactMap { key in
                dictionary[key].map { (Node.scalar(.init(key, Tag(.str))), node($0, keyOrders: keyOrders, nextObject: &nextObject)) }
            }
            return .mapping(.init(pairs))
        case let array as [Any]:
            return .sequence(.init(array.map { node($0, keyOrders: keyOrders, nextObject: &nextObject) }))
        case let string as String:
            return .scalar(.init(string, Tag(.str)))
        case let number as NSNumber:
            if type(of: number) == type(of: NSNumber(value: true)) {
                return .scalar(.init(number.boolValue ? "true" : "false", Tag(.bool)))
            }
            let isFloat = ["d", "f"].contains(String(cString: number.objCType))
            return .scalar(.init(number.stringValue, Tag(isFloat ? .float : .int)))
        default:
            return .scalar(.init("null", Tag(.null)))
        }
    }
}
