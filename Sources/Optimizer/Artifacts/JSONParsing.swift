import Tabular

/// Reading JSON text (RFC 8259) straight into a `JSONValue`, for request bodies the service reads
/// on every call: `JSONDecoder` into `JSONValue` tries each kind of value in turn and costs several
/// times more. Numbers are `Double`s (as `JSONDecoder` gives them), a repeated object key keeps its
/// last value, and text after the value, bad escapes, control characters in strings, invalid UTF-8,
/// numbers beyond `Double` and nesting deeper than `maxDepth` are errors naming the byte offset.
extension JSONValue {
    /// Why a text is not JSON, and where.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// 0-based offset of the byte the parser stopped at.
        public var offset: Int
        public var reason: String
        public var description: String { "byte \(offset): \(reason)" }
    }

    /// Containers nested deeper than this are refused (as `JSONDecoder` does beyond 512).
    public static let maxDepth = 512

    /// Parses one JSON value filling `bytes` (blanks around it allowed).
    /// - Throws: `ParseError`.
    public init(parsing bytes: some Collection<UInt8>) throws {
        let parsed = try bytes.withContiguousStorageIfAvailable { try JSONValue.parse($0) } ?? Array(bytes).withUnsafeBufferPointer { try JSONValue.parse($0) }
        self = parsed
    }

    private static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var reader = JSONReader(bytes: buffer)
        reader.skipBlanks()
        let value = try reader.value(depth: 0)
        reader.skipBlanks()
        guard reader.at == buffer.count else { throw reader.failure("text after the JSON value") }
        return value
    }
}

private struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func failure(_ reason: String) -> JSONValue.ParseError { JSONValue.ParseError(offset: at, reason: reason) }

    var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

    mutating func skipBlanks() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard peek == byte else { throw failure(peek == nil ? "the text ends where \(what) was expected" : "expected \(what)") }
        at += 1
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard let b = peek else { throw failure("the text ends where a value was expected") }
        switch b {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("expected a value")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        let w = UnsafeBufferPointer(start: word.utf8Start, count: n)
        guard bytes.count - at >= n, (0..<n).allSatisfy({ bytes[at + $0] == w[$0] }) else { throw failure("expected \(word)") }
        at += n
    }

    mutating func object(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maxDepth else { throw failure("nested deeper than \(JSONValue.maxDepth) levels") }
        at += 1
        var members: [String: JSONValue] = [:]
        skipBlanks()
        if peek == UInt8(ascii: "}") { at += 1; return .object(members) }
        while true {
            skipBlanks()
            guard peek == UInt8(ascii: "\"") else { throw failure("expected a member name in quotes") }
            let key = try string()
            skipBlanks()
            try expect(UInt8(ascii: ":"), "':' after a member name")
            skipBlanks()
            members[key] = try value(depth: depth)
            skipBlanks()
            if peek == UInt8(ascii: ",") { at += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return .object(members)
        }
    }

    mutating func array(depth: Int) throws -> JSONValue {
        guard depth <= JSONValue.maxDepth else { throw failure("nested deeper than \(JSONValue.maxDepth) levels") }
        at += 1
        var items: [JSONValue] = []
        skipBlanks()
        if peek == UInt8(ascii: "]") { at += 1; return .array(items) }
        while true {
            skipBlanks()
            items.append(try value(depth: depth))
            skipBlanks()
            if peek == UInt8(ascii: ",") { at += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']' in an array")
            return .array(items)
        }
    }

    /// A string; `at` is on its opening quote.
    mutating func string() throws -> String {
        at += 1
        let start = at
        // The common case: no escapes, so the string is a span of the text.
        while at < bytes.count {
            let b = bytes[at]
            if b == UInt8(ascii: "\"") {
                let span = UnsafeBufferPointer(rebasing: bytes[start..<at])
                guard let s = String(validating: span, as: UTF8.self) else {
                    at = start
                    throw failure("a string is not valid UTF-8")
                }
                at += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            guard b >= 0x20 else { throw failure("a control character in a string (escape it)") }
            at += 1
        }
        var out = Array(bytes[start..<at])
        while at < bytes.count {
            let b = bytes[at]
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else {
                    at = start
                    throw failure("a string is not valid UTF-8")
                }
                at += 1
                return s
            case UInt8(ascii: "\\"):
                at += 1
                guard let e = peek else { break }
                at += 1
                if let b = JSONEscape.byte(for: e) { out.append(b); continue }
                switch e {
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard bytes.count - at >= 6, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                            throw failure("a \\u escape of a high surrogate without its low surrogate")
                        }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("a \\u escape of a high surrogate without its low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw failure("a \\u escape of a lone low surrogate")
                    }
                    out.append(contentsOf: Unicode.UTF8.encode(Unicode.Scalar(scalar)!)!)
                default:
                    at -= 2
                    throw failure("an unknown escape in a string")
                }
            default:
                guard b >= 0x20 else { throw failure("a control character in a string (escape it)") }
                out.append(b)
                at += 1
            }
        }
        throw failure("the text ends inside a string")
    }

    mutating func hex4() throws -> UInt32 {
        guard bytes.count - at >= 4 else { throw failure("a \\u escape needs four hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[at]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw failure("a \\u escape needs four hex digits")
            }
            v = v << 4 | UInt32(d)
            at += 1
        }
        return v
    }

    /// A number in JSON's grammar: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
    mutating func number() throws -> Double {
        let start = at
        func digits() -> Int {
            let from = at
            while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { at += 1 }
            return at - from
        }
        if peek == UInt8(ascii: "-") { at += 1 }
        if peek == UInt8(ascii: "0") {
            at += 1
        } else if digits() == 0 {
            throw failure("expected a digit")
        }
        if peek == UInt8(ascii: ".") {
            at += 1
            guard digits() > 0 else { throw failure("expected a digit after the decimal point") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            at += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { at += 1 }
            guard digits() > 0 else { throw failure("expected a digit in the exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else {
            at = start
            throw failure("the number \(text.prefix(40)) does not fit a Double")
        }
        return d
    }
}

extension JSONValue {
    /// The JSON text of this value, compact, as `JSONEncoder` with `.sortedKeys` and
    /// `.withoutEscapingSlashes` writes it: object keys in order, whole numbers without a fraction,
    /// other numbers in their shortest round-trip form, `"`, `\` and control characters escaped.
    /// Numbers must be finite.
    public var text: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let d):
            precondition(d.isFinite, "JSONValue.text: \(d) has no JSON form")
            if d == d.rounded(.towardZero), abs(d) < 9_007_199_254_740_992 {
                out.append(contentsOf: String(Int64(d)).utf8)
            } else {
                out.append(contentsOf: d.description.utf8)
            }
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                o[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), b])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), b])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
