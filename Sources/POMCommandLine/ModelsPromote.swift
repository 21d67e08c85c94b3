import ArgumentParser
import Decisioning
import FeatureStoreBackends
import Foundation
import Optimizer

/// `pom-train models promote`: makes one version the model's live one (the orchestrator loads it).
public struct ModelsPromote: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "promote", abstract: "Promote a stored model version (the orchestrator decides with the promoted one).",
        discussion: "The artifact is loaded and checked first (checksums, kind, feature schema of this pom); a version that could not decide is never promoted.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Model name.")
    var model: String

    @Option(help: "Version to promote.")
    var version: Int

    @Option(help: "Write the promoted entry as JSON to this file.")
    var out: String?

    public init() {}

    public func run() async throws {
        let record = try await withStore(storeOptions) { store -> RegisteredModel in
            let (_, artifact) = try await ModelTrainer.load(store: store, model: model, version: version)
            _ = try PolicyRuntime(artifact: artifact, model: RegisteredModel.id(model: model, version: version))
            let now = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
            return try await store.modelRegistry().promoteModel(model: model, version: version, at: now)
        }
        print("promoted \(record.id)")
        if let out { try writeJSON(ModelListing(record), to: out) }
    }
}
