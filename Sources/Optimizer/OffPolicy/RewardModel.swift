import Dispatch
import Foundation

/// How a reward model fit went, for reports.
public struct RewardModelFitReport: Sendable, Equatable {
    /// What was fitted, e.g. `logistic` or `ridge`.
    public var kind: String
    /// Whether the fit met its stopping rule.
    public var converged: Bool
    /// Newton iterations (1 for a closed-form fit).
    public var iterations: Int
    /// The objective at the returned coefficients.
    public var objective: Double

    public init(kind: String, converged: Bool, iterations: Int, objective: Double) {
        self.kind = kind
        self.converged = converged
        self.iterations = iterations
        self.objective = objective
    }
}

/// A reward model `q̂(x, a) ≈ E[r | x, a]` for the direct method and doubly robust estimators:
/// a configuration whose `fit` returns the learned model (as scikit-learn keeps
/// hyper-parameters and learned state apart).
public protocol RewardModel: Sendable {
    associatedtype Fitted: FittedRewardModel
    /// Fits the model on the logged rounds `rows` (all rounds when nil).
    /// - Throws: when the fit is impossible (e.g. a singular system without a penalty).
    func fit(_ log: LoggedFeedback, rows: [Int]?) throws -> Fitted
}

/// A fitted reward model.
public protocol FittedRewardModel: Sendable {
    /// `q̂(xᵢ, a)` for each round `i` in `rows` (all when nil) and every action, at the round's
    /// own position: a `rows` x `actionCount` matrix.
    func predict(_ log: LoggedFeedback, rows: [Int]?) -> Matrix
    /// How the fit went.
    var report: RewardModelFitReport { get }
}

/// Reward predictions for every logged round, possibly cross-fitted, with the fits that made them.
public struct RewardPredictions<Fitted: FittedRewardModel>: Sendable {
    /// `q̂(xᵢ, a)`, `count` x `actionCount`.
    public var predictions: Matrix
    /// One fit (no cross-fitting) or one per fold.
    public var fits: [Fitted]
    /// The folds (round indices) each fit predicted; one fold of all rounds without cross-fitting.
    public var folds: [[Int]]
}

extension RewardModel {
    /// Predictions `q̂(xᵢ, a)` for every logged round.
    ///
    /// With `folds = K ≥ 2` the rounds are shuffled with `Xoshiro256(seed:)` and dealt into `K`
    /// folds; each fold is predicted by a model fitted on the other `K − 1` folds (cross-fitting,
    /// Chernozhukov et al. 2018), so no round's prediction has seen its own reward. With `folds = 1`
    /// one model is fitted on all rounds and predicts them. Complexity: `K` fits.
    /// - Throws: what `fit` throws.
    public func predictions(for log: LoggedFeedback, folds: Int = 1, seed: UInt64 = 0) throws -> RewardPredictions<Fitted> {
        precondition(folds >= 1, "RewardModel.predictions: folds must be at least 1")
        let n = log.count, k = log.actionCount
        if folds == 1 {
            let fit = try self.fit(log, rows: nil)
            return RewardPredictions(predictions: fit.predict(log, rows: nil), fits: [fit], folds: [Array(0..<n)])
        }
        precondition(folds <= n, "RewardModel.predictions: \(folds) folds for \(n) rounds")
        var order = Array(0..<n)
        var rng = Xoshiro256(seed: seed)
        order.shuffle(using: &rng)
        var foldRows = [[Int]](repeating: [], count: folds)
        for (position, row) in order.enumerated() { foldRows[position % folds].append(row) }
        for f in 0..<folds { foldRows[f].sort() }
        var out = [Double](repeating: 0, count: n * k)
        var fits = [Fitted]()
        for f in 0..<folds {
            let training = (0..<folds).filter { $0 != f }.flatMap { foldRows[$0] }.sorted()
            let fit = try self.fit(log, rows: training)
            let q = fit.predict(log, rows: foldRows[f]).elements
            let m = foldRows[f].count
            for a in 0..<k {
                for (j, row) in foldRows[f].enumerated() { out[row + a * n] = q[j + a * m] }
            }
            fits.append(fit)
        }
        return RewardPredictions(predictions: Matrix(rows: n, columns: k, columnMajor: out), fits: fits, folds: foldRows)
    }
}

/// The output of `PenalisedRewardModel.Fit.predict`, written by concurrent workers at disjoint rows.
private struct PredictionBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Double>
    init(_ pointer: UnsafeMutablePointer<Double>) { self.pointer = pointer }
}

