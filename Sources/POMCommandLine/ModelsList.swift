import ArgumentParser
import Decisioning
import FeatureStoreBackends
import Foundation

/// `pom-train models list`: every stored model version with its kind, schema, window, metrics and promotion.
public struct ModelsList: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List the stored model versions.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Only this model name.")
    var model: String?

    @Option(help: "Also write the list as JSON to this file.")
    var out: String?

    public init() {}

    public func run() async throws {
        let records = try await withStore(storeOptions) { try await $0.modelRegistry().listModels(model: model) }
        print(ModelsList.table(records))
        if let out { try writeJSON(records.map(ModelListing.init), to: out) }
    }

    /// The readable table: one line per version.
    static func table(_ records: [RegisteredModel]) -> String {
        var lines = ["id                      kind         trained                          holdout AUC  log-loss  promoted"]
        for r in records {
            let window = [r.trainedFrom, r.trainedTo].map { $0.map { String(CivilTime.formatInstant(micros: $0).prefix(10)) } ?? "?" }
            let auc = r.metrics["holdout_auc"].map { String(format: "%.4f", $0) } ?? "-"
            let ll = r.metrics["holdout_log_loss"].map { String(format: "%.4f", $0) } ?? "-"
            lines.append(r.id.padding(toLength: 24, withPad: " ", startingAt: 0) + r.kind.padding(toLength: 13, withPad: " ", startingAt: 0)
                         + "\(window[0]) .. \(window[1])".padding(toLength: 33, withPad: " ", startingAt: 0)
                         + auc.padding(toLength: 13, withPad: " ", startingAt: 0) + ll.padding(toLength: 10, withPad: " ", startingAt: 0)
                         + (r.promotedAt.map { "yes, " + CivilTime.formatInstant(micros: $0) } ?? "no"))
        }
        if records.isEmpty { lines.append("(no models; train one with pom-train fit --store ... --model NAME)") }
        return lines.joined(separator: "\n")
    }
}
