import FeatureStore
import Foundation
import PostgresNIO

/// The scale store: PostgreSQL over one connection (postgres-nio). Bulk writes stream rows with
/// `COPY ... FROM STDIN` into a temporary staging table and upsert from there, all in one
/// transaction. Calls on one store are serialised.
public final class PostgresStore: Store {
    public let location: StoreLocation
    let connection: PostgresConnection
    let logger: Logger
    let lock = AsyncLock()

    /// Rows from which a write of one table checks the table's foreign keys once for the whole table
    /// instead of row by row (see `suspendForeignKeys`).
    public let bulkRows: Int

    /// Connects to the server of `pg` (TCP without TLS, or its unix socket when `socketDirectory`
    /// is set) and applies pending migrations.
    /// - Parameter bulkRows: rows from which a write of one table is a bulk write.
    /// - Throws: `StoreError.database` when the server cannot be reached or a migration fails.
    public init(_ pg: PostgresLocation, migrate: Bool = true, bulkRows: Int = 50_000) async throws {
        location = .postgres(pg)
        self.bulkRows = bulkRows
        var logger = Logger(label: "pom.store.postgres")
        logger.logLevel = .critical
        self.logger = logger
        let configuration: PostgresConnection.Configuration
        if let directory = pg.socketDirectory {
            configuration = .init(unixSocketPath: directory + "/.s.PGSQL.\(pg.port)", username: pg.user,
                                  password: pg.password, database: pg.database)
        } else {
            configuration = .init(host: pg.host, port: pg.port, username: pg.user, password: pg.password,
                                  database: pg.database, tls: .disable)
        }
        connection = try await postgresErrors("connect to \(pg)") {
            try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        }
        if let schema = pg.schema {
            _ = try await run("CREATE SCHEMA IF NOT EXISTS \(schema)")
            _ = try await run("SET search_path TO \(schema)")
        }
        if migrate { try await self.migrate() }
    }

