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

    /// Connects to the server of `pg` (TCP without TLS, or its unix socket when `socketDirectory`
    /// is set) and applies pending migrations.
    /// - Throws: `StoreError.database` when the server cannot be reached or a migration fails.
    public init(_ pg: PostgresLocation, migrate: Bool = true) async throws {
        location = .postgres(pg)
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

    private func run(_ sql: String, _ binds: [Value] = []) async throws -> [PostgresRow] {
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

    private func transaction<T: Sendable>(_ body: () async throws -> T) async throws -> T {
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
                for batch in batches where !batch.rows.isEmpty { try await upsert(batch) }
            }
        }
    }

    private func upsert(_ batch: TableRows) async throws {
        let table = batch.table
        let stage = "stage_" + table.name
        let columns = table.columns.map(\.sqlName).joined(separator: ", ")
        _ = try await run("CREATE TEMPORARY TABLE \(stage) (LIKE \(table.name)) ON COMMIT DROP")
        try await postgresErrors("COPY \(stage) FROM STDIN") {
            try await connection.copyFrom(table: stage, columns: table.columns.map(\.sqlName), logger: logger) { writer in
                var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
                for row in batch.rows {
                    Self.appendCopyLine(row, table, &buffer)
                    if buffer.readableBytes >= 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
            }
        }
        let keys = Set(table.key)
        let updates = table.columns.filter { !keys.contains($0.name) }.map { "\($0.sqlName) = excluded.\($0.sqlName)" }
        let keyList: String = table.keyIndices.map { table.columns[$0].sqlName }.joined(separator: ", ")
        let action: String = updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
        _ = try await run("INSERT INTO \(table.name) (\(columns)) SELECT \(columns) FROM \(stage) ON CONFLICT (\(keyList)) DO \(action)")
        _ = try await run("DROP TABLE \(stage)")
    }

    /// One row in COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
    static func appendCopyLine(_ row: [Value], _ table: StoreTable, _ buffer: inout ByteBuffer) {
        for (i, value) in row.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            switch (table.columns[i].type, value) {
            case (_, .null): buffer.writeStaticString("\\N")
            case (.instant, .integer(let micros)): buffer.writeString(CivilTime.formatInstant(micros: micros))
            case (.boolean, .integer(let v)): buffer.writeStaticString(v != 0 ? "t" : "f")
            case (_, .integer(let v)): buffer.writeString(String(v))
            case (_, .real(let v)): buffer.writeString("\(v)")
            case (_, .text(let s)):
                var s = s
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

    public func count(_ table: StoreTable) async throws -> Int {
        try await lock.locked {
            Int(try await run("SELECT count(*)::int8 FROM \(table.name)")[0].decode(Int64.self))
        }
    }

    /// The select list: every column converted to the shared `Value` representation.
    private func select(_ table: StoreTable) -> String {
        "SELECT " + table.columns.map { c in
            switch c.type {
            case .instant: return "(extract(epoch FROM \(c.sqlName)) * 1000000)::int8"
            case .date: return "\(c.sqlName)::text"
            case .localTime: return "to_char(\(c.sqlName), 'YYYY-MM-DD\"T\"HH24:MI:SS')"
            case .boolean: return "\(c.sqlName)::int4::int8"
            default: return c.sqlName
            }
        }.joined(separator: ", ") + " FROM \(table.name)"
    }

    private func orderBy(_ table: StoreTable) -> String {
        " ORDER BY " + table.keyIndices.map { table.columns[$0].sqlName }.joined(separator: ", ")
    }

    private func decode(_ rows: [PostgresRow], _ table: StoreTable) throws -> [[Value]] {
        try rows.map { row in
            var values: [Value] = []
            values.reserveCapacity(table.columns.count)
            for (cell, column) in zip(row, table.columns) {
                switch column.type {
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
