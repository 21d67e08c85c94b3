import ArgumentParser
import Decisioning
import FeatureStoreBackends
import Foundation
import Optimizer

/// `pom-train evaluate`: holdout metrics and off-policy value estimates of a stored model.
public struct Evaluate: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Evaluate a stored model on the store's logged decisions: log-loss, AUC, Brier, calibration deciles, and IPW/SNIPW/DM/DR estimates of its policy's value.",
        discussion: """
            By default the rows are the model's holdout customers (the same split as at training) within the \
            training window; --from/--to choose another window and --all-customers uses every customer. \
            The value is the share of decisions paid within the model's horizon.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Model name.")
    var model: String

    @Option(help: "Version (default: the latest).")
    var version: Int?

    @Option(help: "Only decisions at or after this date/instant.")
    var from: String?

    @Option(help: "Only decisions before this date/instant.")
    var to: String?

    @Flag(name: .customLong("all-customers"), help: "Evaluate on every customer, not only the holdout.")
    var allCustomers = false

    @Option(help: "Confidence level of the intervals.")
    var level: Double = 0.95

    @Option(help: "Write the report as JSON to this file.")
    var out: String?

    public init() {}

    public func validate() throws {
        if let from { _ = try parseInstantOption(from, flag: "--from") }
        if let to { _ = try parseInstantOption(to, flag: "--to") }
        guard level > 0 && level < 1 else { throw ValidationError("--level \(level): expected a number in (0, 1)") }
    }

    public func run() async throws {
        let report = try await withStore(storeOptions) { store in
            try await Evaluate.evaluate(store: store, model: model, version: version, from: try from.map { try parseInstantOption($0, flag: "--from") },
                                        to: try to.map { try parseInstantOption($0, flag: "--to") }, allCustomers: allCustomers, level: level)
        }
        print(Evaluate.table(report))
        if let out { try writeAtomically(try Evaluate.json(report), to: out) }
    }

    /// Metrics and off-policy estimates of one stored model version (the latest when `version` is
    /// nil) on the logged decisions of its holdout customers (all customers with `allCustomers`)
    /// between the instants `from` and `to` (microseconds).
    static func evaluate(store: any Store, model: String, version: Int?, from: Int64? = nil, to: Int64? = nil,
                         allCustomers: Bool = false, level: Double = 0.95) async throws -> EvaluationReport {
        var loaded: [Double: PolicyData] = [:]
        return try await evaluate(store: store, model: model, version: version, from: from, to: to, allCustomers: allCustomers,
                                  level: level, loaded: &loaded)
    }

    /// As above, with the logged decisions already `loaded` (by horizon in days) reused, and added
    /// to when the artifact's horizon is not there yet (versions compared on the same log).
    static func evaluate(store: any Store, model: String, version: Int?, from: Int64? = nil, to: Int64? = nil,
                         allCustomers: Bool = false, level: Double = 0.95,
                         loaded: inout [Double: PolicyData]) async throws -> EvaluationReport {
        let (record, artifact) = try await ModelTrainer.load(store: store, model: model, version: version)
        let horizon: Double
        if case .number(let h)? = artifact.hyperparameters["horizon_days"] { horizon = h } else { horizon = 7 }
        var data: PolicyData
        if let cached = loaded[horizon] {
            data = cached
        } else {
            data = try await PolicyData.load(store: store, horizonDays: horizon, from: from, to: to)
            loaded[horizon] = data
        }
        if !allCustomers, case .number(let f)? = artifact.hyperparameters["holdout_fraction"], f > 0 {
            data = data.split(holdoutFraction: f).holdout
        }
        guard data.count > 0 else { throw DecisioningError.noTrainingRows("no logged decisions of holdout customers in the window; try --all-customers") }
        return try ModelEvaluation.evaluate(artifact: artifact, model: record.id, data: data, level: level)
    }

    static func table(_ r: EvaluationReport) -> String {
        let m = r.metrics
        var lines = ["\(r.model) (\(r.kind)) on \(m.rows) logged decisions",
                     String(format: "  log-loss %.4f   AUC %@   Brier %.4f   base rate %.4f", m.logLoss,
                            m.auc.map { String(format: "%.4f", $0) } ?? "n/a", m.brier, m.baseRate),
                     "  calibration (deciles of the prediction):",
                     "    bin  rows   mean predicted  observed"]
        for b in m.calibration {
            lines.append(String(format: "    %3d  %5d  %14.4f  %8.4f", b.bin, b.rows, b.meanPredicted, b.observedRate))
        }
        lines.append(String(format: "  policy value (paid within the horizon), logged policy %.4f:", r.loggedValue))
        for (kind, e) in r.offPolicy {
            lines.append(String(format: "    %-6@ %.4f  [%.4f, %.4f]", kind.rawValue, e.estimate, e.lower, e.upper))
        }
        lines.append(String(format: "  importance weights: max %.1f, effective sample size %.1f", r.maxWeight, r.effectiveSampleSize))
        return lines.joined(separator: "\n")
    }

    static func json(_ r: EvaluationReport) throws -> Data {
        func number(_ x: Double) -> OffPolicyJSON { x.isFinite ? .number(x) : .null }
        var top: [String: OffPolicyJSON] = [
            "model": .string(r.model), "version": .string(r.version), "kind": .string(r.kind),
            "rows": .number(Double(r.metrics.rows)), "log_loss": number(r.metrics.logLoss),
            "auc": r.metrics.auc.map(number) ?? .null, "brier": number(r.metrics.brier), "base_rate": number(r.metrics.baseRate),
            "logged_policy_value": number(r.loggedValue), "effective_sample_size": number(r.effectiveSampleSize),
            "max_weight": number(r.maxWeight),
        ]
        top["calibration"] = .array(r.metrics.calibration.map { b in
            .object(["bin": .number(Double(b.bin)), "rows": .number(Double(b.rows)), "mean_predicted": number(b.meanPredicted),
                     "observed_rate": number(b.observedRate), "lowest_prediction": number(b.lowestPrediction),
                     "highest_prediction": number(b.highestPrediction)])
        })
        var ope: [String: OffPolicyJSON] = [:]
        for (kind, e) in r.offPolicy {
            ope[kind.rawValue] = .object(["estimate": number(e.estimate), "ci_low": number(e.lower), "ci_high": number(e.upper),
                                          "std_error": number(e.standardError), "n": .number(Double(e.rounds))])
        }
        top["ope"] = .object(ope)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(OffPolicyJSON.object(top))
    }
}
