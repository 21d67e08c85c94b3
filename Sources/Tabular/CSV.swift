import Dispatch
import Foundation

/// A problem with a CSV file, naming the file, line (1-based, the header is line 1), column and
/// the offending value, and saying what would be right.
public struct CSVError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var column: String?
    public var value: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: String? = nil, value: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.value = value
        self.message = message
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ", column '\(column)'" }
        if let value { place += ", value '\(value)'" }
        return "\(place): \(message)"
    }
}

/// Columns read from a CSV file: numeric ones as `[Double]`, text ones as `[String]`.
public struct CSVColumns: Sendable {
    /// The file the columns came from.
    public let file: String
    /// Number of data rows (the header excluded).
    public let rowCount: Int
    /// Numeric columns by name.
    public var numeric: [String: [Double]]
    /// Text columns by name.
    public var text: [String: [String]]

    /// The numeric column `name` (it was requested, or this is a programming error).
    public func number(_ name: String) -> [Double] {
        guard let c = numeric[name] else { preconditionFailure("CSVColumns: numeric column '\(name)' was not read") }
        return c
    }

    /// The text column `name` (it was requested, or this is a programming error).
    public func string(_ name: String) -> [String] {
        guard let c = text[name] else { preconditionFailure("CSVColumns: text column '\(name)' was not read") }
        return c
    }
}

/// A CSV file with a header row (RFC 4180: comma-separated, optional double quotes with `""`
/// escapes, LF or CRLF line ends). Numbers are parsed with an exact fast path and `strtod`
/// otherwise; quote-free files are parsed on several threads.
///
/// ```swift
/// let csv = try CSVFile(path: "outcomes.csv")
/// let cols = try csv.read(numeric: ["paid_7d", "amount"], text: ["channel"])
/// ```
public struct CSVFile: Sendable {
    /// The path as given.
    public let path: String
    /// Column names from the header row.
    public let header: [String]
    let bytes: Data
    let bodyStart: Int

