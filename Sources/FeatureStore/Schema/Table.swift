import Foundation
import LinAlg
import Vocabulary

/// How a column is written in the record files and held in the database.
public enum ColumnType: Sendable, Hashable {
    /// Free text (an identifier, a name, a template). Stored as TEXT.
    case text
    /// A whole number. Stored as INTEGER / BIGINT.
    case integer
    /// A real number. Stored as REAL / DOUBLE PRECISION.
    case real
    /// A UTC instant, written ISO 8601 (`2026-03-02T09:15:00Z`); stored as microseconds since the
    /// epoch in SQLite and as `timestamptz` in PostgreSQL.
    case instant
    /// A calendar date `YYYY-MM-DD`; stored as TEXT in SQLite and `date` in PostgreSQL.
    case date
    /// A wall-clock time in the customer's zone, `YYYY-MM-DDTHH:MM:SS`; stored as TEXT in SQLite
    /// and `timestamp` (without time zone) in PostgreSQL.
    case localTime
    /// A set of delivery actions as 189 hexadecimal digits (`ActionSet`); stored as TEXT.
    case actionSet
    /// `true` / `false`; stored as INTEGER 0/1 in SQLite and `boolean` in PostgreSQL.
    case boolean
    /// One of a fixed set of words (a channel, a status); stored as TEXT.
    case word([String])

    /// The channel names of `Vocabulary.Channel`.
    public static let channel = ColumnType.word(Channel.allCases.map(\.rawValue))
    /// The tone names of `Vocabulary.Tone`.
    public static let tone = ColumnType.word(Tone.allCases.map(\.rawValue))

    /// What a value of this type looks like, for error messages.
    public var expectation: String {
        switch self {
        case .text: return "text"
        case .integer: return "a whole number"
        case .real: return "a finite number"
        case .instant: return "an ISO 8601 instant such as 2026-03-02T09:15:00Z"
        case .date: return "a date YYYY-MM-DD"
        case .localTime: return "a local time YYYY-MM-DDTHH:MM:SS"
        case .actionSet: return "\(ActionSet.hexDigits) hexadecimal digits (a bit mask over the \(DeliveryAction.count) delivery actions)"
        case .boolean: return "true or false"
        case .word(let words): return "one of: " + words.joined(separator: ", ")
        }
    }

    /// Parses the file form of a (non-empty) value; nil when it is malformed.
    public func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        switch self {
        case .text:
            return .text(String(decoding: bytes, as: UTF8.self))
        case .integer:
            guard let d = parseDouble(bytes), d.rounded() == d, abs(d) < 9.0e15 else { return nil }
            return .integer(Int64(d))
        case .real:
            guard let d = parseDouble(bytes), d.isFinite else { return nil }
            return .real(d)
        case .instant:
            return CivilTime.parseInstant(bytes).map(Value.integer)
        case .date:
            guard CivilTime.parseDate(bytes) != nil else { return nil }
            return .text(String(decoding: bytes, as: UTF8.self))
        case .localTime:
            let s = String(decoding: bytes, as: UTF8.self)
            return LocalDateTime(parsing: s) == nil ? nil : .text(s)
        case .actionSet:
            let s = String(decoding: bytes, as: UTF8.self)
            return ActionSet(hex: s) == nil ? nil : .text(s)
        case .boolean:
            let s = String(decoding: bytes, as: UTF8.self)
            if s == "true" { return .integer(1) }
            if s == "false" { return .integer(0) }
            return nil
        case .word(let words):
            let s = String(decoding: bytes, as: UTF8.self)
            return words.contains(s) ? .text(s) : nil
        }
    }

    /// Parses the file form of a value given as a string.
    public func parse(_ string: String) -> Value? {
        var s = string
        return s.withUTF8 { parse($0) }
    }

    /// The file form of a stored value (the inverse of `parse` up to the canonical spelling:
    /// instants in UTC with `Z`, reals in Swift's shortest round-trip form).
    public func format(_ value: Value) -> String {
        switch (self, value) {
        case (_, .null): return ""
        case (.instant, .integer(let v)): return CivilTime.formatInstant(micros: v)
        case (.boolean, .integer(let v)): return v != 0 ? "true" : "false"
        case (.real, .real(let v)): return formatReal(v)
        case (.real, .integer(let v)): return formatReal(Double(v))
        case (_, .integer(let v)): return String(v)
        case (_, .real(let v)): return formatReal(v)
        case (_, .text(let s)): return s
        }
    }
}

