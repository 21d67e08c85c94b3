import Foundation

/// One model version in the registry, as listed: everything but the artifact body.
///
/// Rows live in `model_artifacts` (one per model name and version) and `model_promotions` (at
/// most one promoted version per model name). Instants are microseconds since the epoch (UTC).
public struct RegisteredModel: Sendable, Equatable, Codable {
    /// The registry id, `<model>@<version>`.
    public var id: String
    /// The model name (for example `reminders`); versions count up per name from 1.
    public var model: String
    public var version: Int
    /// The artifact's kind (`logistic`, `linucb`, ...).
    public var kind: String
    /// The artifact's format version.
    public var formatVersion: Int
    /// The hash of the feature schema the model was trained on.
    public var featureSchemaHash: String
    /// SHA-256 (hex) of the stored body bytes, checked on every load.
    public var checksum: String
    /// The training window, when the artifact has one.
    public var trainedFrom: Int64?
    public var trainedTo: Int64?
    /// The artifact's metrics (holdout log-loss, AUC, ...).
    public var metrics: [String: Double]
    public var createdAt: Int64
    /// When this version was promoted, if it is the promoted one of its model.
    public var promotedAt: Int64?

    public init(id: String, model: String, version: Int, kind: String, formatVersion: Int, featureSchemaHash: String,
                checksum: String, trainedFrom: Int64?, trainedTo: Int64?, metrics: [String: Double], createdAt: Int64,
                promotedAt: Int64?) {
        self.id = id
        self.model = model
        self.version = version
        self.kind = kind
        self.formatVersion = formatVersion
        self.featureSchemaHash = featureSchemaHash
        self.checksum = checksum
        self.trainedFrom = trainedFrom
        self.trainedTo = trainedTo
        self.metrics = metrics
        self.createdAt = createdAt
        self.promotedAt = promotedAt
    }

    /// The registry id of `model` at `version`.
    public static func id(model: String, version: Int) -> String { "\(model)@\(version)" }

    /// Whether `name` is a usable model name: 1-100 characters from `a-z A-Z 0-9 _ - .`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 100 && name.utf8.allSatisfy {
            ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 || $0 == 46
        }
    }

    /// The `metrics` column: `{"kind": ..., "metrics": {...}}` (the schema has no `kind` column).
    public static func metricsColumn(kind: String, metrics: [String: Double]) -> String {
        struct Column: Encodable { var kind: String; var metrics: [String: Double] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Non-finite metrics are dropped: JSON has no NaN.
        let finite = metrics.filter { $0.value.isFinite }
        return String(decoding: try! encoder.encode(Column(kind: kind, metrics: finite)), as: UTF8.self)
    }

    /// Parses the `metrics` column; `id` names the row in errors.
    public static func parseMetricsColumn(_ text: String, id: String) throws -> (kind: String, metrics: [String: Double]) {
        struct Column: Decodable { var kind: String; var metrics: [String: Double] }
        guard let c = try? JSONDecoder().decode(Column.self, from: Data(text.utf8)) else {
            throw ModelRegistryError.corrupted(id: id, reason: "the metrics column is not {\"kind\": ..., \"metrics\": {...}}")
        }
        return (c.kind, c.metrics)
    }
}

/// A model version to store: its description and the artifact's bytes.
public struct NewModel: Sendable {
    public var model: String
    public var version: Int
    public var kind: String
    public var formatVersion: Int
    public var featureSchemaHash: String
    public var trainedFrom: Int64?
    public var trainedTo: Int64?
    public var metrics: [String: Double]
    public var createdAt: Int64
    /// The artifact file's bytes (JSON).
    public var body: Data

    public init(model: String, version: Int, kind: String, formatVersion: Int, featureSchemaHash: String, trainedFrom: Int64?,
                trainedTo: Int64?, metrics: [String: Double], createdAt: Int64, body: Data) {
        self.model = model
        self.version = version
        self.kind = kind
        self.formatVersion = formatVersion
        self.featureSchemaHash = featureSchemaHash
        self.trainedFrom = trainedFrom
        self.trainedTo = trainedTo
        self.metrics = metrics
        self.createdAt = createdAt
        self.body = body
    }

    /// SHA-256 (hex) of `body`.
    public var checksum: String { sha256Hex(Array(body)) }
}

