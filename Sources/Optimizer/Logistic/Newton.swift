import Foundation
import LinAlg

/// The start of every solver: coefficients zero, intercept at the logit of the weighted mean label.
func initialCoefficients(_ problem: LogisticProblem) -> Vector {
    var beta = Vector(count: problem.columns)
    if let j = problem.penalised.firstIndex(of: false) {
        var positive = 0.0
        for i in 0..<problem.rows { positive += (problem.weights?[i] ?? 1) * problem.labels[i] }
        let mean = Swift.min(Swift.max(positive / problem.weightSum, 1e-6), 1 - 1e-6)
        beta[j] = log(mean / (1 - mean))
    }
    return beta
}

/// Relative Newton step below which the next pass skips the Hessian and the factorised one is reused.
let hessianReuseStep = 0.02
/// Designs with at least this many rows (and 50 per column) start from a fit on a tenth of them,
/// which itself starts from a fit on a tenth of its rows while it is this large.
let warmStartRows = 100_000

/// Newton/IRLS: full Newton steps from one fused pass each (loss, gradient, Hessian), solved by
/// Cholesky, with Armijo step halving. When a step is small the next pass skips the Hessian and the
/// last factorisation is reused (simplified Newton), as long as the gradient keeps shrinking at
/// least fourfold per step; otherwise the Hessian is refreshed.
func newtonSolve(_ problem: LogisticProblem, configuration c: LogisticRegression,
                 warmStart allowWarmStart: Bool = true) throws -> SolverState {
    var beta = initialCoefficients(problem)
    var factor: Cholesky? = nil
    if allowWarmStart, problem.rows >= warmStartRows, problem.rows >= 50 * problem.columns,
       let warm = subsampleStart(problem, c), let chol = try? Cholesky(warm.hessian) {
        // Start at the subsample's optimum with its Hessian (scaled to all rows) already factorised:
        // the first passes over the full design need no Hessian at all.
        beta = warm.beta
        factor = chol
    }
    let bound = problem.gradientBound(c.tolerance)
    var passes = 1
    var current = problem.evaluate(beta, hessian: factor == nil)
    guard current.isFinite else { throw LogisticRegression.FitError.notFinite(iteration: 0) }
    var iterations = 0
    var converged = false
    var forceHessian = false
    var warnings = [String]()
    var lastStep: Vector? = nil
    // (A subsample's Hessian is not checked: the subsample fit itself fails on a collinear design,
    // and the full design's conditioning is checked on the first full Hessian.)
    var checkedConditioning = false

    while true {
        let gradientNorm = current.gradient.normInfinity
        if gradientNorm <= bound { converged = true; break }
        if iterations >= c.maxIterations {
            warnings.append("Newton did not converge in \(c.maxIterations) iterations (gradient norm \(gradientNorm) > \(bound))")
            break
        }
        if let h = current.hessian {
            if !checkedConditioning {
                // A design that is collinear at the start stays so; stop before a meaningless solve.
                try checkNotCollinear(h, problem, beta: current.beta, threshold: collinearConditionNumber)
                checkedConditioning = true
            }
            do {
                factor = try Cholesky(h)
            } catch {
                try throwSingular(h, problem, beta: current.beta)
            }
        }
        guard let chol = factor else { preconditionFailure("Newton: no Hessian factorisation") }
        var direction = chol.solve(current.gradient)
        scale(-1, &direction)
        let slope = dot(current.gradient, direction)
        if !(slope < 0) {
            // A reused factorisation that no longer gives descent: refresh it here.
            guard current.hessian == nil else {
                warnings.append("Newton stopped: the Hessian gives no descent direction (gradient norm \(gradientNorm))")
                break
            }
            current = problem.evaluate(current.beta, hessian: true)
            passes += 1
            continue
        }
        let relativeStep = direction.normInfinity / (1 + current.beta.normInfinity)
        let wantHessian = forceHessian || relativeStep > hessianReuseStep
        let noise = 1e-13 * Swift.max(1, abs(current.objective))
        var t = 1.0
        var accepted: Evaluation? = nil
        for _ in 0..<50 {
            var trial = current.beta
            axpy(t, direction, &trial)
            let e = problem.evaluate(trial, hessian: wantHessian)
            passes += 1
            if e.isFinite && (e.objective <= current.objective + 1e-4 * t * slope || e.objective <= current.objective + noise) {
                accepted = e
                break
            }
            t *= 0.5
        }
        guard let next = accepted else {
            warnings.append("Newton line search found no decrease of the objective (gradient norm \(gradientNorm))")
            break
        }
        iterations += 1
        lastStep = next.beta - current.beta
        forceHessian = next.hessian == nil && next.gradient.normInfinity > 0.25 * gradientNorm
        current = next
    }
    if c.standardErrors && current.hessian == nil {
        current = problem.evaluate(current.beta, hessian: true)
        passes += 1
    }
    var state = SolverState(current, converged: converged, iterations: iterations, passes: passes, warnings: warnings)
    state.lastStep = lastStep
    return state
}

