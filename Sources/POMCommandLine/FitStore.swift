import ArgumentParser
import Decisioning
import FeatureStoreBackends
import Foundation
import Optimizer

/// Parses `--from`/`--to`: a date `YYYY-MM-DD` (00:00 UTC) or an ISO 8601 instant; microseconds.
func parseInstantOption(_ text: String, flag: String) throws -> Int64 {
    if let days = CivilTime.parseDate(Array(text.utf8)) { return Int64(days) * 86_400_000_000 }
    if let micros = CivilTime.parseInstant(Array(text.utf8)) { return micros }
    throw ValidationError("\(flag) '\(text)': expected a date YYYY-MM-DD (00:00 UTC) or an instant like 2026-03-01T08:00:00Z")
}

/// `pom-train fit store` (the default of `pom-train fit`): trains a policy on the store's
/// point-in-time training set and saves it as the next version of a model in the store's registry.
public struct FitStore: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Train a policy on the store's logged decisions and save it in the store's model registry.",
        discussion: """
            Builds the point-in-time training set (features as known at each decision, label: paid within H days \
            of the send), holds out a share of customers for the metrics, fits, and saves the artifact as the next \
            version of --model. Kinds: logistic (reward model: context features plus channel, tone, send weekday, \
            send window and send delay, optionally --interactions of context features with those; greedy policy), linucb, lints (linear Thompson sampling), logistic-ts (logistic Thompson sampling, \
            Laplace approximation). Fits weight each logged decision by (1/|allowed actions|)/propensity, clipped \
            at --max-weight, so the model learns every action's reward rather than the logging policy's mix.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Registry model name (letters, digits, '_', '-', '.').")
    var model: String

    @Option(help: "logistic, linucb, lints or logistic-ts.")
    var kind: String = "logistic"

    @Option(name: .customLong("horizon-days"), help: "H in 'paid within H days of the send'.")
    var horizonDays: Double = 7

    @Option(help: "Only decisions at or after this date/instant (YYYY-MM-DD = 00:00 UTC).")
    var from: String?

    @Option(help: "Only decisions before this date/instant.")
    var to: String?

    @Option(help: "L2 penalty (prior precision for the bandits).")
    var l2: Double = 1

    @Option(name: .customLong("holdout-fraction"), help: "Share of customers held out for the metrics.")
    var holdoutFraction: Double = 0.2

    @Option(name: .customLong("max-weight"), help: "Clip of the importance weights (0: no weighting).")
    var maxWeight: Double = 20

    @Option(help: "Exploration width (linucb) or posterior scale (lints, logistic-ts).")
    var alpha: Double = 1

    @Option(help: "Epsilon of the logistic policy's epsilon-greedy exploration (0: greedy).")
    var epsilon: Double = 0

    @Option(help: "Comma-separated context features that interact with every action attribute in the logistic model (default: none, main effects only).")
    var interactions: String = ""

    @Option(help: "Also write the artifact to this file.")
    var out: String?

    public init() {}

    public func validate() throws {
        guard PolicyRuntime.kinds.contains(kind) else {
            throw ValidationError("--kind '\(kind)': expected one of \(PolicyRuntime.kinds.joined(separator: ", "))")
        }
        guard RegisteredModel.isValidName(model) else { throw ValidationError(ModelRegistryError.invalidName(model).description) }
        guard horizonDays > 0 && horizonDays.isFinite else { throw ValidationError("--horizon-days \(horizonDays): expected a positive number of days") }
        guard l2 > 0 && l2.isFinite else { throw ValidationError("--l2 \(l2): expected a finite number > 0") }
        guard holdoutFraction >= 0 && holdoutFraction < 1 else { throw ValidationError("--holdout-fraction \(holdoutFraction): expected a share in [0, 1)") }
        guard maxWeight >= 0 && maxWeight.isFinite else { throw ValidationError("--max-weight \(maxWeight): expected a number >= 0") }
        guard epsilon >= 0 && epsilon <= 1 else { throw ValidationError("--epsilon \(epsilon): expected a probability in [0, 1]") }
        guard alpha >= 0 && alpha.isFinite else { throw ValidationError("--alpha \(alpha): expected a finite number >= 0") }
        if let from { _ = try parseInstantOption(from, flag: "--from") }
        if let to { _ = try parseInstantOption(to, flag: "--to") }
    }

    /// The training request the flags describe.
    public func request() throws -> TrainingRequest {
        TrainingRequest(model: model, kind: kind, horizonDays: horizonDays, from: try from.map { try parseInstantOption($0, flag: "--from") },
                        to: try to.map { try parseInstantOption($0, flag: "--to") }, l2: l2, holdoutFraction: holdoutFraction,
                        maxWeight: maxWeight > 0 ? maxWeight : nil, alpha: alpha, rule: epsilon > 0 ? .epsilonGreedy(epsilon) : .greedy,
                        interactions: interactions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    public func run() async throws {
        let store = try await storeOptions.open()
        do {
            let outcome = try await ModelTrainer.train(store: store, request: try request())
            try await store.close()
            if let out { try outcome.artifact.write(to: out) }
            let id = outcome.registered?.id ?? outcome.artifact.version
            print("saved \(id) (\(kind), \(outcome.trainRows) training rows, \(outcome.holdoutRows) holdout rows)")
            if let m = outcome.holdout {
                print(String(format: "holdout: log-loss %.4f, AUC %@, Brier %.4f, base rate %.4f", m.logLoss,
                             m.auc.map { String(format: "%.4f", $0) } ?? "n/a", m.brier, m.baseRate))
            }
        } catch {
            try? await store.close()
            throw error
        }
    }
}
