import Foundation
import LinAlg

/// L2-penalised, weighted logistic regression: the configuration of a fit.
///
/// Fitting minimises, exactly,
///
///     f(β) = Σᵢ wᵢ·[log(1 + e^{xᵢᵀβ}) − yᵢ·xᵢᵀβ] + (λ/2)·Σ_{j ≠ intercept} βⱼ²
///
/// with labels `yᵢ ∈ [0, 1]` (0/1 for a binary outcome), non-negative sample weights `wᵢ`
/// (frequency or importance weights; an integer weight is the same as repeating the row) and the
/// intercept left unpenalised. This is scikit-learn's `LogisticRegression(C = 1/λ)` objective
/// (lbfgs / newton-cholesky solvers, which do not penalise the intercept) multiplied by `1/C`;
/// at `λ = 0` it is the negative log-likelihood statsmodels' `Logit` maximises.
///
/// Two solvers:
/// - **Newton/IRLS** (`.newton`): one streaming pass over `X` per iteration gives the loss, the
///   gradient `Xᵀ(w⊙(σ(Xβ) − y)) + λβ` and the Hessian `Xᵀ·diag(wσ(1−σ))·X + λI` (LinAlg's
///   `logisticPass`, `n·p²` flops); the Newton system is solved by Cholesky, with a step-halving
///   (Armijo) line search. Close to the optimum the factorised Hessian is reused for cheaper
///   gradient-only passes (a simplified-Newton step) while they keep converging fast. Large
///   designs start from a fit on a random tenth of the rows.
/// - **L-BFGS** (`.lbfgs`, Nocedal & Wright 2006, Algorithm 7.5, memory 10) with a strong-Wolfe
///   line search (their Algorithms 3.5/3.6), `O(n·p)` per evaluation: for wide designs.
///
/// `.auto` picks Newton up to `newtonMaximumWidth` design columns and L-BFGS beyond.
/// Standard errors are the square roots of the diagonal of the inverse Hessian of `f` at the
/// optimum (at `λ = 0` the usual maximum-likelihood standard errors, as statsmodels reports them).
///
/// ```swift
/// let x = LogisticRegression.design(columns: [[0.5, -1.2, 0.3, 2.0], [1, 0, 0, 1]])  // adds the intercept column
/// let model = try LogisticRegression(l2: 1).fit(design: x, labels: [1, 0, 0, 1], featureNames: ["amount", "email"])
/// let p = model.probability(features: [0.1, 1])
/// ```
public struct LogisticRegression: Sendable, Equatable {
    /// How the optimum is found.
    public enum Solver: String, Sendable, Codable, CaseIterable {
        /// Newton up to `newtonMaximumWidth` columns, L-BFGS beyond.
        case auto
        /// Newton/IRLS with Cholesky solves.
        case newton
        /// Limited-memory BFGS.
        case lbfgs
    }

    /// The L2 penalty `λ ≥ 0` on the coefficients (the intercept is not penalised).
    public var l2: Double
    /// The solver.
    public var solver: Solver
    /// Convergence: `‖∇f(β)‖∞ ≤ tolerance · max(1, Σwᵢ)`, a bound on the mean per-row gradient.
    public var tolerance: Double
    /// The largest number of solver iterations (Newton steps or L-BFGS steps).
    public var maxIterations: Int
    /// Whether the design's first column is the intercept (a column of ones).
    public var fitIntercept: Bool
    /// Whether to compute standard errors (one more pass with the Hessian when the solver did not end on one).
    public var standardErrors: Bool
    /// The widest design (columns, intercept included) that `.auto` fits by Newton.
    public var newtonMaximumWidth: Int
    /// Seed of the row subsample that gives large Newton fits their starting point.
    public var seed: UInt64