    func run(_ sql: String, _ binds: [Value] = []) async throws -> [PostgresRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for b in binds {
            switch b {
            case .null: bindings.appendNull()
            case .integer(let v): try bindings.append(v)
            case .real(let v): try bindings.append(v)
            case .text(let s): try bindings.append(s)
            }
        }
        return try await postgresErrors(sql) {
            var rows: [PostgresRow] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) {
                rows.append(row)
            }
            return rows
        }
    }

    func transaction<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        _ = try await run("BEGIN")
        do {
            let result = try await body()
            _ = try await run("COMMIT")
            return result
        } catch {
            _ = try? await run("ROLLBACK")
            throw error
        }
    }

    @discardableResult
    public func migrate() async throws -> [Int] {
        try await lock.locked {
            _ = try await run("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint NOT NULL PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """)
            // Each migration in its own transaction; the table lock serialises concurrent migrators
            // (several workers starting at once), which re-read what is applied once they hold it.
            var done: [Int] = []
            while true {
                let next: Int? = try await transaction {
                    _ = try await run("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                    let pending = try Migration.pending(known: postgresMigrations, applied: try await appliedUnlocked())
                    guard let migration = pending.first else { return nil }
                    for statement in Self.statements(migration.sql) { _ = try await run(statement) }
                    _ = try await run("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                      [.integer(Int64(migration.version)), .text(migration.name), .text(migration.checksum)])
                    return migration.version
                }
                guard let next else { return done }
                done.append(next)
            }
        }
    }

    /// The statements of a migration: split at a `;` that ends a line.
    static func statements(_ sql: String) -> [String] {
        var result: [String] = []
        var current = ""
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            current += line + "\n"
            if line.trimmingCharacters(in: .whitespaces).hasSuffix(";") {
                result.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { result.append(rest) }
        return result
    }

    private func appliedUnlocked() async throws -> [AppliedMigration] {
        try await run("SELECT version, name, checksum FROM schema_migrations ORDER BY version").map { row in
            let (v, n, c) = try row.decode((Int64, String, String).self)
            return AppliedMigration(version: Int(v), name: n, checksum: c)
        }
    }

    public func appliedMigrations() async throws -> [AppliedMigration] {
        try await lock.locked { try await appliedUnlocked() }
    }

    public func databaseColumns(of table: String) async throws -> [String] {
        try await lock.locked {
            try await run("""
                SELECT column_name::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position
                """, [.text(table)]).map { try $0.decode(String.self) }
        }
    }

    public func write(_ batches: [TableRows]) async throws {
        try await lock.locked {
            try await transaction {
                // The import is atomic either way; not waiting for the WAL flush at COMMIT only means a
                // crash right after it may lose the whole import (never part of it), which importing
                // the same files again repairs.
                _ = try await run("SET LOCAL synchronous_commit TO off")
                for batch in batches where !batch.rows.isEmpty { try await write(batch) }
            }
        }
    }

    /// Writes one table's rows in key order (each index page is then filled once instead of visited
    /// at random). New rows are the usual case of a bulk import, so they are copied straight into
    /// the table inside a savepoint; if a key exists already, the savepoint is rolled back and the
    /// rows are upserted from a staging table instead.
    func write(_ batch: TableRows) async throws {
        let order = batch.keyOrder()
        if batch.rows.count < min(Self.smallRows, bulkRows) {
            try await upsertByValues(batch, order)
            return
        }
        let suspended = try await suspendForeignKeys(batch)
        _ = try await run("SAVEPOINT pom_copy")
        do {
            try await copy(batch, order, into: batch.table.name)
            _ = try await run("RELEASE SAVEPOINT pom_copy")
        } catch let error as StoreError where error.isUniqueViolation {
            _ = try await run("ROLLBACK TO SAVEPOINT pom_copy")
            _ = try await run("RELEASE SAVEPOINT pom_copy")
            try await upsert(batch, order)
        }
        if !suspended.isEmpty {
            _ = try await run("ALTER TABLE \(batch.table.name) " + suspended.map { "ADD CONSTRAINT \(quoted($0.name)) \($0.definition)" }.joined(separator: ", "))
        }
    }

    /// Rows below which (and below `bulkRows`) a write of one table is one `INSERT ... VALUES ... ON CONFLICT DO UPDATE`
    /// per 1,000 rows (a round trip each) rather than a COPY: the orchestrator writes batches of a few
    /// hundred rows whose keys mostly exist, where a COPY would fail and retry through a staging table.
    static let smallRows = 2_000

    /// Upserts the rows (in `order`) with multi-row `INSERT ... VALUES ... ON CONFLICT (key) DO UPDATE`.
    private func upsertByValues(_ batch: TableRows, _ order: [Int]?) async throws {
        let table = batch.table
        let width = table.columns.count
        let keys = Set(table.key)
        let updates = table.columns.filter { !keys.contains($0.name) }.map { "\($0.sqlName) = excluded.\($0.sqlName)" }
        let keyList: String = table.keyIndices.map { table.columns[$0].sqlName }.joined(separator: ", ")
        let action: String = updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
        let head = "INSERT INTO \(table.name) (" + table.columns.map(\.sqlName).joined(separator: ", ") + ") VALUES "
        let perStatement = min(1000, 60_000 / width)
        for start in stride(from: 0, to: batch.rows.count, by: perStatement) {
            let end = min(start + perStatement, batch.rows.count)
            var n = 0
            var bindings: [Value] = []
            bindings.reserveCapacity((end - start) * width)
            var tuples: [String] = []
            tuples.reserveCapacity(end - start)
            for i in start..<end {
                let row = batch.rows[order?[i] ?? i]
                precondition(row.count == width, "row of \(table.name) has \(row.count) values for \(width) columns")
                tuples.append("(" + table.columns.map { column -> String in
                    n += 1
                    switch column.type {
                    case .instant: return Self.exactInstant("$\(n)")
                    case .date: return "$\(n)::date"
                    case .localTime: return "$\(n)::timestamp"
                    case .boolean: return "($\(n)::int8 <> 0)"
                    default: return "$\(n)"
                    }
                }.joined(separator: ", ") + ")")
                bindings += row
            }
            _ = try await run(head + tuples.joined(separator: ", ") + " ON CONFLICT (\(keyList)) DO \(action)", bindings)
        }
    }

    /// The `timestamptz` of an int8 parameter of microseconds since the epoch, exact to the
    /// microsecond over the whole range (whole seconds through float8, which holds them exactly,
    /// plus the remaining microseconds as an interval).
    static func exactInstant(_ parameter: String) -> String {
        "(to_timestamp((\(parameter)::int8 / 1000000)::float8) + (\(parameter)::int8 % 1000000) * interval '1 microsecond')"
    }

    /// For a bulk write (at least `bulkRows` rows, into a table not much larger than the batch),
    /// drops the table's foreign keys inside the write's transaction and returns them, to be added
    /// back — and so checked for every row of the table in one join — once the rows are in.
    /// PostgreSQL checks a foreign key row by row with a query per row, which costs more than the
    /// insert itself; checked whole, a million rows take about a second. The transaction holds the
    /// table exclusively until it commits, and if any row fails the check, the whole write is rolled
    /// back with the constraints as they were.
    private func suspendForeignKeys(_ batch: TableRows) async throws -> [(name: String, definition: String)] {
        guard batch.rows.count >= bulkRows else { return [] }
        let table = batch.table.name
        // The table's size in rows, over-estimated at 100 bytes a row.
        let bytes = try await run("SELECT pg_relation_size('\(table)'::regclass)::int8")[0].decode(Int64.self)
        guard bytes / 100 <= 4 * Int64(batch.rows.count) else { return [] }
        let keys = try await run("""
            SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = '\(table)'::regclass AND contype = 'f' ORDER BY conname
            """).map { row in
            let (name, definition) = try row.decode((String, String).self)
            return (name: name, definition: definition)
        }
        if !keys.isEmpty {
            _ = try await run("ALTER TABLE \(table) " + keys.map { "DROP CONSTRAINT \(quoted($0.name))" }.joined(separator: ", "))
        }
        return keys
    }

    /// Copies the rows (in `order`, file order when nil) into table `name` with `COPY ... FROM STDIN`
    /// in text format, in chunks of 1 MiB.
    private func copy(_ batch: TableRows, _ order: [Int]?, into name: String) async throws {
        let table = batch.table
        try await postgresErrors("COPY \(name) FROM STDIN") {
            try await connection.copyFrom(table: name, columns: table.columns.map(\.sqlName), logger: logger) { writer in
                var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
                for n in 0..<batch.rows.count {
                    Self.appendCopyLine(batch.rows[order?[n] ?? n], table, &buffer)
                    if buffer.readableBytes >= 1 << 20 {
                        try await writer.write(buffer)
                        buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
                    }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
            }
        }
    }

    /// Upserts the rows by key: COPY into a temporary staging table, then one
    /// `INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE`.
    private func upsert(_ batch: TableRows, _ order: [Int]?) async throws {
        let table = batch.table
        let stage = "stage_" + table.name
        let columns = table.columns.map(\.sqlName).joined(separator: ", ")
        _ = try await run("CREATE TEMPORARY TABLE \(stage) (LIKE \(table.name)) ON COMMIT DROP")
        try await copy(batch, order, into: stage)
        let keys = Set(table.key)
        let updates = table.columns.filter { !keys.contains($0.name) }.map { "\($0.sqlName) = excluded.\($0.sqlName)" }
        let keyList: String = table.keyIndices.map { table.columns[$0].sqlName }.joined(separator: ", ")
        let action: String = updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
        _ = try await run("INSERT INTO \(table.name) (\(columns)) SELECT \(columns) FROM \(stage) ON CONFLICT (\(keyList)) DO \(action)")
        _ = try await run("DROP TABLE \(stage)")
    }

    /// One row in COPY's text format: tab-separated, `\N` for NULL, backslash escapes; numbers and
    /// instants are written as digits straight into the buffer.
    static func appendCopyLine(_ row: [Value], _ table: StoreTable, _ buffer: inout ByteBuffer) {
        for (i, value) in row.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            switch (table.columns[i].type, value) {
            case (_, .null): buffer.writeStaticString("\\N")
            case (.instant, .integer(let micros)): appendInstant(micros, &buffer)
            case (.boolean, .integer(let v)): buffer.writeStaticString(v != 0 ? "t" : "f")
            case (_, .integer(let v)): appendDecimal(v, &buffer)
            case (_, .real(let v)): buffer.writeString("\(v)")
            case (_, .text(var s)):
                s.withUTF8 { bytes in
                    var start = 0
                    for (k, c) in bytes.enumerated() where c == 0x5C || c == 0x09 || c == 0x0A || c == 0x0D {
                        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<k]))
                        buffer.writeInteger(UInt8(ascii: "\\"))
                        buffer.writeInteger(c == 0x5C ? c : c == 0x09 ? UInt8(ascii: "t") : c == 0x0A ? UInt8(ascii: "n") : UInt8(ascii: "r"))
                        start = k + 1
                    }
                    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// The decimal digits of `v`.
    static func appendDecimal(_ v: Int64, _ buffer: inout ByteBuffer) {
        if v < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        var magnitude = v.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, enough for 20 digits
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[23 - n] = UInt8(truncatingIfNeeded: magnitude % 10) + 48
                magnitude /= 10
                n += 1
            } while magnitude > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: d[(24 - n)...]))
        }
    }

    /// An instant (microseconds since the epoch) as `YYYY-MM-DD HH:MM:SS[.ffffff]+00`, the form
    /// PostgreSQL reads for `timestamptz`.
    static func appendInstant(_ micros: Int64, _ buffer: inout ByteBuffer) {
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        let (y, m, d) = CivilTime.date(days: Int(days))
        guard (0...9999).contains(y) else {
            buffer.writeString(CivilTime.formatInstant(micros: micros))
            return
        }
        var text: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes
        withUnsafeMutableBytes(of: &text) { t in
            func put(_ v: Int, _ at: Int, _ width: Int) {
                var v = v
                for k in stride(from: at + width - 1, through: at, by: -1) { t[k] = UInt8(v % 10) + 48; v /= 10 }
            }
            put(y, 0, 4); t[4] = UInt8(ascii: "-"); put(m, 5, 2); t[7] = UInt8(ascii: "-"); put(d, 8, 2)
            t[10] = UInt8(ascii: " ")
            put(Int(rest / 3600), 11, 2); t[13] = UInt8(ascii: ":"); put(Int(rest / 60 % 60), 14, 2); t[16] = UInt8(ascii: ":")
            put(Int(rest % 60), 17, 2)
            var n = 19
            if fraction != 0 { t[19] = UInt8(ascii: "."); put(Int(fraction), 20, 6); n = 26 }
            t[n] = UInt8(ascii: "+"); t[n + 1] = UInt8(ascii: "0"); t[n + 2] = UInt8(ascii: "0")
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: t[0..<n + 3]))
        }
    }

    public func count(_ table: StoreTable) async throws -> Int {
        try await lock.locked {
            Int(try await run("SELECT count(*)::int8 FROM \(table.name)")[0].decode(Int64.self))
        }
    }

    /// The select list: every column converted to the shared `Value` representation.
    func select(_ table: StoreTable) -> String {
        "SELECT " + selectList(table) + " FROM \(table.name)"
    }

    /// Every column of `table` converted to the shared `Value` representation, each prefixed with
    /// `qualifier.` when given.
    func selectList(_ table: StoreTable, qualifier: String? = nil) -> String {
        table.columns.map { c in
            let name = qualifier.map { "\($0).\(c.sqlName)" } ?? c.sqlName
            switch c.type {
            case .instant: return "(extract(epoch FROM \(name)) * 1000000)::int8"
            case .date: return "\(name)::text"
            case .localTime: return "to_char(\(name), 'YYYY-MM-DD\"T\"HH24:MI:SS')"
            case .boolean: return "\(name)::int4::int8"
            default: return name
            }
        }.joined(separator: ", ")
    }

    func orderBy(_ table: StoreTable) -> String {
        " ORDER BY " + table.keyIndices.map { table.columns[$0].sqlName }.joined(separator: ", ")
    }

    func decode(_ rows: [PostgresRow], _ table: StoreTable) throws -> [[Value]] {
        // The column types once (iterating `table.columns` copied every column's strings for every row).
        let types = table.columns.map(\.type)
        return try rows.map { row in
            var values: [Value] = []
            values.reserveCapacity(types.count)
            for (cell, type) in zip(row, types) {
                switch type {
                case .real: values.append(try cell.decode(Double?.self).map(Value.real) ?? .null)
                case .integer, .instant, .boolean: values.append(try cell.decode(Int64?.self).map(Value.integer) ?? .null)
                case .text, .date, .localTime, .actionSet, .word: values.append(try cell.decode(String?.self).map(Value.text) ?? .null)
                }
            }
            return values
        }
    }

    public func rows(of table: StoreTable, after: [Value]?, limit: Int) async throws -> [[Value]] {
        var sql = select(table)
        if let after {
            let keys = table.keyIndices.map { table.columns[$0].sqlName }
            sql += " WHERE (" + keys.joined(separator: ", ") + ") > ("
                + (1...keys.count).map { "$\($0)" }.joined(separator: ", ") + ")"
        }
        sql += orderBy(table) + " LIMIT \(limit)"
        return try await lock.locked { try decode(try await run(sql, after ?? []), table) }
    }

    public func rows(of table: StoreTable, customers: ClosedRange<String>) async throws -> [[Value]] {
        // The customers table keys customers by `id`; every other table has `customer_id`.
        let column = table.name == Schema.customers.name ? "id" : "customer_id"
        let sql = select(table) + " WHERE \(column) BETWEEN $1 AND $2" + orderBy(table)
        return try await lock.locked {
            try decode(try await run(sql, [.text(customers.lowerBound), .text(customers.upperBound)]), table)
        }
    }

    public func maxInstant(of column: String, in table: StoreTable) async throws -> Int64? {
        let c = table.columns[table.index(column)]
        precondition(c.type == .instant, "maxInstant: \(table.name).\(column) is not an instant column")
        return try await lock.locked {
            try await run("SELECT (extract(epoch FROM max(\(c.sqlName))) * 1000000)::int8 FROM \(table.name)")[0].decode(Int64?.self)
        }
    }

    public func existing(_ keys: Set<[String]>, in table: StoreTable) async throws -> Set<[String]> {
        let names = table.keyIndices.map { table.columns[$0].sqlName }
        let keyList = Array(keys)
        var found = Set<[String]>()
        try await lock.locked {
            for start in stride(from: 0, to: keyList.count, by: 1000) {
                let chunk = keyList[start..<min(start + 1000, keyList.count)]
                var n = 0
                let tuples = chunk.map { _ in
                    "(" + names.map { _ in n += 1; return "$\(n)::text" }.joined(separator: ", ") + ")"
                }
                let sql = "SELECT " + names.map { "\($0)::text" }.joined(separator: ", ") + " FROM \(table.name) WHERE ("
                    + names.joined(separator: ", ") + ") IN (VALUES " + tuples.joined(separator: ", ") + ")"
                for row in try await run(sql, chunk.flatMap { $0.map(Value.text) }) {
                    found.insert(try row.map { try $0.decode(String.self) })
                }
            }
        }
        return found
    }

    public func close() async throws {
        try await postgresErrors("close") { try await connection.close() }
    }

    /// A store dropped without `close()` (an error path, a failing test) still closes its
    /// connection; the close keeps the connection alive until the socket is shut.
    deinit {
        let connection = self.connection
        if !connection.isClosed {
            connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
        }
    }
}

/// An SQL identifier in double quotes.
func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

extension StoreError {
    /// Whether this is PostgreSQL's unique_violation (SQLSTATE 23505): a key that exists already.
    var isUniqueViolation: Bool {
        if case .database("PostgreSQL", "23505", _, _) = self { return true }
        return false
    }
}

/// Runs `body`, turning postgres-nio's errors into `StoreError.database` with the SQL and SQLSTATE.
func postgresErrors<T>(_ sql: String, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as PSQLError {
        let server = error.serverInfo
        let message = [server?[.message], server?[.detail]].compactMap { $0 }.joined(separator: " — ")
        throw StoreError.database(backend: "PostgreSQL", code: server?[.sqlState] ?? "\(error.code)",
                                  message: message.isEmpty ? String(reflecting: error) : message, sql: sql)
    }
}

/// A FIFO mutual-exclusion lock for async code.
actor AsyncLock {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    nonisolated func locked<T>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}
