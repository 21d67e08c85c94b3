import Foundation
import Tabular

/// Rows read from one record file, with a way back to the line each row came from.
public struct LoadedRecords {
    public var table: StoreTable
    public var path: String
    public var rows: [[Value]]
    /// The 1-based file line of row `k`.
    public var line: (Int) -> Int

    func error(row: Int, column: String?, value: String?, _ message: String) -> CSVError {
        CSVError(file: path, line: line(row), column: column, value: value, message: message)
    }
}

/// Reading and writing the record files of `Schema.tables`: CSV with a header row (RFC 4180,
/// LF line ends) and, for events, JSON Lines. Column names and value spellings are those of
/// `StoreColumn.name` and `ColumnType.format`; `datasets/README.md` documents them.
public enum RecordFiles {
    /// Reads and checks one record file: every column known, every required column present, every
    /// value of its column's type, amounts not negative, ids unique in the file.
    /// - Throws: `CSVError` naming the file, line, column and value.
    public static func read(_ table: StoreTable, path: String) throws -> LoadedRecords {
        var loaded = try table.format == .csv ? readCSV(table, path: path) : readJSONLines(table, path: path)
        try checkUnique(&loaded)
        return loaded
    }

    static func readCSV(_ table: StoreTable, path: String) throws -> LoadedRecords {
        let csv = try CSVFile(path: path)
        try checkHeader(table, csv.header, path: path)
        let present = table.columns.filter { csv.header.contains($0.name) }
        let columns = try csv.read(numeric: [], text: present.map(\.name))
        let loaded = LoadedRecords(table: table, path: path, rows: [], line: { csv.line(ofRow: $0) })
        var rows: [[Value]] = []
        rows.reserveCapacity(columns.rowCount)
        let texts = table.columns.map { columns.text[$0.name] }
        for r in 0..<columns.rowCount {
            var row: [Value] = []
            row.reserveCapacity(table.columns.count)
            for (c, column) in table.columns.enumerated() {
                row.append(try parse(texts[c]?[r] ?? "", column, loaded, r))
            }
            rows.append(row)
        }
        var result = loaded
        result.rows = rows
        return result
    }

    static func checkHeader(_ table: StoreTable, _ header: [String], path: String) throws {
        let names = table.columns.map(\.name)
        for name in header where !names.contains(name) {
            throw CSVError(file: path, line: 1, column: name,
                           message: "unknown column; \(table.file) has: \(names.joined(separator: ", "))")
        }
        for column in table.columns where !column.optional && !header.contains(column.name) {
            throw CSVError(file: path, line: 1, column: column.name, message: "required column is missing from the header")
        }
    }

    static func parse(_ text: String, _ column: StoreColumn, _ loaded: LoadedRecords, _ row: Int) throws -> Value {
        var text = text
        return try text.withUTF8 { bytes in
            try parse(bytes, column) { value, message in loaded.error(row: row, column: column.name, value: value, message) }
        }
    }

