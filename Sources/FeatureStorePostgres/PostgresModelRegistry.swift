import FeatureStore
import Foundation
import PostgresNIO

/// The model registry in PostgreSQL (`model_artifacts`, `model_promotions`; instants as
/// `timestamptz`, exchanged as microseconds). Saving locks `model_artifacts` against concurrent
/// savers for the transaction, so version numbers never collide between workers.
extension PostgresStore: ModelRegistry {
    static let modelColumns = """
        a.id, a.model, a.version, a.format_version, a.feature_schema_hash, a.checksum, \
        (extract(epoch FROM a.trained_from) * 1000000)::int8, (extract(epoch FROM a.trained_to) * 1000000)::int8, \
        a.metrics, (extract(epoch FROM a.created_at) * 1000000)::int8, (extract(epoch FROM p.promoted_at) * 1000000)::int8
        """
    static let modelFrom = "model_artifacts a LEFT JOIN model_promotions p ON p.model = a.model AND p.artifact_id = a.id"
    /// `timestamptz` from microseconds since the epoch, exactly.
    static func instant(_ parameter: Int) -> String { "('epoch'::timestamptz + $\(parameter)::int8 * interval '1 microsecond')" }

    /// Runs one statement (the caller holds `lock`).
    func registryQuery(_ sql: String, _ bindings: PostgresBindings = PostgresBindings()) async throws -> [PostgresRow] {
        try await postgresErrors(sql) {
            var rows: [PostgresRow] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger) {
                rows.append(row)
            }
            return rows
        }
    }

    func registryTransaction<T>(_ body: () async throws -> T) async throws -> T {
        _ = try await registryQuery("BEGIN")
        do {
            let result = try await body()
            _ = try await registryQuery("COMMIT")
            return result
        } catch {
            _ = try? await registryQuery("ROLLBACK")
            throw error
        }
    }

    static func record(_ row: PostgresRow) throws -> RegisteredModel {
        let r = row.makeRandomAccess()
        let id = try r[0].decode(String.self), model = try r[1].decode(String.self)
        let version = try r[2].decode(Int64.self), format = try r[3].decode(Int64.self)
        let hash = try r[4].decode(String.self), checksum = try r[5].decode(String.self)
        let from = try r[6].decode(Int64?.self), to = try r[7].decode(Int64?.self), metrics = try r[8].decode(String.self)
        let created = try r[9].decode(Int64.self), promoted = try r[10].decode(Int64?.self)
        let (kind, values) = try RegisteredModel.parseMetricsColumn(metrics, id: id)
        return RegisteredModel(id: id, model: model, version: Int(version), kind: kind, formatVersion: Int(format),
                               featureSchemaHash: hash, checksum: checksum, trainedFrom: from, trainedTo: to, metrics: values,
                               createdAt: created, promotedAt: promoted)
    }

    func nextUnlocked(_ model: String) async throws -> Int {
        var b = PostgresBindings()
        try b.append(model)
        return Int(try await registryQuery("SELECT coalesce(max(version), 0)::int8 FROM model_artifacts WHERE model = $1", b)[0]
            .decode(Int64.self)) + 1
    }

    func recordUnlocked(_ id: String) async throws -> RegisteredModel? {
        var b = PostgresBindings()
        try b.append(id)
        return try await registryQuery("SELECT \(Self.modelColumns) FROM \(Self.modelFrom) WHERE a.id = $1", b).first.map(Self.record)
    }

    public func nextModelVersion(model: String) async throws -> Int {
        try await lock.locked { try await nextUnlocked(model) }
    }

    public func saveModel(_ new: NewModel) async throws -> RegisteredModel {
        try await lock.locked {
            try await registryTransaction {
                _ = try await registryQuery("LOCK TABLE model_artifacts IN SHARE ROW EXCLUSIVE MODE")
                try Self.check(new, next: try await nextUnlocked(new.model))
                let id = RegisteredModel.id(model: new.model, version: new.version)
                var b = PostgresBindings()
                try b.append(id); try b.append(new.model); try b.append(Int64(new.version)); try b.append(Int64(new.formatVersion))
                try b.append(new.featureSchemaHash); try b.append(new.checksum)
                try b.append(new.trainedFrom); try b.append(new.trainedTo)
                try b.append(RegisteredModel.metricsColumn(kind: new.kind, metrics: new.metrics))
                try b.append(new.body); try b.append(new.createdAt)
                _ = try await registryQuery("""
                    INSERT INTO model_artifacts (id, model, version, format_version, feature_schema_hash, checksum, trained_from,
                                                 trained_to, metrics, body, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, \(Self.instant(7)), \(Self.instant(8)), $9, $10, \(Self.instant(11)))
                    """, b)
                return try await recordUnlocked(id)!
            }
        }
    }

    public func listModels(model: String?) async throws -> [RegisteredModel] {
        var b = PostgresBindings()
        if let model { try b.append(model) }
        let sql = "SELECT \(Self.modelColumns) FROM \(Self.modelFrom)" + (model == nil ? "" : " WHERE a.model = $1")
            + " ORDER BY a.model, a.version"
        return try await lock.locked { try await registryQuery(sql, b).map(Self.record) }
    }

    public func loadModel(model: String, version: Int) async throws -> (RegisteredModel, Data) {
        let id = RegisteredModel.id(model: model, version: version)
        var b = PostgresBindings()
        try b.append(id)
        let rows = try await lock.locked {
            try await registryQuery("SELECT \(Self.modelColumns), a.body FROM \(Self.modelFrom) WHERE a.id = $1", b)
        }
        guard let row = rows.first else { throw ModelRegistryError.notFound(id) }
        let record = try Self.record(row)
        let body = try? row.makeRandomAccess()[11].decode(Data.self)
        guard let body else { throw ModelRegistryError.corrupted(id: id, reason: "the body column is unreadable") }
        return try Self.verified(record, body)
    }

    @discardableResult
    public func promoteModel(model: String, version: Int, at: Int64) async throws -> RegisteredModel {
        let id = RegisteredModel.id(model: model, version: version)
        let record: RegisteredModel? = try await lock.locked {
            try await registryTransaction {
                guard try await recordUnlocked(id) != nil else { return nil }
                var b = PostgresBindings()
                try b.append(model); try b.append(id); try b.append(at)
                _ = try await registryQuery("""
                    INSERT INTO model_promotions (model, artifact_id, promoted_at) VALUES ($1, $2, \(Self.instant(3)))
                    ON CONFLICT (model) DO UPDATE SET artifact_id = excluded.artifact_id, promoted_at = excluded.promoted_at
                    """, b)
                return try await recordUnlocked(id)
            }
        }
        guard let record else { throw ModelRegistryError.notFound(id) }
        return record
    }

    public func promotedModel(model: String) async throws -> (RegisteredModel, Data)? {
        var b = PostgresBindings()
        try b.append(model)
        let id: String? = try await lock.locked {
            try await registryQuery("SELECT artifact_id FROM model_promotions WHERE model = $1", b).first?.decode(String.self)
        }
        guard let id else { return nil }
        return try await loadModel(id: id)
    }
}

extension PostgresStore {
    /// Runs one SQL statement outside the typed API (tests use it to damage rows on purpose).
    func executeRaw(_ sql: String) async throws {
        try await lock.locked { _ = try await registryQuery(sql) }
    }
}