/// A read-only input of `PenalisedRewardModel.Fit.predict`, shared by its workers.
private struct PredictionInput: @unchecked Sendable {
    let pointer: UnsafePointer<Double>
    init(_ pointer: UnsafePointer<Double>) { self.pointer = pointer }
}

/// A reward model that cannot be fitted, with the reason.
public struct RewardModelError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A penalised generalised linear reward model over actions and contexts.
///
/// Features of round `i` with action `a` (`d` context features, `K` actions, `P` positions):
/// `[1, xᵢ, onehot(posᵢ) (when P > 1), onehot(a), onehot(a) ⊗ xᵢ]`, `p = 1 + d + P + K + K·d`
/// columns: a shared model plus a per-action intercept and per-action context slopes.
///
/// - Binary or fractional rewards in `[0, 1]` (the default when every reward is): logistic,
///   minimising `Σᵢ [log(1 + e^{zᵢ}) − rᵢ zᵢ] + (λ/2)‖β₋₀‖²` with `z = Xβ` and the intercept not
///   penalised (SPEC §4's objective; scikit-learn's `LogisticRegression(C = 1/λ)`), by damped
///   Newton steps on LinAlg's fused `logisticPass` and a Cholesky solve, stopping when the Newton
///   decrement `gᵀH⁻¹g/2 ≤ tolerance·(1 + |f|)` and then taking that last step.
///   `q̂(x, a) = σ(x_aᵀβ)`.
/// - Other rewards: ridge least squares, `½Σᵢ (rᵢ − x_iᵀβ)² + (λ/2)‖β₋₀‖²`, solved from
///   `(XᵀX + λD)β = Xᵀr` (LinAlg `weightedGram`, Cholesky); scikit-learn's `Ridge(alpha = λ)`.
///   `q̂(x, a) = x_aᵀβ`.
///
/// Complexity per Newton iteration: `n·p²` flops and one pass over the `n` x `p` design.
///
/// ```swift
/// let q = try PenalisedRewardModel(l2: 1).predictions(for: log, folds: 5, seed: 7).predictions
/// let dr = DoublyRobust().estimate(log, target: target, predictedRewards: q)
/// ```
public struct PenalisedRewardModel: RewardModel {
    /// The link between the linear predictor and the reward.
    public enum Link: String, Sendable {
        /// `q̂ = σ(xᵀβ)`, fitted by penalised logistic regression.
        case logistic
        /// `q̂ = xᵀβ`, fitted by ridge least squares.
        case identity
    }

    /// `λ ≥ 0`, the L2 penalty on every coefficient but the intercept.
    public var l2: Double
    /// The link; nil chooses logistic when every reward lies in `[0, 1]` and identity otherwise.
    public var link: Link?
    /// The most Newton iterations of a logistic fit.
    public var maxIterations: Int
    /// The relative Newton-decrement tolerance of a logistic fit.
    public var tolerance: Double

    public init(l2: Double = 1, link: Link? = nil, maxIterations: Int = 100, tolerance: Double = 1e-12) {
        precondition(l2 >= 0 && l2.isFinite, "PenalisedRewardModel: l2 must be a finite number ≥ 0")
        precondition(maxIterations >= 1 && tolerance > 0, "PenalisedRewardModel: bad stopping rule")
        self.l2 = l2
        self.link = link
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }

    /// The column layout of the design.
    public struct Layout: Sendable, Equatable {
        public var contextDimension: Int
        public var actionCount: Int
        public var positionCount: Int

        public init(contextDimension: Int, actionCount: Int, positionCount: Int = 1) {
            self.contextDimension = contextDimension
            self.actionCount = actionCount
            self.positionCount = positionCount
        }

        /// Whether position indicators are part of the design (more than one position).
        public var usesPositions: Bool { positionCount > 1 }
        /// Number of design columns `1 + d + P + K + K·d` (`P` counted only when `> 1`).
        public var width: Int { 1 + contextDimension + (usesPositions ? positionCount : 0) + actionCount * (1 + contextDimension) }
        var positionStart: Int { 1 + contextDimension }
        var actionStart: Int { positionStart + (usesPositions ? positionCount : 0) }
        var interactionStart: Int { actionStart + actionCount }
        /// Column names, for reports: `intercept`, `x0…`, `position=p`, `action=a`, `action=a:xj`.
        public var columnNames: [String] {
            var names = ["intercept"] + (0..<contextDimension).map { "x\($0)" }
            if usesPositions { names += (0..<positionCount).map { "position=\($0)" } }
            names += (0..<actionCount).map { "action=\($0)" }
            for a in 0..<actionCount { names += (0..<contextDimension).map { "action=\(a):x\($0)" } }
            return names
        }
    }

