/// A PCI function address, `domain:bus:slot.function`. Parses the full sysfs form
/// (`0000:65:00.0`) and the short `lspci` form (`65:00.0`, domain 0); always prints the full form,
/// which is what sysfs names and libvirt's `<address>` carry.
public struct PCIAddress: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public let domain: UInt16
    public let bus: UInt8
    public let slot: UInt8
    public let function: UInt8

    public init(domain: UInt16 = 0, bus: UInt8, slot: UInt8, function: UInt8) {
        self.domain = domain
        self.bus = bus
        self.slot = slot
        self.function = function
    }

    /// nil when the text is not a PCI address (so callers can try other readings of it).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let slotAndFunction = parts.last else { return nil }
        let dotted = slotAndFunction.split(separator: ".", omittingEmptySubsequences: false)
        guard dotted.count == 2,
              let domain = parts.count == 3 ? Self.hex(parts[0], digits: 4, max: 0xffff) : 0,
              let bus = Self.hex(parts[parts.count - 2], digits: 2, max: 0xff),
              let slot = Self.hex(dotted[0], digits: 2, max: 0x1f),
              let function = Self.hex(dotted[1], digits: 1, max: 0x7)
        else { return nil }
        self.init(domain: UInt16(domain), bus: UInt8(bus), slot: UInt8(slot), function: UInt8(function))
    }

    public var description: String {
        "\(Self.hex(domain, 4)):\(Self.hex(bus, 2)):\(Self.hex(slot, 2)).\(Self.hex(function, 1))"
    }

    /// True for another function of the same physical device (same domain, bus and slot).
    public func isSameSlot(as other: PCIAddress) -> Bool {
        domain == other.domain && bus == other.bus && slot == other.slot
    }

    public static func < (lhs: PCIAddress, rhs: PCIAddress) -> Bool {
        (lhs.domain, lhs.bus, lhs.slot, lhs.function) < (rhs.domain, rhs.bus, rhs.slot, rhs.function)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let address = PCIAddress(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a PCI address")
        }
        self = address
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Exactly `digits` hex digits (sysfs and lspci always pad), within `max`.
    private static func hex(_ text: Substring, digits: Int, max: Int) -> Int? {
        guard text.count == digits, text.allSatisfy(\.isHexDigit), let value = Int(text, radix: 16), value <= max else { return nil }
        return value
    }

    static func hex(_ value: some BinaryInteger, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
