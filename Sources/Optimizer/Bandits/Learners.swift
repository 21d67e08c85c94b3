import Foundation

/// Logged bandit feedback for training: one row per past decision.
///
/// Row `i` says: in context `contexts[i, ·]` the logging policy chose candidate `candidates[i]`
/// (a `Candidate` index) with probability `propensities[i]`, and the reward `rewards[i]` followed.
public struct BanditLog: Sendable {
    /// `n × d` contexts, one row per decision.
    public let contexts: Matrix
    public let candidates: [Int]
    public let rewards: [Double]
    public let propensities: [Double]

    /// Validates and wraps a log.
    /// - Throws: `BanditError.invalidLogRow` naming the row and field when a candidate index is out of
    ///   range, a reward or context value is not finite, or a propensity is outside `(0, 1]`.
    public init(contexts: Matrix, candidates: [Int], rewards: [Double], propensities: [Double]) throws {
        let n = contexts.rows
        precondition(candidates.count == n && rewards.count == n && propensities.count == n,
                     "BanditLog: \(n) contexts, \(candidates.count) candidates, \(rewards.count) rewards, \(propensities.count) propensities")
        for i in 0..<n {
            if candidates[i] < 0 || candidates[i] >= Candidate.count {
                throw BanditError.invalidLogRow(row: i, field: "action", value: Double(candidates[i]),
                                                expected: "a candidate index in 0..<\(Candidate.count)")
            }
            if !rewards[i].isFinite {
                throw BanditError.invalidLogRow(row: i, field: "reward", value: rewards[i], expected: "a finite number")
            }
            if !(propensities[i] > 0 && propensities[i] <= 1) {
                throw BanditError.invalidLogRow(row: i, field: "propensity", value: propensities[i], expected: "a probability in (0, 1]")
            }
        }
        for j in 0..<contexts.columns {
            for i in 0..<n where !contexts[i, j].isFinite {
                throw BanditError.invalidLogRow(row: i, field: "context[\(j)]", value: contexts[i, j], expected: "a finite number")
            }
        }
        self.contexts = contexts
        self.candidates = candidates
        self.rewards = rewards
        self.propensities = propensities
    }

    public var count: Int { contexts.rows }

    /// Context of row `i`.
    public func context(_ i: Int) -> [Double] { (0..<contexts.columns).map { contexts[i, $0] } }
}

/// Sample weights for training on logged data.
///
/// Per-arm regressions trained on data logged by another policy see each arm's contexts with
/// the logging policy's selection bias; weighting row `i` by `1/πᵢ` (Horvitz–Thompson) makes each
/// arm's weighted design represent the whole context population. Weights are clipped at
/// `maxWeight` (Ionides 2008; Bottou et al. 2013) to bound the variance.
public enum ImportanceWeighting: Hashable, Codable, Sendable {
    case none
    case inversePropensity(maxWeight: Double)

    /// `1`, or `min(1/π, maxWeight)`.
    public func weight(propensity p: Double) -> Double {
        switch self {
        case .none: return 1
        case .inversePropensity(let maxWeight): return Swift.min(1 / p, maxWeight)
        }
    }
}

/// The Gaussian posterior of one arm's coefficients, `N(mean, covariance)`.
public struct ArmPosterior: Sendable, Codable, Equatable {
    /// `θ_g`, length `p`.
    public var mean: [Double]
    /// `Σ_g` (`p × p`, column-major, symmetric).
    public var covariance: [Double]
}

/// Everything a decision needs from a trained model: the feature map, the link, what the reward
/// measured, and each arm's coefficient posterior.
public struct BanditPosterior: Sendable, Codable {
    public let featureMap: BanditFeatureMap
    public let link: RewardLink
    public let reward: RewardDefinition
    public internal(set) var arms: [ArmPosterior]

    /// A posterior from its parts (for example loaded from an artifact); one arm per model arm,
    /// each with `p` means and a `p × p` covariance.
    public init(featureMap: BanditFeatureMap, link: RewardLink, reward: RewardDefinition, arms: [ArmPosterior]) {
        let p = featureMap.armFeatureCount
        precondition(arms.count == featureMap.armCount, "BanditPosterior: \(arms.count) arms, the map has \(featureMap.armCount)")
        precondition(arms.allSatisfy { $0.mean.count == p && $0.covariance.count == p * p },
                     "BanditPosterior: every arm needs \(p) means and a \(p) x \(p) covariance")
        self.featureMap = featureMap
        self.link = link
        self.reward = reward
        self.arms = arms
    }
}

