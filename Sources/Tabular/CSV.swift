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
/// escapes, LF or CRLF line ends). Numbers are parsed exactly (correctly rounded): the Clinger fast
/// path for ordinary data, `strtod` otherwise. A file without double quotes in its body takes the
/// quote-free path: ranges of it are parsed on several threads straight from the bytes into the
/// result's columns, O(file size) time and no memory beyond the mapped file and the result.
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
        try read(numeric: numeric, text: text, strategy: .automatic)
    }

    /// How `read` parses the body: chosen from the file, or forced (tests compare the two paths).
    enum Strategy {
        /// The quote-free path for files without double quotes, the general path for files with
        /// quotes; both on ranges of at least 1 MiB, up to four per core.
        case automatic
        /// The general record-by-record path on `parts` ranges, quotes or not.
        case general(parts: Int)
        /// The quote-free path on `parts` ranges cut at line ends (the file must have no quotes).
        case quoteFree(parts: Int)
    }

    func read(numeric: [String], text: [String] = [], strategy: Strategy) throws -> CSVColumns {
        let numericIndex = try numeric.map(index(of:))
        let textIndex = try text.map(index(of:))
        // The quote-free path takes each column one way, once.
        let distinct = Set(numericIndex + textIndex).count == numericIndex.count + textIndex.count
        let parts: Int
        switch strategy {
        case .automatic where distinct:
            parts = automaticParts
        case .automatic:
            return try readGeneral(numeric: numeric, text: text, numericIndex: numericIndex, textIndex: textIndex, parts: automaticParts)
        case .general(let n):
            return try readGeneral(numeric: numeric, text: text, numericIndex: numericIndex, textIndex: textIndex, parts: n)
        case .quoteFree(let n):
            precondition(n >= 1 && distinct, "CSVFile.read: quoteFree(parts: \(n)) needs a part and distinct columns")
            parts = n
        }
        // Per range, in parallel: whether it has a double quote, and its line count.
        let ranges = splitAtLines(parts: parts)
        let survey = try perform(ranges.count) { k in
            self.bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                return (quote: memchr(base + ranges[k].lowerBound, Int32(UInt8(ascii: "\"")), ranges[k].count) != nil,
                        lines: CSVFile.lineBound(base, ranges[k]))
            }
        }
        if survey.contains(where: \.quote) {
            guard case .automatic = strategy else { preconditionFailure("CSVFile.read: quoteFree on a file with quotes") }
            return try readGeneral(numeric: numeric, text: text, numericIndex: numericIndex, textIndex: textIndex, parts: parts)
        }
        return try readQuoteFree(numeric: numeric, text: text, numericIndex: numericIndex, textIndex: textIndex,
                                 ranges: ranges, bounds: survey.map(\.lines))
    }

    /// Ranges of at least 1 MiB, a few per core so that a core slowed by other work is made up for.
    private var automaticParts: Int {
        Swift.max(1, Swift.min(4 * ProcessInfo.processInfo.activeProcessorCount, (bytes.count - bodyStart) >> 20))
    }

    /// The general path, record by record (`parseRecord`), quotes allowed, on `parts` ranges in
    /// parallel. The ranges are cut at line ends, and each is parsed as if a record started there;
    /// a quoted field can span lines, though, so a range's parse counts only where the record
    /// before it really ended: each range's last record is read to its end past the cut, and a
    /// range whose start that end does not match is parsed again from the right place (in order,
    /// after the others). Results and errors are those of one pass over the file.
    private func readGeneral(numeric: [String], text: [String], numericIndex: [Int], textIndex: [Int], parts: Int) throws -> CSVColumns {
        let ranges = splitAtLines(parts: parts)
        let guesses = try perform(ranges.count) { k in
            Result { try self.parse(from: ranges[k].lowerBound, to: ranges[k].upperBound, numericIndex: numericIndex, textIndex: textIndex) }
                .mapError { $0 as! CSVError }
        }
        var chunks: [Chunk] = []
        var next = bodyStart
        for (k, range) in ranges.enumerated() where next < range.upperBound {
            let (chunk, end) = next == range.lowerBound
                ? try guesses[k].get()
                : try parse(from: next, to: range.upperBound, numericIndex: numericIndex, textIndex: textIndex)
            chunks.append(chunk)
            next = end
        }
        var result = CSVColumns(file: path, rowCount: chunks.reduce(0) { $0 + $1.rows }, numeric: [:], text: [:])
        for (k, name) in numeric.enumerated() {
            result.numeric[name] = chunks.count == 1 ? chunks[0].numeric[k] : Array(chunks.map { $0.numeric[k] }.joined())
        }
        for (k, name) in text.enumerated() {
            result.text[name] = chunks.count == 1 ? chunks[0].text[k] : Array(chunks.map { $0.text[k] }.joined())
        }
        return result
    }

    struct Chunk: @unchecked Sendable {
        var rows = 0
        var numeric: [[Double]]
        var text: [[String]]
        /// The fields of the record being parsed (reused from record to record; spans point into
        /// the file's bytes while they are parsed, and are cleared before the chunk is returned).
        var fields: [Field] = []
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

    /// Runs `work(k)` for every `k` in `0..<count`, on several threads when `count > 1`, and returns
    /// the results in order, or throws the first error in that order.
    private func perform<T: Sendable>(_ count: Int, _ work: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let results = Slots<Result<T, CSVError>>(count: count)
        let run: @Sendable (Int) -> Void = { k in results.set(k, Result { try work(k) }.mapError { $0 as! CSVError }) }
        if count == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: count, execute: run) }
        return try results.values.map { try $0.get() }
    }

    /// The quote-free path: each range is parsed on its own thread straight from the bytes into the
    /// result's columns (no per-record or per-field allocation, no copy afterwards). Each range
    /// writes from the row where the line counts (`bounds`) of the ranges before it end, and the
    /// rows are closed up where blank lines left gaps. A record the path cannot take (a wrong number
    /// of fields, an invalid number) is handed to the general path, which throws its error.
    private func readQuoteFree(numeric: [String], text: [String], numericIndex: [Int], textIndex: [Int],
                               ranges: [Range<Int>], bounds: [Int]) throws -> CSVColumns {
        let offsets = bounds.reduce(into: [0]) { $0.append($0.last! + $1) }
        var chunks: [QuoteFreeChunk] = []
        let columns = try CSVFile.makeColumns(count: numeric.count, capacity: offsets.last!) { pointers in
            let out = ColumnPointers(pointers)
            chunks = try perform(ranges.count) { k in
                try self.parseQuoteFree(ranges[k], numericIndex: numericIndex, textIndex: textIndex,
                                        into: out.pointers.map { $0 + offsets[k] })
            }
            var rows = 0
            for (k, chunk) in chunks.enumerated() {
                if rows != offsets[k] {
                    for column in pointers { (column + rows).update(from: column + offsets[k], count: chunk.rows) }
                }
                rows += chunk.rows
            }
            return rows
        }
        var result = CSVColumns(file: path, rowCount: chunks.reduce(0) { $0 + $1.rows }, numeric: [:], text: [:])
        for (k, name) in numeric.enumerated() { result.numeric[name] = columns[k] }
        for (k, name) in text.enumerated() { result.text[name] = chunks.count == 1 ? chunks[0].text[k] : chunks.flatMap { $0.text[k] } }
        return result
    }

    /// Pointers into the columns being filled, handed to the threads that fill disjoint rows of them.
    struct ColumnPointers: @unchecked Sendable {
        let pointers: [UnsafeMutablePointer<Double>]
        init(_ pointers: [UnsafeMutablePointer<Double>]) { self.pointers = pointers }
    }

    /// Makes `count` arrays of room for `capacity` doubles, lets `body` fill the first n elements
    /// of each through pointers to their storage and return n, and returns the arrays. Up to
    /// `inPlaceLimit` arrays are filled in place (one nested closure each); more are filled in one
    /// temporary buffer and copied, to keep the stack shallow.
    static func makeColumns(count: Int, capacity: Int, inPlaceLimit: Int = 256,
                            _ body: ([UnsafeMutablePointer<Double>]) throws -> Int) throws -> [[Double]] {
        let capacity = Swift.max(1, capacity)
        if count > inPlaceLimit {
            let storage = UnsafeMutablePointer<Double>.allocate(capacity: count * capacity)
            defer { storage.deallocate() }
            let n = try body((0..<count).map { storage + $0 * capacity })
            return (0..<count).map { Array(UnsafeBufferPointer(start: storage + $0 * capacity, count: n)) }
        }
        var pointers: [UnsafeMutablePointer<Double>] = []
        var columns: [[Double]] = []
        var filled = 0
        func nest() throws {
            guard pointers.count < count else { filled = try body(pointers); return }
            let column = try [Double](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                pointers.append(buffer.baseAddress!)
                try nest()
                initialized = filled
            }
            columns.append(column)  // innermost (last) first
        }
        try nest()
        return columns.reversed()
    }

    /// One range's rows from the quote-free path: how many, and its text columns.
    struct QuoteFreeChunk: Sendable {
        var rows = 0
        var text: [[String]]
    }

    /// Parses a range with no double quotes in it. Numbers in the plain form
    /// `[+-]digits[.digits][(e|E)[+-]digits]` with at most 19 digits, a mantissa below 2⁵³ and a
    /// decimal exponent within ±22 are converted in place (the Clinger fast path of `parseDouble`,
    /// so the results are the same bit for bit); every other field goes through `parseDouble` on its
    /// span, as on the general path.
    /// - Parameter numericColumns: where to write the range's rows, one pointer per numeric column,
    ///   with room for `lineBound` of the range rows.
    private func parseQuoteFree(_ range: Range<Int>, numericIndex: [Int], textIndex: [Int],
                                into numericColumns: [UnsafeMutablePointer<Double>]) throws -> QuoteFreeChunk {
        let width = header.count
        // What to do with field i: -1 skip, k ≥ 0 numeric column k, -2 - k text column k.
        var action = [Int](repeating: -1, count: width)
        for (k, i) in numericIndex.enumerated() { action[i] = k }
        for (k, i) in textIndex.enumerated() { action[i] = -2 - k }
        var chunk = QuoteFreeChunk(text: Array(repeating: [], count: textIndex.count))
        try bytes.withUnsafeBytes { raw in
            let p = raw.bindMemory(to: UInt8.self)
            let base = p.baseAddress!
            let end = range.upperBound
            let fileEnd = p.count
            let comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
            var rows = 0
            try exactPowersOfTen.withUnsafeBufferPointer { powers in
                try action.withUnsafeBufferPointer { action in
                    var cursor = range.lowerBound
                    records: while cursor < end {
                        let recordStart = cursor
                        if base[cursor] == newline { cursor += 1; continue }
                        if base[cursor] == cr && cursor + 1 < end && base[cursor + 1] == newline { cursor += 2; continue }
                        fields: for i in 0..<width {
                            let a = action[i]
                            if a >= 0 {
                                // A number: the fast form, or parseDouble on the field.
                                var q = cursor
                                var negative = false
                                if q < end && (base[q] == UInt8(ascii: "-") || base[q] == UInt8(ascii: "+")) {
                                    negative = base[q] == UInt8(ascii: "-")
                                    q += 1
                                }
                                var mantissa: UInt64 = 0
                                var digits = CSVFile.digitRun(base, &q, end, fileEnd, &mantissa)
                                var exponent = 0
                                if q < end && base[q] == UInt8(ascii: ".") {
                                    q += 1
                                    let fraction = CSVFile.digitRun(base, &q, end, fileEnd, &mantissa)
                                    exponent = -fraction
                                    digits += fraction
                                }
                                var plain = digits > 0
                                if plain && q < end && base[q] | 0x20 == UInt8(ascii: "e") {
                                    q += 1
                                    var exponentNegative = false
                                    if q < end && (base[q] == UInt8(ascii: "-") || base[q] == UInt8(ascii: "+")) {
                                        exponentNegative = base[q] == UInt8(ascii: "-")
                                        q += 1
                                    }
                                    let exponentStart = q
                                    var e = 0
                                    while q < end, case let d = base[q] &- 48, d < 10 { e = e &* 10 &+ Int(d); q += 1 }
                                    plain = q > exponentStart && q - exponentStart <= 4
                                    exponent += exponentNegative ? -e : e
                                }
                                // The field must end here: a comma, a line end (LF, or CR before LF or the end) or the end.
                                if plain && q < end {
                                    let c = base[q]
                                    plain = c == comma || c == newline || (c == cr && (q + 1 == end || base[q + 1] == newline))
                                }
                                // At most 19 digits cannot overflow the mantissa, so below 2⁵³ it is exact, as in parseDouble.
                                if plain && digits <= 19 && mantissa < 1 << 53 && exponent >= -22 && exponent <= 22 {
                                    var v = Double(mantissa)
                                    v = exponent >= 0 ? v * powers[exponent] : v / powers[-exponent]
                                    numericColumns[a][rows] = negative ? -v : v
                                    cursor = q
                                } else {
                                    let (start, stop) = CSVFile.field(base, &cursor, end)
                                    guard let v = parseDouble(UnsafeBufferPointer(start: base + start, count: stop - start)), v.isFinite else {
                                        cursor = recordStart
                                        break fields
                                    }
                                    numericColumns[a][rows] = v
                                }
                            } else {
                                let (start, stop) = CSVFile.field(base, &cursor, end)
                                if a <= -2 {
                                    chunk.text[-2 - a].append(String(decoding: UnsafeBufferPointer(start: base + start, count: stop - start), as: UTF8.self))
                                }
                            }
                            // After the field: a comma before every field but the last, a line end or the end after it.
                            if i < width - 1 {
                                guard cursor < end && base[cursor] == comma else { cursor = recordStart; break fields }
                                cursor += 1
                            } else if cursor < end {
                                if base[cursor] == cr { cursor += 1 }  // a number stops before CR LF, or a CR at the end
                                if cursor < end {
                                    guard base[cursor] == newline else { cursor = recordStart; break fields }
                                    cursor += 1
                                }
                            }
                            if i == width - 1 {
                                rows += 1
                                continue records
                            }
                        }
                        // The record was not taken: the general path names what is wrong with it.
                        for k in chunk.text.indices where chunk.text[k].count > rows { chunk.text[k].removeLast() }
                        var general = Chunk(numeric: Array(repeating: [], count: numericIndex.count),
                                            text: Array(repeating: [], count: textIndex.count))
                        try parseRecord(p, &cursor, limit: end, Wanted(width: width, numericIndex: numericIndex, textIndex: textIndex),
                                        into: &general)
                        for k in numericColumns.indices { numericColumns[k][rows] = general.numeric[k][0] }
                        for k in chunk.text.indices { chunk.text[k].append(general.text[k][0]) }
                        rows += 1
                    }
                }
            }
            chunk.rows = rows
        }
        return chunk
    }

    /// Reads the decimal digits at `q` (stopping at `end`) into `mantissa` (`mantissa · 10ⁿ + digits`,
    /// wrapping on overflow: callers check the count), leaves `q` after them and returns their count
    /// n. Eight bytes at a time where the file has eight more bytes (SWAR, as in Lemire's
    /// fast_float); a digit run never crosses `end`, which follows a line feed or is the file's end.
    @inline(__always)
    static func digitRun(_ base: UnsafePointer<UInt8>, _ q: inout Int, _ end: Int, _ fileEnd: Int,
                         _ mantissa: inout UInt64) -> Int {
        let start = q
        while q + 8 <= fileEnd {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + q).loadUnaligned(as: UInt64.self))
            let nonDigits = ((word &+ 0x4646_4646_4646_4646) | (word &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080
            if nonDigits == 0 {
                mantissa = mantissa &* 100_000_000 &+ eightDigits(word)
                q += 8
                continue
            }
            let n = nonDigits.trailingZeroBitCount >> 3
            if n > 0 {
                mantissa = mantissa &* powersOfTen[n] &+ eightDigits((word &- 0x3030_3030_3030_3030) << UInt64(64 - 8 * n))
                q += n
            }
            return q - start
        }
        while q < end, case let d = base[q] &- 48, d < 10 {
            mantissa = mantissa &* 10 &+ UInt64(d)
            q += 1
        }
        return q - start
    }

    /// The number written by eight digit bytes (first digit in the lowest byte; ASCII digits or
    /// their values 0–9).
    @inline(__always)
    static func eightDigits(_ word: UInt64) -> UInt64 {
        var v = word & 0x0F0F_0F0F_0F0F_0F0F
        v = (v &* 2561) >> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        return ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
    }

    /// 10⁰ … 10⁸.
    static let powersOfTen: [UInt64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]

    /// An upper bound on the records in `range`: its line feeds, plus one for a last line without one
    /// (exact when there are no blank lines, so that ranges' rows need no closing up).
    static func lineBound(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) -> Int {
        var count = range.isEmpty || base[range.upperBound - 1] == UInt8(ascii: "\n") ? 0 : 1
        var at = base + range.lowerBound
        let stop = base + range.upperBound
        while at < stop, let hit = memchr(at, Int32(UInt8(ascii: "\n")), stop - at) {
            count += 1
            at = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) + 1
        }
        return count
    }

    /// Skips an unquoted field starting at `cursor`, leaving `cursor` at the comma, line feed or end
    /// after it, and returns its span: a CR just before a line feed or the end is not part of it.
    @inline(__always)
    static func field(_ base: UnsafePointer<UInt8>, _ cursor: inout Int, _ end: Int) -> (Int, Int) {
        let start = cursor
        while cursor < end && base[cursor] != UInt8(ascii: ",") && base[cursor] != UInt8(ascii: "\n") { cursor += 1 }
        var stop = cursor
        if stop > start && base[stop - 1] == UInt8(ascii: "\r") && (cursor >= end || base[cursor] == UInt8(ascii: "\n")) { stop -= 1 }
        return (start, stop)
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

    /// The general path: the records starting in `start..<stop`, record by record through
    /// `parseRecord`, the last of them read to its end however far past `stop` it goes.
    /// - Returns: the records' wanted fields, and where the next record starts.
    private func parse(from start: Int, to stop: Int, numericIndex: [Int], textIndex: [Int]) throws -> (Chunk, Int) {
        var chunk = Chunk(numeric: Array(repeating: [], count: numericIndex.count), text: Array(repeating: [], count: textIndex.count))
        let wanted = Wanted(width: header.count, numericIndex: numericIndex, textIndex: textIndex)
        let estimate = (stop - start) / Swift.max(8, header.count * 4)
        for k in chunk.numeric.indices { chunk.numeric[k].reserveCapacity(estimate) }
        let end = bytes.count
        let next = try bytes.withUnsafeBytes { raw in
            let p = raw.bindMemory(to: UInt8.self)
            var cursor = start
            while cursor < stop {
                // A blank line (or the final newline) ends nothing: skip it.
                if p[cursor] == UInt8(ascii: "\n") { cursor += 1; continue }
                if p[cursor] == UInt8(ascii: "\r") && cursor + 1 < end && p[cursor + 1] == UInt8(ascii: "\n") { cursor += 2; continue }
                try parseRecord(p, &cursor, limit: end, wanted, into: &chunk)
            }
            return cursor
        }
        chunk.fields = []
        return (chunk, next)
    }

    /// Where each field of a record goes: `numeric[i]`/`text[i]` is the column index in the
    /// request, or -1 for a field not asked for that way.
    struct Wanted {
        var numeric: [Int]
        var text: [Int]

        init(width: Int, numericIndex: [Int], textIndex: [Int]) {
            numeric = [Int](repeating: -1, count: width)
            text = [Int](repeating: -1, count: width)
            for (k, i) in numericIndex.enumerated() { numeric[i] = k }
            for (k, i) in textIndex.enumerated() { text[i] = k }
        }
    }

    /// Parses the record (not a blank line) at `cursor` and appends its wanted fields to `chunk`,
    /// leaving `cursor` after its line end.
    /// - Throws: `CSVError` naming the line (and column and value) for a wrong number of fields or
    ///   a value that is not a finite number.
    private func parseRecord(_ p: UnsafeBufferPointer<UInt8>, _ cursor: inout Int, limit: Int, _ wanted: Wanted,
                             into chunk: inout Chunk) throws {
        let recordStart = cursor
        do {
            try CSVFile.parseRecord(p, &cursor, limit: limit, file: path, line: nil, into: &chunk.fields)
        } catch var error as CSVError where error.line == nil {
            // Quote errors are found while splitting the record; the record's line is known here.
            error.line = lineNumber(at: recordStart)
            throw error
        }
        func fail(_ column: String?, _ value: String?, _ message: String) -> CSVError {
            CSVError(file: path, line: lineNumber(at: recordStart), column: column, value: value, message: message)
        }
        guard chunk.fields.count == header.count else {
            throw fail(nil, nil, "expected \(header.count) fields as in the header, found \(chunk.fields.count)")
        }
        for (i, field) in chunk.fields.enumerated() {
            if wanted.numeric[i] >= 0 {
                guard let v = field.withBytes(parseDouble), v.isFinite else {
                    let text = field.string
                    throw fail(header[i], text, text.isEmpty ? "missing value; expected a number" : "not a finite number")
                }
                chunk.numeric[wanted.numeric[i]].append(v)
            }
            if wanted.text[i] >= 0 {
                chunk.text[wanted.text[i]].append(field.string)
            }
        }
        chunk.rows += 1
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
        var fields: [Field] = []
        try parseRecord(p, &cursor, limit: limit, file: file, line: line, into: &fields)
        return fields
    }

    /// `parseRecord`, into `fields` (emptied first, its storage kept). A quoted field without a
    /// doubled quote is a span of the file; one with a doubled quote an unescaped copy.
    static func parseRecord(_ p: UnsafeBufferPointer<UInt8>, _ cursor: inout Int, limit: Int? = nil,
                            file: String, line: Int?, into fields: inout [Field]) throws {
        let end = limit ?? p.count
        fields.removeAll(keepingCapacity: true)
        while true {
            if cursor < end && p[cursor] == UInt8(ascii: "\"") {
                cursor += 1
                let start = cursor
                var value: [UInt8]? = nil
                while true {
                    guard cursor < end else {
                        throw CSVError(file: file, line: line, message: "a quoted field is not closed before the end of the file")
                    }
                    let c = p[cursor]
                    if c == UInt8(ascii: "\"") {
                        if cursor + 1 < end && p[cursor + 1] == UInt8(ascii: "\"") {
                            if value == nil { value = Array(p[start..<cursor]) }
                            value!.append(c)
                            cursor += 2
                            continue
                        }
                        break
                    }
                    value?.append(c)
                    cursor += 1
                }
                fields.append(value.map(Field.unescaped) ?? .span(UnsafeBufferPointer(rebasing: p[start..<cursor])))
                cursor += 1
            } else {
                let start = cursor
                while cursor < end && p[cursor] != UInt8(ascii: ",") && p[cursor] != UInt8(ascii: "\n") { cursor += 1 }
                var stop = cursor
                if stop > start && p[stop - 1] == UInt8(ascii: "\r") && (cursor >= end || p[cursor] == UInt8(ascii: "\n")) { stop -= 1 }
                fields.append(.span(UnsafeBufferPointer(rebasing: p[start..<stop])))
            }
            if cursor >= end { return }
            let c = p[cursor]
            cursor += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "\n") { return }
            if c == UInt8(ascii: "\r") {
                if cursor < end && p[cursor] == UInt8(ascii: "\n") { cursor += 1 }
                return
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
