import Crypto
import Foundation
import Vocabulary

/// The features a model was trained on: their names in design order and a stable hash of
/// their definitions. A model scores only data with the same hash.
public struct FeatureSchemaReference: Codable, Equatable, Sendable {
    /// Feature names, in the order of the model's coefficients.
    public var names: [String]
    /// SHA-256 (hex) of the canonical feature definitions the names came from.
    public var hash: String

    public init(names: [String], hash: String) {
        self.names = names
        self.hash = hash
    }

    /// A schema identified by its names alone (for models fitted on a user's CSV, whose columns
    /// are the definitions): the hash is SHA-256 of the names joined by newlines.
    public init(names: [String]) {
        self.init(names: names, hash: sha256Hex(Data(names.joined(separator: "\n").utf8)))
    }
}

/// The time range of the data a model was trained on.
public struct TrainingWindow: Codable, Equatable, Sendable {
    public var from: Date
    public var to: Date
    public init(from: Date, to: Date) {
        self.from = from
        self.to = to
    }
}

/// Why an artifact could not be used.
public enum ArtifactError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notAnArtifact(path: String, reason: String)
    case unsupportedFormat(path: String, found: Int, supported: Int)
    case checksumMismatch(path: String, recorded: String, computed: String)
    case wrongKind(path: String, expected: String, found: String)
    case schemaMismatch(path: String, expectedHash: String, foundHash: String, missing: [String], unexpected: [String])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read the model artifact (\(reason))"
        case .notAnArtifact(let path, let reason):
            return "\(path): not a pom model artifact, or truncated or corrupted (\(reason))"
        case .unsupportedFormat(let path, let found, let supported):
            return "\(path): artifact format version \(found) is newer than this pom understands (\(supported)); upgrade pom"
        case .checksumMismatch(let path, let recorded, let computed):
            return "\(path): checksum mismatch — the artifact was modified or corrupted (recorded \(recorded.prefix(12))…, content hashes to \(computed.prefix(12))…)"
        case .wrongKind(let path, let expected, let found):
            return "\(path): expected a \(expected) model, found a \(found) model"
        case .schemaMismatch(let path, let expectedHash, let foundHash, let missing, let unexpected):
            var s = "\(path): the model's feature schema (\(foundHash.prefix(12))…) does not match the data's (\(expectedHash.prefix(12))…)"
            if !missing.isEmpty { s += "; the data lacks: \(missing.joined(separator: ", "))" }
            if !unexpected.isEmpty { s += "; the model does not know: \(unexpected.joined(separator: ", "))" }
            return s + ". Retrain the model on data with this schema."
        }
    }
}

/// A versioned, self-describing model file: format version, kind, hyper-parameters, learned
/// state, feature schema and its hash, training window, metrics and a SHA-256 checksum over
/// everything else (Vowpal Wabbit's habit: model files carry a version and a checksum).
///
/// ```swift
/// let artifact = try ModelArtifact(kind: "logistic", version: "logistic-2026-11-29",
///                                  featureSchema: .init(names: ["amount", "days_overdue"]),
///                                  hyperparameters: ["l2": .number(1)], state: model)
/// try artifact.write(to: "model.json")
/// let loaded = try ModelArtifact.read(from: "model.json", expecting: "logistic", schema: artifact.featureSchema)
/// let model = try loaded.state(as: LogisticModelState.self)
/// ```
public struct ModelArtifact: Codable, Equatable, Sendable {
    /// The format version this pom writes and the newest it reads.
    public static let currentFormatVersion = 1
    static let magic = "pom-model-artifact"

    public var format: String
    public var formatVersion: Int
    /// What kind of model this is (`logistic`, `linucb`, `lin-ts`, `logistic-ts`, ...).
    public var kind: String
    /// The model's version id, unique in a registry.
    public var version: String
    public var createdAt: Date
    public var hyperparameters: [String: JSONValue]
    public var featureSchema: FeatureSchemaReference
    public var trainingWindow: TrainingWindow?
    public var metrics: [String: Double]
    /// The learned state, as the model type encodes it.
    public var state: JSONValue
    /// SHA-256 (hex) of the canonical JSON of all fields above.
    public var checksum: String