/// Row indices of `log` per arm of `map`, and the count of rows the map cannot score.
func rowsByArm(_ log: BanditLog, _ map: BanditFeatureMap) -> (rows: [[Int]], ignored: Int) {
    var rows = [[Int]](repeating: [], count: map.armCount)
    var ignored = 0
    for i in 0..<log.count {
        if let g = map.arm(ofCandidate: log.candidates[i]) { rows[g].append(i) } else { ignored += 1 }
    }
    return (rows, ignored)
}

/// The `m × p` design `[ψ_g(x_i, a_i)]` for the given rows, column-major.
func armDesign(_ log: BanditLog, _ map: BanditFeatureMap, rows: ArraySlice<Int>) -> Matrix {
    let p = map.armFeatureCount, m = rows.count, d = map.contextDimension, k = map.effectFeatureCount
    var out = [Double](repeating: 0, count: m * p)
    for (r, i) in rows.enumerated() {
        for j in 0..<d { out[r + j * m] = log.contexts[i, j] }
        let c = log.candidates[i]
        if c == Candidate.noContactIndex { continue }
        for slot in 0..<3 {
            let b = Int(map.candidateBlocks[c * 3 + slot])
            if b < 0 { continue }
            for j in 0..<k { out[r + (map.blockOffsets[b] + j) * m] = log.contexts[i, j] }
        }
    }
    return Matrix(rows: m, columns: p, columnMajor: out)
}

/// Per-arm ridge regressions over the factored features: the learned state of LinUCB and linear
/// Thompson sampling (Li et al. 2010, disjoint model; MABWiser's `_RidgeRegression`).
///
/// For every arm `g`: `A_g = λI + Σᵢ wᵢ ψᵢψᵢᵀ`, `b_g = Σᵢ wᵢ rᵢ ψᵢ` over the rows whose candidate
/// belongs to `g`; `θ_g = A_g⁻¹ b_g` and `Σ_g = A_g⁻¹` (Cholesky, LAPACK `dpotrf`/`dpotri`).
/// `update(context:candidate:reward:weight:)` is a rank-1 update of `A_g` and `b_g` followed by a
/// refactorisation of that arm (`O(p³)`, as MABWiser refits after each `partial_fit`);
/// `update(with:weighting:)` accumulates the same sums in blocks with `dsyrk`, so batch and
/// sequential training give the same `A` and `b` up to rounding.
///
/// ```swift
/// var model = RidgeBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
/// try model.update(with: log, weighting: .inversePropensity(maxWeight: 20))
/// model.update(context: x, candidate: chosen, reward: 1)
/// ```
public struct RidgeBandit: Sendable {
    public let featureMap: BanditFeatureMap
    /// `λ > 0`.
    public let l2: Double
    public let reward: RewardDefinition
    var gram: [[Double]]
    var moments: [[Double]]
    /// Summed sample weight per arm.
    public private(set) var weightTotals: [Double]
    /// The current posterior (`θ_g = A_g⁻¹b_g`, `Σ_g = A_g⁻¹`), refreshed after every update.
    public private(set) var posterior: BanditPosterior

    /// An untrained model: `A_g = λI`, `b_g = 0`.
    public init(featureMap: BanditFeatureMap, l2: Double, reward: RewardDefinition) {
        precondition(l2 > 0 && l2.isFinite, "RidgeBandit: l2 must be positive and finite, got \(l2)")
        self.featureMap = featureMap
        self.l2 = l2
        self.reward = reward
        let p = featureMap.armFeatureCount, g = featureMap.armCount
        var a = [Double](repeating: 0, count: p * p), cov = a
        for i in 0..<p { a[i * p + i] = l2; cov[i * p + i] = 1 / l2 }
        gram = [[Double]](repeating: a, count: g)
        moments = [[Double]](repeating: [Double](repeating: 0, count: p), count: g)
        weightTotals = [Double](repeating: 0, count: g)
        posterior = BanditPosterior(featureMap: featureMap, link: .identity, reward: reward,
                                    arms: [ArmPosterior](repeating: ArmPosterior(mean: [Double](repeating: 0, count: p), covariance: cov), count: g))
    }

    /// `A_g`.
    public func gramMatrix(arm: Int) -> Matrix {
        let p = featureMap.armFeatureCount
        return Matrix(rows: p, columns: p, columnMajor: gram[arm])
    }

    /// `b_g`.
    public func moment(arm: Int) -> Vector { Vector(moments[arm]) }

    /// `θ_g`.
    public func coefficients(arm: Int) -> Vector { Vector(posterior.arms[arm].mean) }