    /// Opens and memory-maps `path` and reads its header.
    /// - Throws: `CSVError` when the file cannot be read, is empty, or has a malformed or duplicate header.
    public init(path: String) throws {
        self.path = path
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw CSVError(file: path, message: "cannot read the file (\(error.localizedDescription))")
        }
        guard !bytes.isEmpty else { throw CSVError(file: path, line: 1, message: "the file is empty; expected a header row") }
        var fields: [String] = []
        var end = 0
        try bytes.withUnsafeBytes { raw in
            let p = raw.bindMemory(to: UInt8.self)
            var cursor = 0
            fields = try CSVFile.parseRecord(p, &cursor, file: path, line: 1).map(\.string)
            end = cursor
        }
        if let first = fields.first, first.hasPrefix("\u{FEFF}") { fields[0] = String(first.dropFirst()) }
        fields = fields.map { $0.trimmingCharacters(in: .whitespaces) }
        for (i, name) in fields.enumerated() {
            if name.isEmpty { throw CSVError(file: path, line: 1, message: "header column \(i + 1) has no name") }
            if fields[..<i].contains(name) { throw CSVError(file: path, line: 1, column: name, message: "duplicate column name in the header") }
        }
        header = fields
        bodyStart = end
    }

    /// The position of column `name`.
    /// - Throws: `CSVError` listing the columns that exist.
    public func index(of name: String) throws -> Int {
        guard let i = header.firstIndex(of: name) else {
            throw CSVError(file: path, line: 1, column: name,
                           message: "no such column; the header has: \(header.joined(separator: ", "))")
        }
        return i
    }

    /// Reads the named columns; every value of a numeric column must be a finite number.
    /// - Throws: `CSVError` for a missing column, a row with the wrong number of fields, an empty
    ///   or unparsable number, naming the line, column and value.
    public func read(numeric: [String], text: [String] = []) throws -> CSVColumns {
        let numericIndex = try numeric.map(index(of:))
        let textIndex = try text.map(index(of:))
        let hasQuotes = bytes.withUnsafeBytes { raw in
            memchr(raw.baseAddress! + bodyStart, Int32(UInt8(ascii: "\"")), raw.count - bodyStart) != nil
        }
        let ranges = hasQuotes || bytes.count - bodyStart < 1 << 20 ? [bodyStart..<bytes.count] : splitAtLines(parts: ProcessInfo.processInfo.activeProcessorCount)
        let chunks = try parseChunks(ranges, numericIndex: numericIndex, textIndex: textIndex)
        var result = CSVColumns(file: path, rowCount: chunks.reduce(0) { $0 + $1.rows }, numeric: [:], text: [:])
        for (k, name) in numeric.enumerated() {
            var column = [Double]()
            column.reserveCapacity(result.rowCount)
            for chunk in chunks { column.append(contentsOf: chunk.numeric[k]) }
            result.numeric[name] = column
        }
        for (k, name) in text.enumerated() {
            result.text[name] = chunks.flatMap { $0.text[k] }
        }
        return result
    }

    struct Chunk: Sendable {
        var rows = 0
        var numeric: [[Double]]
        var text: [[String]]
    }

    private func splitAtLines(parts: Int) -> [Range<Int>] {
        let parts = Swift.max(1, parts)
        var bounds = [bodyStart]
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for k in 1..<parts {
                var cut = bodyStart + (bytes.count - bodyStart) * k / parts
                cut = Swift.max(cut, bounds.last!)
                while cut < bytes.count && base[cut - 1] != UInt8(ascii: "\n") { cut += 1 }
                bounds.append(cut)
            }
        }
        bounds.append(bytes.count)
        return zip(bounds, bounds.dropFirst()).map { $0..<$1 }.filter { !$0.isEmpty }
    }

    private func parseChunks(_ ranges: [Range<Int>], numericIndex: [Int], textIndex: [Int]) throws -> [Chunk] {
        let results = Slots<Result<Chunk, CSVError>>(count: ranges.count)
        let work: @Sendable (Int) -> Void = { k in
            results.set(k, Result { try self.parse(ranges[k], numericIndex: numericIndex, textIndex: textIndex) }
                .mapError { $0 as! CSVError })
        }
        if ranges.count == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: ranges.count, execute: work) }
        return try results.values.map { try $0.get() }
    }

    /// The 1-based line on which data row `row` (0-based, in the order `read` returns rows) starts,
    /// counting blank lines and line breaks inside quoted fields. O(file size); meant for error
    /// messages about a row found invalid after reading.
    public func line(ofRow row: Int) -> Int {
        precondition(row >= 0, "CSVFile.line(ofRow:): negative row \(row)")
        var start = bodyStart
        bytes.withUnsafeBytes { raw in
            let p = raw.bindMemory(to: UInt8.self)
            var cursor = bodyStart
            var k = 0
            while cursor < p.count {
                if p[cursor] == UInt8(ascii: "\n") { cursor += 1; continue }
                if p[cursor] == UInt8(ascii: "\r") && cursor + 1 < p.count && p[cursor + 1] == UInt8(ascii: "\n") { cursor += 2; continue }
                if k == row { start = cursor; return }
                guard (try? CSVFile.parseRecord(p, &cursor, file: path, line: nil)) != nil else { start = cursor; return }
                k += 1
            }
            start = cursor
        }
        return lineNumber(at: start)
    }

    /// 1-based line number of byte `offset`.
    private func lineNumber(at offset: Int) -> Int {
        bytes.withUnsafeBytes { raw in
            var n = 1
            let p = raw.bindMemory(to: UInt8.self)
            for i in 0..<offset where p[i] == UInt8(ascii: "\n") { n += 1 }
            return n
        }
    }

    private func parse(_ range: Range<Int>, numericIndex: [Int], textIndex: [Int]) throws -> Chunk {
        var chunk = Chunk(numeric: Array(repeating: [], count: numericIndex.count), text: Array(repeating: [], count: textIndex.count))
        let width = header.count
        var wantedNumeric = [Int](repeating: -1, count: width)
        var wantedText = [Int](repeating: -1, count: width)
        for (k, i) in numericIndex.enumerated() { wantedNumeric[i] = k }
        for (k, i) in textIndex.enumerated() { wantedText[i] = k }
        let estimate = range.count / Swift.max(8, width * 4)
        for k in chunk.numeric.indices { chunk.numeric[k].reserveCapacity(estimate) }
        try bytes.withUnsafeBytes { raw in
            let p = raw.bindMemory(to: UInt8.self)
            var cursor = range.lowerBound
            var lineAtCursor: Int? = nil  // computed only when an error needs it
            while cursor < range.upperBound {
                let recordStart = cursor
                // A blank line (or the final newline) ends nothing: skip it.
                if p[cursor] == UInt8(ascii: "\n") { cursor += 1; continue }
                if p[cursor] == UInt8(ascii: "\r") && cursor + 1 < range.upperBound && p[cursor + 1] == UInt8(ascii: "\n") { cursor += 2; continue }
                let fields = try CSVFile.parseRecord(p, &cursor, limit: range.upperBound, file: path, line: nil)
                func fail(_ column: String?, _ value: String?, _ message: String) -> CSVError {
                    let line = lineAtCursor ?? lineNumber(at: recordStart)
                    lineAtCursor = nil
                    return CSVError(file: path, line: line, column: column, value: value, message: message)
                }
                guard fields.count == width else {
                    throw fail(nil, nil, "expected \(width) fields as in the header, found \(fields.count)")
                }
                for (i, field) in fields.enumerated() {
                    if wantedNumeric[i] >= 0 {
                        guard let v = field.withBytes(parseDouble), v.isFinite else {
                            let text = field.string
                            throw fail(header[i], text, text.isEmpty ? "missing value; expected a number" : "not a finite number")
                        }
                        chunk.numeric[wantedNumeric[i]].append(v)
                    }
                    if wantedText[i] >= 0 {
                        chunk.text[wantedText[i]].append(field.string)
                    }
                }
                chunk.rows += 1
            }
        }
        return chunk
    }

    /// One field of a record: a span of the file, or an unescaped copy of a quoted field.
    enum Field {
        case span(UnsafeBufferPointer<UInt8>)
        case unescaped([UInt8])

        func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            switch self {
            case .span(let b): return body(b)
            case .unescaped(let a): return a.withUnsafeBufferPointer(body)
            }
        }

        var string: String { withBytes { String(decoding: $0, as: UTF8.self) } }
    }

    /// Parses one record starting at `cursor`, leaving `cursor` after its line end. Quoted fields
    /// have their quotes removed and `""` unescaped.
    static func parseRecord(_ p: UnsafeBufferPointer<UInt8>, _ cursor: inout Int, limit: Int? = nil,
                            file: String, line: Int?) throws -> [Field] {
        let end = limit ?? p.count
        var fields: [Field] = []
        fields.reserveCapacity(16)
        while true {
            if cursor < end && p[cursor] == UInt8(ascii: "\"") {
                var value: [UInt8] = []
                cursor += 1
                while true {
                    guard cursor < end else {
                        throw CSVError(file: file, line: line, message: "a quoted field is not closed before the end of the file")
                    }
                    let c = p[cursor]
                    if c == UInt8(ascii: "\"") {
                        if cursor + 1 < end && p[cursor + 1] == UInt8(ascii: "\"") { value.append(c); cursor += 2; continue }
                        cursor += 1
                        break
                    }
                    value.append(c)
                    cursor += 1
                }
                fields.append(.unescaped(value))
            } else {
                let start = cursor
                while cursor < end && p[cursor] != UInt8(ascii: ",") && p[cursor] != UInt8(ascii: "\n") { cursor += 1 }
                var stop = cursor
                if stop > start && p[stop - 1] == UInt8(ascii: "\r") && (cursor >= end || p[cursor] == UInt8(ascii: "\n")) { stop -= 1 }
                fields.append(.span(UnsafeBufferPointer(rebasing: p[start..<stop])))
            }
            if cursor >= end { return fields }
            let c = p[cursor]
            cursor += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "\n") { return fields }
            if c == UInt8(ascii: "\r") {
                if cursor < end && p[cursor] == UInt8(ascii: "\n") { cursor += 1 }
                return fields
            }
            throw CSVError(file: file, line: line, message: "unexpected character after a closing quote")
        }
    }
}