    /// A configuration.
    /// - Parameters:
    ///   - l2: the penalty `λ ≥ 0`.
    ///   - solver: `.auto`, `.newton` or `.lbfgs`.
    ///   - tolerance: the convergence bound on the mean per-row gradient (see `tolerance`).
    ///   - maxIterations: the iteration limit.
    ///   - fitIntercept: whether the design's first column is the (unpenalised) intercept.
    public init(l2: Double = 0, solver: Solver = .auto, tolerance: Double = 1e-9, maxIterations: Int = 100,
                fitIntercept: Bool = true, standardErrors: Bool = true, newtonMaximumWidth: Int = 400, seed: UInt64 = 0x5EED) {
        precondition(l2 >= 0 && l2.isFinite, "LogisticRegression: l2 must be a finite number >= 0, got \(l2)")
        precondition(tolerance > 0, "LogisticRegression: tolerance must be positive")
        precondition(maxIterations > 0, "LogisticRegression: maxIterations must be positive")
        self.l2 = l2
        self.solver = solver
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.fitIntercept = fitIntercept
        self.standardErrors = standardErrors
        self.newtonMaximumWidth = newtonMaximumWidth
        self.seed = seed
    }

    /// A design matrix with a leading column of ones followed by `columns` (each one feature, all of one length).
    ///
    /// The matrix is written once, column by column; give it to `fit(design:...)` with `fitIntercept` on.
    public static func design(columns: [[Double]]) -> Matrix {
        let n = columns.first?.count ?? 0
        precondition(columns.allSatisfy { $0.count == n }, "LogisticRegression.design: columns differ in length")
        var storage = [Double]()
        storage.reserveCapacity(n * (columns.count + 1))
        storage.append(contentsOf: repeatElement(1.0, count: n))
        for column in columns { storage.append(contentsOf: column) }
        return Matrix(rows: n, columns: columns.count + 1, columnMajor: storage)
    }

    /// A failure that leaves no usable model.
    public enum FitError: Error, Equatable, CustomStringConvertible {
        /// A label outside `[0, 1]` (or not a number) at 0-based `row`.
        case invalidLabel(row: Int, value: Double)
        /// A negative or non-finite sample weight at 0-based `row`.
        case invalidWeight(row: Int, value: Double)
        /// Every weight is zero, or there are no rows.
        case noData
        /// The data are completely separated: a combination of `columns` predicts every label
        /// exactly, so the unpenalised optimum lies at infinity.
        case completeSeparation(columns: [String])
        /// The Hessian is singular (or numerically so): `columns` are linearly dependent on the
        /// rows that carry weight. `conditionNumber` is that of the Hessian scaled to unit diagonal.
        case collinear(columns: [String], conditionNumber: Double)
        /// The objective or its gradient became NaN or infinite.
        case notFinite(iteration: Int)

        public var description: String {
            switch self {
            case .invalidLabel(let row, let value):
                return "label \(value) at row \(row + 1) is not in [0, 1]; a binary target must be 0 or 1"
            case .invalidWeight(let row, let value):
                return "weight \(value) at row \(row + 1) is not a finite number >= 0"
            case .noData:
                return "no rows with positive weight to fit"
            case .completeSeparation(let columns):
                return "the data are completely separated by \(columns.joined(separator: ", ")): the outcome is predicted "
                    + "exactly, so the unpenalised coefficients are infinite; use an L2 penalty (--l2 > 0) or remove those columns"
            case .collinear(let columns, let condition):
                return "the design columns \(columns.joined(separator: ", ")) are collinear (condition number of the scaled Hessian "
                    + "\(String(format: "%.3g", condition))): their coefficients are not identified; drop one of them or use --l2 > 0"
            case .notFinite(let iteration):
                return "the objective became NaN or infinite at iteration \(iteration); check the data for extreme values"
            }
        }
    }

    /// How a fit went.
    public struct FitReport: Sendable, Codable, Equatable {
        /// Whether the convergence criterion was met (and the optimum exists).
        public var converged: Bool
        /// Solver iterations taken on the full data.
        public var iterations: Int
        /// Passes over the full design (function/gradient evaluations, with or without the Hessian).
        public var passes: Int
        /// `‖∇f‖∞` at the returned coefficients.
        public var gradientNorm: Double
        /// The solver that ran (`.newton` or `.lbfgs`).
        public var solver: Solver
        /// Condition number of the Hessian scaled to unit diagonal, when the Hessian was formed.
        public var conditionNumber: Double?
        /// Quasi-separation, ill-conditioning, non-convergence, in words.
        public var warnings: [String]
    }

