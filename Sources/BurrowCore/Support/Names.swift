/// Validates the names people give images and environments: they become folder names, libvirt
/// domain names and SSH host aliases, so they are kept to a safe, portable alphabet.
public enum Names {
    public static let maximumLength = 63

    public static func isValid(_ name: String) -> Bool {
        (try? validate(name, what: "")) != nil
    }

    public static func validate(_ name: String, what: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        let startsWell = name.utf8.first.map { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) } ?? false
        guard allowed, startsWell, name.utf8.count <= maximumLength else {
            throw BurrowError(
                .invalidInput, "invalid \(what) name '\(name)'",
                hint: "Use 1–\(maximumLength) lowercase letters, digits, '-', '_' or '.', starting with a letter or digit."
            )
        }
    }
}