/// Shortest round-trip spelling of a double (Swift's `description`, as the record writers use).
public func formatReal(_ v: Double) -> String { "\(v)" }

/// A constraint on a column's values beyond its type.
public enum ValueCheck: Sendable, Hashable {
    /// A number ≥ 0 (amounts, costs).
    case nonNegative
    /// A number > 0.
    case positive
    /// A probability in (0, 1].
    case probability
    /// One of the listed whole numbers.
    case oneOf([Int64])

    /// Whether `value` passes.
    public func admits(_ value: Value) -> Bool {
        switch self {
        case .nonNegative: return (value.real ?? 0) >= 0
        case .positive: return (value.real ?? 1) > 0
        case .probability: return value.real.map { $0 > 0 && $0 <= 1 } ?? true
        case .oneOf(let allowed): return value.integer.map(allowed.contains) ?? true
        }
    }

    /// The problem with `value` and what would be right, for error messages.
    public func complaint(_ value: Value) -> String {
        switch self {
        case .nonNegative: return "negative amount; expected 0 or more"
        case .positive: return (value.real ?? 0) < 0 ? "negative amount; expected more than 0" : "zero; expected more than 0"
        case .probability: return "not a probability; expected a number in (0, 1]"
        case .oneOf(let allowed): return "not allowed; expected one of: " + allowed.map(String.init).joined(separator: ", ")
        }
    }
}

/// A column of a table: its name in the record files, its name in SQL, type and constraints.
public struct StoreColumn: Sendable, Hashable {
    /// The name in the record files' header (or JSON key).
    public var name: String
    /// The column name in SQL.
    public var sqlName: String
    public var type: ColumnType
    /// Whether the value may be empty (SQL NULL). Non-optional exactly where the record's field is.
    public var optional: Bool
    /// A constraint beyond the type, if any.
    public var check: ValueCheck?
    /// The table whose key this column references (with the row's customer), if any.
    public var references: String?
    /// In JSON Lines files: the key of the nested object holding this field (`payload`), if any.
    public var group: String?

    public init(_ name: String, _ type: ColumnType, optional: Bool = false, check: ValueCheck? = nil,
                references: String? = nil, group: String? = nil, sqlName: String? = nil) {
        self.name = name
        self.sqlName = sqlName ?? name
        self.type = type
        self.optional = optional
        self.check = check
        self.references = references
        self.group = group
    }

    /// The key in a JSON Lines file: `group.name` for a nested field.
    public var jsonKey: String { group.map { $0 + "." + name } ?? name }
}

/// How a table's record file is written.
public enum RecordFileFormat: String, Sendable, Hashable {
    /// Comma-separated values with a header row.
    case csv
    /// One JSON object per line.
    case jsonLines
}

/// A table of the store: its columns (in file order), key, and record file.
public struct StoreTable: Sendable, Hashable {
    /// SQL table name.
    public var name: String
    /// Record file name inside an import/export directory.
    public var file: String
    public var format: RecordFileFormat
    public var columns: [StoreColumn] {
        didSet { positions = Self.positions(columns) }
    }
    /// Column name → position: `index(_:)` runs several times per row a run plans.
    private var positions: [String: Int]
    /// Primary-key columns (file names). Every large table's key starts with `customer_id`, the
    /// distribution column (SPEC §7).
    public var key: [String]
    /// The column that identifies a row on its own within the import (the record id).
    public var idColumn: String
    /// Further unique column sets (file names), e.g. a message's idempotency key.
    public var unique: [[String]]

    public init(name: String, file: String, format: RecordFileFormat = .csv, columns: [StoreColumn], key: [String],
                idColumn: String, unique: [[String]] = []) {
        self.name = name
        self.file = file
        self.format = format
        self.columns = columns
        self.positions = Self.positions(columns)
        self.key = key
        self.idColumn = idColumn
        self.unique = unique
    }