    /// A fitted model: coefficients by feature, standard errors, log-likelihood and the fit report.
    public struct Model: Sendable, Codable, Equatable {
        /// Feature names, in design column order (the intercept excluded).
        public let featureNames: [String]
        /// Whether an intercept was fitted.
        public let hasIntercept: Bool
        /// The intercept (0 without one).
        public let intercept: Double
        /// Coefficients, in the order of `featureNames`.
        public let coefficients: [Double]
        /// Standard error of the intercept (nil without one or when not computed).
        public let interceptStandardError: Double?
        /// Standard errors of the coefficients, in the order of `featureNames` (nil when not computed).
        public let standardErrors: [Double]?
        /// `Σ wᵢ·(yᵢ log pᵢ + (1−yᵢ) log(1−pᵢ))` at the optimum.
        public let logLikelihood: Double
        /// The minimised objective `−logLikelihood + (λ/2)‖β‖²`.
        public let objective: Double
        /// The penalty the model was fitted with.
        public let l2: Double
        /// Number of rows.
        public let rows: Int
        /// `Σ wᵢ`.
        public let weightSum: Double
        /// How the fit went.
        public let report: FitReport

        /// Coefficient of feature `name`, or nil if there is no such feature.
        public func coefficient(_ name: String) -> Double? {
            featureNames.firstIndex(of: name).map { coefficients[$0] }
        }

        /// The logit `β₀ + Σ βⱼ·xⱼ` for one row of features (intercept excluded), in `featureNames` order.
        public func linearPredictor(features: [Double]) -> Double {
            precondition(features.count == coefficients.count,
                         "Model: \(features.count) features given, the model has \(coefficients.count)")
            var z = intercept
            for j in 0..<features.count { z += coefficients[j] * features[j] }
            return z
        }

        /// `σ(β₀ + Σ βⱼ·xⱼ)`: the fitted probability of `y = 1`.
        public func probability(features: [Double]) -> Double { sigmoid(linearPredictor(features: features)) }

        /// The full coefficient vector in design column order (intercept first when fitted).
        public var designCoefficients: Vector {
            Vector(hasIntercept ? [intercept] + coefficients : coefficients)
        }
    }

    /// Fits the model to a design matrix.
    ///
    /// - Parameters:
    ///   - x: the `n × p` design; with `fitIntercept`, column 0 must be all ones (see `design(columns:)`).
    ///     It is read, never copied (a large Newton fit copies a tenth of its rows for the start).
    ///   - labels: `n` labels in `[0, 1]`.
    ///   - weights: `n` non-negative sample weights (all 1 when nil).
    ///   - featureNames: names of the non-intercept columns (`x1`, `x2`, ... when nil).
    /// - Returns: the fitted model; non-convergence and quasi-separation are reported in `report`.
    /// - Throws: `FitError` for invalid labels or weights, complete separation, collinear columns, or a
    ///   numerical breakdown.
    /// - Complexity: Newton `O(n·p²)` per iteration, typically 3–8 iterations; L-BFGS `O(n·p)` per evaluation.
    public func fit(design x: Matrix, labels: [Double], weights: [Double]? = nil,
                    featureNames: [String]? = nil) throws -> Model {
        let (n, p) = (x.rows, x.columns)
        precondition(labels.count == n, "LogisticRegression.fit: \(labels.count) labels for \(n) rows")
        precondition(weights == nil || weights!.count == n, "LogisticRegression.fit: \(weights!.count) weights for \(n) rows")
        let featureCount = fitIntercept ? p - 1 : p
        precondition(featureCount >= 0, "LogisticRegression.fit: fitIntercept needs an intercept column")
        let names = featureNames ?? (0..<featureCount).map { "x\($0 + 1)" }
        precondition(names.count == featureCount,
                     "LogisticRegression.fit: \(names.count) feature names for \(featureCount) feature columns")
        if fitIntercept {
            x.elements.withUnsafeBufferPointer { ones in
                for i in 0..<n where ones[i] != 1 {
                    preconditionFailure("LogisticRegression.fit: column 0 must be the intercept (ones); row \(i) has \(ones[i])")
                }
            }
        }
        var weightSum = 0.0
        for i in 0..<n {
            let y = labels[i]
            if !(y >= 0 && y <= 1) { throw FitError.invalidLabel(row: i, value: y) }
            if let w = weights?[i] {
                if !(w >= 0 && w.isFinite) { throw FitError.invalidWeight(row: i, value: w) }
                weightSum += w
            } else {
                weightSum += 1
            }
        }
        if !(weightSum > 0) { throw FitError.noData }
        let columnNames = (fitIntercept ? ["intercept"] : []) + names
        let problem = LogisticProblem(x: x.view, labels: labels, weights: weights, l2: l2,
                                      penalised: (0..<p).map { !(fitIntercept && $0 == 0) },
                                      weightSum: weightSum, columnNames: columnNames)
        let useNewton: Bool
        switch solver {
        case .newton: useNewton = true
        case .lbfgs: useNewton = false
        case .auto: useNewton = p <= newtonMaximumWidth
        }
        var state = useNewton ? try newtonSolve(problem, configuration: self) : try lbfgsSolve(problem, configuration: self)
        try diagnose(problem, &state, configuration: self)

        let beta = state.beta
        let se: [Double]? = state.covarianceDiagonal.map { $0.map { $0.squareRoot() } }
        return Model(featureNames: names, hasIntercept: fitIntercept,
                     intercept: fitIntercept ? beta[0] : 0,
                     coefficients: Array(beta.elements[(fitIntercept ? 1 : 0)...]),
                     interceptStandardError: fitIntercept ? se?[0] : nil,
                     standardErrors: se.map { Array($0[(fitIntercept ? 1 : 0)...]) },
                     logLikelihood: -state.loss, objective: state.objective, l2: l2, rows: n, weightSum: weightSum,
                     report: FitReport(converged: state.converged, iterations: state.iterations, passes: state.passes,
                                       gradientNorm: state.gradient.normInfinity,
                                       solver: useNewton ? .newton : .lbfgs, conditionNumber: state.conditionNumber,
                                       warnings: state.warnings))
    }
}

