import ArgumentParser
import Decisioning
import FeatureStoreBackends
import Foundation
import Optimizer

/// `pom-train models show`: one stored version in full (registry entry, hyper-parameters, schema), optionally its artifact file.
public struct ModelsShow: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one stored model version.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Model name.")
    var model: String

    @Option(help: "Version (default: the latest).")
    var version: Int?

    @Option(help: "Write the model's artifact file here.")
    var artifact: String?

    @Option(help: "Write the registry entry as JSON to this file.")
    var out: String?

    public init() {}

    struct Shown: Encodable {
        var entry: ModelListing
        var hyperparameters: [String: JSONValue]
        var features: [String]
        var formatVersion: Int
        enum CodingKeys: String, CodingKey {
            case entry, hyperparameters, features
            case formatVersion = "format_version"
        }
    }

    public func run() async throws {
        let (record, loaded) = try await withStore(storeOptions) { try await ModelTrainer.load(store: $0, model: model, version: version) }
        let shown = Shown(entry: ModelListing(record), hyperparameters: loaded.hyperparameters, features: loaded.featureSchema.names,
                          formatVersion: loaded.formatVersion)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(shown), as: UTF8.self))
        if let artifact { try loaded.write(to: artifact) }
        if let out { try writeJSON(shown, to: out) }
    }
}