/// Why a registry call failed, with what would be right.
public enum ModelRegistryError: Error, Equatable, CustomStringConvertible {
    case invalidName(String)
    /// `save` was given a version that exists already (another writer got there first).
    case versionTaken(model: String, version: Int)
    case versionNotNext(model: String, version: Int, next: Int)
    case notFound(String)
    /// The stored body does not hash to the recorded checksum, or a column is unreadable.
    case corrupted(id: String, reason: String)
    /// The store's backend keeps no model registry.
    case unsupported(backend: String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "model name '\(name)': use 1-100 characters from a-z, A-Z, 0-9, '_', '-' and '.'"
        case .versionTaken(let model, let version):
            return "model \(model) already has a version \(version); save again to get the next version"
        case .versionNotNext(let model, let version, let next):
            return "model \(model): version \(version) is not the next one (\(next))"
        case .notFound(let what):
            return "no model \(what) in the registry; `pom-train models list` shows what there is"
        case .corrupted(let id, let reason):
            return "model \(id) in the registry is corrupted: \(reason); save a new version and promote it"
        case .unsupported(let backend):
            return "the \(backend) store keeps no model registry"
        }
    }
}

/// Versioned model artifacts kept in the store (`model_artifacts`, `model_promotions`).
///
/// ```swift
/// let registry = try store.modelRegistry()
/// let next = try await registry.nextModelVersion(model: "reminders")
/// let saved = try await registry.saveModel(NewModel(model: "reminders", version: next, kind: "logistic", ...))
/// try await registry.promoteModel(model: "reminders", version: saved.version, at: now)
/// let live = try await registry.promotedModel(model: "reminders")   // (record, verified body)
/// ```
public protocol ModelRegistry: Sendable {
    /// `1 + the highest version of model`, or 1 for a new name.
    func nextModelVersion(model: String) async throws -> Int

    /// Stores a new version. Its `version` must be `nextModelVersion(model:)`.
    /// - Throws: `ModelRegistryError.versionTaken` when another writer stored that version first,
    ///   `.versionNotNext` when the version skips or repeats, `.invalidName`.
    func saveModel(_ model: NewModel) async throws -> RegisteredModel

    /// Every stored version (of `model` when given), by model name then version.
    func listModels(model: String?) async throws -> [RegisteredModel]

    /// One version with its body; the body's SHA-256 is checked against the recorded checksum.
    /// - Throws: `.notFound`, or `.corrupted` when the body was altered.
    func loadModel(model: String, version: Int) async throws -> (RegisteredModel, Data)

    /// One version by registry id (`<model>@<version>`).
    func loadModel(id: String) async throws -> (RegisteredModel, Data)

    /// Makes `version` the promoted version of `model`, recording `at` (microseconds), in one
    /// transaction (a previous promotion of the model is replaced).
    /// - Throws: `.notFound` when the version does not exist.
    @discardableResult
    func promoteModel(model: String, version: Int, at: Int64) async throws -> RegisteredModel

    /// The promoted version of `model` with its verified body, or nil when none is promoted.
    func promotedModel(model: String) async throws -> (RegisteredModel, Data)?
}

extension Store {
    /// This store's model registry.
    /// - Throws: `ModelRegistryError.unsupported` for a backend without one.
    public func modelRegistry() throws -> any ModelRegistry {
        guard let registry = self as? any ModelRegistry else {
            throw ModelRegistryError.unsupported(backend: location.description)
        }
        return registry
    }
}

extension ModelRegistry {
    /// Splits a registry id `<model>@<version>`.
    public static func parseID(_ id: String) throws -> (model: String, version: Int) {
        guard let at = id.lastIndex(of: "@"), let version = Int(id[id.index(after: at)...]), version > 0 else {
            throw ModelRegistryError.notFound("'\(id)' (ids look like reminders@3)")
        }
        return (String(id[..<at]), version)
    }

    public func loadModel(id: String) async throws -> (RegisteredModel, Data) {
        let (model, version) = try Self.parseID(id)
        return try await loadModel(model: model, version: version)
    }

    /// Checks a loaded body against its recorded checksum.
    public static func verified(_ record: RegisteredModel, _ body: Data) throws -> (RegisteredModel, Data) {
        let computed = sha256Hex(Array(body))
        guard computed == record.checksum else {
            throw ModelRegistryError.corrupted(
                id: record.id, reason: "its body hashes to \(computed.prefix(12))…, the recorded checksum is \(record.checksum.prefix(12))…")
        }
        return (record, body)
    }

    /// Validates a new version against the next free one.
    public static func check(_ new: NewModel, next: Int) throws {
        guard RegisteredModel.isValidName(new.model) else { throw ModelRegistryError.invalidName(new.model) }
        if new.version < next { throw ModelRegistryError.versionTaken(model: new.model, version: new.version) }
        if new.version != next { throw ModelRegistryError.versionNotNext(model: new.model, version: new.version, next: next) }
    }
}