    private static func positions(_ columns: [StoreColumn]) -> [String: Int] {
        Dictionary(columns.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The position of column `name` (a programming error when absent).
    public func index(_ name: String) -> Int {
        guard let i = positions[name] else {
            preconditionFailure("table \(self.name) has no column \(name)")
        }
        return i
    }

    /// Positions of the key columns.
    public var keyIndices: [Int] { key.map(index) }
    /// Whether the table carries a `customer_id` column.
    public var hasCustomer: Bool { columns.contains { $0.name == "customer_id" } }
}

/// Rows of one table, each in column order.
public struct TableRows: Sendable {
    public var table: StoreTable
    public var rows: [[Value]]

    public init(table: StoreTable, rows: [[Value]]) {
        self.table = table
        self.rows = rows
    }
}

extension Value {
    /// Orders two values as both backends' key indexes do: NULL first, then numbers by value,
    /// then text by its UTF-8 bytes (SQLite's BINARY collation, PostgreSQL's "C" collation).
    /// Returns a negative number, zero or a positive number.
    public static func keyCompare(_ a: Value, _ b: Value) -> Int {
        switch (a, b) {
        case (.text(let x), .text(let y)): return compareBytes(x, y)
        case (.integer(let x), .integer(let y)): return x < y ? -1 : x == y ? 0 : 1
        case (.null, .null): return 0
        default:
            let (ra, rb) = (a.keyRank, b.keyRank)
            if ra != rb { return ra < rb ? -1 : 1 }
            let (x, y) = (a.real!, b.real!)
            return x < y ? -1 : x == y ? 0 : 1
        }
    }

    private var keyRank: Int {
        switch self {
        case .null: return 0
        case .integer, .real: return 1
        case .text: return 2
        }
    }
}

/// Byte-wise comparison of two strings' UTF-8 (negative, zero or positive).
@inline(__always)
func compareBytes(_ x: String, _ y: String) -> Int {
    var x = x, y = y
    return x.withUTF8 { a in
        y.withUTF8 { b in
            let n = min(a.count, b.count)
            if n > 0 {
                let c = memcmp(a.baseAddress!, b.baseAddress!, n)
                if c != 0 { return Int(c) }
            }
            return a.count - b.count
        }
    }
}

extension TableRows {
    /// The positions of `rows` in key order (`table.key`, compared by `Value.keyCompare`; rows with
    /// equal keys keep their order), or nil when the rows are in key order already. Writing rows in
    /// key order lets a B-tree index take them page by page instead of at random pages.
    ///
    /// Complexity: O(n log n), with the comparisons of the first two key columns' first 16 bytes
    /// done on packed integers.
    public func keyOrder() -> [Int]? {
        let key = table.keyIndices
        precondition(!key.isEmpty, "table \(table.name) has no key")
        let n = rows.count
        guard n > 1 else { return nil }
        let packable = key.prefix(2).allSatisfy { c in rows.allSatisfy { !($0[c].isReal) } }
        guard packable else {
            let fullLess = { (a: Int, b: Int) -> Bool in
                for c in key {
                    let d = Value.keyCompare(rows[a][c], rows[b][c])
                    if d != 0 { return d < 0 }
                }
                return a < b
            }
            if (1..<n).allSatisfy({ fullLess($0 - 1, $0) }) { return nil }
            return (0..<n).sorted(by: fullLess)
        }
        var entries = [PackedKey]()
        entries.reserveCapacity(n)
        for (r, row) in rows.enumerated() {
            entries.append(PackedKey(row, key, Int32(truncatingIfNeeded: r)))
        }
        let all = rows
        let less: @Sendable (PackedKey, PackedKey) -> Bool = { a, b in
            let d = PackedKey.compare(a, b, key: key, rows: all)
            return d != 0 ? d < 0 : a.row < b.row
        }
        if (1..<n).allSatisfy({ less(entries[$0 - 1], entries[$0]) }) { return nil }
        return PackedKey.sortedRows(&entries, by: less)
    }
}

extension Value {
    fileprivate var isReal: Bool { if case .real = self { return true }; return false }
}

/// The first two key columns of a row packed into integers that compare in key order: per column
/// a kind (null, number, text), 16 bytes (a text's first 16 bytes big-endian, zero-padded; a number
/// with its sign bit flipped) and a text's length.
private struct PackedKey {
    var a0: UInt64 = 0, a1: UInt64 = 0, b0: UInt64 = 0, b1: UInt64 = 0
    var row: Int32
    var kindA: UInt8 = 0, kindB: UInt8 = 0
    var lengthA: UInt16 = 0, lengthB: UInt16 = 0

    init(_ values: [Value], _ key: [Int], _ row: Int32) {
        self.row = row
        (kindA, a0, a1, lengthA) = Self.pack(values[key[0]])
        if key.count > 1 { (kindB, b0, b1, lengthB) = Self.pack(values[key[1]]) }
    }

    static func pack(_ v: Value) -> (UInt8, UInt64, UInt64, UInt16) {
        switch v {
        case .null: return (0, 0, 0, 0)
        case .integer(let x): return (1, UInt64(bitPattern: x) ^ (1 << 63), 0, 0)
        case .real: preconditionFailure("reals are not packed")
        case .text(var s):
            return s.withUTF8 { b in
                var hi: UInt64 = 0, lo: UInt64 = 0
                for k in 0..<8 { hi = hi << 8 | UInt64(k < b.count ? b[k] : 0) }
                for k in 8..<16 { lo = lo << 8 | UInt64(k < b.count ? b[k] : 0) }
                return (2, hi, lo, UInt16(min(b.count, 17)))
            }
        }
    }

    /// Rows from which `sortedRows` sorts the two halves on two cores.
    static let parallelSortRows = 65_536

    /// The row positions of `entries` sorted by `less` (a strict total order: ties broken by row).
    /// From `parallelSortRows` entries and with more than one pom thread the two halves are sorted
    /// concurrently and then merged, which roughly halves the wall time of large bulk writes.
    static func sortedRows(_ entries: inout [PackedKey], by less: @escaping @Sendable (PackedKey, PackedKey) -> Bool) -> [Int] {
        let n = entries.count
        guard n >= parallelSortRows && BLASRuntime.threads > 1 else {
            entries.sort(by: less)
            return entries.map { Int($0.row) }
        }
        let mid = n / 2
        return entries.withUnsafeMutableBufferPointer { buffer -> [Int] in
            let shared = SharedEntries(buffer)
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                let range = half == 0 ? 0..<mid : mid..<n
                var part = UnsafeMutableBufferPointer(rebasing: shared.buffer[range])
                part.sort(by: less)
            }
            var order = [Int]()
            order.reserveCapacity(n)
            var i = 0, j = mid
            while i < mid && j < n {
                if less(buffer[j], buffer[i]) { order.append(Int(buffer[j].row)); j += 1 } else { order.append(Int(buffer[i].row)); i += 1 }
            }
            while i < mid { order.append(Int(buffer[i].row)); i += 1 }
            while j < n { order.append(Int(buffer[j].row)); j += 1 }
            return order
        }
    }

    /// The entries' buffer, handed to the two sorting threads, each of which sorts its own half.
    struct SharedEntries: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<PackedKey>
        init(_ buffer: UnsafeMutableBufferPointer<PackedKey>) { self.buffer = buffer }
    }

