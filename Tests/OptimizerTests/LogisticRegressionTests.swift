import Foundation
import Tabular
import Testing
@testable import Optimizer

/// Reference values from statsmodels 0.15 (Logit / GLM Binomial with freq_weights) and scikit-learn 1.9
/// (`LogisticRegression(C = 1/λ)`, checked against the exact optimum of the objective), produced by
/// `scripts/reference/logistic.py` into `Fixtures/logistic/`.
@Suite struct LogisticRegressionTests {
    struct Reference: Decodable {
        struct Fit: Decodable {
            var intercept: Double
            var coefficients: [Double]
            var intercept_standard_error: Double
            var standard_errors: [Double]
            var log_likelihood: Double
            var objective: Double?
        }
        struct DataSet: Decodable {
            var file: String
            var features: [String]
            var weight: String?
            var unpenalised: Fit?
            var l2: [String: Fit]?
            var condition_number: Double?
            var collinear_columns: [String]?
            var diverging: [String]?
        }
        var sets: [String: DataSet]
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/logistic")
    static let reference: Reference = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("reference.json"))
        return try! JSONDecoder().decode(Reference.self, from: data)
    }()

    struct Loaded {
        var design: Matrix
        var labels: [Double]
        var weights: [Double]?
        var names: [String]
    }

    static func load(_ name: String) throws -> (Reference.DataSet, Loaded) {
        let set = try #require(reference.sets[name])
        let csv = try CSVFile(path: fixtures.appendingPathComponent(set.file).path)
        let cols = try csv.read(numeric: ["y"] + set.features + (set.weight.map { [$0] } ?? []))
        let design = LogisticRegression.design(columns: set.features.map { cols.number($0) })
        return (set, Loaded(design: design, labels: cols.number("y"), weights: set.weight.map { cols.number($0) }, names: set.features))
    }

    static func fit(_ data: Loaded, _ regression: LogisticRegression) throws -> LogisticRegression.Model {
        try regression.fit(design: data.design, labels: data.labels, weights: data.weights, featureNames: data.names)
    }

    /// `|a − b| ≤ 1e-9 + rtol·|b|`.
    static func close(_ a: Double?, _ b: Double, rtol: Double = 1e-6) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= 1e-9 + rtol * abs(b)
    }

    static func expectMatches(_ model: LogisticRegression.Model, _ ref: Reference.Fit, standardErrors: Bool = true,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(close(model.intercept, ref.intercept), "intercept \(model.intercept) vs \(ref.intercept)", sourceLocation: sourceLocation)
        for (j, b) in ref.coefficients.enumerated() {
            #expect(close(model.coefficients[j], b), "\(model.featureNames[j]): \(model.coefficients[j]) vs \(b)",
                    sourceLocation: sourceLocation)
        }
        if standardErrors {
            #expect(close(model.interceptStandardError, ref.intercept_standard_error), sourceLocation: sourceLocation)
            for (j, s) in ref.standard_errors.enumerated() {
                #expect(close(model.standardErrors?[j], s), "SE \(model.featureNames[j]): \(String(describing: model.standardErrors?[j])) vs \(s)",
                        sourceLocation: sourceLocation)
            }
        }
        #expect(close(model.logLikelihood, ref.log_likelihood, rtol: 1e-9), "llf \(model.logLikelihood) vs \(ref.log_likelihood)",
                sourceLocation: sourceLocation)
        if let f = ref.objective { #expect(close(model.objective, f, rtol: 1e-9), sourceLocation: sourceLocation) }
    }

    @Test(arguments: [LogisticRegression.Solver.newton, .lbfgs])
    func unpenalisedMatchesStatsmodels(solver: LogisticRegression.Solver) throws {
        for name in ["plain", "weighted"] {
            let (set, data) = try Self.load(name)
            let model = try Self.fit(data, LogisticRegression(solver: solver))
            #expect(model.report.converged)
            #expect(model.report.solver == solver)
            #expect(model.report.warnings.isEmpty)
            Self.expectMatches(model, try #require(set.unpenalised))
        }
    }

    @Test(arguments: [LogisticRegression.Solver.newton, .lbfgs])
    func penalisedMatchesScikitLearnOptimum(solver: LogisticRegression.Solver) throws {
        for name in ["plain", "weighted", "collinear", "quasi_separated"] {
            let (set, data) = try Self.load(name)
            for (lambda, ref) in try #require(set.l2) {
                let model = try Self.fit(data, LogisticRegression(l2: try #require(Double(lambda)), solver: solver))
                #expect(model.report.converged, "\(name) λ=\(lambda)")
                Self.expectMatches(model, ref)
            }
        }
    }

    @Test func newtonAndLBFGSAgreeOnTheObjective() throws {
        for seed in UInt64(1)...6 {
            var rng = Xoshiro256(seed: seed)
            let (n, k) = (1500, seed.isMultiple(of: 2) ? 40 : 8)
            let columns = (0..<k).map { _ in (0..<n).map { _ in rng.normal() } }
            let truth = (0..<k).map { _ in 0.3 * rng.normal() }
            let labels = (0..<n).map { i -> Double in
                let z = (0..<k).reduce(-0.5) { $0 + truth[$1] * columns[$1][i] }
                return rng.uniform() < sigmoid(z) ? 1 : 0
            }
            let weights: [Double]? = seed.isMultiple(of: 3) ? (0..<n).map { _ in 2 * rng.uniform() } : nil
            let x = LogisticRegression.design(columns: columns)
            let lambda = [0.0, 0.5, 5][Int(seed % 3)]
            let newton = try LogisticRegression(l2: lambda, solver: .newton).fit(design: x, labels: labels, weights: weights)
            let lbfgs = try LogisticRegression(l2: lambda, solver: .lbfgs).fit(design: x, labels: labels, weights: weights)
            #expect(newton.report.converged && lbfgs.report.converged)
            #expect(abs(newton.objective - lbfgs.objective) <= 1e-6 * abs(newton.objective) * 1e-3, "seed \(seed)")
            #expect(newton.designCoefficients.maxAbsDifference(lbfgs.designCoefficients) < 1e-6, "seed \(seed)")
            // `.auto` picks Newton for these widths and L-BFGS above its width limit.
            #expect(try LogisticRegression(l2: lambda).fit(design: x, labels: labels, weights: weights).report.solver == .newton)
            let narrowLimit = LogisticRegression(l2: lambda, newtonMaximumWidth: 4)
            #expect(try narrowLimit.fit(design: x, labels: labels, weights: weights).report.solver == .lbfgs)
        }
    }

    @Test func integerWeightsEqualRepeatedRows() throws {
        var rng = Xoshiro256(seed: 77)
        let n = 600
        let a = (0..<n).map { _ in rng.normal() }, b = (0..<n).map { _ in rng.uniform() < 0.4 ? 1.0 : 0.0 }
        let y = (0..<n).map { i in rng.uniform() < sigmoid(0.2 + 0.8 * a[i] - b[i]) ? 1.0 : 0.0 }
        let w = (0..<n).map { _ in Double(Int.random(in: 0...3, using: &rng)) }
        var (ra, rb, ry) = ([Double](), [Double](), [Double]())
        for i in 0..<n {
            for _ in 0..<Int(w[i]) { ra.append(a[i]); rb.append(b[i]); ry.append(y[i]) }
        }
        for lambda in [0.0, 2.0] {
            let r = LogisticRegression(l2: lambda, solver: .newton, tolerance: 1e-12)
            let weighted = try r.fit(design: LogisticRegression.design(columns: [a, b]), labels: y, weights: w)
            let repeated = try r.fit(design: LogisticRegression.design(columns: [ra, rb]), labels: ry)
            #expect(weighted.designCoefficients.maxAbsDifference(repeated.designCoefficients) < 1e-10)
            #expect(abs(weighted.logLikelihood - repeated.logLikelihood) < 1e-9 * abs(repeated.logLikelihood))
            #expect(abs(weighted.interceptStandardError! - repeated.interceptStandardError!) < 1e-10)
            #expect(Vector(weighted.standardErrors!).maxAbsDifference(Vector(repeated.standardErrors!)) < 1e-10)
            #expect(weighted.weightSum == Double(ry.count))
        }
    }

    @Test func nearCollinearColumnsFitWithAWarning() throws {
        let (set, data) = try Self.load("near_collinear")
        let model = try Self.fit(data, LogisticRegression(solver: .newton))
        let ref = try #require(set.unpenalised)
        // Condition number ~8e8: about eight digits of the coefficients survive, so compare to 1e-6.
        Self.expectMatches(model, ref)
        #expect(abs(try #require(model.report.conditionNumber) / set.condition_number! - 1) < 1e-3)
        let warning = try #require(model.report.warnings.first)
        #expect(warning.contains("ill-conditioned") && warning.contains("a, b, c"))
    }

    @Test(arguments: [LogisticRegression.Solver.newton, .lbfgs])
    func collinearColumnsAreAnErrorNamingThem(solver: LogisticRegression.Solver) throws {
        let (set, data) = try Self.load("collinear")
        do {
            _ = try Self.fit(data, LogisticRegression(solver: solver))
            Issue.record("a collinear design was fitted")
        } catch let LogisticRegression.FitError.collinear(columns, condition) {
            #expect(columns == set.collinear_columns)
            #expect(condition > 1e12)
        }
    }

    @Test(arguments: [LogisticRegression.Solver.newton, .lbfgs])
    func quasiSeparationIsReported(solver: LogisticRegression.Solver) throws {
        let (set, data) = try Self.load("quasi_separated")
        let model = try Self.fit(data, LogisticRegression(solver: solver))
        #expect(!model.report.converged)
        let warning = try #require(model.report.warnings.first)
        #expect(warning.contains("quasi-complete separation"))
        #expect(warning.contains("coefficients of \(set.diverging!.joined(separator: ", ")) diverge"))
        #expect(model.coefficient("flag")! > 10)
    }

    @Test(arguments: [LogisticRegression.Solver.newton, .lbfgs])
    func completeSeparationIsAnError(solver: LogisticRegression.Solver) throws {
        let (_, data) = try Self.load("separated")
        #expect(throws: LogisticRegression.FitError.completeSeparation(columns: ["x1", "x2"])) {
            try Self.fit(data, LogisticRegression(solver: solver))
        }
        // A penalty makes the optimum finite.
        let penalised = try Self.fit(data, LogisticRegression(l2: 1, solver: solver))
        #expect(penalised.report.converged && penalised.report.warnings.isEmpty)
    }

    @Test func invalidLabelsAndWeightsAreErrors() throws {
        let x = LogisticRegression.design(columns: [[0.1, 0.2, 0.3]])
        #expect(throws: LogisticRegression.FitError.invalidLabel(row: 1, value: 2)) {
            try LogisticRegression().fit(design: x, labels: [0, 2, 1])
        }
        #expect(throws: LogisticRegression.FitError.invalidWeight(row: 2, value: -1)) {
            try LogisticRegression().fit(design: x, labels: [0, 1, 1], weights: [1, 1, -1])
        }
        #expect(throws: LogisticRegression.FitError.noData) {
            try LogisticRegression().fit(design: x, labels: [0, 1, 1], weights: [0, 0, 0])
        }
    }

    @Test func largeDesignsStartFromASubsampleAndReachTheSameOptimum() throws {
        var rng = Xoshiro256(seed: 9)
        let (n, k) = (warmStartRows + 10_000, 6)
        let truth = (0..<k).map { _ in 0.5 * rng.normal() }
        let columns = (0..<k).map { _ in (0..<n).map { _ in rng.normal() } }
        let labels = (0..<n).map { i -> Double in
            rng.uniform() < sigmoid((0..<k).reduce(0.3) { $0 + truth[$1] * columns[$1][i] }) ? 1 : 0
        }
        let x = LogisticRegression.design(columns: columns)
        let config = LogisticRegression(l2: 3)
        let problem = LogisticProblem(x: x.view, labels: labels, weights: nil, l2: 3, penalised: [false] + Array(repeating: true, count: k),
                                      weightSum: Double(n), columnNames: ["intercept"] + (1...k).map { "x\($0)" })
        let warm = try newtonSolve(problem, configuration: config)
        let cold = try newtonSolve(problem, configuration: config, warmStart: false)
        #expect(warm.converged && cold.converged)
        #expect(warm.iterations < cold.iterations)
        #expect(warm.beta.maxAbsDifference(cold.beta) < 1e-8)
        #expect(abs(warm.objective - cold.objective) <= 1e-12 * cold.objective)
        let model = try config.fit(design: x, labels: labels)
        #expect(model.designCoefficients.maxAbsDifference(warm.beta) < 1e-12)
    }

    @Test func modelPredictsWithItsCoefficients() throws {
        let (_, data) = try Self.load("plain")
        let model = try Self.fit(data, LogisticRegression())
        let row = [0.3, 2.0, 1.0, -0.5, 0.1]
        let z = model.intercept + zip(model.coefficients, row).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(model.linearPredictor(features: row) - z) < 1e-14)
        #expect(abs(model.probability(features: row) - 1 / (1 + exp(-z))) < 1e-15)
        #expect(model.coefficient("email_valid") == model.coefficients[2])
        #expect(model.coefficient("nope") == nil)
        // The log-likelihood is the sum over the rows of the fitted model's log-probabilities.
        var llf = 0.0
        for i in 0..<data.labels.count {
            let p = model.probability(features: (1..<data.design.columns).map { data.design[i, $0] })
            llf += data.labels[i] == 1 ? log(p) : log(1 - p)
        }
        #expect(abs(llf - model.logLikelihood) < 1e-9 * abs(llf))
    }

    @Test func documentationExampleFitsAndPredicts() throws {
        let x = LogisticRegression.design(columns: [[0.5, -1.2, 0.3, 2.0], [1, 0, 0, 1]])
        let model = try LogisticRegression(l2: 1).fit(design: x, labels: [1, 0, 0, 1], featureNames: ["amount", "email"])
        let p = model.probability(features: [0.1, 1])
        #expect(model.report.converged)
        #expect(p > 0.5 && p < 1)
        #expect(model.coefficient("email")! > 0)
        // Penalised optimum: the gradient of the objective vanishes there.
        let y = [1.0, 0, 0, 1]
        var g = [0.0, 0, 0]
        for i in 0..<4 {
            let r = model.probability(features: [x[i, 1], x[i, 2]]) - y[i]
            for j in 0..<3 { g[j] += r * x[i, j] }
        }
        g[1] += model.coefficients[0]
        g[2] += model.coefficients[1]
        #expect(g.allSatisfy { abs($0) < 1e-9 })
    }
}