    /// Packs a model's learned state with its description and computes the checksum.
    public init<State: Encodable>(kind: String, version: String, createdAt: Date = Date(),
                                  featureSchema: FeatureSchemaReference, trainingWindow: TrainingWindow? = nil,
                                  hyperparameters: [String: JSONValue] = [:], metrics: [String: Double] = [:],
                                  state: State) throws {
        format = ModelArtifact.magic
        formatVersion = ModelArtifact.currentFormatVersion
        self.kind = kind
        self.version = version
        // Whole milliseconds survive the JSON round trip exactly.
        self.createdAt = Date(timeIntervalSince1970: (createdAt.timeIntervalSince1970 * 1000).rounded() / 1000)
        self.hyperparameters = hyperparameters
        self.featureSchema = featureSchema
        self.trainingWindow = trainingWindow
        self.metrics = metrics
        self.state = try JSONValue(encoding: state)
        checksum = ""
        checksum = try computedChecksum()
    }

    /// Decodes the learned state as `State`.
    public func state<State: Decodable>(as type: State.Type) throws -> State {
        try state.decode(as: State.self)
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(iso8601.string(from: date))
        }
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = iso8601.date(from: text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 instant: \(text)")
            }
            return date
        }
        return d
    }

    nonisolated(unsafe) static let iso8601: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    /// SHA-256 of the canonical encoding with an empty checksum field.
    func computedChecksum() throws -> String {
        var copy = self
        copy.checksum = ""
        return sha256Hex(try ModelArtifact.encoder().encode(copy))
    }

    /// The artifact file's bytes (pretty-printed JSON with sorted keys).
    public func encoded() throws -> Data {
        try ModelArtifact.encoder().encode(self)
    }

    /// Writes the artifact atomically (a temporary file renamed into place).
    public func write(to path: String) throws {
        let data = try encoded()
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads and verifies an artifact: format, version, checksum, and optionally its kind and
    /// feature schema against the data it is about to score.
    /// - Throws: `ArtifactError` naming the file and what is wrong.
    public static func read(from path: String, expecting kind: String? = nil,
                            schema: FeatureSchemaReference? = nil) throws -> ModelArtifact {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ArtifactError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try decode(data, path: path, expecting: kind, schema: schema)
    }

    /// Verifies and decodes artifact bytes (see `read(from:expecting:schema:)`); `path` names
    /// the source in errors.
    public static func decode(_ data: Data, path: String, expecting kind: String? = nil,
                              schema: FeatureSchemaReference? = nil) throws -> ModelArtifact {
        struct Header: Decodable { var format: String?; var formatVersion: Int? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw ArtifactError.notAnArtifact(path: path, reason: "not valid JSON")
        }
        guard header.format == magic, let version = header.formatVersion else {
            throw ArtifactError.notAnArtifact(path: path, reason: "missing the \"format\": \"\(magic)\" header")
        }
        guard version <= currentFormatVersion else {
            throw ArtifactError.unsupportedFormat(path: path, found: version, supported: currentFormatVersion)
        }
        let artifact: ModelArtifact
        do { artifact = try decoder().decode(ModelArtifact.self, from: data) } catch {
            throw ArtifactError.notAnArtifact(path: path, reason: "\(error)")
        }
        let computed = try artifact.computedChecksum()
        guard computed == artifact.checksum else {
            throw ArtifactError.checksumMismatch(path: path, recorded: artifact.checksum, computed: computed)
        }
        if let kind, kind != artifact.kind {
            throw ArtifactError.wrongKind(path: path, expected: kind, found: artifact.kind)
        }
        if let schema, schema != artifact.featureSchema {
            throw ArtifactError.schemaMismatch(
                path: path, expectedHash: schema.hash, foundHash: artifact.featureSchema.hash,
                missing: artifact.featureSchema.names.filter { !schema.names.contains($0) },
                unexpected: schema.names.filter { !artifact.featureSchema.names.contains($0) })
        }
        return artifact
    }
}

/// Lower-case hex SHA-256 of `data`.
public func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).lowercaseHex
}
