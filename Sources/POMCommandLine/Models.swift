import ArgumentParser
import Decisioning
import FeatureStoreBackends
import Foundation
import Optimizer

/// `pom-train models`: the store's model registry.
public struct Models: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "List, show and promote the models in the store's registry.",
        subcommands: [ModelsList.self, ModelsShow.self, ModelsPromote.self])

    public init() {}
}

/// A registry entry as `models list --out` and `models show` write it.
struct ModelListing: Encodable {
    var id: String
    var model: String
    var version: Int
    var kind: String
    var featureSchemaHash: String
    var checksum: String
    var trainedFrom: String?
    var trainedTo: String?
    var metrics: [String: Double]
    var createdAt: String
    var promoted: Bool
    var promotedAt: String?

    init(_ r: RegisteredModel) {
        id = r.id
        model = r.model
        version = r.version
        kind = r.kind
        featureSchemaHash = r.featureSchemaHash
        checksum = r.checksum
        trainedFrom = r.trainedFrom.map { CivilTime.formatInstant(micros: $0) }
        trainedTo = r.trainedTo.map { CivilTime.formatInstant(micros: $0) }
        metrics = r.metrics
        createdAt = CivilTime.formatInstant(micros: r.createdAt)
        promoted = r.promotedAt != nil
        promotedAt = r.promotedAt.map { CivilTime.formatInstant(micros: $0) }
    }

    enum CodingKeys: String, CodingKey {
        case id, model, version, kind, checksum, metrics, promoted
        case featureSchemaHash = "feature_schema_hash"
        case trainedFrom = "trained_from"
        case trainedTo = "trained_to"
        case createdAt = "created_at"
        case promotedAt = "promoted_at"
    }
}

/// Writes `value` as sorted, pretty JSON to `path` atomically.
func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try writeAtomically(try encoder.encode(value), to: path)
}

/// Runs `body` with the opened store and closes it afterwards, also on errors.
func withStore<T>(_ options: StoreOptions, _ body: (any Store) async throws -> T) async throws -> T {
    let store = try await options.open()
    do {
        let result = try await body(store)
        try await store.close()
        return result
    } catch {
        try? await store.close()
        throw error
    }
}
