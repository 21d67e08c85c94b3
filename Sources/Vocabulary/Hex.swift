extension Sequence where Element == UInt8 {
    /// The bytes as lower-case hexadecimal, two digits each (digests, ids, nonces). Built directly
    /// from the nibbles: `String(format: "%02x")` per byte cost more than the SHA-256 it prints.
    public var lowercaseHex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