    /// Parses one field's bytes (empty for a missing value) as `column`'s type and checks it.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ column: StoreColumn, file: String, line: Int) throws -> Value {
        try parse(bytes, column) { value, message in CSVError(file: file, line: line, column: column.name, value: value, message: message) }
    }

    /// Parses one field's bytes; `error(value, message)` makes the error to throw.
    @inline(__always)
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ column: StoreColumn, _ error: (String, String) -> CSVError) throws -> Value {
        if bytes.isEmpty {
            guard column.optional else { throw error("", "missing value; expected \(column.type.expectation)") }
            return .null
        }
        guard let value = column.type.parse(bytes) else {
            let what: String
            switch column.type {
            case .word: what = "unknown \(column.name.replacingOccurrences(of: "_", with: " "))"
            case .date, .instant: what = "unparsable \(column.type == .date ? "date" : "time")"
            default: what = "not valid"
            }
            throw error(String(decoding: bytes, as: UTF8.self), "\(what); expected \(column.type.expectation)")
        }
        if let check = column.check, !check.admits(value) {
            throw error(String(decoding: bytes, as: UTF8.self), check.complaint(value))
        }
        return value
    }

    static func readJSONLines(_ table: StoreTable, path: String) throws -> LoadedRecords {
        let (rows, lines) = try JSONLinesReader(table: table, path: path).read()
        return LoadedRecords(table: table, path: path, rows: rows, line: { lines[$0] })
    }

    /// Refuses a second row with the same record id or the same unique column set.
    static func checkUnique(_ loaded: inout LoadedRecords) throws {
        let table = loaded.table
        let id = table.index(table.idColumn)
        var seen = Set<Value>(minimumCapacity: loaded.rows.count)
        for (r, row) in loaded.rows.enumerated() where !seen.insert(row[id]).inserted {
            let first = loaded.rows.firstIndex { $0[id] == row[id] }!
            throw loaded.error(row: r, column: table.idColumn, value: row[id].description,
                               "duplicate id; first on line \(loaded.line(first)); ids must be unique")
        }
        for unique in table.unique {
            let idx = unique.map(table.index)
            var seenSet: [[Value]: Int] = [:]
            for (r, row) in loaded.rows.enumerated() {
                let key = idx.map { row[$0] }
                if let first = seenSet.updateValue(r, forKey: key) {
                    throw loaded.error(row: r, column: unique.last, value: key.last?.description,
                                       "duplicate \(unique.joined(separator: " + ")); first on line \(loaded.line(first))")
                }
            }
        }
    }

    /// Writes `rows` of `table` to `path` in the table's format, atomically (a temporary file renamed
    /// into place).
    public static func write(_ table: StoreTable, rows: [[Value]], to path: String) throws {
        var out = ""
        out.reserveCapacity(rows.count * 64)
        switch table.format {
        case .csv:
            out += table.columns.map { FeatureStore.csvField($0.name) }.joined(separator: ",") + "\n"
            for row in rows {
                for (k, column) in table.columns.enumerated() {
                    if k > 0 { out += "," }
                    out += FeatureStore.csvField(column.type.format(row[k]))
                }
                out += "\n"
            }
        case .jsonLines:
            // Keys sorted at every level, absent optional keys left out, groups always present
            // (as the event log writer does).
            let top = Set(table.columns.map { $0.group ?? $0.name })
            let order = top.sorted().map { key -> (String, [Int]) in
                let members = table.columns.indices.filter { (table.columns[$0].group ?? table.columns[$0].name) == key }
                return (key, members.sorted { table.columns[$0].name < table.columns[$1].name })
            }
            for row in rows {
                out += "{"
                var first = true
                for (key, members) in order {
                    let isGroup = table.columns[members[0]].group != nil
                    if !isGroup && row[members[0]].isNull { continue }
                    if !first { out += "," }
                    first = false
                    out += jsonQuoted(key) + ":"
                    if isGroup {
                        out += "{"
                        var firstMember = true
                        for k in members where !row[k].isNull {
                            if !firstMember { out += "," }
                            firstMember = false
                            out += jsonQuoted(table.columns[k].name) + ":" + jsonValue(row[k], table.columns[k])
                        }
                        out += "}"
                    } else {
                        out += jsonValue(row[members[0]], table.columns[members[0]])
                    }
                }
                out += "}\n"
            }
        }
        try writeAtomically(Data(out.utf8), to: path)
    }

    static func jsonValue(_ value: Value, _ column: StoreColumn) -> String {
        let text = column.type.format(value)
        switch column.type {
        case .integer, .real, .boolean: return text
        default: return jsonQuoted(text)
        }
    }
}

/// Writes `data` to a temporary file beside `path` and renames it into place.
public func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    do {
        try data.write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            throw CSVError(file: path, message: "cannot move the written file into place (\(String(cString: strerror(errno))))")
        }
    } catch let error as CSVError {
        try? FileManager.default.removeItem(at: temporary)
        throw error
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw CSVError(file: path, message: "cannot write the file (\(error.localizedDescription))")
    }
}
