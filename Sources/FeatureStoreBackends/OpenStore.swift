@_exported import FeatureStore
import FeatureStorePostgres
import FeatureStoreSQLite

/// Opens the store at a `--store` URL (`sqlite:path/to/pom.sqlite` or
/// `postgres://user@host:port/database`) and brings its schema up to date. Every store is also
/// the orchestrator's work queue (`CaseQueue`).
/// - Throws: `StoreError.badLocation` for a malformed URL, `StoreError.database` when the
///   database cannot be opened or migrated.
public func openStore(_ url: String) async throws -> any CaseQueue {
    try await openStore(StoreLocation(url))
}

/// Opens the store at `location` and brings its schema up to date.
public func openStore(_ location: StoreLocation) async throws -> any CaseQueue {
    switch location {
    case .sqlite(let path): return try await SQLiteStore(path: path)
    case .postgres(let pg): return try await PostgresStore(pg)
    }
}

/// The migrations of the backend at `location`, for schema checks.
public func migrations(for location: StoreLocation) -> [Migration] {
    switch location {
    case .sqlite: return sqliteMigrations
    case .postgres: return postgresMigrations
    }
}

/// Writes a transactionally consistent copy of the SQLite store at `source` to `destination`.
public func copySQLiteStore(from source: String, to destination: String) throws {
    try SQLiteSnapshot.copy(from: source, to: destination)
}