    /// A fitted penalised reward model.
    public struct Fit: FittedRewardModel {
        /// The coefficients in `layout` order.
        public let coefficients: Vector
        /// The link used.
        public let link: Link
        /// The design layout.
        public let layout: Layout
        public let report: RewardModelFitReport

        public func predict(_ log: LoggedFeedback, rows: [Int]?) -> Matrix {
            precondition(log.contextDimension == layout.contextDimension && log.actionCount == layout.actionCount
                         && log.positionCount == layout.positionCount, "PenalisedRewardModel.predict: log does not match the fitted layout")
            let d = layout.contextDimension, k = layout.actionCount
            let m = rows?.count ?? log.count
            let context: Matrix = rows.map { PenalisedRewardModel.contextRows(log, $0) } ?? log.contexts
            let beta = coefficients.elements
            // Row offsets: intercept + position effect.
            var offset = [Double](repeating: beta[0], count: m)
            if layout.usesPositions, let positions = log.positions {
                for j in 0..<m { offset[j] += beta[layout.positionStart + positions[rows?[j] ?? j]] }
            }
            // Per action, the coefficients of [1, x]: γ_a and β_x + δ_a.
            var perAction = [Double](repeating: 0, count: k * (d + 1))
            for a in 0..<k {
                perAction[a * (d + 1)] = beta[layout.actionStart + a]
                for f in 0..<d { perAction[a * (d + 1) + 1 + f] = beta[1 + f] + beta[layout.interactionStart + a * d + f] }
            }
            let logistic = link == .logistic
            // Row blocks small enough for the block's contexts to stay in cache across the actions;
            // row ranges run on `BLASRuntime.threads` workers writing disjoint parts of the output.
            let out = [Double](unsafeUninitializedCapacity: m * k) { buffer, initialized in
                let o = PredictionBuffer(buffer.baseAddress!)
                // A placeholder element keeps the pointer valid without context features (never read then).
                (d > 0 ? context.elements : [0]).withUnsafeBufferPointer { xp in
                    offset.withUnsafeBufferPointer { op in
                        perAction.withUnsafeBufferPointer { cp in
                            let x = PredictionInput(xp.baseAddress!)
                            let off = PredictionInput(op.baseAddress!), coef = PredictionInput(cp.baseAddress!)
                            let parts = m * k < 100_000 ? 1 : Swift.max(1, BLASRuntime.threads)
                            DispatchQueue.concurrentPerform(iterations: parts) { part in
                                let lo = m * part / parts, hi = m * (part + 1) / parts
                                var start = lo
                                while start < hi {
                                    let b = Swift.min(2048, hi - start)
                                    for a in 0..<k {
                                        let column = o.pointer + a * m + start, c = coef.pointer + a * (d + 1)
                                        for j in 0..<b { column[j] = off.pointer[start + j] + c[0] }
                                        for f in 0..<d {
                                            let xf = x.pointer + f * m + start, cf = c[1 + f]
                                            for j in 0..<b { column[j] += xf[j] * cf }
                                        }
                                        if logistic { for j in 0..<b { column[j] = sigmoid(column[j]) } }
                                    }
                                    start += b
                                }
                            }
                        }
                    }
                }
                initialized = m * k
            }
            return Matrix(rows: m, columns: k, columnMajor: out)
        }
    }

    /// The context features of `rows`, as a matrix.
    static func contextRows(_ log: LoggedFeedback, _ rows: [Int]) -> Matrix {
        let n = log.count, d = log.contextDimension, m = rows.count
        let x = log.contexts.elements
        var out = [Double](repeating: 0, count: m * d)
        for j in 0..<d {
            for (r, i) in rows.enumerated() { out[r + j * m] = x[i + j * n] }
        }
        return Matrix(rows: m, columns: d, columnMajor: out)
    }

