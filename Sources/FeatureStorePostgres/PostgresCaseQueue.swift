import FeatureStore
import Foundation
import PostgresNIO

extension PostgresStore: CaseQueue {
    public func apply(_ changes: [TableChange]) async throws {
        try await lock.locked {
            try await transaction {
                var k = 0
                while k < changes.count {
                    let change = changes[k]
                    k += 1
                    switch change {
                    case .upsert(let batch) where !batch.rows.isEmpty:
                        try await write(batch)
                    case .insertNew(let batch) where !batch.rows.isEmpty:
                        let table = batch.table
                        let placeholders = table.columns.enumerated().map { i, c -> String in
                            switch c.type {
                            case .instant: return "to_timestamp($\(i + 1)::float8 / 1000000)"
                            case .date: return "$\(i + 1)::date"
                            case .localTime: return "$\(i + 1)::timestamp"
                            case .boolean: return "($\(i + 1)::int8 <> 0)"
                            default: return "$\(i + 1)"
                            }
                        }.joined(separator: ", ")
                        let sql = "INSERT INTO \(table.name) (" + table.columns.map(\.sqlName).joined(separator: ", ") + ") VALUES ("
                            + placeholders + ") ON CONFLICT DO NOTHING"
                        for row in batch.rows { _ = try await run(sql, row) }
                    case .update(let table, let key, let set, let onlyIf, let unguarded) where !(set.isEmpty && unguarded.isEmpty):
                        // A run of updates of the same columns of one table (a planning batch sets the
                        // step of each of its invoices) goes out as one statement per chunk of keys.
                        precondition(unguarded.keys.allSatisfy { set[$0] == nil }, "update of \(table.name): a column both guarded and not")
                        var updates: [(key: [String], values: [String: Value])] = [(key, set.merging(unguarded) { a, _ in a })]
                        var seen: Set<[String]> = [key]
                        let columns = set.keys.sorted(), free = unguarded.keys.sorted()
                        while k < changes.count, case .update(let t, let nextKey, let nextSet, let nextGuard, let nextFree) = changes[k],
                              t.name == table.name, nextSet.keys.sorted() == columns, nextFree.keys.sorted() == free, nextGuard == onlyIf,
                              !seen.contains(nextKey) {
                            updates.append((nextKey, nextSet.merging(nextFree) { a, _ in a }))
                            seen.insert(nextKey)
                            k += 1
                        }
                        try await update(table, columns: columns, unguarded: free, updates, onlyIf: onlyIf)
                    case .delete(let table, let keys) where !keys.isEmpty:
                        let names = table.keyIndices.map { table.columns[$0].sqlName }
                        for start in stride(from: 0, to: keys.count, by: 1000) {
                            let chunk = keys[start..<min(start + 1000, keys.count)]
                            var n = 0
                            let tuples = chunk.map { key in
                                precondition(key.count == names.count, "delete from \(table.name): key \(key) has \(key.count) parts")
                                return "(" + names.map { _ in n += 1; return "$\(n)" }.joined(separator: ", ") + ")"
                            }
                            _ = try await run("DELETE FROM \(table.name) WHERE (" + names.joined(separator: ", ") + ") IN ("
                                              + tuples.joined(separator: ", ") + ")", chunk.flatMap { $0.map(Value.text) })
                        }
                    default:
                        break
                    }
                }
            }
        }
    }

