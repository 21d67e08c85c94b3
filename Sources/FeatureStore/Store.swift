/// Where a store lives, as given by `--store`: `sqlite:path/to/pom.sqlite` (the embedded
/// default) or `postgres://user[:password]@host[:port]/database[?host=/socket/dir]`.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// Parses a `--store` URL.
    /// - Throws: `StoreError.badLocation` saying which forms are accepted.
    public init(_ url: String) throws {
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw StoreError.badLocation(url, "the SQLite form needs a file path: sqlite:path/to/pom.sqlite") }
            self = .sqlite(path: path)
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(url))
        } else {
            throw StoreError.badLocation(url, "expected sqlite:PATH or postgres://user@host:port/database")
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let p): return p.description
        }
    }
}

/// The parts of a `postgres://` URL.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    /// A directory holding the server's unix socket (`?host=/dir`), used instead of TCP when set.
    public var socketDirectory: String?
    /// The schema (namespace) holding pom's tables (`?schema=name`), created if missing; the
    /// server's default search path when nil.
    public var schema: String?

    public init(user: String, password: String? = nil, host: String = "127.0.0.1", port: Int = 5432,
                database: String, socketDirectory: String? = nil, schema: String? = nil) {
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.socketDirectory = socketDirectory
        self.schema = schema
    }

    init(_ url: String) throws {
        let bad = { (why: String) in StoreError.badLocation(url, why) }
        var rest = Substring(url[url.range(of: "://")!.upperBound...])
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") { query = rest[rest.index(after: q)...]; rest = rest[..<q] }
        guard let slash = rest.firstIndex(of: "/") else { throw bad("no database name: postgres://user@host:port/database") }
        let database = String(rest[rest.index(after: slash)...])
        var authority = rest[..<slash]
        var user = "postgres", password: String? = nil
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = percentDecoded(credentials[..<colon])
                password = percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                user = percentDecoded(credentials)
            }
        }
        var host = authority.isEmpty ? "127.0.0.1" : String(authority)
        var port = 5432
        if let colon = authority.lastIndex(of: ":") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw bad("the port must be a number 1-65535")
            }
            port = p
            host = String(authority[..<colon])
        }
        guard !database.isEmpty else { throw bad("no database name: postgres://user@host:port/database") }
        var socketDirectory: String? = nil
        var schema: String? = nil
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            if parts[0] == "host" { socketDirectory = percentDecoded(parts[1]) }
            if parts[0] == "schema" {
                let name = percentDecoded(parts[1])
                guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }) else {
                    throw bad("a schema name is lower-case letters, digits and _")
                }
                schema = name
            }
        }
        self.init(user: user, password: password, host: host, port: port, database: database,
                  socketDirectory: socketDirectory, schema: schema)
    }

    public var description: String {
        var options: [String] = []
        if let socketDirectory { options.append("host=\(socketDirectory)") }
        if let schema { options.append("schema=\(schema)") }
        return "postgres://\(user)@\(host):\(port)/\(database)" + (options.isEmpty ? "" : "?" + options.joined(separator: "&"))
    }
}

private func percentDecoded<S: StringProtocol>(_ s: S) -> String {
    var bytes: [UInt8] = []
    var it = Array(s.utf8)[...]
    while let c = it.popFirst() {
        if c == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
            bytes.append(v)
            it = it.dropFirst(2)
        } else {
            bytes.append(c)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// One versioned schema migration: SQL run in its own transaction, never edited once landed (its
/// SHA-256 is recorded in `schema_migrations` and checked on every open).
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Hex SHA-256 of the SQL text.
    public var checksum: String { sha256Hex(Array(sql.utf8)) }
}

extension Migration {
    /// The migrations of `known` still to apply to a store that has `applied`.
    /// - Throws: `StoreError.migrationChanged` when an applied migration's SQL no longer matches,
    ///   `StoreError.newerSchema` when the store is ahead of `known`.
    public static func pending(known: [Migration], applied: [AppliedMigration]) throws -> [Migration] {
        let newest = known.map(\.version).max() ?? 0
        for a in applied {
            guard let m = known.first(where: { $0.version == a.version }) else {
                throw StoreError.newerSchema(version: a.version, known: newest)
            }
            if m.checksum != a.checksum { throw StoreError.migrationChanged(version: m.version, name: m.name) }
        }
        let done = Set(applied.map(\.version))
        return known.filter { !done.contains($0.version) }.sorted { $0.version < $1.version }
    }
}

/// A migration recorded in `schema_migrations`.
public struct AppliedMigration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var checksum: String

    public init(version: Int, name: String, checksum: String) {
        self.version = version
        self.name = name
        self.checksum = checksum
    }
}