    /// The `m` x `p` design of the logged (row, action) pairs in `rows`.
    public static func design(_ log: LoggedFeedback, rows: [Int]?) -> Matrix {
        let layout = Layout(contextDimension: log.contextDimension, actionCount: log.actionCount, positionCount: log.positionCount)
        let n = log.count, d = layout.contextDimension
        let m = rows?.count ?? n, p = layout.width
        let x = log.contexts.elements
        var out = [Double](repeating: 0, count: m * p)
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<m { o[r] = 1 }
            for j in 0..<d {
                let dst = (1 + j) * m, src = j * n
                if let rows {
                    for (r, i) in rows.enumerated() { o[dst + r] = x[src + i] }
                } else {
                    for r in 0..<m { o[dst + r] = x[src + r] }
                }
            }
            for r in 0..<m {
                let i = rows?[r] ?? r
                if layout.usesPositions, let positions = log.positions {
                    o[r + (layout.positionStart + positions[i]) * m] = 1
                }
                let a = log.actions[i]
                o[r + (layout.actionStart + a) * m] = 1
                let start = layout.interactionStart + a * d
                for j in 0..<d { o[r + (start + j) * m] = x[i + j * n] }
            }
        }
        return Matrix(rows: m, columns: p, columnMajor: out)
    }

    public func fit(_ log: LoggedFeedback, rows: [Int]?) throws -> Fit {
        let layout = Layout(contextDimension: log.contextDimension, actionCount: log.actionCount, positionCount: log.positionCount)
        let r: [Double] = rows.map { $0.map { log.rewards[$0] } } ?? log.rewards
        guard !r.isEmpty else { throw RewardModelError("no rounds to fit the reward model on") }
        let chosen = link ?? (r.allSatisfy { $0 >= 0 && $0 <= 1 } ? .logistic : .identity)
        let x = Self.design(log, rows: rows)
        switch chosen {
        case .identity: return try fitRidge(x, r, layout)
        case .logistic:
            guard r.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                throw RewardModelError("a logistic reward model needs rewards in [0, 1]; use the identity link")
            }
            return try fitLogistic(x, r, layout)
        }
    }

    private func penalised(_ h: Matrix) -> Matrix {
        var h = h
        for j in 1..<h.rows { h[j, j] += l2 }
        return h
    }

    private func penalty(_ beta: Vector) -> Double {
        var s = 0.0
        for j in 1..<beta.count { s += beta[j] * beta[j] }
        return l2 / 2 * s
    }

    private func factor(_ h: Matrix) throws -> Cholesky {
        do {
            return try Cholesky(h)
        } catch {
            throw RewardModelError("the reward model's \(h.rows) x \(h.rows) system is singular (\(error)); "
                                   + "an action without rounds or with constant context needs a positive l2 penalty")
        }
    }

    private func fitRidge(_ x: Matrix, _ r: [Double], _ layout: Layout) throws -> Fit {
        let gram = penalised(weightedGram(x.view))
        var rhs = Vector(count: x.columns)
        gemv(1, x.view, .transpose, Vector(r), 0, &rhs)
        let beta = try factor(gram).solve(rhs)
        var fitted = Vector(count: x.rows)
        gemv(1, x.view, .none, beta, 0, &fitted)
        var rss = 0.0
        for i in 0..<r.count { rss += (r[i] - fitted[i]) * (r[i] - fitted[i]) }
        return Fit(coefficients: beta, link: .identity, layout: layout,
                   report: RewardModelFitReport(kind: "ridge", converged: true, iterations: 1, objective: rss / 2 + penalty(beta)))
    }

    private func fitLogistic(_ x: Matrix, _ r: [Double], _ layout: Layout) throws -> Fit {
        let p = x.columns
        var beta = Vector(count: p)
        let mean = Swift.min(Swift.max(r.reduce(0, +) / Double(r.count), 1e-6), 1 - 1e-6)
        beta[0] = log(mean / (1 - mean))
        var pass = logisticPass(design: x.view, labels: r, coefficients: beta, hessian: true)
        var f = pass.loss + penalty(beta)
        var converged = false
        var iterations = 0
        while iterations < maxIterations {
            iterations += 1
            var g = pass.gradient
            for j in 1..<p { g[j] += l2 * beta[j] }
            let step = try factor(penalised(pass.hessian!)).solve(g)
            let decrement = dot(g, step)
            if decrement / 2 <= tolerance * (1 + abs(f)) {
                // Inside the quadratic region: the last full step only sharpens the optimum.
                beta = beta - step
                converged = true
                break
            }
            // Backtracking (Armijo) line search on the penalised objective.
            var t = 1.0
            var accepted = false
            while t >= 1e-10 {
                let trial = beta - t * step
                let trialPass = logisticPass(design: x.view, labels: r, coefficients: trial, hessian: true)
                let ft = trialPass.loss + penalty(trial)
                if ft <= f - 1e-4 * t * decrement {
                    beta = trial
                    pass = trialPass
                    f = ft
                    accepted = true
                    break
                }
                t /= 2
            }
            // No descent along the Newton direction: rounding dominates; stop and report it.
            if !accepted { break }
        }
        let objective = converged ? logisticPass(design: x.view, labels: r, coefficients: beta).loss + penalty(beta) : f
        return Fit(coefficients: beta, link: .logistic, layout: layout,
                   report: RewardModelFitReport(kind: "logistic", converged: converged, iterations: iterations, objective: objective))
    }
}
