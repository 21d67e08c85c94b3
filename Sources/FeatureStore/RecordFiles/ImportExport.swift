import Foundation
import Tabular

/// Rows read (and written) per table by an import or export, by table name.
public struct TransferSummary: Sendable, Equatable, Codable {
    public var rows: [String: Int]
    public var files: [String]
}

/// `pom-train import`: loads the record files of a directory into a store in one transaction.
public enum RecordImport {
    /// Reads every record file of `Schema.tables` present in `directory`, checks it (types, amounts,
    /// duplicate ids, references to customers/invoices/messages in the files or already in the store)
    /// and writes all rows in one transaction. A bad row rejects the whole import: nothing is written.
    /// Importing the same files again changes nothing (rows are upserted by key).
    /// - Throws: `CSVError` naming file, line, column and value; `StoreError` from the store.
    @discardableResult
    public static func run(directory: String, into store: any Store) async throws -> TransferSummary {
        let batches = try await load(directory: directory, store: store)
        var writes: [TableRows] = []
        for batch in batches {
            writes.append(TableRows(table: batch.table, rows: batch.rows))
            if batch.table.name == Schema.contactPoints.name {
                writes.append(TableRows(table: Schema.contactPointVersions, rows: batch.rows))
            }
        }
        try await store.write(writes)
        return TransferSummary(rows: Dictionary(uniqueKeysWithValues: batches.map { ($0.table.name, $0.rows.count) }),
                               files: batches.map { URL(fileURLWithPath: $0.path).lastPathComponent })
    }

    /// Reads and checks the record files of `directory` without writing anything. References not
    /// found in the files are looked up in `store`.
    public static func load(directory: String, store: (any Store)?) async throws -> [LoadedRecords] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CSVError(file: directory, message: "not a directory; expected a folder of record files (\(Schema.tables.map(\.file).joined(separator: ", ")))")
        }
        var loaded: [LoadedRecords] = []
        for table in Schema.tables {
            let path = (directory as NSString).appendingPathComponent(table.file)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            loaded.append(try RecordFiles.read(table, path: path))
        }
        guard !loaded.isEmpty else {
            throw CSVError(file: directory, message: "no record files found; expected some of: \(Schema.tables.map(\.file).joined(separator: ", "))")
        }
        try await checkReferences(loaded, store: store)
        return loaded
    }

    /// Every referencing column must name a row of its table, in the files or in the store. The
    /// keys of each referenced table are collected once; a row costs one hash lookup per reference,
    /// and only the keys found in no file are looked up in the store, all at once.
    static func checkReferences(_ loaded: [LoadedRecords], store: (any Store)?) async throws {
        var keysInFiles: [String: Set<RowKey>] = [:]
        func keys(of tableName: String) -> Set<RowKey> {
            if let k = keysInFiles[tableName] { return k }
            var set = Set<RowKey>()
            if let records = loaded.first(where: { $0.table.name == tableName }) {
                let idx = records.table.keyIndices
                set.reserveCapacity(records.rows.count)
                for row in records.rows { set.insert(RowKey(row, idx)) }
            }
            keysInFiles[tableName] = set
            return set
        }
        for records in loaded {
            let table = records.table
            for column in table.columns {
                guard let targetName = column.references, let target = Schema.table(named: targetName) else { continue }
                let c = table.index(column.name)
                // The target's key read off this row: the customer plus the referenced id.
                let parts = target.key.map { $0 == target.idColumn ? c : table.index($0) }
                let known = keys(of: targetName)
                var missing: [RowKey: Int] = [:]
                for (r, row) in records.rows.enumerated() where !row[c].isNull {
                    let key = RowKey(row, parts)
                    if !known.contains(key) && missing[key] == nil { missing[key] = r }
                }
                guard !missing.isEmpty else { continue }
                let inStore = try await store?.existing(Set(missing.keys.map(\.parts)), in: target) ?? []
                if let (key, r) = missing.filter({ !inStore.contains($0.key.parts) }).min(by: { $0.value < $1.value }).map({ ($0.key.parts, $0.value) }) {
                    let what = String(targetName.dropLast()).replacingOccurrences(of: "_", with: " ")
                    throw records.error(row: r, column: column.name, value: key.last,
                                        "unknown \(what): not in \(target.file) nor in the store"
                                            + (key.count > 1 ? " for customer '\(key[0])'" : ""))
                }
            }
        }
    }
}

/// A row's key as text (one or two parts without an array; more in `rest`), for set lookups.
struct RowKey: Hashable {
    var first: String
    var second: String?
    var rest: [String] = []

    /// The values of `row` at `indices`.
    init(_ row: [Value], _ indices: [Int]) {
        func text(_ v: Value) -> String { v.text ?? v.description }
        first = text(row[indices[0]])
        second = indices.count > 1 ? text(row[indices[1]]) : nil
        if indices.count > 2 { rest = indices.dropFirst(2).map { text(row[$0]) } }
    }

    /// The parts in order.
    var parts: [String] { [first] + (second.map { [$0] } ?? []) + rest }
}

/// `pom-train export`: writes every table of `Schema.tables` back as record files.
public enum RecordExport {
    /// Writes one file per table into `directory` (created if needed), rows in key order, values in
    /// their canonical spelling (`ColumnType.format`). Each file is written atomically.
    @discardableResult
    public static func run(from store: any Store, to directory: String) async throws -> TransferSummary {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CSVError(file: directory, message: "cannot create the output directory (\(error.localizedDescription))")
        }
        var counts: [String: Int] = [:]
        for table in Schema.tables {
            let rows = try await store.allRows(of: table)
            try RecordFiles.write(table, rows: rows, to: (directory as NSString).appendingPathComponent(table.file))
            counts[table.name] = rows.count
        }
        return TransferSummary(rows: counts, files: Schema.tables.map(\.file))
    }
}
