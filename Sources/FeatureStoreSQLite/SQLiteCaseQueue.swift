import FeatureStore
import Foundation
import GRDB
import GRDBSQLite

extension SQLiteStore: CaseQueue {
    public func apply(_ changes: [TableChange]) async throws {
        try sqliteErrors("") {
            try pool.write { db in
                var lastUpdate: (shape: UpdateShape, statement: Statement)?
                for change in changes {
                    switch change {
                    case .upsert(let batch) where !batch.rows.isEmpty:
                        try Self.write(db, batch)
                    case .insertNew(let batch) where !batch.rows.isEmpty:
                        let statement = try db.makeStatement(sql: Self.insertSQL(batch.table, upsert: false) + " ON CONFLICT DO NOTHING")
                        for row in batch.rows {
                            try statement.execute(arguments: StatementArguments(row.map { value -> DatabaseValue in
                                switch value {
                                case .null: return .null
                                case .integer(let v): return v.databaseValue
                                case .real(let v): return v.databaseValue
                                case .text(let t): return t.databaseValue
                                }
                            }))
                        }
                    case .update(let table, let key, let set, let onlyIf, let unguarded) where !(set.isEmpty && unguarded.isEmpty):
                        // A planning batch updates one invoice per case with the same few columns: a run of
                        // updates of one shape shares its statement, and the values are bound directly.
                        let shape = UpdateShape(table: table.name, columns: set.keys.sorted(), unguarded: unguarded.keys.sorted(),
                                                guardColumn: onlyIf?.column, guardCount: onlyIf?.values.count ?? 0)
                        if lastUpdate?.shape != shape {
                            lastUpdate = (shape, try db.cachedStatement(sql: shape.sql(table)))
                        }
                        let statement = lastUpdate!.statement, st = statement.sqliteStatement
                        precondition(key.count == table.keyIndices.count, "update of \(table.name): key \(key) has \(key.count) parts")
                        precondition(unguarded.keys.allSatisfy { set[$0] == nil }, "update of \(table.name): a column both guarded and not")
                        // Bound in the order of `UpdateShape.sql`'s placeholders.
                        var k: Int32 = 1
                        for c in shape.unguarded { Self.bind(st, k, unguarded[c]!); k += 1 }
                        for c in shape.columns {
                            if shape.guardsInSet {
                                for v in onlyIf!.values { Self.bind(st, k, .text(v)); k += 1 }
                            }
                            Self.bind(st, k, set[c]!); k += 1
                        }
                        for part in key { Self.bind(st, k, .text(part)); k += 1 }
                        if !shape.guardsInSet {
                            for v in onlyIf?.values ?? [] { Self.bind(st, k, .text(v)); k += 1 }
                        }
                        let rc = sqlite3_step(st)
                        if rc != SQLITE_DONE {
                            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
                            sqlite3_reset(st)
                            throw StoreError.database(backend: "SQLite", code: String(rc), message: message, sql: statement.sql)
                        }
                        sqlite3_reset(st)
                    case .delete(let table, let keys) where !keys.isEmpty:
                        let names = table.keyIndices.map { table.columns[$0].sqlName }
                        let statement = try db.makeStatement(
                            sql: "DELETE FROM \(table.name) WHERE " + names.map { "\($0) = ?" }.joined(separator: " AND "))
                        for key in keys {
                            precondition(key.count == names.count, "delete from \(table.name): key \(key) has \(key.count) parts for \(names.count)")
                            try statement.execute(arguments: StatementArguments(key))
                        }
                    default:
                        break
                    }
                }
            }
        }
    }

    public func releaseLeases(owner: String) async throws {
        try sqliteErrors("") {
            try pool.write { db in
                for table in [Schema.caseStates, Schema.outbox] {
                    try db.execute(sql: "UPDATE \(table.name) SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
                                   arguments: [owner])
                }
            }
        }
    }

    public func claim(_ table: StoreTable, dueColumn: String, dueBy: Int64, owner: String, leaseUntil: Int64, now: Int64,
                      limit: Int, customers: [String]?) async throws -> [[Value]] {
        precondition(table.columns.contains { $0.name == "lease_owner" }, "claim: \(table.name) has no lease")
        let keys = table.keyIndices.map { table.columns[$0].sqlName }.joined(separator: ", ")
        let columns = table.columns.map(\.sqlName).joined(separator: ", ")
        // Customers as one JSON array: any number of them in one parameter, looked up in the key.
        let only = customers.map { _ in " AND customer_id IN (SELECT value FROM json_each(?))" } ?? ""
        // SQLite has one writer at a time: the UPDATE ... RETURNING runs as one atomic statement.
        let sql = """
            UPDATE \(table.name) SET lease_owner = ?, lease_until = ?
            WHERE (\(keys)) IN (SELECT \(keys) FROM \(table.name)
                WHERE \(dueColumn) <= ? AND (lease_owner IS NULL OR lease_until < ?)\(only)
                ORDER BY \(dueColumn), \(keys) LIMIT ?)
            RETURNING \(columns)
            """
        var bindings: [Value] = [.text(owner), .integer(leaseUntil), .integer(dueBy), .integer(now)]
        if let customers { bindings.append(.text(jsonStringArray(customers))) }
        bindings.append(.integer(Int64(limit)))
        let rows = try fetch(table, sql, bindings, writing: true)
        let due = table.index(dueColumn)
        return rows.sortedByDue(due, key: table.keyIndices)
    }

