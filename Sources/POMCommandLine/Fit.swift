import ArgumentParser
import Foundation
import Optimizer
import Tabular

/// `pom-train fit`: fits a model and writes it as JSON.
public struct Fit: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Fit a model to a training set and write it as JSON.",
        subcommands: [FitStore.self, FitLogistic.self],
        defaultSubcommand: FitStore.self)

    public init() {}
}

/// `pom-train fit logistic`: weighted, L2-penalised logistic regression on any CSV file (SPEC §5).
///
/// Minimises `Σ wᵢ·loglossᵢ + (λ/2)·‖β‖²` (intercept unpenalised) and writes
/// `{"intercept", "coefficients": {name: x}, "standard_errors": {"intercept": x, name: x},
/// "log_likelihood", "iterations", "converged", ...}` to `--out`.
public struct FitLogistic: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "logistic",
        abstract: "Fit a logistic regression to a CSV file (0/1 target, numeric features).",
        discussion: """
            Minimises sum_i w_i * logloss_i + (lambda/2) * ||beta||^2 with the intercept unpenalised \
            (scikit-learn's LogisticRegression with C = 1/lambda; statsmodels' Logit at lambda = 0). \
            Standard errors come from the inverse Hessian of that objective at the optimum.
            """)

    @Option(help: "CSV file with a header row.")
    var data: String

    @Option(help: "The 0/1 target column.")
    var target: String

    @Option(help: "Comma-separated feature columns (default: every column but the target and the weight).")
    var features: String?

    @Option(help: "Column of non-negative sample weights (importance or frequency weights).")
    var weight: String?

    @Option(help: "L2 penalty lambda >= 0 on the coefficients (the intercept is not penalised).")
    var l2: Double = 0

    @Option(help: "Solver: auto, newton or lbfgs.")
    var solver: String = "auto"

    @Option(help: "Convergence: max |gradient| <= tolerance * sum of weights.")
    var tolerance: Double = 1e-9

    @Option(help: "Iteration limit.")
    var maxIterations: Int = 100

    @Option(help: "Where to write the fitted model as JSON.")
    var out: String

    public init() {}

    public func validate() throws {
        guard l2 >= 0 && l2.isFinite else { throw ValidationError("--l2 must be a finite number >= 0, got \(l2)") }
        guard LogisticRegression.Solver(rawValue: solver) != nil else {
            throw ValidationError("--solver must be one of auto, newton, lbfgs; got '\(solver)'")
        }
        guard tolerance > 0 else { throw ValidationError("--tolerance must be positive") }
        guard maxIterations > 0 else { throw ValidationError("--max-iterations must be positive") }
        if let features, featureList(features).isEmpty { throw ValidationError("--features names no column") }
    }

    func featureList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    public func run() throws {
        let output = try fit()
        for warning in output.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(try encoder.encode(output), to: out)
    }

    /// Reads the data and fits the model; the work behind `run()`.
    /// - Throws: `CSVError` for bad input, `CommandFailure` for a fit without a usable result.
    public func fit() throws -> LogisticFitOutput {
        let set = try LogisticData.load(path: data, target: target, features: features.map(featureList), weight: weight)
        let regression = LogisticRegression(l2: l2, solver: LogisticRegression.Solver(rawValue: solver)!,
                                            tolerance: tolerance, maxIterations: maxIterations)
        do {
            let model = try regression.fit(design: set.design, labels: set.labels, weights: set.weights,
                                           featureNames: set.featureNames)
            return LogisticFitOutput(model: model, data: data)
        } catch let error as LogisticRegression.FitError {
            throw CommandFailure("\(data): \(error)")
        }
    }
}
