import Foundation
import LinAlg

/// Condition number of the unit-diagonal Hessian above which the columns count as collinear (an error):
/// beyond it the coefficients along the weak direction carry no correct digit at the 1e-4 level.
let collinearConditionNumber = 1e12
/// Condition number above which the fit carries an ill-conditioning warning.
let illConditionedNumber = 1e8
/// A row whose logit exceeds this (on the side of its label) has a fitted probability numerically
/// 0 or 1 (`1 − σ(15) ≈ 3·10⁻⁷`); under separation the diverging coefficients carry such rows there.
let saturatedLogit = 15.0

/// The Hessian scaled to unit diagonal, `D^{-1/2}·H·D^{-1/2}`: its condition number and the
/// eigenvector of its smallest eigenvalue (the near-dependency among the columns).
func scaledSpectrum(_ h: Matrix) -> (condition: Double, weakest: Vector)? {
    let p = h.rows
    guard p > 0 else { return nil }
    var d = [Double](repeating: 0, count: p)
    for j in 0..<p {
        d[j] = h[j, j]
        if !(d[j] > 0) {
            var e = Vector(count: p)
            e[j] = 1
            return (.infinity, e)
        }
    }
    let s = Matrix(rows: p, columns: p) { i, j in h[i, j] / (d[i] * d[j]).squareRoot() }
    guard let eigen = try? SymmetricEigen(s) else { return nil }
    let lo = eigen.values[0], hi = eigen.values[p - 1]
    return (lo > 0 ? hi / lo : .infinity, eigen.vectors.column(0))
}

/// Names of the columns with a large share of `direction` (at least a tenth of its largest entry).
func involvedColumns(_ direction: Vector, _ problem: LogisticProblem) -> [String] {
    let m = direction.normInfinity
    guard m > 0 else { return [] }
    return (0..<direction.count).filter { abs(direction[$0]) >= 0.1 * m }.map { problem.columnNames[$0] }
}

/// Throws `.collinear` when the unit-diagonal Hessian's condition number exceeds `threshold`.
func checkNotCollinear(_ h: Matrix, _ problem: LogisticProblem, beta: Vector, threshold: Double) throws {
    guard let spectrum = scaledSpectrum(h), spectrum.condition > threshold else { return }
    try throwSingular(h, problem, beta: beta)
}

/// Explains a singular Hessian: complete separation (every row's probability saturated) or collinear columns.
func throwSingular(_ h: Matrix, _ problem: LogisticProblem, beta: Vector) throws -> Never {
    let saturation = saturationCount(problem, beta)
    if saturation.isComplete(problem.weightSum) {
        throw LogisticRegression.FitError.completeSeparation(columns: involvedColumns(beta, problem))
    }
    let spectrum = scaledSpectrum(h)
    throw LogisticRegression.FitError.collinear(columns: spectrum.map { involvedColumns($0.weakest, problem) } ?? problem.columnNames,
                                                conditionNumber: spectrum?.condition ?? .infinity)
}

/// Rows with positive weight, how many of them have a saturated fitted probability, and the weighted log-loss.
struct Saturation {
    var rows: Int
    var saturated: Int
    var loss: Double

    /// Complete separation: every row saturated, or 99% of them with a mean log-loss below 10⁻⁴
    /// (the solver stopped on its gradient bound before the last rows crossed the threshold).
    func isComplete(_ weightSum: Double) -> Bool {
        rows > 0 && (saturated == rows || (Double(saturated) >= 0.99 * Double(rows) && loss < 1e-4 * weightSum))
    }
}

/// How saturated the fitted probabilities are at `beta` (one pass over `X`).
func saturationCount(_ problem: LogisticProblem, _ beta: Vector) -> Saturation {
    var z = Vector(count: problem.rows)
    gemv(1, problem.x, .none, beta, 0, &z)
    var rows = 0, saturated = 0, loss = 0.0
    for i in 0..<problem.rows where (problem.weights?[i] ?? 1) > 0 {
        rows += 1
        let y = problem.labels[i]
        loss += (problem.weights?[i] ?? 1) * logLoss(label: y, logit: z[i])
        if (y >= 0.5 && z[i] > saturatedLogit) || (y < 0.5 && z[i] < -saturatedLogit) { saturated += 1 }
    }
    return Saturation(rows: rows, saturated: saturated, loss: loss)
}

/// Separation, collinearity and standard errors at the solver's end point.
///
/// Separation is looked for in unpenalised fits that needed many iterations or did not converge
/// (Newton converges in a handful of steps unless the optimum lies at infinity): rows whose fitted
/// probability is numerically 0 or 1 mean the maximum-likelihood estimate does not exist. All rows
/// so → `completeSeparation` error; some → quasi-separation warning and `converged = false`, naming
/// the columns along which the coefficients diverge (the solver's last step). A Hessian whose
/// unit-diagonal form has condition number above 1e12 → `collinear` error naming the columns of the
/// weakest eigenvector; above 1e8 → warning.
func diagnose(_ problem: LogisticProblem, _ state: inout SolverState, configuration c: LogisticRegression) throws {
    guard state.objective.isFinite, state.beta.allSatisfy(\.isFinite) else {
        throw LogisticRegression.FitError.notFinite(iteration: state.iterations)
    }
    var separated = false
    if problem.l2 == 0 && (!state.converged || state.iterations >= 8) {
        let saturation = saturationCount(problem, state.beta)
        let diverging = involvedColumns(state.lastStep ?? state.beta, problem).filter { $0 != "intercept" }
        if saturation.isComplete(problem.weightSum) {
            throw LogisticRegression.FitError.completeSeparation(columns: diverging)
        }
        if saturation.saturated > 0 {
            separated = true
            state.converged = false
            state.warnings.append(
                "quasi-complete separation: \(saturation.saturated) of \(saturation.rows) rows have fitted probabilities "
                + "numerically 0 or 1; the coefficients of \(diverging.joined(separator: ", ")) diverge (the maximum-likelihood "
                + "estimate does not exist) and their standard errors are meaningless; use an L2 penalty (--l2 > 0) or drop or merge those columns")
        }
    }
    if !state.converged && !separated && state.warnings.isEmpty {
        state.warnings.append("did not converge: gradient norm \(state.gradient.normInfinity) after \(state.iterations) iterations")
    }
    guard let h = state.hessian else { return }
    if let spectrum = scaledSpectrum(h) {
        state.conditionNumber = spectrum.condition
        if spectrum.condition > collinearConditionNumber && !separated {
            try throwSingular(h, problem, beta: state.beta)
        }
        if spectrum.condition > illConditionedNumber && !separated {
            state.warnings.append(
                "ill-conditioned design: condition number \(String(format: "%.3g", spectrum.condition)) of the scaled Hessian; "
                + "\(involvedColumns(spectrum.weakest, problem).joined(separator: ", ")) are nearly collinear, so their "
                + "coefficients are poorly determined and their standard errors large")
        }
    }
    guard c.standardErrors else { return }
    let chol: Cholesky
    do { chol = try Cholesky(h) } catch { try throwSingular(h, problem, beta: state.beta) }
    state.covarianceDiagonal = chol.inverse().diagonal.elements
}
