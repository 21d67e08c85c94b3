import Foundation
import Testing
@testable import Optimizer

@Suite("JSON text into JSONValue")
struct JSONParsingTests {
    /// A seeded generator (SplitMix64), so a failing document can be made again.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{08}", "\u{0C}", "\r", "\u{01}", "\u{1F}",
                                             "é", "ß", "€", "\u{2028}", "\u{FFFF}", "😀", "\u{10FFFF}", "中"]

    static func randomValue(_ r: inout Rng, depth: Int) -> JSONValue {
        switch r.below(depth > 3 ? 4 : 6) {
        case 0: return .null
        case 1: return .bool(r.below(2) == 0)
        case 2:
            let choices: [Double] = [0, -0.5, 1, 42, -17, 1e-7, 3.25e21, 0.1, 123456789012, Double(r.below(1_000_000)) / 1000]
            return .number(choices[r.below(choices.count)])
        case 3: return .string(randomString(&r))
        case 4: return .array((0..<r.below(5)).map { _ in randomValue(&r, depth: depth + 1) })
        default:
            var o: [String: JSONValue] = [:]
            for _ in 0..<r.below(5) { o[randomString(&r)] = randomValue(&r, depth: depth + 1) }
            return .object(o)
        }
    }

    static func randomString(_ r: inout Rng) -> String {
        var s = String.UnicodeScalarView()
        for _ in 0..<r.below(8) { s.append(alphabet[r.below(alphabet.count)]) }
        return String(s)
    }

    /// JSON text of `v` with random blanks and every way of writing a character JSON allows.
    static func write(_ v: JSONValue, _ r: inout Rng) -> String {
        let blanks = [" ", "\t", "\n", "\r\n", "", "", ""]
        func blank() -> String { blanks[r.below(blanks.count)] }
        func str(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                let forced = u.value < 0x20 || u == "\"" || u == "\\"
                switch r.below(forced ? 2 : 4) {
                case 0:
                    let short: [Unicode.Scalar: String] = ["\"": "\\\"", "\\": "\\\\", "/": "\\/", "\n": "\\n", "\t": "\\t", "\u{08}": "\\b",
                                                            "\u{0C}": "\\f", "\r": "\\r"]
                    if let e = short[u] { out += e; break }
                    fallthrough
                case 1:
                    for unit in String(u).utf16 { out += "\\u" + String(unit, radix: 16, uppercase: r.below(2) == 0).leftPadded(4) }
                default:
                    out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        }
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d):
            let forms = ["\(d)", String(format: "%.17g", d), String(format: "%.17e", d), String(format: "%.17E", d)]
            return forms[r.below(forms.count)]
        case .string(let s): return str(s)
        case .array(let a): return "[" + blank() + a.map { write($0, &r) }.joined(separator: blank() + "," + blank()) + blank() + "]"
        case .object(let o):
            return "{" + blank() + o.map { str($0.key) + blank() + ":" + blank() + write($0.value, &r) }.joined(separator: "," + blank()) + blank() + "}"
        }
    }

    @Test("2,000 seeded documents written every legal way read back as written, as JSONDecoder reads them")
    func roundTrip() throws {
        var r = Rng(state: 20_261_130)
        for i in 0..<2_000 {
            let value = Self.randomValue(&r, depth: 0)
            let text = Self.write(value, &r)
            let parsed = try JSONValue(parsing: Array(text.utf8))
            #expect(parsed == value, "document \(i): \(text)")
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == parsed, "document \(i): \(text)")
        }
    }

    @Test("The text of 2,000 seeded values is JSONEncoder's, byte for byte (sorted keys, slashes as they are)")
    func text() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var r = Rng(state: 7)
        for i in 0..<2_000 {
            var value = Self.randomValue(&r, depth: 0)
            if i % 3 == 0 { value = .object(["n": .number(Double(r.below(1 << 20)) - 5e5), "big": .number(1e21), "tiny": .number(-2.5e-9), "v": value]) }
            #expect(String(decoding: value.text, as: UTF8.self) == String(decoding: try encoder.encode(value), as: UTF8.self), "value \(i)")
            #expect(try JSONValue(parsing: value.text) == value)
        }
    }

    @Test("Escapes, surrogate pairs, numbers and repeated keys")
    func details() throws {
        #expect(try JSONValue(parsing: Array(#""\ud83d\ude00 \u00e9\/\b""#.utf8)) == .string("😀 é/\u{08}"))
        #expect(try JSONValue(parsing: Array("  -0.0e+0 ".utf8)) == .number(-0.0))
        #expect(try JSONValue(parsing: Array("1.7976931348623157e308".utf8)) == .number(.greatestFiniteMagnitude))
        #expect(try JSONValue(parsing: Array("4.9e-324".utf8)) == .number(.leastNonzeroMagnitude))
        #expect(try JSONValue(parsing: Array(#"{"a":1,"a":2}"#.utf8)) == .object(["a": .number(2)]))
        #expect(try JSONValue(parsing: Array("[[[]],{}]".utf8)) == .array([.array([.array([])]), .object([:])]))
        let deep = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        #expect(throws: Never.self) { try JSONValue(parsing: Array(deep.utf8)) }
    }

    @Test("Text that is not JSON is refused at the byte where it goes wrong, as JSONDecoder refuses it (but for trailing commas)")
    func refusals() {
        let cases: [(text: [UInt8], offset: Int, reason: String)] = [
            (Array("".utf8), 0, "the text ends where a value was expected"),
            (Array("  ".utf8), 2, "the text ends where a value was expected"),
            (Array("{} x".utf8), 3, "text after the JSON value"),
            (Array("[1,]".utf8), 3, "expected a value"),
            (Array(#"{"a":1,}"#.utf8), 7, "expected a member name in quotes"),
            (Array(#"{"a" 1}"#.utf8), 5, "expected ':' after a member name"),
            (Array("[1 2]".utf8), 3, "expected ',' or ']' in an array"),
            (Array("01".utf8), 1, "text after the JSON value"),
            (Array("1.".utf8), 2, "expected a digit after the decimal point"),
            (Array(".5".utf8), 0, "expected a value"),
            (Array("-".utf8), 1, "expected a digit"),
            (Array("1e".utf8), 2, "expected a digit in the exponent"),
            (Array("1e400".utf8), 0, "the number 1e400 does not fit a Double"),
            (Array("tru".utf8), 0, "expected true"),
            (Array("nul".utf8), 0, "expected null"),
            (Array(#""abc"#.utf8), 4, "the text ends inside a string"),
            (Array("\"a\u{01}\"".utf8), 2, "a control character in a string (escape it)"),
            (Array(#""\x""#.utf8), 1, "an unknown escape in a string"),
            (Array(#""\u12""#.utf8), 3, "a \\u escape needs four hex digits"),
            (Array(#""\ud83d""#.utf8), 7, "a \\u escape of a high surrogate without its low surrogate"),
            (Array(#""\ude00""#.utf8), 7, "a \\u escape of a lone low surrogate"),
            ([0x22, 0x61, 0xFF, 0x22], 1, "a string is not valid UTF-8"),
            ([0x22, 0x5C, 0x6E, 0xC3, 0x22], 1, "a string is not valid UTF-8"),
            (Array((String(repeating: "[", count: JSONValue.maxDepth + 1) + String(repeating: "]", count: JSONValue.maxDepth + 1)).utf8),
             JSONValue.maxDepth, "nested deeper than 512 levels"),
        ]
        for c in cases {
            #expect(throws: JSONValue.ParseError(offset: c.offset, reason: c.reason), "\(c.text)") { try JSONValue(parsing: c.text) }
            // Foundation's JSONDecoder lets a trailing comma pass; RFC 8259 does not, and neither does this parser.
            if c.reason == "expected a value" && c.text.last == UInt8(ascii: "]") || c.reason == "expected a member name in quotes" { continue }
            #expect(throws: (any Error).self, "JSONDecoder accepts \(c.text)") { try JSONDecoder().decode(JSONValue.self, from: Data(c.text)) }
        }
    }
}

private extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: Swift.max(0, n - count)) + self }
}