/// Per-worker result slots; each worker writes only its own slot.
final class Slots<T: Sendable>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<T?>
    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }
    deinit {
        slots.baseAddress!.deinitialize(count: slots.count)
        slots.deallocate()
    }
    func set(_ index: Int, _ value: T) { slots[index] = value }
    var values: [T] { slots.map { $0! } }
}

private let exactPowersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

/// Parses a decimal number (`[+-]digits[.digits][(e|E)[+-]digits]`, surrounding spaces allowed).
/// Exact (correctly rounded) on every input: the Clinger fast path covers ordinary data, `strtod`
/// the rest. Returns nil for anything that is not a number.
public func parseDouble(_ s: UnsafeBufferPointer<UInt8>) -> Double? {
    var i = 0, n = s.count
    while i < n && s[i] == UInt8(ascii: " ") { i += 1 }
    while n > i && s[n - 1] == UInt8(ascii: " ") { n -= 1 }
    guard i < n else { return nil }
    let start = i
    var negative = false
    if s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") { negative = s[i] == UInt8(ascii: "-"); i += 1 }
    var mantissa: UInt64 = 0
    var digits = 0, exponent = 0, sawDigit = false
    while i < n, case let d = s[i] &- 48, d < 10 {
        if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(d); if mantissa > 0 { digits += 1 } } else { exponent += 1 }
        sawDigit = true
        i += 1
    }
    if i < n && s[i] == UInt8(ascii: ".") {
        i += 1
        while i < n, case let d = s[i] &- 48, d < 10 {
            if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(d); if mantissa > 0 { digits += 1 }; exponent -= 1 }
            sawDigit = true
            i += 1
        }
    }
    guard sawDigit else { return strtodFallback(s, start, n) }
    if i < n && (s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E")) {
        i += 1
        var expNegative = false
        if i < n && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) { expNegative = s[i] == UInt8(ascii: "-"); i += 1 }
        var e = 0, expDigits = 0
        while i < n, case let d = s[i] &- 48, d < 10 { if e < 100_000 { e = e * 10 + Int(d) }; expDigits += 1; i += 1 }
        guard expDigits > 0 else { return nil }
        exponent += expNegative ? -e : e
    }
    guard i == n else { return nil }
    if digits < 19 && mantissa < (1 << 53) && exponent >= -22 && exponent <= 22 {
        var v = Double(mantissa)
        v = exponent >= 0 ? v * exactPowersOfTen[exponent] : v / exactPowersOfTen[-exponent]
        return negative ? -v : v
    }
    if mantissa == 0 { return negative ? -0.0 : 0.0 }
    return strtodFallback(s, start, n)
}

private func strtodFallback(_ s: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
    let length = end - start
    guard length > 0 && length < 512 else { return nil }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buf in
        for k in 0..<length { buf[k] = CChar(bitPattern: s[start + k]) }
        buf[length] = 0
        var endPtr: UnsafeMutablePointer<CChar>? = nil
        let v = strtod(buf.baseAddress!, &endPtr)
        guard let endPtr, endPtr == buf.baseAddress! + length else { return nil }
        return v
    }
}

/// Parses a decimal number from a string (see `parseDouble(_:)` on bytes).
public func parseDouble(_ s: String) -> Double? {
    var s = s
    return s.withUTF8 { parseDouble($0) }
}