    /// Adds one observation: `A_g += w ψψᵀ`, `b_g += w r ψ`, then refreshes arm `g`.
    /// Candidates the map cannot score (no-contact without its arm) are a programmer error.
    public mutating func update(context: [Double], candidate: Int, reward r: Double, weight w: Double = 1) {
        guard let g = featureMap.arm(ofCandidate: candidate) else {
            preconditionFailure("RidgeBandit.update: candidate \(Candidate(index: candidate)) has no arm in this feature map")
        }
        precondition(w >= 0 && w.isFinite && r.isFinite, "RidgeBandit.update: weight \(w), reward \(r)")
        let psi = featureMap.features(context: context, candidate: candidate)
        let p = psi.count
        let nz = (0..<p).filter { psi[$0] != 0 }
        gram[g].withUnsafeMutableBufferPointer { a in
            for j in nz {
                let wj = w * psi[j]
                for i in nz { a[i + j * p] += wj * psi[i] }
            }
        }
        for i in nz { moments[g][i] += w * r * psi[i] }
        weightTotals[g] += w
        refresh(arm: g)
    }

    /// Adds every row of `log` (rows whose candidate has no arm are skipped and counted).
    /// - Returns: the number of skipped rows.
    @discardableResult
    public mutating func update(with log: BanditLog, weighting: ImportanceWeighting = .none) -> Int {
        precondition(log.contexts.columns == featureMap.contextDimension,
                     "RidgeBandit: log has \(log.contexts.columns) context columns, the map \(featureMap.contextDimension)")
        let (byArm, ignored) = rowsByArm(log, featureMap)
        let p = featureMap.armFeatureCount
        let chunk = Swift.max(256, 1 << 20 / Swift.max(p, 1) / 8)
        for (g, rows) in byArm.enumerated() where !rows.isEmpty {
            var start = 0
            while start < rows.count {
                let slice = rows[start..<Swift.min(start + chunk, rows.count)]
                let design = armDesign(log, featureMap, rows: slice)
                let w = slice.map { weighting.weight(propensity: log.propensities[$0]) }
                let wr = Vector(slice.enumerated().map { w[$0.offset] * log.rewards[$0.element] })
                let a = weightedGram(design.view, weights: w)
                var b = Vector(count: p)
                gemv(1, design.view, .transpose, wr, 0, &b)
                for k in 0..<(p * p) { gram[g][k] += a.elements[k] }
                for k in 0..<p { moments[g][k] += b[k] }
                weightTotals[g] += w.reduce(0, +)
                start += chunk
            }
            refresh(arm: g)
        }
        return ignored
    }

    mutating func refresh(arm g: Int) {
        let p = featureMap.armFeatureCount
        do {
            let chol = try Cholesky(Matrix(rows: p, columns: p, columnMajor: gram[g]))
            posterior.arms[g] = ArmPosterior(mean: chol.solve(Vector(moments[g])).elements,
                                             covariance: chol.inverse().elements)
        } catch {
            // A_g = λI + Σ w ψψᵀ with λ > 0 and finite, non-negative weights is positive definite.
            preconditionFailure("RidgeBandit: A for arm \(featureMap.armName(g)) is not positive definite: \(error)")
        }
    }
}

/// Diagnostics of one arm's penalised Newton fit.
public struct LogisticArmFit: Sendable, Codable, Equatable {
    public var rows: Int
    public var iterations: Int
    public var converged: Bool
    /// `‖∇‖_∞` of the penalised objective at the returned coefficients.
    public var gradientNorm: Double
}

/// Per-arm Bayesian logistic regressions with the Laplace approximation: the learned state of
/// logistic Thompson sampling (Chapelle & Li 2011, "An Empirical Evaluation of Thompson Sampling",
/// Algorithm 3, with a full rather than diagonal precision).
///
/// Each arm has a Gaussian prior `N(m, P⁻¹)` (initially `m = 0`, `P = λI`). An update on a batch
/// of rows finds the mode of
///
///     L(β) = Σᵢ wᵢ·(log(1+e^{ψᵢᵀβ}) − yᵢ ψᵢᵀβ) + ½ (β − m)ᵀ P (β − m)
///
/// by Newton's method with step halving (gradient, Hessian from `logisticPass`, Cholesky solves),
/// and the posterior becomes `N(β̂, (P + Σᵢ wᵢ pᵢ(1−pᵢ) ψᵢψᵢᵀ)⁻¹)`: the Hessian at the mode is the
/// new precision. A batch fit is an update from the prior; later batches update incrementally.
/// Labels are in `[0, 1]` (paid within H days). Complexity per Newton step: `O(n_g p²)`.
public struct LaplaceLogisticBandit: Sendable {
    public let featureMap: BanditFeatureMap
    public let l2: Double
    public let reward: RewardDefinition
    var precisions: [[Double]]
    /// Fit diagnostics of each arm's latest update.
    public private(set) var fits: [LogisticArmFit?]
    /// The current Laplace posterior per arm.
    public private(set) var posterior: BanditPosterior

