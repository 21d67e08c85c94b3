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
    public var columns: [StoreColumn]
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
        self.key = key
        self.idColumn = idColumn
        self.unique = unique
    }

    /// The position of column `name` (a programming error when absent).
    public func index(_ name: String) -> Int {
        guard let i = columns.firstIndex(where: { $0.name == name }) else {
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