/// Errors of the store: a bad location, a database error (with the SQL and the backend's code),
/// a migration that was changed after it landed.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case badLocation(String, String)
    case database(backend: String, code: String, message: String, sql: String)
    case migrationChanged(version: Int, name: String)
    case newerSchema(version: Int, known: Int)

    public var description: String {
        switch self {
        case .badLocation(let url, let why): return "--store '\(url)': \(why)"
        case .database(let backend, let code, let message, let sql):
            return "\(backend) error \(code): \(message)" + (sql.isEmpty ? "" : "\n  in: \(sql.prefix(300))")
        case .migrationChanged(let v, let name):
            return "schema migration \(v) (\(name)) differs from the one applied to this store; migrations are never edited once landed — add a new one"
        case .newerSchema(let v, let known):
            return "this store has schema version \(v), newer than this program knows (\(known)); use a newer pom"
        }
    }
}

/// The storage of pom: one schema (`Schema`) on SQLite or PostgreSQL. Implementations live in
/// `FeatureStoreSQLite` and `FeatureStorePostgres`; `FeatureStoreBackends.openStore(_:)` opens one
/// from a `--store` URL. All rows are exchanged as `Value`s in the columns' order of `StoreTable`.
public protocol Store: Sendable {
    /// Where the store lives.
    var location: StoreLocation { get }

    /// Applies the migrations not yet applied, each in its own transaction, and returns their versions.
    /// - Throws: `StoreError.migrationChanged` when an applied migration's SQL has since been edited.
    @discardableResult
    func migrate() async throws -> [Int]

    /// The migrations recorded in `schema_migrations`, by version.
    func appliedMigrations() async throws -> [AppliedMigration]

    /// The columns of SQL table `table` as the database reports them (for schema checks).
    func databaseColumns(of table: String) async throws -> [String]

    /// Writes the rows of all given tables in one transaction, in the order given: a row whose key
    /// exists is updated (so writing the same rows twice changes nothing). Nothing is written if any
    /// row fails.
    func write(_ batches: [TableRows]) async throws

    /// Number of rows in `table`.
    func count(_ table: StoreTable) async throws -> Int

    /// Up to `limit` rows of `table` in key order, after key `after` (exclusive) when given.
    func rows(of table: StoreTable, after: [Value]?, limit: Int) async throws -> [[Value]]

    /// All rows of `table` whose customer lies in `customers`, in key order.
    func rows(of table: StoreTable, customers: ClosedRange<String>) async throws -> [[Value]]

    /// For every table of `tables`, its rows whose customer lies in `customers`, in key order, by
    /// table name; read as one snapshot where the backend can (one read transaction on SQLite).
    func rows(of tables: [StoreTable], customers: ClosedRange<String>) async throws -> [String: [[Value]]]

    /// The largest value of instant column `column` of `table`, or nil when the table is empty.
    func maxInstant(of column: String, in table: StoreTable) async throws -> Int64?

    /// Which of `keys` (values of `table.key`, in order) exist in `table` (used to check references).
    func existing(_ keys: Set<[String]>, in table: StoreTable) async throws -> Set<[String]>

    /// Closes connections. The store is unusable afterwards.
    func close() async throws
}

extension Store {
    /// All rows of `table` in key order, read in pages of `pageSize`.
    public func allRows(of table: StoreTable, pageSize: Int = 50_000) async throws -> [[Value]] {
        var result: [[Value]] = []
        var after: [Value]? = nil
        while true {
            let page = try await rows(of: table, after: after, limit: pageSize)
            result += page
            guard page.count == pageSize, let last = page.last else { return result }
            after = table.keyIndices.map { last[$0] }
        }
    }

    /// One read per table (backends without a cheaper way to read several tables at once).
    public func rows(of tables: [StoreTable], customers: ClosedRange<String>) async throws -> [String: [[Value]]] {
        var result: [String: [[Value]]] = [:]
        for table in tables { result[table.name] = try await rows(of: table, customers: customers) }
        return result
    }

    /// Row counts of every table of `Schema.tables`, by table name.
    public func counts() async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for table in Schema.tables { result[table.name] = try await count(table) }
        return result
    }
}
