import FeatureStore
import Foundation
import GRDB
import GRDBSQLite

/// The embedded store: one SQLite file in WAL mode (GRDB `DatabasePool`), foreign keys enforced.
/// Bulk writes bind prepared statements directly inside one transaction.
public final class SQLiteStore: Store {
    public let location: StoreLocation
    let pool: DatabasePool
    /// Rows from which a write is a bulk write (foreign keys checked once per distinct parent key).
    public let bulkRows: Int
    /// `customersSQL` per table name.
    let queryCache = LockedDictionary()
    /// Checkpoints the write-ahead log beside the writer (its commits only signal it).
    let checkpointer: WALCheckpointer

    /// Opens (creating if needed) the SQLite file at `path` and applies pending migrations.
    /// - Throws: `StoreError.database` when the file cannot be opened or migrated.
    /// - Parameter bulkRows: rows from which a write checks foreign keys per distinct parent key
    ///   instead of per row (see `write(_:)`).
    public init(path: String, migrate: Bool = true, bulkRows: Int = 10_000) async throws {
        location = .sqlite(path: path)
        self.bulkRows = bulkRows
        let checkpointer = WALCheckpointer(path: path)
        self.checkpointer = checkpointer
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Bulk imports touch many B-tree pages; 128 MiB of page cache keeps them in memory.
            try db.execute(sql: "PRAGMA cache_size = -131072")
            checkpointer.install(on: db.sqliteConnection!)
        }
        pool = try sqliteErrors("") { try DatabasePool(path: path, configuration: configuration) }
        try checkpointer.start()
        if migrate { try await self.migrate() }
    }

    deinit {
        checkpointer.stop()
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
        let total = batches.reduce(0) { $0 + $1.rows.count }
        guard total >= bulkRows else {
            try sqliteErrors("") {
                try pool.write { db in
                    for batch in batches where !batch.rows.isEmpty {
                        try Self.write(db, batch)
                    }
                }
            }
            return
        }
        // A bulk write checks each foreign key once per distinct parent key after the table's rows
        // are in, instead of once per row as SQLite does. `PRAGMA foreign_keys` only changes outside
        // a transaction, so it is switched off around this one write on the (exclusive) writer
        // connection; the write stays one transaction, and a missing parent rolls all of it back.
        try sqliteErrors("") {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA foreign_keys = OFF")
                defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
                try db.inTransaction(.immediate) {
                    for batch in batches where !batch.rows.isEmpty {
                        try Self.write(db, batch, order: batch.keyOrder(), checkingForeignKeys: true)
                    }
                    return .commit
                }
            }
        }
    }

    /// Checks that rows of one table have their parents (SQLite's own foreign keys of the table,
    /// `PRAGMA foreign_key_list`) with one indexed look-up per distinct parent key, for bulk writes
    /// that switch SQLite's per-row checks off. The insert loop hands it each row it binds, so a
    /// row is fetched from memory once for both (rows in key order sit at random places in memory).
    /// A row with a NULL in a foreign key's columns has no parent to check (SQL's MATCH SIMPLE, as
    /// SQLite does). Parents must be in the database by the time their children are checked: an
    /// earlier batch of the same write, or an earlier write.
    struct ForeignKeyChecker {
        struct Key {
            var parent: String
            var columns: [Int]
            var parentColumns: [String]
            var sql: String
            var statement: Statement
            /// Parent keys checked since the first of their columns (the customer) last changed, and
            /// the one checked last: rows of one parent mostly come together, and comparing in place
            /// spares the key array and its hashing for them.
            var checked = Set<[Value]>()
            var lead: Value? = nil
            var last: [Value] = []
        }
        let table: StoreTable
        let connection: OpaquePointer?
        var keys: [Key] = []

        init(_ db: Database, table: StoreTable) throws {
            self.table = table
            connection = db.sqliteConnection
            var byID: [Int64: (parent: String, from: [String], to: [String])] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?) ORDER BY id, seq",
                                        arguments: [table.name]) {
                let id: Int64 = row["id"], parent: String = row["table"], from: String = row["from"]
                // Every foreign key of the schema names its parent columns (`REFERENCES invoices (customer_id, id)`).
                guard let to: String = row["to"] else { preconditionFailure("foreign key \(table.name).\(from) does not name its parent columns") }
                byID[id, default: (parent, [], [])].from.append(from)
                byID[id]!.to.append(to)
            }
            for id in byID.keys.sorted() {
                let fk = byID[id]!
                let columns = fk.from.map { name in
                    guard let i = table.columns.firstIndex(where: { $0.sqlName == name }) else {
                        preconditionFailure("foreign key column \(table.name).\(name) is not a column of the store's schema")
                    }
                    return i
                }
                let sql = "SELECT 1 FROM \(fk.parent) WHERE " + fk.to.map { "\($0) = ?" }.joined(separator: " AND ")
                keys.append(Key(parent: fk.parent, columns: columns, parentColumns: fk.to, sql: sql, statement: try db.cachedStatement(sql: sql)))
            }
        }

        /// Checks `row`'s parents.
        /// - Throws: `StoreError.database` with SQLite's code for a failed foreign key (787), naming
        ///   the table, the row's key columns and the parent key that does not exist.
        mutating func check(_ row: [Value]) throws {
            for k in keys.indices {
                let columns = keys[k].columns
                var complete = true
                for c in columns where row[c].isNull { complete = false }
                guard complete else { continue }
                if keys[k].last.count == columns.count, columns.indices.allSatisfy({ row[columns[$0]] == keys[k].last[$0] }) { continue }
                if row[columns[0]] != keys[k].lead {
                    keys[k].lead = row[columns[0]]
                    keys[k].checked.removeAll(keepingCapacity: true)
                }
                let parentKey = columns.map { row[$0] }
                keys[k].last = parentKey
                guard keys[k].checked.insert(parentKey).inserted else { continue }
                let s = keys[k].statement.sqliteStatement
                for (i, value) in parentKey.enumerated() { bind(s, Int32(i + 1), value) }
                let rc = sqlite3_step(s)
                sqlite3_reset(s)
                if rc == SQLITE_ROW { continue }
                guard rc == SQLITE_DONE else {
                    throw StoreError.database(backend: "SQLite", code: String(rc), message: String(cString: sqlite3_errmsg(connection)), sql: keys[k].sql)
                }
                let key = table.keyIndices.map { "\(table.columns[$0].sqlName) = \(row[$0])" }.joined(separator: ", ")
                let parent = zip(keys[k].parentColumns, parentKey).map { "\($0) = \($1)" }.joined(separator: ", ")
                throw StoreError.database(
                    backend: "SQLite", code: "787",
                    message: "FOREIGN KEY constraint failed: \(table.name) row (\(key)) refers to \(keys[k].parent) (\(parent)), which does not exist",
                    sql: "")
            }
        }
    }

    /// Writes one table's rows in key order (each B-tree page is then filled once instead of
    /// visited at random). New rows are the usual case of a bulk import, so they go in with a plain
    /// INSERT inside a savepoint; if the database refuses a row (its key exists already, or it breaks
    /// a constraint), the savepoint is rolled back and all rows are upserted by key instead, which
    /// also reports a genuine constraint violation.
    static func write(_ db: Database, _ batch: TableRows) throws {
        try write(db, batch, order: batch.keyOrder())
    }

    /// `write(_:_:)` with the rows' key order (`TableRows.keyOrder()`) computed already; with
    /// `checkingForeignKeys` (SQLite's own checks switched off) each row's parents are looked up
    /// by a `ForeignKeyChecker` as it is bound.
    static func write(_ db: Database, _ batch: TableRows, order: [Int]?, checkingForeignKeys: Bool = false) throws {
        do {
            try db.inSavepoint {
                try insert(db, batch, order, upsert: false, checkingForeignKeys: checkingForeignKeys)
                return .commit
            }
        } catch is ConstraintRefusal {
            do {
                try insert(db, batch, order, upsert: true, checkingForeignKeys: checkingForeignKeys)
            } catch let refusal as ConstraintRefusal {
                throw refusal.error
            }
        }
    }

    /// A row refused by a constraint (SQLite's result code 19 and its extended codes).
    struct ConstraintRefusal: Error {
        var error: StoreError
    }

    /// The INSERT of every column of `table` for `rows` rows; with `upsert`, a row whose key exists
    /// updates it (rows of one statement are applied in order, so a later row of the same key wins).
    static func insertSQL(_ table: StoreTable, upsert: Bool, rows: Int = 1) -> String {
        let columns = table.columns.map(\.sqlName)
        let placeholders: String = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        var sql = "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES "
            + Array(repeating: placeholders, count: rows).joined(separator: ", ")
        if upsert {
            let keys = Set(table.key)
            let updates = table.columns.filter { !keys.contains($0.name) }.map { "\($0.sqlName) = excluded.\($0.sqlName)" }
            let keyList: String = table.keyIndices.map { table.columns[$0].sqlName }.joined(separator: ", ")
            let action: String = updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
            sql += " ON CONFLICT (\(keyList)) DO \(action)"
        }
        return sql
    }

    /// Rows per INSERT statement: a statement of many rows (`VALUES (...), (...), ...`) costs
    /// SQLite's statement overhead once for all of them.
    static let rowsPerStatement = 100

    /// Runs prepared INSERTs of up to `rowsPerStatement` rows each, in `order` (file order when
    /// nil), binding by index; with `checkingForeignKeys`, checks each row's parents as it goes.
    /// - Throws: `ConstraintRefusal` when a constraint refuses a row, `StoreError.database` otherwise.
    static func insert(_ db: Database, _ batch: TableRows, _ order: [Int]?, upsert: Bool, checkingForeignKeys: Bool = false) throws {
        let table = batch.table
        var parents = checkingForeignKeys ? try ForeignKeyChecker(db, table: table) : nil
        let width = table.columns.count
        let limit = Int(sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_VARIABLE_NUMBER, -1))
        let perStatement = max(1, min(rowsPerStatement, limit / width, batch.rows.count))
        let connection = db.sqliteConnection
        var n = 0
        for rows in Set([perStatement, 1]).sorted(by: >) {
            let remaining = batch.rows.count - n
            guard remaining >= rows else { continue }
            let sql = insertSQL(table, upsert: upsert, rows: rows)
            let statement = try db.cachedStatement(sql: sql)  // the service writes many small batches of the same shape
            let s = statement.sqliteStatement
            while batch.rows.count - n >= rows {
                prefetch(batch, order, n..<(n + rows))
                for r in 0..<rows {
                    let row = batch.rows[order?[n + r] ?? n + r]
                    let base = Int32(r * width + 1)
                    for (i, value) in row.enumerated() { bind(s, base + Int32(i), value) }
                    try parents?.check(row)
                }
                let rc = sqlite3_step(s)
                if rc != SQLITE_DONE {
                    let error = StoreError.database(backend: "SQLite", code: String(rc), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
                    sqlite3_reset(s)
                    if rc & 0xFF == SQLITE_CONSTRAINT { throw ConstraintRefusal(error: error) }
                    throw error
                }
                sqlite3_reset(s)
                n += rows
            }
        }
    }

    /// Loads the rows at positions `range` of `order` (file order when nil) into the cache and
    /// checks their widths. Rows in key order sit at random places in memory; touching each of their
    /// cache lines in one tight loop lets the processor overlap the misses, which the bind loop (a
    /// dozen SQLite calls and the foreign-key check per row) would otherwise take one after another:
    /// they were about 80 % of its own time in a 1M-row write.
    static func prefetch(_ batch: TableRows, _ order: [Int]?, _ range: Range<Int>) {
        let width = batch.table.columns.count
        var touched = 0
        for n in range {
            let row = batch.rows[order?[n] ?? n]
            precondition(row.count == width, "row of \(batch.table.name) has \(row.count) values for \(width) columns")
            row.withUnsafeBytes { raw in
                for offset in stride(from: 0, to: raw.count, by: 64) { touched &+= Int(raw[offset]) }
            }
        }
        keep(touched)
    }

    /// Consumes a value so that the loads that produced it are not optimised away.
    @inline(never) @_optimize(none)
    static func keep(_ value: Int) {}

    /// Binds `value` to parameter `k` (text is copied by SQLite before the call returns).
    @inline(__always)
    static func bind(_ s: OpaquePointer?, _ k: Int32, _ value: Value) {
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
        try fetch(table, customersSQL(table), [.text(customers.lowerBound), .text(customers.upperBound)])
    }

    public func rows(of tables: [StoreTable], customers: ClosedRange<String>) async throws -> [String: [[Value]]] {
        // One read transaction for all: a consistent snapshot, and one pool round trip instead of one per table.
        let bindings: [Value] = [.text(customers.lowerBound), .text(customers.upperBound)]
        return try sqliteErrors("") {
            try pool.read { db in
                var result: [String: [[Value]]] = [:]
                for table in tables { result[table.name] = try Self.fetch(db, table, customersSQL(table), bindings) }
                return result
            }
        }
    }

    /// The rows of `table` of the customers between two bound ids, in key order (the customers
    /// table keys customers by `id`; every other table has `customer_id`). Built once per table:
    /// the decision API asks for the same tables on every request.
    func customersSQL(_ table: StoreTable) -> String {
        if let sql = queryCache.withLock({ $0[table.name] }) { return sql }
        let sql = select(table) + " WHERE \(table.name == Schema.customers.name ? "id" : "customer_id") BETWEEN ? AND ?" + orderBy(table)
        queryCache.withLock { $0[table.name] = sql }
        return sql
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
            let sql = "SELECT " + names.joined(separator: ", ") + " FROM \(table.name) WHERE " + Self.keyIn(names, count: chunk.count)
            let keyTable = StoreTable(name: table.name, file: table.file, columns: table.keyIndices.map { table.columns[$0] },
                                 key: table.key, idColumn: table.idColumn)
            for row in try fetch(keyTable, sql, chunk.flatMap { $0.map(Value.text) }) {
                found.insert(row.map { $0.text ?? $0.description })
            }
        }
        return found
    }

    /// `(a, b) IN (SELECT column1, column2 FROM (VALUES (?, ?), ...))` for `count` keys of the columns
    /// `names`. The list goes through a subquery because SQLite (3.40) scans the whole table for a row
    /// value `IN (VALUES ...)`, while it looks each key of the subquery up in the primary key.
    static func keyIn(_ names: [String], count: Int) -> String {
        let tuple = "(" + names.map { _ in "?" }.joined(separator: ", ") + ")"
        return "(" + names.joined(separator: ", ") + ") IN (SELECT " + names.indices.map { "column\($0 + 1)" }.joined(separator: ", ")
            + " FROM (VALUES " + Array(repeating: tuple, count: count).joined(separator: ", ") + "))"
    }

    /// Runs `sql` with `bindings` (in a write transaction when `writing`) and decodes every row by the columns' types.
    func fetch(_ table: StoreTable, _ sql: String, _ bindings: [Value], writing: Bool = false) throws -> [[Value]] {
        try sqliteErrors(sql) {
            let body = { (db: Database) throws -> [[Value]] in try Self.fetch(db, table, sql, bindings) }
            // One statement reads one snapshot by itself (WAL, autocommit): no BEGIN/COMMIT around it.
            return writing ? try pool.write(body) : try pool.unsafeRead(body)
        }
    }

    /// Runs `sql` with `bindings` on `db` and decodes every row by the columns' types.
    static func fetch(_ db: Database, _ table: StoreTable, _ sql: String, _ bindings: [Value]) throws -> [[Value]] {
        // Prepared once per connection and SQL text: compiling (with GRDB's authorizer) cost more
        // than running the small lookups of the service and of a run.
        let statement = try db.cachedStatement(sql: sql)
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
        // The column types once (iterating `table.columns` copied every column's strings for every row).
        let types = table.columns.map(\.type)
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw StoreError.database(backend: "SQLite", code: String(rc),
                                          message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            }
            var row: [Value] = []
            row.reserveCapacity(types.count)
            for (i, type) in types.enumerated() {
                let k = Int32(i)
                if sqlite3_column_type(s, k) == SQLITE_NULL { row.append(.null); continue }
                switch type {
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

    /// Copies the log into the database file and empties it, then closes every connection: a
    /// closed store is one file. (SQLite checkpoints when the last connection closes, but that is
    /// often one of the pool's read-only readers, which cannot: the log stayed behind, up to the
    /// writer's bound in size, and the next opener read through it.)
    public func close() async throws {
        checkpointer.stop()
        try sqliteErrors("PRAGMA wal_checkpoint(TRUNCATE)") {
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
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

/// A string dictionary behind a lock (the store's cache of SQL texts, shared by concurrent readers).
final class LockedDictionary: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: String] = [:]

    func withLock<R>(_ body: (inout [String: String]) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&values)
    }
}