/// Coefficients fitted on a random tenth of the rows (in blocks) (penalty scaled alike) and the Hessian there scaled to
/// all rows (`H_sub·Σw/Σw_sub`, which also scales the penalty back to `λ`), or nil if that fit fails.
/// A good start: from it, a few gradient-only passes over all rows reach the optimum.
func subsampleStart(_ problem: LogisticProblem, _ c: LogisticRegression) -> (beta: Vector, hessian: Matrix)? {
    // One block of 128 consecutive rows at a random place in each stretch of 1,280: a tenth of the
    // rows from all over the file, while reading only a tenth of the design's memory.
    var rng = Xoshiro256(seed: c.seed, keys: UInt64(problem.rows))
    let (block, stretch) = (128, 1280)
    var rows = [Int]()
    rows.reserveCapacity(problem.rows / 9)
    for start in stride(from: 0, to: problem.rows, by: stretch) {
        let end = Swift.min(start + stretch, problem.rows)
        let first = start + Int(rng.uniform() * Double(Swift.max(end - start - block, 0) + 1))
        for i in first..<Swift.min(first + block, end) where (problem.weights?[i] ?? 1) > 0 { rows.append(i) }
    }
    let (m, p) = (rows.count, problem.columns)
    guard m >= 10 * p else { return nil }
    var storage = [Double](repeating: 0, count: m * p)
    let full = problem.x.copy()  // a view of a whole matrix: shares its storage, no copy
    storage.withUnsafeMutableBufferPointer { dst in
        full.elements.withUnsafeBufferPointer { src in
            let n = problem.rows
            for j in 0..<p {
                let s = src.baseAddress! + j * n, d = dst.baseAddress! + j * m
                for (k, i) in rows.enumerated() { d[k] = s[i] }
            }
        }
    }
    let labels = rows.map { problem.labels[$0] }
    let weights = problem.weights.map { w in rows.map { w[$0] } }
    let subWeightSum = weights?.reduce(0, +) ?? Double(m)
    let sub = Matrix(rows: m, columns: p, columnMajor: storage)
    let subProblem = LogisticProblem(x: sub.view, labels: labels, weights: weights,
                                     l2: problem.l2 * subWeightSum / problem.weightSum,
                                     penalised: problem.penalised, weightSum: subWeightSum, columnNames: problem.columnNames)
    var config = c
    config.tolerance = Swift.max(c.tolerance, 1e-5)  // far below the subsample's own sampling error
    config.standardErrors = true  // ends on a pass with the Hessian at the returned coefficients
    guard let state = try? newtonSolve(subProblem, configuration: config),
          state.beta.allSatisfy(\.isFinite), let h = state.hessian else { return nil }
    return (state.beta, (problem.weightSum / subWeightSum) * h)
}
