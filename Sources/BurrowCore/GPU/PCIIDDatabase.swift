import Foundation

/// Vendor, device and class names from the PCI ids database (`pci.ids`, as pciutils and hwdata
/// ship it). Only the vendors asked for are kept, since a whole database is ~40,000 lines and
/// burrow names a handful of devices. Missing names are not an error: callers fall back to ids.
public struct PCIIDDatabase: Sendable {
    private var vendors: [UInt16: String] = [:]
    private var devices: [UInt32: String] = [:]
    private var baseClasses: [UInt8: String] = [:]
    private var subclasses: [UInt16: String] = [:]

    /// No names at all, for hosts without a database.
    public static let empty = PCIIDDatabase()

    private init() {}

    public init(contentsOf url: URL, vendors wanted: Set<UInt16>) throws {
        let text: String
        do {
            text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        } catch {
            throw BurrowError(.failure, "cannot read the PCI ids database \(url.path): \(error.localizedDescription)")
        }
        self.init(parsing: text, vendors: wanted)
    }

    public init(parsing text: String, vendors wanted: Set<UInt16>) {
        // The file lists vendors (devices indented by one tab, subsystems by two), then classes
        // ("C xx", subclasses indented by one tab, programming interfaces by two).
        var vendor: UInt16?
        var baseClass: UInt8?
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("\t\t") {
            if line.hasPrefix("C ") {
                vendor = nil
                baseClass = nil
                if let entry = Self.entry(line, skipping: 2, digits: 2) {
                    baseClass = UInt8(entry.id)
                    baseClasses[UInt8(entry.id)] = entry.name
                }
            } else if line.hasPrefix("\t") {
                if let baseClass, let entry = Self.entry(line, skipping: 1, digits: 2) {
                    subclasses[UInt16(baseClass) << 8 | UInt16(entry.id)] = entry.name
                } else if let vendor, let entry = Self.entry(line, skipping: 1, digits: 4) {
                    devices[UInt32(vendor) << 16 | UInt32(entry.id)] = entry.name
                }
            } else {
                baseClass = nil
                vendor = nil
                if let entry = Self.entry(line, skipping: 0, digits: 4), wanted.contains(UInt16(entry.id)) {
                    vendor = UInt16(entry.id)
                    vendors[UInt16(entry.id)] = entry.name
                }
            }
        }
    }

    public func vendorName(_ vendor: UInt16) -> String? { vendors[vendor] }

    public func deviceName(vendor: UInt16, device: UInt16) -> String? { devices[UInt32(vendor) << 16 | UInt32(device)] }

    /// The subclass name for a 24-bit class code (`Ethernet controller`), else its base class
    /// name (`Network controller`).
    public func className(_ classCode: UInt32) -> String? {
        let base = UInt8(truncatingIfNeeded: classCode >> 16)
        return subclasses[UInt16(truncatingIfNeeded: classCode >> 8)] ?? baseClasses[base]
    }

    /// `<prefix><hex id>  <name>`; nil for lines of any other shape.
    private static func entry(_ line: Substring, skipping prefix: Int, digits: Int) -> (id: Int, name: String)? {
        let rest = line.dropFirst(prefix)
        let hex = rest.prefix(digits)
        guard hex.count == digits, hex.allSatisfy(\.isHexDigit), let id = Int(hex, radix: 16) else { return nil }
        let name = rest.dropFirst(digits).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, rest.dropFirst(digits).first == " " else { return nil }
        return (id, name)
    }
}