    /// Sets `columns` of the rows with the given keys: `UPDATE ... FROM (VALUES ...)`, up to 1,000
    /// rows per statement; with `onlyIf`, of those rows whose guarded column holds one of its values.
    /// The `unguarded` columns are set whatever the guard says: the guard then moves from the
    /// `WHERE` clause into a `CASE` per guarded column (which keeps the column as it is).
    /// Precondition: the keys are distinct; each row's `values` hold every column named.
    func update(_ table: StoreTable, columns: [String], unguarded: [String], _ rows: [(key: [String], values: [String: Value])],
                onlyIf: RowGuard? = nil) async throws {
        let names = table.keyIndices.map { table.columns[$0].sqlName }
        let all = unguarded + columns
        let types = all.map { table.columns[table.index($0)].type }
        let perStatement = min(1000, (60_000 - (onlyIf?.values.count ?? 0)) / (names.count + all.count))
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            var n = 0
            var bindings: [Value] = []
            bindings.reserveCapacity(chunk.count * (names.count + all.count))
            let tuples = chunk.map { row -> String in
                precondition(row.key.count == names.count, "update of \(table.name): key \(row.key) has \(row.key.count) parts")
                var parts: [String] = []
                for part in row.key {
                    n += 1
                    parts.append("$\(n)::text")
                    bindings.append(.text(part))
                }
                for (c, type) in zip(all, types) {
                    n += 1
                    parts.append("$\(n)::" + Self.valuesType(type))
                    bindings.append(row.values[c]!)
                }
                return "(" + parts.joined(separator: ", ") + ")"
            }
            let aliases = names.indices.map { "k\($0)" } + all.indices.map { "c\($0)" }
            var conditions = names.enumerated().map { i, name in "t.\(name) = v.k\(i)" }
            let guardList = onlyIf.map { onlyIf in
                "t.\(table.columns[table.index(onlyIf.column)].sqlName) IN (" + onlyIf.values.map { value in
                    n += 1
                    bindings.append(.text(value))
                    return "$\(n)"
                }.joined(separator: ", ") + ")"
            }
            let guardsInSet = guardList != nil && !unguarded.isEmpty
            let assignments = zip(all, types).enumerated().map { i, column in
                let name = table.columns[table.index(column.0)].sqlName
                let value = Self.converted("v.c\(i)", column.1)
                return guardsInSet && i >= unguarded.count ? "\(name) = CASE WHEN \(guardList!) THEN \(value) ELSE t.\(name) END" : "\(name) = \(value)"
            }
            if !guardsInSet, let guardList { conditions.append(guardList) }
            _ = try await self.run("UPDATE \(table.name) AS t SET " + assignments.joined(separator: ", ") + " FROM (VALUES "
                                   + tuples.joined(separator: ", ") + ") AS v(" + aliases.joined(separator: ", ") + ") WHERE "
                                   + conditions.joined(separator: " AND "), bindings)
        }
    }

    /// The SQL type a value of `type` is bound as in a VALUES list (see `converted`).
    static func valuesType(_ type: ColumnType) -> String {
        switch type {
        case .instant, .integer, .boolean: return "int8"
        case .real: return "float8"
        default: return "text"
        }
    }

    /// `expression` (a bound value of `valuesType(type)`) converted to the column's SQL type.
    static func converted(_ expression: String, _ type: ColumnType) -> String {
        switch type {
        case .instant: return exactInstant(expression)
        case .date: return "\(expression)::date"
        case .localTime: return "\(expression)::timestamp"
        case .boolean: return "(\(expression) <> 0)"
        default: return expression
        }
    }

    public func releaseLeases(owner: String) async throws {
        try await lock.locked {
            try await transaction {
                for table in [Schema.caseStates, Schema.outbox] {
                    _ = try await run("UPDATE \(table.name) SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
                                      [.text(owner)])
                }
            }
        }
    }

    public func claim(_ table: StoreTable, dueColumn: String, dueBy: Int64, owner: String, leaseUntil: Int64, now: Int64,
                      limit: Int, customers: [String]?) async throws -> [[Value]] {
        precondition(table.columns.contains { $0.name == "lease_owner" }, "claim: \(table.name) has no lease")
        let keys = table.keyIndices.map { table.columns[$0].sqlName }
        let join = keys.map { "t.\($0) = d.\($0)" }.joined(separator: " AND ")
        // Customers as one JSON array: any number of them in one parameter, looked up in the key.
        let only = customers.map { _ in " AND customer_id IN (SELECT jsonb_array_elements_text($6::text::jsonb))" } ?? ""
        // Rows another worker has locked are skipped, not waited for: concurrent workers claim
        // disjoint batches.
        let sql = """
            WITH d AS (
                SELECT \(keys.joined(separator: ", ")) FROM \(table.name)
                WHERE \(dueColumn) <= to_timestamp($3::float8 / 1000000)
                  AND (lease_owner IS NULL OR lease_until < to_timestamp($4::float8 / 1000000))\(only)
                ORDER BY \(dueColumn) LIMIT $5
                FOR UPDATE SKIP LOCKED)
            UPDATE \(table.name) t SET lease_owner = $1, lease_until = to_timestamp($2::float8 / 1000000)
            FROM d WHERE \(join)
            RETURNING \(selectList(table, qualifier: "t"))
            """
        var bindings: [Value] = [.text(owner), .integer(leaseUntil), .integer(dueBy), .integer(now), .integer(Int64(limit))]
        if let customers { bindings.append(.text(jsonStringArray(customers))) }
        let rows = try await lock.locked {
            try await transaction { try decode(try await run(sql, bindings), table) }
        }
        let due = table.index(dueColumn)
        return rows.sortedByDue(due, key: table.keyIndices)
    }

    public func unenrolledInvoices(issuedFrom: String, issuedBy: String, after: [Value]?, limit: Int) async throws -> [[Value]] {
        let t = Schema.invoices
        var sql = select(t) + " AS i WHERE i.status NOT IN ('paid', 'agency', 'written_off') AND i.issue_date <= $1::date AND i.issue_date >= $2::date"
            + " AND NOT EXISTS (SELECT 1 FROM case_states c WHERE c.customer_id = i.customer_id AND c.invoice_id = i.id)"
        var bindings: [Value] = [.text(issuedBy), .text(issuedFrom)]
        if let after {
            sql += " AND (i.customer_id, i.id) > ($3, $4)"
            bindings += after
        }
        sql += " ORDER BY i.customer_id, i.id LIMIT \(limit)"
        return try await lock.locked { try decode(try await run(sql, bindings), t) }
    }

    public func rows(of table: StoreTable, keys: [[String]]) async throws -> [[Value]] {
        let names = table.keyIndices.map { table.columns[$0].sqlName }
        var result: [[Value]] = []
        try await lock.locked {
            for start in stride(from: 0, to: keys.count, by: 1000) {
                let chunk = keys[start..<min(start + 1000, keys.count)]
                var n = 0
                let tuples = chunk.map { _ in "(" + names.map { _ in n += 1; return "$\(n)" }.joined(separator: ", ") + ")" }
                let sql = select(table) + " WHERE (" + names.joined(separator: ", ") + ") IN (" + tuples.joined(separator: ", ") + ")"
                    + orderBy(table)
                result += try decode(try await run(sql, chunk.flatMap { $0.map(Value.text) }), table)
            }
        }
        return result
    }

    public func sendTimes(customerIds: [String], since: Int64) async throws -> [String: [Int64]] {
        let t = Schema.sendTimesColumns
        let ids = Array(Set(customerIds)).sorted()
        var result: [String: [Int64]] = [:]
        try await lock.locked {
            for start in stride(from: 0, to: ids.count, by: 1000) {
                let sql = select(t) + " WHERE customer_id = ANY($1::text[])"
                    + " AND scheduled_at >= \(Self.exactInstant("$2")) AND status <> 'failed'"
                var bindings = PostgresBindings(capacity: 2)
                bindings.append(Array(ids[start..<min(start + 1000, ids.count)]))
                bindings.append(since)
                let rows = try await postgresErrors(sql) {
                    var rows: [PostgresRow] = []
                    for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) {
                        rows.append(row)
                    }
                    return rows
                }
                for row in try decode(rows, t) { result[row[0].text!, default: []].append(row[1].integer!) }
            }
        }
        return result
    }

    public func rows(of table: StoreTable, customerIds: [String]) async throws -> [[Value]] {
        let column = table.name == Schema.customers.name ? "id" : "customer_id"
        let ids = Array(Set(customerIds)).sorted()
        var result: [[Value]] = []
        try await lock.locked {
            for start in stride(from: 0, to: ids.count, by: 1000) {
                let chunk = ids[start..<min(start + 1000, ids.count)]
                let sql = select(table) + " WHERE \(column) = ANY($1::text[])" + orderBy(table)
                var bindings = PostgresBindings(capacity: 1)
                bindings.append(Array(chunk))
                let rows = try await postgresErrors(sql) {
                    var rows: [PostgresRow] = []
                    for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) {
                        rows.append(row)
                    }
                    return rows
                }
                result += try decode(rows, table)
            }
        }
        return result
    }
}
