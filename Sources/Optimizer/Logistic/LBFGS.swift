import Foundation
import LinAlg

/// Limited-memory BFGS (Nocedal & Wright 2006, Algorithm 7.4/7.5, memory `m = 10`) on gradient-only
/// passes, with a strong-Wolfe line search (their Algorithms 3.5 and 3.6, `c₁ = 10⁻⁴`, `c₂ = 0.9`,
/// cubic interpolation in the zoom). Near the optimum, where objective differences sink below
/// rounding, a trial point is accepted on the curvature condition alone if the objective did not
/// rise by more than its rounding noise (Hager & Zhang's approximate Wolfe conditions, 2005).
/// With `standardErrors`, one more pass forms the Hessian at the optimum.
func lbfgsSolve(_ problem: LogisticProblem, configuration c: LogisticRegression) throws -> SolverState {
    let memory = 10
    let bound = problem.gradientBound(c.tolerance)
    var current = problem.evaluate(initialCoefficients(problem), hessian: false)
    var passes = 1
    guard current.isFinite else { throw LogisticRegression.FitError.notFinite(iteration: 0) }
    var s = [Vector](), y = [Vector](), rho = [Double]()
    var iterations = 0
    var converged = false
    var warnings = [String]()
    var lastStep: Vector? = nil

    while true {
        let gradientNorm = current.gradient.normInfinity
        if gradientNorm <= bound { converged = true; break }
        if iterations >= c.maxIterations {
            warnings.append("L-BFGS did not converge in \(c.maxIterations) iterations (gradient norm \(gradientNorm) > \(bound))")
            break
        }
        // Two-loop recursion: direction = −H_k·g.
        var q = current.gradient
        var alpha = [Double](repeating: 0, count: s.count)
        for k in stride(from: s.count - 1, through: 0, by: -1) {
            alpha[k] = rho[k] * dot(s[k], q)
            axpy(-alpha[k], y[k], &q)
        }
        if let sl = s.last, let yl = y.last {
            scale(dot(sl, yl) / dot(yl, yl), &q)
        }
        for k in 0..<s.count {
            let b = rho[k] * dot(y[k], q)
            axpy(alpha[k] - b, s[k], &q)
        }
        var direction = q
        scale(-1, &direction)
        var slope = dot(current.gradient, direction)
        if !(slope < 0) {
            // Lost positive definiteness through rounding: restart from steepest descent.
            s.removeAll(); y.removeAll(); rho.removeAll()
            direction = current.gradient
            scale(-1, &direction)
            slope = dot(current.gradient, direction)
        }
        // The first step is scaled so that it moves the coefficients by at most one unit.
        let initial = s.isEmpty ? Swift.min(1, 1 / direction.normInfinity) : 1
        let search = strongWolfe(problem, from: current, direction: direction, slope: slope, initial: initial)
        passes += search.evaluations
        guard let next = search.accepted else {
            if !s.isEmpty {
                s.removeAll(); y.removeAll(); rho.removeAll()
                continue
            }
            warnings.append("L-BFGS line search made no progress (gradient norm \(gradientNorm)); the objective is flat to rounding")
            break
        }
        let step = next.beta - current.beta
        let change = next.gradient - current.gradient
        let curvature = dot(step, change)
        if curvature > 1e-12 * dot(change, change) {
            if s.count == memory { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
            s.append(step); y.append(change); rho.append(1 / curvature)
        }
        lastStep = step
        iterations += 1
        current = next
    }
    if c.standardErrors {
        current = problem.evaluate(current.beta, hessian: true)
        passes += 1
    }
    var state = SolverState(current, converged: converged, iterations: iterations, passes: passes, warnings: warnings)
    state.lastStep = lastStep
    return state
}

/// A line search along `direction` for a step satisfying the strong Wolfe conditions.
func strongWolfe(_ problem: LogisticProblem, from start: Evaluation, direction: Vector, slope: Double,
                 initial: Double) -> (accepted: Evaluation?, evaluations: Int) {
    let c1 = 1e-4, c2 = 0.9
    let f0 = start.objective
    let noise = 1e-13 * Swift.max(1, abs(f0))
    var evaluations = 0
    func at(_ a: Double) -> (Evaluation, Double) {
        var beta = start.beta
        axpy(a, direction, &beta)
        let e = problem.evaluate(beta, hessian: false)
        evaluations += 1
        return (e, e.isFinite ? dot(e.gradient, direction) : .nan)
    }
    func sufficient(_ a: Double, _ e: Evaluation) -> Bool {
        e.isFinite && (e.objective <= f0 + c1 * a * slope || e.objective <= f0 + noise)
    }
    func curvature(_ d: Double) -> Bool { abs(d) <= -c2 * slope }

    // Zoom between a low end satisfying sufficient decrease and a high end (Algorithm 3.6).
    func zoom(_ lo0: (a: Double, f: Double, d: Double), _ hi0: (a: Double, f: Double, d: Double)) -> Evaluation? {
        var lo = lo0, hi = hi0
        for _ in 0..<30 {
            var a = cubicMinimiser(lo, hi)
            let (left, right) = (Swift.min(lo.a, hi.a), Swift.max(lo.a, hi.a))
            let margin = 0.1 * (right - left)
            if !(a > left + margin && a < right - margin) { a = 0.5 * (lo.a + hi.a) }
            let (e, d) = at(a)
            if !sufficient(a, e) || e.objective > lo.f + noise {
                hi = (a, e.isFinite ? e.objective : .infinity, d)
            } else {
                if curvature(d) { return e }
                if d * (hi.a - lo.a) >= 0 { hi = lo }
                lo = (a, e.objective, d)
            }
            if abs(hi.a - lo.a) <= 1e-14 * Swift.max(1, abs(lo.a)) { break }
        }
        return nil
    }

    var previous = (a: 0.0, f: f0, d: slope)
    var a = initial
    for i in 0..<40 {
        let (e, d) = at(a)
        if !sufficient(a, e) || (i > 0 && e.objective > previous.f + noise) {
            return (zoom(previous, (a, e.isFinite ? e.objective : .infinity, d)), evaluations)
        }
        if curvature(d) { return (e, evaluations) }
        if d >= 0 { return (zoom((a, e.objective, d), previous), evaluations) }
        previous = (a, e.objective, d)
        a *= 2
    }
    return (nil, evaluations)
}

/// The minimiser of the cubic matching values and slopes at both ends (Nocedal & Wright, eq. 3.59); NaN if none.
func cubicMinimiser(_ p: (a: Double, f: Double, d: Double), _ q: (a: Double, f: Double, d: Double)) -> Double {
    guard p.f.isFinite, q.f.isFinite, p.d.isFinite, q.d.isFinite, p.a != q.a else { return .nan }
    let d1 = p.d + q.d - 3 * (p.f - q.f) / (p.a - q.a)
    let disc = d1 * d1 - p.d * q.d
    guard disc >= 0 else { return .nan }
    let d2 = (q.a > p.a ? 1.0 : -1.0) * disc.squareRoot()
    return q.a - (q.a - p.a) * (q.d + d2 - d1) / (q.d - p.d + 2 * d2)
}
