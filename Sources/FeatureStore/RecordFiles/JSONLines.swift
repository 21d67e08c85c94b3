import Foundation
import Tabular

/// A value of a flat JSON object: `null`, a string (unescaped), or the literal text of anything
/// else (a number, `true`/`false`, a nested object or array).
enum JSONField: Equatable {
    case null
    case string(String)
    case literal(String)
}

/// A reader of JSON Lines files whose lines are JSON objects (one record per line, blank lines
/// allowed). Errors name the file, line and, where known, the key.
struct JSONLinesReader {
    let path: String
    /// Keys whose value is a nested object of fields, read as `key.field`.
    var groups: Set<String> = []

    /// Calls `body` with each object's (key, value) pairs in file order and the object's line.
    func forEachObject(_ body: ([(String, JSONField)], Int) throws -> Void) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw CSVError(file: path, message: "cannot read the file (\(error.localizedDescription))")
        }
        try data.withUnsafeBytes { raw in
            let p = raw.bindMemory(to: UInt8.self)
            var cursor = 0
            var line = 1
            var pairs: [(String, JSONField)] = []
            while cursor < p.count {
                var end = cursor
                while end < p.count && p[end] != UInt8(ascii: "\n") { end += 1 }
                var parser = Parser(p: p, i: cursor, end: end, file: path, line: line, groups: groups)
                parser.skipSpace()
                if parser.i < end {
                    pairs.removeAll(keepingCapacity: true)
                    try parser.object(into: &pairs)
                    parser.skipSpace()
                    guard parser.i == end else { throw parser.fail("unexpected text after the object") }
                    try body(pairs, line)
                }
                cursor = end + 1
                line += 1
            }
        }
    }

    struct Parser {
        let p: UnsafeBufferPointer<UInt8>
        var i: Int
        let end: Int
        let file: String
        let line: Int
        let groups: Set<String>

        func fail(_ message: String, key: String? = nil) -> CSVError {
            CSVError(file: file, line: line, column: key, message: message + " (a JSON object per line expected)")
        }

        mutating func skipSpace() {
            while i < end, p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0D { i += 1 }
        }

        mutating func expect(_ c: UInt8) throws {
            skipSpace()
            guard i < end, p[i] == c else { throw fail("expected '\(Character(UnicodeScalar(c)))'") }
            i += 1
        }

        mutating func object(into pairs: inout [(String, JSONField)], prefix: String = "") throws {
            try expect(UInt8(ascii: "{"))
            skipSpace()
            if i < end && p[i] == UInt8(ascii: "}") { i += 1; return }
            while true {
                skipSpace()
                guard i < end, p[i] == UInt8(ascii: "\"") else { throw fail("expected a key in double quotes") }
                let key = prefix + (try string())
                try expect(UInt8(ascii: ":"))
                skipSpace()
                if prefix.isEmpty && groups.contains(key) {
                    guard i < end, p[i] == UInt8(ascii: "{") else { throw fail("expected an object", key: key) }
                    try object(into: &pairs, prefix: key + ".")
                } else {
                    pairs.append((key, try value(key: key)))
                }
                skipSpace()
                guard i < end else { throw fail("the object is not closed", key: key) }
                if p[i] == UInt8(ascii: ",") { i += 1; continue }
                if p[i] == UInt8(ascii: "}") { i += 1; return }
                throw fail("expected ',' or '}'", key: key)
            }
        }

        mutating func value(key: String) throws -> JSONField {
            guard i < end else { throw fail("missing value", key: key) }
            switch p[i] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let start = i
                try skipNested(key: key)
                return .literal(String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self))
            default:
                let start = i
                while i < end, p[i] != UInt8(ascii: ","), p[i] != UInt8(ascii: "}"), p[i] != 0x20, p[i] != 0x09, p[i] != 0x0D { i += 1 }
                let text = String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)
                if text == "null" { return .null }
                guard !text.isEmpty else { throw fail("missing value", key: key) }
                return .literal(text)
            }
        }

        mutating func skipNested(key: String) throws {
            var depth = 0
            while i < end {
                let c = p[i]
                if c == UInt8(ascii: "\"") { _ = try string(); continue }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { i += 1; return }
                }
                i += 1
            }
            throw fail("a nested value is not closed", key: key)
        }

        /// Reads a string starting at the opening quote and unescapes it.
        mutating func string() throws -> String {
            i += 1
            let start = i
            while i < end, p[i] != UInt8(ascii: "\""), p[i] != UInt8(ascii: "\\") { i += 1 }
            if i < end && p[i] == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            var bytes = Array(p[start..<i])
            while i < end {
                let c = p[i]
                if c == UInt8(ascii: "\"") { i += 1; return String(decoding: bytes, as: UTF8.self) }
                if c != UInt8(ascii: "\\") { bytes.append(c); i += 1; continue }
                guard i + 1 < end else { break }
                let e = p[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(e)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), i + 1 < end, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    bytes.append(contentsOf: Array(String(Character(UnicodeScalar(scalar) ?? "\u{FFFD}")).utf8))
                default: throw fail("bad escape '\\\(Character(UnicodeScalar(e)))' in a string")
                }
            }
            throw fail("a string is not closed")
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= end, let v = UInt32(String(decoding: UnsafeBufferPointer(rebasing: p[i..<i + 4]), as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape in a string")
            }
            i += 4
            return v
        }
    }
}

/// Writes a JSON string literal (quotes and escapes) for `s`.
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let h = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