    public func unenrolledInvoices(issuedFrom: String, issuedBy: String, after: [Value]?, limit: Int) async throws -> [[Value]] {
        let t = Schema.invoices
        var sql = select(t) + " AS i WHERE i.status NOT IN ('paid', 'agency', 'written_off') AND i.issue_date <= ? AND i.issue_date >= ?"
            + " AND NOT EXISTS (SELECT 1 FROM case_states c WHERE c.customer_id = i.customer_id AND c.invoice_id = i.id)"
        var bindings: [Value] = [.text(issuedBy), .text(issuedFrom)]
        if let after {
            sql += " AND (i.customer_id, i.id) > (?, ?)"
            bindings += after
        }
        sql += " ORDER BY i.customer_id, i.id LIMIT \(limit)"
        return try fetch(t, sql, bindings)
    }

    public func rows(of table: StoreTable, keys: [[String]]) async throws -> [[Value]] {
        let names = table.keyIndices.map { table.columns[$0].sqlName }
        var result: [[Value]] = []
        for start in stride(from: 0, to: keys.count, by: 300) {
            let chunk = keys[start..<min(start + 300, keys.count)]
            let sql = select(table) + " WHERE " + Self.keyIn(names, count: chunk.count) + orderBy(table)
            result += try fetch(table, sql, chunk.flatMap { $0.map(Value.text) })
        }
        return result
    }

    public func sendTimes(customerIds: [String], since: Int64) async throws -> [String: [Int64]] {
        let t = Schema.sendTimesColumns
        var result: [String: [Int64]] = [:]
        let ids = Array(Set(customerIds)).sorted()
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = ids[start..<min(start + 500, ids.count)]
            let sql = select(t) + " WHERE customer_id IN (" + chunk.map { _ in "?" }.joined(separator: ", ") + ")"
                + " AND scheduled_at >= ? AND status <> 'failed'"
            for row in try fetch(t, sql, chunk.map(Value.text) + [.integer(since)]) {
                result[row[0].text!, default: []].append(row[1].integer!)
            }
        }
        return result
    }

    public func rows(of table: StoreTable, customerIds: [String]) async throws -> [[Value]] {
        let column = table.name == Schema.customers.name ? "id" : "customer_id"
        var result: [[Value]] = []
        let ids = Array(Set(customerIds)).sorted()
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = ids[start..<min(start + 500, ids.count)]
            let sql = select(table) + " WHERE \(column) IN (" + chunk.map { _ in "?" }.joined(separator: ", ") + ")" + orderBy(table)
            result += try fetch(table, sql, chunk.map(Value.text))
        }
        return result
    }
}

/// Consistent copies of a SQLite store.
public enum SQLiteSnapshot {
    /// Writes a transactionally consistent copy of the store at `source` to `destination`
    /// (`VACUUM INTO`), e.g. for a dry run that must not touch the real store.
    /// - Throws: `StoreError.database` when either file cannot be opened or written.
    public static func copy(from source: String, to destination: String) throws {
        try sqliteErrors("VACUUM INTO") {
            let queue = try DatabaseQueue(path: source)
            try queue.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [destination]) }
            try queue.close()
        }
    }
}

/// What an `UPDATE` statement of `apply` depends on: consecutive updates of one shape share it.
struct UpdateShape: Equatable {
    var table: String
    /// The guarded columns (all of them without a guard), sorted.
    var columns: [String]
    /// The columns set whatever the guard says, sorted.
    var unguarded: [String]
    var guardColumn: String?
    var guardCount: Int

    /// Whether the guard sits in each guarded column's `CASE` (the row is updated for its unguarded
    /// columns anyway) rather than in the `WHERE` clause (the row is left alone).
    var guardsInSet: Bool { guardColumn != nil && !unguarded.isEmpty }

    /// `UPDATE table SET u = ?, ..., c = ? | CASE WHEN g IN (?, ...) THEN ? ELSE c END, ... WHERE key = ? ...
    /// [AND g IN (?, ...)]`, placeholders in that order.
    func sql(_ table: StoreTable) -> String {
        let name = { (column: String) in table.columns[table.index(column)].sqlName }
        let guardList = guardColumn.map { name($0) + " IN (" + Array(repeating: "?", count: guardCount).joined(separator: ", ") + ")" }
        let assignments = unguarded.map { "\(name($0)) = ?" } + columns.map { column in
            guardsInSet ? "\(name(column)) = CASE WHEN \(guardList!) THEN ? ELSE \(name(column)) END" : "\(name(column)) = ?"
        }
        var sql = "UPDATE \(table.name) SET " + assignments.joined(separator: ", ") + " WHERE "
            + table.keyIndices.map { "\(table.columns[$0].sqlName) = ?" }.joined(separator: " AND ")
        if !guardsInSet, let guardList { sql += " AND " + guardList }
        return sql
    }
}
