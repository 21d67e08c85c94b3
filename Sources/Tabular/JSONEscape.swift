/// The escapes of JSON strings (RFC 8259 §7), for pom's JSON readers (JSON Lines record files,
/// request bodies).
public enum JSONEscape {
    /// The byte the two-character escape `\e` stands for (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`,
    /// `\t`); nil for `u` (four hex digits follow) and for anything that is no escape.
    @inlinable
    public static func byte(for e: UInt8) -> UInt8? {
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return e
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        default: return nil
        }
    }
}