/// The data and penalty of one fit, shared by the solvers.
struct LogisticProblem {
    let x: MatrixView
    let labels: [Double]
    let weights: [Double]?
    let l2: Double
    /// Whether column j is penalised (all but the intercept).
    let penalised: [Bool]
    let weightSum: Double
    let columnNames: [String]

    var rows: Int { x.rows }
    var columns: Int { x.columns }

    /// One pass: objective, gradient and (optionally) Hessian, penalty included.
    func evaluate(_ beta: Vector, hessian: Bool) -> Evaluation {
        let pass = logisticPass(design: x, labels: labels, weights: weights, coefficients: beta, hessian: hessian)
        var gradient = pass.gradient
        var penalty = 0.0
        var h = pass.hessian
        if l2 > 0 {
            for j in 0..<columns where penalised[j] {
                penalty += 0.5 * l2 * beta[j] * beta[j]
                gradient[j] += l2 * beta[j]
                h?[j, j] += l2
            }
        }
        return Evaluation(beta: beta, loss: pass.loss, objective: pass.loss + penalty, gradient: gradient, hessian: h)
    }

    /// The convergence bound on `‖∇f‖∞`.
    func gradientBound(_ tolerance: Double) -> Double { tolerance * Swift.max(1, weightSum) }
}

/// The objective and its derivatives at one point.
struct Evaluation {
    var beta: Vector
    var loss: Double
    var objective: Double
    var gradient: Vector
    var hessian: Matrix?

    var isFinite: Bool { objective.isFinite && gradient.allSatisfy(\.isFinite) }
}

/// Where a solver ended, before the diagnostics.
struct SolverState {
    var beta: Vector
    var loss: Double
    var objective: Double
    var gradient: Vector
    /// The Hessian at `beta`, if formed there.
    var hessian: Matrix?
    var converged: Bool
    var iterations: Int
    var passes: Int
    var warnings: [String] = []
    var conditionNumber: Double? = nil
    var covarianceDiagonal: [Double]? = nil
    /// The solver's last step, whose direction shows which coefficients diverge under separation.
    var lastStep: Vector? = nil

    init(_ e: Evaluation, converged: Bool, iterations: Int, passes: Int, warnings: [String]) {
        beta = e.beta
        loss = e.loss
        objective = e.objective
        gradient = e.gradient
        hessian = e.hessian
        self.converged = converged
        self.iterations = iterations
        self.passes = passes
        self.warnings = warnings
    }
}
