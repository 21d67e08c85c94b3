import ArgumentParser
import Decisioning
import FeatureStoreBackends
import Foundation
import Optimizer

/// `pom-train models promote`: makes one version the model's live one (the orchestrator loads it).
public struct ModelsPromote: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "promote", abstract: "Promote a stored model version (the orchestrator decides with the promoted one).",
        discussion: """
            The artifact is loaded and checked first (checksums, kind, feature schema of this pom); a version \
            that could not decide is never promoted. With --best-by ESTIMATOR instead of --version, every \
            stored version of the model is evaluated off-policy on the logged decisions of its holdout \
            customers (as `pom-train evaluate` does) and the version that is best by --criterion is \
            promoted: the highest lower confidence bound of that estimator (the default: promote only \
            what is shown to be better) or the highest estimate, provided that figure is above the logged \
            policy's value; otherwise nothing changes and the command fails. Over hundreds of actions a \
            greedy policy rarely matches a logged action, so the intervals are wide unless the log is \
            large: the printed table says how wide.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Model name.")
    var model: String

    @Option(help: "Version to promote.")
    var version: Int?

    @Option(name: .customLong("best-by"), help: "Promote the version that is best by this off-policy estimator's lower bound: ipw, snipw, dm or dr.")
    var bestBy: String?

    @Option(help: "With --best-by: compare the versions by their lower-bound (default) or their estimate.")
    var criterion: Criterion = .lowerBound

    @Option(help: "Confidence level of the intervals (with --best-by).")
    var level: Double = 0.95

    @Option(help: "Write the promoted entry as JSON to this file.")
    var out: String?

    public init() {}

    public func validate() throws {
        guard (version == nil) != (bestBy == nil) else { throw ValidationError("give either --version or --best-by") }
        if let bestBy, OffPolicyEstimatorKind(rawValue: bestBy) == nil {
            throw ValidationError("--best-by '\(bestBy)': expected one of \(OffPolicyEstimatorKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard level > 0 && level < 1 else { throw ValidationError("--level \(level): expected a number in (0, 1)") }
    }

    public func run() async throws {
        let record = try await withStore(storeOptions) { store -> RegisteredModel in
            var chosen = version
            if let bestBy, let estimator = OffPolicyEstimatorKind(rawValue: bestBy) {
                let versions = try await store.modelRegistry().listModels(model: model).map(\.version).sorted()
                guard !versions.isEmpty else { throw CommandFailure("no stored versions of model '\(model)'") }
                var reports: [(version: Int, report: EvaluationReport)] = []
                var loaded: [Double: PolicyData] = [:]
                for v in versions {
                    reports.append((v, try await Evaluate.evaluate(store: store, model: model, version: v, level: level, loaded: &loaded)))
                }
                print(ModelsPromote.comparison(reports.map(\.report), estimator: estimator, level: level))
                fflush(nil)  // the table before a failure's message, also when both go to one file
                let best = try ModelsPromote.best(reports, estimator: estimator, criterion: criterion)
                chosen = best
            }
            let version = chosen!
            let (_, artifact) = try await ModelTrainer.load(store: store, model: model, version: version)
            _ = try PolicyRuntime(artifact: artifact, model: RegisteredModel.id(model: model, version: version))
            let now = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
            return try await store.modelRegistry().promoteModel(model: model, version: version, at: now)
        }
        print("promoted \(record.id)")
        if let out { try writeJSON(ModelListing(record), to: out) }
    }

    /// How versions are compared.
    enum Criterion: String, ExpressibleByArgument, CaseIterable {
        case lowerBound = "lower-bound", estimate
    }

    /// The version whose `estimator` has the highest lower bound (or estimate), when that figure is
    /// above the logged policy's value on the same rows.
    static func best(_ reports: [(version: Int, report: EvaluationReport)], estimator: OffPolicyEstimatorKind,
                     criterion: Criterion) throws -> Int {
        let bounds = reports.compactMap { r in
            r.report.offPolicy.first { $0.kind == estimator }.map { e in
                (r.version, criterion == .lowerBound ? e.value.lower : e.value.estimate, r.report.loggedValue)
            }
        }
        guard let top = bounds.max(by: { ($0.1, -$0.0) < ($1.1, -$1.0) }) else {
            throw CommandFailure("no version has a \(estimator.rawValue) estimate")
        }
        guard top.1 > top.2 else {
            throw CommandFailure(String(format: "no version of the model beats the logged policy: the best %@ %@ is %.4f (version %d), the logged policy's value %.4f; nothing promoted",
                                         estimator.rawValue, criterion == .lowerBound ? "lower bound" : "estimate", top.1, top.0, top.2))
        }
        return top.0
    }

    /// One line per version: kind, rows, the estimator's estimate and interval, and the logged value.
    static func comparison(_ reports: [EvaluationReport], estimator: OffPolicyEstimatorKind, level: Double) -> String {
        let width = max(7, reports.map(\.model.count).max() ?? 0), kindWidth = max(4, reports.map(\.kind.count).max() ?? 0)
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        var lines = [String(format: "%@ of each version (%.0f%% interval) on its holdout's logged decisions:", estimator.rawValue, level * 100),
                     "  " + pad("version", width) + "  " + pad("kind", kindWidth) + "    rows  estimate  interval          logged"]
        for r in reports {
            guard let e = r.offPolicy.first(where: { $0.kind == estimator })?.value else { continue }
            lines.append("  " + pad(r.model, width) + "  " + pad(r.kind, kindWidth)
                         + String(format: "  %6d  %.4f    [%.4f, %.4f]  %.4f", r.metrics.rows, e.estimate, e.lower, e.upper, r.loggedValue))
        }
        return lines.joined(separator: "\n")
    }
}
