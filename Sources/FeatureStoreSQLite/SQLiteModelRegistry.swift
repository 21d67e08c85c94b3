import FeatureStore
import Foundation
import GRDB

/// The model registry in the SQLite file (`model_artifacts`, `model_promotions`; instants as
/// microseconds). Writes are serialised by the pool's single writer.
extension SQLiteStore: ModelRegistry {
    static let modelColumns = """
        a.id, a.model, a.version, a.format_version, a.feature_schema_hash, a.checksum, a.trained_from, a.trained_to, \
        a.metrics, a.created_at, p.promoted_at
        """
    static let modelFrom = "model_artifacts a LEFT JOIN model_promotions p ON p.model = a.model AND p.artifact_id = a.id"

    static func record(_ row: Row) throws -> RegisteredModel {
        let id: String = row["id"]
        let (kind, metrics) = try RegisteredModel.parseMetricsColumn(row["metrics"], id: id)
        return RegisteredModel(id: id, model: row["model"], version: row["version"], kind: kind, formatVersion: row["format_version"],
                               featureSchemaHash: row["feature_schema_hash"], checksum: row["checksum"],
                               trainedFrom: row["trained_from"], trainedTo: row["trained_to"], metrics: metrics,
                               createdAt: row["created_at"], promotedAt: row["promoted_at"])
    }

    static func next(_ db: Database, _ model: String) throws -> Int {
        (try Int.fetchOne(db, sql: "SELECT max(version) FROM model_artifacts WHERE model = ?", arguments: [model]) ?? 0) + 1
    }

    public func nextModelVersion(model: String) async throws -> Int {
        try sqliteErrors("") { try pool.read { try Self.next($0, model) } }
    }

    public func saveModel(_ new: NewModel) async throws -> RegisteredModel {
        try sqliteErrors("") {
            try pool.write { db in
                try Self.check(new, next: Self.next(db, new.model))
                let id = RegisteredModel.id(model: new.model, version: new.version)
                try db.execute(sql: """
                    INSERT INTO model_artifacts (id, model, version, format_version, feature_schema_hash, checksum, trained_from,
                                                 trained_to, metrics, body, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, new.model, new.version, new.formatVersion, new.featureSchemaHash, new.checksum,
                                     new.trainedFrom, new.trainedTo, RegisteredModel.metricsColumn(kind: new.kind, metrics: new.metrics),
                                     new.body, new.createdAt])
                return try Self.record(Row.fetchOne(db, sql: "SELECT \(Self.modelColumns) FROM \(Self.modelFrom) WHERE a.id = ?",
                                                    arguments: [id])!)
            }
        }
    }

    public func listModels(model: String?) async throws -> [RegisteredModel] {
        try sqliteErrors("") {
            try pool.read { db in
                let select = "SELECT \(Self.modelColumns) FROM \(Self.modelFrom)"
                let rows: [Row]
                if let model {
                    rows = try Row.fetchAll(db, sql: select + " WHERE a.model = ? ORDER BY a.version", arguments: [model])
                } else {
                    rows = try Row.fetchAll(db, sql: select + " ORDER BY a.model, a.version")
                }
                return try rows.map(Self.record)
            }
        }
    }

    public func loadModel(model: String, version: Int) async throws -> (RegisteredModel, Data) {
        let id = RegisteredModel.id(model: model, version: version)
        let found: (RegisteredModel, Data)? = try sqliteErrors("") {
            try pool.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.modelColumns), a.body FROM \(Self.modelFrom) WHERE a.id = ?",
                                                 arguments: [id]) else { return nil }
                let body: Data = row["body"]
                return (try Self.record(row), body)
            }
        }
        guard let (record, body) = found else { throw ModelRegistryError.notFound(id) }
        return try Self.verified(record, body)
    }

    @discardableResult
    public func promoteModel(model: String, version: Int, at: Int64) async throws -> RegisteredModel {
        let id = RegisteredModel.id(model: model, version: version)
        let record: RegisteredModel? = try sqliteErrors("") {
            try pool.write { db in
                guard try Int.fetchOne(db, sql: "SELECT count(*) FROM model_artifacts WHERE id = ?", arguments: [id]) == 1 else { return nil }
                try db.execute(sql: """
                    INSERT INTO model_promotions (model, artifact_id, promoted_at) VALUES (?, ?, ?)
                    ON CONFLICT (model) DO UPDATE SET artifact_id = excluded.artifact_id, promoted_at = excluded.promoted_at
                    """, arguments: [model, id, at])
                return try Self.record(Row.fetchOne(db, sql: "SELECT \(Self.modelColumns) FROM \(Self.modelFrom) WHERE a.id = ?",
                                                    arguments: [id])!)
            }
        }
        guard let record else { throw ModelRegistryError.notFound(id) }
        return record
    }

    public func promotedModel(model: String) async throws -> (RegisteredModel, Data)? {
        let id: String? = try sqliteErrors("") {
            try pool.read { try String.fetchOne($0, sql: "SELECT artifact_id FROM model_promotions WHERE model = ?", arguments: [model]) }
        }
        guard let id else { return nil }
        return try await loadModel(id: id)
    }
}

extension SQLiteStore {
    /// Runs one SQL statement outside the typed API (tests use it to damage rows on purpose).
    func executeRaw(_ sql: String) throws {
        try sqliteErrors(sql) { try pool.write { try $0.execute(sql: sql) } }
    }
}
