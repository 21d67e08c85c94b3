import FeatureStore
import Foundation
import GRDB
import GRDBSQLite

/// The embedded store: one SQLite file in WAL mode (GRDB `DatabasePool`), foreign keys enforced.
/// Bulk writes bind prepared statements directly inside one transaction.
public final class SQLiteStore: Store {
    public let location: StoreLocation
    let pool: DatabasePool

    /// Opens (creating if needed) the SQLite file at `path` and applies pending migrations.
    /// - Throws: `StoreError.database` when the file cannot be opened or migrated.
    public init(path: String, migrate: Bool = true) async throws {
        location = .sqlite(path: path)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Bulk imports touch many B-tree pages; 128 MiB of page cache keeps them in memory.
            try db.execute(sql: "PRAGMA cache_size = -131072")
        }
        pool = try sqliteErrors("") { try DatabasePool(path: path, configuration: configuration) }
        if migrate { try await self.migrate() }
    }

    @discardableResult
    public func migrate() async throws -> [Int] {
        try sqliteErrors("") {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INTEGER NOT NULL PRIMARY KEY,
                        name TEXT NOT NULL,
                        checksum TEXT NOT NULL,
                        applied_at INTEGER NOT NULL)
                    """)
                let applied = try Self.applied(db)
                let pending = try Migration.pending(known: sqliteMigrations, applied: applied)
                for migration in pending {
                    try db.inTransaction {
                        try db.execute(sql: migration.sql)
                        try db.execute(
                            sql: "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                            arguments: [migration.version, migration.name, migration.checksum,
                                        Int64(Date().timeIntervalSince1970 * 1_000_000)])
                        return .commit
                    }
                }
                return pending.map(\.version)
            }
        }
    }

    static func applied(_ db: Database) throws -> [AppliedMigration] {
        try Row.fetchAll(db, sql: "SELECT version, name, checksum FROM schema_migrations ORDER BY version").map {
            AppliedMigration(version: $0["version"], name: $0["name"], checksum: $0["checksum"])
        }
    }

    public func appliedMigrations() async throws -> [AppliedMigration] {
        try sqliteErrors("") { try pool.read { try Self.applied($0) } }
    }

    public func databaseColumns(of table: String) async throws -> [String] {
        try sqliteErrors("") { try pool.read { db in try db.columns(in: table).map(\.name) } }
    }

    public func write(_ batches: [TableRows]) async throws {
        try sqliteErrors("") {
            try pool.write { db in
                for batch in batches where !batch.rows.isEmpty {
                    try Self.write(db, batch)
                }
            }
        }
    }

    /// Writes one table's rows in key order (each B-tree page is then filled once instead of
    /// visited at random). New rows are the usual case of a bulk import, so they go in with a plain
    /// INSERT inside a savepoint; if the database refuses a row (its key exists already, or it breaks
    /// a constraint), the savepoint is rolled back and all rows are upserted by key instead, which
    /// also reports a genuine constraint violation.
    static func write(_ db: Database, _ batch: TableRows) throws {
        let order = batch.keyOrder()
        do {
            try db.inSavepoint {
                try insert(db, batch, order, upsert: false)
                return .commit
            }
        } catch is ConstraintRefusal {
            do {
                try insert(db, batch, order, upsert: true)
            } catch let refusal as ConstraintRefusal {
                throw refusal.error
            }
        }
    }

    /// A row refused by a constraint (SQLite's result code 19 and its extended codes).
    struct ConstraintRefusal: Error {
        var error: StoreError
    }

    /// The INSERT of every column of `table`; with `upsert`, a row whose key exists updates it.
    static func insertSQL(_ table: StoreTable, upsert: Bool) -> String {
        let columns = table.columns.map(\.sqlName)
        let placeholders: String = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        var sql = "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))"
        if upsert {
            let keys = Set(table.key)
            let updates = table.columns.filter { !keys.contains($0.name) }.map { "\($0.sqlName) = excluded.\($0.sqlName)" }
            let keyList: String = table.keyIndices.map { table.columns[$0].sqlName }.joined(separator: ", ")
            let action: String = updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
            sql += " ON CONFLICT (\(keyList)) DO \(action)"
        }
        return sql
    }

    /// Runs one prepared INSERT per row, in `order` (file order when nil), binding by index.
    /// - Throws: `ConstraintRefusal` when a constraint refuses a row, `StoreError.database` otherwise.
    static func insert(_ db: Database, _ batch: TableRows, _ order: [Int]?, upsert: Bool) throws {
        let table = batch.table
        let sql = insertSQL(table, upsert: upsert)
        let statement = try db.makeStatement(sql: sql)
        let s = statement.sqliteStatement
        let connection = db.sqliteConnection
        let width = table.columns.count
        for n in 0..<batch.rows.count {
            let row = batch.rows[order?[n] ?? n]
            precondition(row.count == width, "row of \(table.name) has \(row.count) values for \(width) columns")
            for (i, value) in row.enumerated() {
                let k = Int32(i + 1)
                switch value {
                case .null: sqlite3_bind_null(s, k)
                case .integer(let v): sqlite3_bind_int64(s, k, v)
                case .real(let v): sqlite3_bind_double(s, k, v)
                case .text(var t):
                    t.withUTF8 { b in
                        _ = sqlite3_bind_text(s, k, UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: CChar.self),
                                              Int32(b.count), SQLITE_TRANSIENT_POINTER)
                    }
                }
            }
            let rc = sqlite3_step(s)
            if rc != SQLITE_DONE {
                let error = StoreError.database(backend: "SQLite", code: String(rc), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
                sqlite3_reset(s)
                if rc & 0xFF == SQLITE_CONSTRAINT { throw ConstraintRefusal(error: error) }
                throw error
            }
            sqlite3_reset(s)
        }
    }

    public func count(_ table: StoreTable) async throws -> Int {
        try sqliteErrors("") { try pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(table.name)") ?? 0 } }
    }

    func select(_ table: StoreTable) -> String {
        "SELECT " + table.columns.map(\.sqlName).joined(separator: ", ") + " FROM \(table.name)"
    }

    func orderBy(_ table: StoreTable) -> String {
        " ORDER BY " + table.keyIndices.map { table.columns[$0].sqlName }.joined(separator: ", ")
    }

    public func rows(of table: StoreTable, after: [Value]?, limit: Int) async throws -> [[Value]] {
        var sql = select(table)
        var bindings: [Value] = []
        if let after {
            let keys = table.keyIndices.map { table.columns[$0].sqlName }
            sql += " WHERE (" + keys.joined(separator: ", ") + ") > (" + keys.map { _ in "?" }.joined(separator: ", ") + ")"
            bindings = after
        }
        sql += orderBy(table) + " LIMIT \(limit)"
        return try fetch(table, sql, bindings)
    }

    public func rows(of table: StoreTable, customers: ClosedRange<String>) async throws -> [[Value]] {
        // The customers table keys customers by `id`; every other table has `customer_id`.
        try fetch(table, select(table) + " WHERE \(table.name == Schema.customers.name ? "id" : "customer_id") BETWEEN ? AND ?" + orderBy(table),
                  [.text(customers.lowerBound), .text(customers.upperBound)])
    }

    public func maxInstant(of column: String, in table: StoreTable) async throws -> Int64? {
        let c = table.columns[table.index(column)]
        precondition(c.type == .instant, "maxInstant: \(table.name).\(column) is not an instant column")
        return try sqliteErrors("") { try pool.read { try Int64.fetchOne($0, sql: "SELECT max(\(c.sqlName)) FROM \(table.name)") } }
    }

    public func existing(_ keys: Set<[String]>, in table: StoreTable) async throws -> Set<[String]> {
        let names = table.keyIndices.map { table.columns[$0].sqlName }
        let keyList = Array(keys)
        var found = Set<[String]>()
        for start in stride(from: 0, to: keyList.count, by: 300) {
            let chunk = keyList[start..<min(start + 300, keyList.count)]
            let tuple = "(" + names.map { _ in "?" }.joined(separator: ", ") + ")"
            let sql = "SELECT " + names.joined(separator: ", ") + " FROM \(table.name) WHERE (" + names.joined(separator: ", ")
                + ") IN (VALUES " + Array(repeating: tuple, count: chunk.count).joined(separator: ", ") + ")"
            let keyTable = StoreTable(name: table.name, file: table.file, columns: table.keyIndices.map { table.columns[$0] },
                                 key: table.key, idColumn: table.idColumn)
            for row in try fetch(keyTable, sql, chunk.flatMap { $0.map(Value.text) }) {
                found.insert(row.map { $0.text ?? $0.description })
            }
        }
        return found
    }

    /// Runs `sql` with `bindings` (in a write transaction when `writing`) and decodes every row by the columns' types.
    func fetch(_ table: StoreTable, _ sql: String, _ bindings: [Value], writing: Bool = false) throws -> [[Value]] {
        try sqliteErrors(sql) {
            let body = { (db: Database) throws -> [[Value]] in
                let statement = try db.makeStatement(sql: sql)
                let s = statement.sqliteStatement
                for (i, value) in bindings.enumerated() {
                    let k = Int32(i + 1)
                    switch value {
                    case .null: sqlite3_bind_null(s, k)
                    case .integer(let v): sqlite3_bind_int64(s, k, v)
                    case .real(let v): sqlite3_bind_double(s, k, v)
                    case .text(let t): sqlite3_bind_text(s, k, t, -1, SQLITE_TRANSIENT_POINTER)
                    }
                }
                defer { sqlite3_reset(s) }
                var result: [[Value]] = []
                while true {
                    let rc = sqlite3_step(s)
                    if rc == SQLITE_DONE { break }
                    guard rc == SQLITE_ROW else {
                        throw StoreError.database(backend: "SQLite", code: String(rc),
                                                  message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
                    }
                    var row: [Value] = []
                    row.reserveCapacity(table.columns.count)
                    for (i, column) in table.columns.enumerated() {
                        let k = Int32(i)
                        if sqlite3_column_type(s, k) == SQLITE_NULL { row.append(.null); continue }
                        switch column.type {
                        case .real: row.append(.real(sqlite3_column_double(s, k)))
                        case .integer, .instant, .boolean: row.append(.integer(sqlite3_column_int64(s, k)))
                        case .text, .date, .localTime, .actionSet, .word:
                            let n = Int(sqlite3_column_bytes(s, k))
                            let p = sqlite3_column_text(s, k)!
                            row.append(.text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)))
                        }
                    }
                    result.append(row)
                }
                return result
            }
            return writing ? try pool.write(body) : try pool.read(body)
        }
    }

    public func close() async throws {
        try sqliteErrors("") { try pool.close() }
    }
}

/// SQLite's `SQLITE_TRANSIENT`: the library copies bound text before the call returns.
let SQLITE_TRANSIENT_POINTER = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// Runs `body`, turning GRDB's `DatabaseError` into `StoreError.database` with the SQL and result code.
func sqliteErrors<T>(_ sql: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as DatabaseError {
        throw StoreError.database(backend: "SQLite", code: "\(error.extendedResultCode.rawValue)",
                                  message: error.message ?? "\(error)", sql: error.sql ?? sql)
    }
}