    /// Compares two rows' keys: on the packed columns while they decide, else on the values.
    static func compare(_ x: PackedKey, _ y: PackedKey, key: [Int], rows: [[Value]]) -> Int {
        if x.kindA != y.kindA { return x.kindA < y.kindA ? -1 : 1 }
        if x.a0 != y.a0 { return x.a0 < y.a0 ? -1 : 1 }
        if x.a1 != y.a1 { return x.a1 < y.a1 ? -1 : 1 }
        // Equal first 16 bytes: texts of at most 16 bytes differ only in length (the shorter is a
        // prefix of the other); longer ones are compared whole.
        if x.lengthA > 16 || y.lengthA > 16 { return full(x, y, key: key, from: 0, rows: rows) }
        if x.lengthA != y.lengthA { return x.lengthA < y.lengthA ? -1 : 1 }
        guard key.count > 1 else { return 0 }
        if x.kindB != y.kindB { return x.kindB < y.kindB ? -1 : 1 }
        if x.b0 != y.b0 { return x.b0 < y.b0 ? -1 : 1 }
        if x.b1 != y.b1 { return x.b1 < y.b1 ? -1 : 1 }
        if x.lengthB > 16 || y.lengthB > 16 { return full(x, y, key: key, from: 1, rows: rows) }
        if x.lengthB != y.lengthB { return x.lengthB < y.lengthB ? -1 : 1 }
        return key.count > 2 ? full(x, y, key: key, from: 2, rows: rows) : 0
    }

    static func full(_ x: PackedKey, _ y: PackedKey, key: [Int], from: Int, rows: [[Value]]) -> Int {
        let (p, q) = (rows[Int(x.row)], rows[Int(y.row)])
        for c in key[from...] {
            let d = Value.keyCompare(p[c], q[c])
            if d != 0 { return d }
        }
        return 0
    }
}
