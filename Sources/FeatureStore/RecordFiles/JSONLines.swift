import Dispatch
import Foundation
import Tabular

/// A reader of JSON Lines record files (one JSON object per line, blank lines allowed) straight
/// into rows of a `StoreTable`: keys are matched against the columns' `jsonKey`s as bytes, values
/// parsed from the file's bytes by `ColumnType.parse`, so a line costs no allocation beyond its row
/// (and strings too long to be stored inline). A key of `StoreColumn.group` holds a nested object
/// whose keys are that group's fields. Files of 1 MiB and more are split at line ends and read on
/// all cores. Errors name the file, line and, where known, the key and value; when several parts
/// fail, the first failing line of the file is reported.
struct JSONLinesReader {
    let table: StoreTable
    let path: String

    /// The rows in file order and the 1-based line each came from.
    func read() throws -> (rows: [[Value]], lines: [Int]) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw CSVError(file: path, message: "cannot read the file (\(error.localizedDescription))")
        }
        let layout = KeyLayout(table)
        let count = data.count
        let parts = count < 1 << 20 ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        // Split at line ends; each part knows the line it starts on.
        let (bounds, firstLines) = data.withUnsafeBytes { raw -> ([Int], [Int]) in
            let p = raw.bindMemory(to: UInt8.self)
            var bounds = [0]
            for k in 1..<parts {
                var cut = max(count * k / parts, bounds[k - 1])
                while cut < count && p[cut - 1] != UInt8(ascii: "\n") { cut += 1 }
                bounds.append(cut)
            }
            bounds.append(count)
            var firstLines = [1]
            for k in 1..<parts { firstLines.append(firstLines[k - 1] + newlines(p, bounds[k - 1]..<bounds[k])) }
            return (bounds, firstLines)
        }
        let results = PartResults(parts)
        let path = self.path
        let work: @Sendable (Int) -> Void = { k in
            data.withUnsafeBytes { raw in
                var part = PartReader(p: raw.bindMemory(to: UInt8.self), layout: layout, file: path, line: firstLines[k])
                results.set(k, Result { try part.read(bounds[k]..<bounds[k + 1]) })
            }
        }
        if parts == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: work) }
        if parts == 1 { return try results.get(0) }
        var rows: [[Value]] = []
        var lines: [Int] = []
        for k in 0..<parts {
            let (r, l) = try results.get(k)
            rows += r
            lines += l
        }
        return (rows, lines)
    }

    private func newlines(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        var n = 0
        for i in range where p[i] == UInt8(ascii: "\n") { n += 1 }
        return n
    }

    /// One result slot per part, written by the part's worker.
    private final class PartResults: @unchecked Sendable {
        private var slots: [Result<([[Value]], [Int]), any Error>?]
        private let lock = NSLock()
        init(_ n: Int) { slots = Array(repeating: nil, count: n) }
        func set(_ k: Int, _ r: Result<([[Value]], [Int]), any Error>) { lock.lock(); slots[k] = r; lock.unlock() }
        func get(_ k: Int) throws -> ([[Value]], [Int]) { lock.lock(); defer { lock.unlock() }; return try slots[k]!.get() }
    }

    /// The table's keys as bytes: the top-level keys (plain columns, `group.field` spellings and
    /// group names) and each group's fields.
    struct KeyLayout: Sendable {
        let table: StoreTable
        /// Top-level keys: the key's bytes and what it names.
        let top: [(key: [UInt8], target: Target)]
        /// Per group (index into `groupNames`): the fields' bytes and their columns.
        let members: [[(key: [UInt8], column: Int)]]
        let groupNames: [String]

        enum Target: Sendable { case column(Int), group(Int) }

        init(_ table: StoreTable) {
            self.table = table
            var groupNames: [String] = []
            for c in table.columns { if let g = c.group, !groupNames.contains(g) { groupNames.append(g) } }
            var top: [(key: [UInt8], target: Target)] = table.columns.enumerated().map { (Array($0.element.jsonKey.utf8), .column($0.offset)) }
            top += groupNames.enumerated().map { (Array($0.element.utf8), .group($0.offset)) }
            self.top = top
            members = groupNames.map { g in
                table.columns.enumerated().filter { $0.element.group == g }.map { (Array($0.element.name.utf8), $0.offset) }
            }
            self.groupNames = groupNames
        }

        func unknownKey(_ key: String, file: String, line: Int) -> CSVError {
            CSVError(file: file, line: line, column: key,
                     message: "unknown key; \(table.file) has: \(table.columns.map(\.jsonKey).joined(separator: ", "))")
        }
    }

    /// Where a column's value of the current line is: absent, JSON null, bytes of the file, or
    /// bytes unescaped into `PartReader.unescaped`.
    enum Slot { case absent, null, file(Int, Int), unescaped(Int) }

    /// Reads the lines of one part of the file.
    struct PartReader {
        let p: UnsafeBufferPointer<UInt8>
        let layout: KeyLayout
        let file: String
        var line: Int
        var i = 0
        var end = 0
        var slots: [Slot]
        var unescaped: [[UInt8]] = []
        var unknown: String? = nil
        /// The key being read (its group, if nested), named in errors.
        var key: (group: Int?, slot: Slot) = (nil, .absent)

        init(p: UnsafeBufferPointer<UInt8>, layout: KeyLayout, file: String, line: Int) {
            self.p = p
            self.layout = layout
            self.file = file
            self.line = line
            slots = Array(repeating: .absent, count: layout.table.columns.count)
        }

        mutating func read(_ range: Range<Int>) throws -> ([[Value]], [Int]) {
            var rows: [[Value]] = []
            var lines: [Int] = []
            var cursor = range.lowerBound
            while cursor < range.upperBound {
                end = cursor
                while end < range.upperBound && p[end] != UInt8(ascii: "\n") { end += 1 }
                i = cursor
                skipSpace()
                if i < end {
                    for k in slots.indices { slots[k] = .absent }
                    unescaped.removeAll(keepingCapacity: true)
                    unknown = nil
                    try object(group: nil)
                    skipSpace()
                    guard i == end else { throw fail("unexpected text after the object") }
                    if let unknown { throw layout.unknownKey(unknown, file: file, line: line) }
                    rows.append(try row())
                    lines.append(line)
                }
                cursor = end + 1
                line += 1
            }
            return (rows, lines)
        }

        /// The row of the current line's values, checked as `RecordFiles.parse` checks them.
        func row() throws -> [Value] {
            let table = layout.table
            var row: [Value] = []
            row.reserveCapacity(table.columns.count)
            for (k, column) in table.columns.enumerated() {
                let value: Value
                switch slots[k] {
                case .absent:
                    guard column.optional else {
                        throw CSVError(file: file, line: line, column: column.jsonKey, message: "required key is missing")
                    }
                    value = .null
                case .null:
                    value = try RecordFiles.parse(UnsafeBufferPointer(start: nil, count: 0), column, file: file, line: line)
                case .file(let start, let count):
                    value = try RecordFiles.parse(UnsafeBufferPointer(rebasing: p[start..<start + count]), column, file: file, line: line)
                case .unescaped(let u):
                    value = try unescaped[u].withUnsafeBufferPointer { try RecordFiles.parse($0, column, file: file, line: line) }
                }
                row.append(value)
            }
            return row
        }

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

        func equal(_ key: [UInt8], _ slot: Slot) -> Bool {
            switch slot {
            case .file(let start, let count):
                return key.count == count && key.withUnsafeBufferPointer { k in memcmp(k.baseAddress!, p.baseAddress! + start, count) == 0 }
            case .unescaped(let u): return key == unescaped[u]
            case .absent, .null: return false
            }
        }

        /// The key being read as errors name it: `group.field` for a nested field.
        func keyName() -> String {
            (key.group.map { layout.groupNames[$0] + "." } ?? "") + text(key.slot)
        }

        func text(_ slot: Slot) -> String {
            switch slot {
            case .file(let start, let count): return String(decoding: UnsafeBufferPointer(rebasing: p[start..<start + count]), as: UTF8.self)
            case .unescaped(let u): return String(decoding: unescaped[u], as: UTF8.self)
            case .absent, .null: return ""
            }
        }

        /// Reads an object: the line's object (`group` nil) or the nested object of a group.
        mutating func object(group: Int?) throws {
            try expect(UInt8(ascii: "{"))
            skipSpace()
            if i < end && p[i] == UInt8(ascii: "}") { i += 1; return }
            while true {
                skipSpace()
                guard i < end, p[i] == UInt8(ascii: "\"") else { throw fail("expected a key in double quotes") }
                let keySlot = try string()
                var target: KeyLayout.Target? = nil
                if let group {
                    if let m = layout.members[group].first(where: { equal($0.key, keySlot) }) { target = .column(m.column) }
                } else if let t = layout.top.first(where: { equal($0.key, keySlot) }) {
                    target = t.target
                }
                key = (group, keySlot)
                try expect(UInt8(ascii: ":"))
                skipSpace()
                switch target {
                case .group(let g):
                    guard i < end, p[i] == UInt8(ascii: "{") else { throw fail("expected an object", key: keyName()) }
                    try object(group: g)
                    key = (group, keySlot)
                case .column(let c):
                    slots[c] = try value()
                case nil:
                    _ = try value()
                    if unknown == nil { unknown = keyName() }
                }
                skipSpace()
                guard i < end else { throw fail("the object is not closed", key: keyName()) }
                if p[i] == UInt8(ascii: ",") { i += 1; continue }
                if p[i] == UInt8(ascii: "}") { i += 1; return }
                throw fail("expected ',' or '}'", key: keyName())
            }
        }

        /// A value: a string (unescaped), `null`, or the literal text of anything else (a number,
        /// `true`/`false`, a nested object or array).
        mutating func value() throws -> Slot {
            guard i < end else { throw fail("missing value", key: keyName()) }
            switch p[i] {
            case UInt8(ascii: "\""): return try string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let start = i
                try skipNested()
                return .file(start, i - start)
            default:
                let start = i
                while i < end, p[i] != UInt8(ascii: ","), p[i] != UInt8(ascii: "}"), p[i] != 0x20, p[i] != 0x09, p[i] != 0x0D { i += 1 }
                let count = i - start
                if count == 4 && p[start] == UInt8(ascii: "n") && p[start + 1] == UInt8(ascii: "u")
                    && p[start + 2] == UInt8(ascii: "l") && p[start + 3] == UInt8(ascii: "l") { return .null }
                guard count > 0 else { throw fail("missing value", key: keyName()) }
                return .file(start, count)
            }
        }

        mutating func skipNested() throws {
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
            throw fail("a nested value is not closed", key: keyName())
        }

        /// Reads a string starting at the opening quote: its bytes in the file when it has no
        /// escapes, else unescaped into `unescaped`.
        mutating func string() throws -> Slot {
            i += 1
            let start = i
            while i < end, p[i] != UInt8(ascii: "\""), p[i] != UInt8(ascii: "\\") { i += 1 }
            if i < end && p[i] == UInt8(ascii: "\"") {
                i += 1
                return .file(start, i - 1 - start)
            }
            var bytes = Array(p[start..<i])
            while i < end {
                let c = p[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    unescaped.append(bytes)
                    return .unescaped(unescaped.count - 1)
                }
                if c != UInt8(ascii: "\\") { bytes.append(c); i += 1; continue }
                guard i + 1 < end else { break }
                let e = p[i + 1]
                i += 2
                if let b = JSONEscape.byte(for: e) { bytes.append(b); continue }
                switch e {
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

/// `values` as a JSON array of strings (`["a","b"]`), e.g. for a query parameter that SQL expands
/// with `json_each` (SQLite) or `jsonb_array_elements_text` (PostgreSQL).
public func jsonStringArray(_ values: [String]) -> String {
    "[" + values.map(jsonQuoted).joined(separator: ",") + "]"
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