    /// An untrained model with prior `N(0, λ⁻¹I)` per arm.
    public init(featureMap: BanditFeatureMap, l2: Double, reward: RewardDefinition) {
        precondition(l2 > 0 && l2.isFinite, "LaplaceLogisticBandit: l2 must be positive and finite, got \(l2)")
        self.featureMap = featureMap
        self.l2 = l2
        self.reward = reward
        let p = featureMap.armFeatureCount, g = featureMap.armCount
        var prec = [Double](repeating: 0, count: p * p), cov = prec
        for i in 0..<p { prec[i * p + i] = l2; cov[i * p + i] = 1 / l2 }
        precisions = [[Double]](repeating: prec, count: g)
        fits = [LogisticArmFit?](repeating: nil, count: g)
        posterior = BanditPosterior(featureMap: featureMap, link: .logistic, reward: reward,
                                    arms: [ArmPosterior](repeating: ArmPosterior(mean: [Double](repeating: 0, count: p), covariance: cov), count: g))
    }

    /// The posterior precision `P_g` of arm `g`.
    public func precision(arm: Int) -> Matrix {
        let p = featureMap.armFeatureCount
        return Matrix(rows: p, columns: p, columnMajor: precisions[arm])
    }

    /// Updates every arm that has rows in `log` (a batch fit when the model is untrained).
    /// - Returns: the number of rows skipped because their candidate has no arm.
    /// - Throws: `BanditError.invalidLogRow` for a reward outside `[0, 1]`; `LinAlgError` if a
    ///   Hessian is not positive definite (impossible for `λ > 0` and finite data).
    @discardableResult
    public mutating func update(with log: BanditLog, weighting: ImportanceWeighting = .none,
                                maxIterations: Int = 50, tolerance: Double = 1e-9) throws -> Int {
        precondition(log.contexts.columns == featureMap.contextDimension,
                     "LaplaceLogisticBandit: log has \(log.contexts.columns) context columns, the map \(featureMap.contextDimension)")
        for i in 0..<log.count where !(log.rewards[i] >= 0 && log.rewards[i] <= 1) {
            throw BanditError.invalidLogRow(row: i, field: "reward", value: log.rewards[i],
                                            expected: "a label in [0, 1] (paid within the horizon)")
        }
        let (byArm, ignored) = rowsByArm(log, featureMap)
        let p = featureMap.armFeatureCount
        for (g, rows) in byArm.enumerated() where !rows.isEmpty {
            let design = armDesign(log, featureMap, rows: rows[...])
            let y = rows.map { log.rewards[$0] }
            let w = rows.map { weighting.weight(propensity: log.propensities[$0]) }
            let prior = Matrix(rows: p, columns: p, columnMajor: precisions[g])
            let m0 = Vector(posterior.arms[g].mean)
            func penalty(_ beta: Vector) -> (value: Double, gradient: Vector) {
                let delta = beta - m0
                let pd = prior * delta
                return (0.5 * dot(delta, pd), pd)
            }
            var beta = m0
            var pass = logisticPass(design: design.view, labels: y, weights: w, coefficients: beta, hessian: true)
            var pen = penalty(beta)
            var objective = pass.loss + pen.value
            var iterations = 0, converged = false
            while iterations < maxIterations {
                iterations += 1
                let gradient = pass.gradient + pen.gradient
                let step = try Cholesky(pass.hessian! + prior).solve(gradient)
                var t = 1.0
                var trial = beta - step
                var trialPass = logisticPass(design: design.view, labels: y, weights: w, coefficients: trial, hessian: true)
                var trialPen = penalty(trial)
                while trialPass.loss + trialPen.value > objective + 1e-12 * Swift.max(1, abs(objective)) && t > 1e-8 {
                    t /= 2
                    trial = beta - t * step
                    trialPass = logisticPass(design: design.view, labels: y, weights: w, coefficients: trial, hessian: true)
                    trialPen = penalty(trial)
                }
                let change = (t * step).normInfinity
                beta = trial
                pass = trialPass
                pen = trialPen
                objective = pass.loss + pen.value
                if change <= tolerance * Swift.max(1, beta.normInfinity) {
                    converged = true
                    break
                }
            }
            let newPrecision = pass.hessian! + prior
            let chol = try Cholesky(newPrecision)
            precisions[g] = newPrecision.elements
            posterior.arms[g] = ArmPosterior(mean: beta.elements, covariance: chol.inverse().elements)
            fits[g] = LogisticArmFit(rows: rows.count, iterations: iterations, converged: converged,
                                     gradientNorm: (pass.gradient + pen.gradient).normInfinity)
        }
        return ignored
    }
}
