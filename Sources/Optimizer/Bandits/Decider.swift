import Foundation

/// One decision to make: the customer's context, the allowed candidates, the amount at stake.
public struct BanditRequest: Sendable {
    /// Context features in the order of `BanditFeatureMap.contextFeatures`.
    public var context: [Double]
    /// Allowed candidates (from `ActionConstraints.candidates`).
    public var candidates: CandidateSet
    /// Open amount of the case; used by the net-amount objective with a logistic model.
    public var amountDue: Double
    public var runID: UInt64
    public var customerID: UInt64

    public init(context: [Double], candidates: CandidateSet, amountDue: Double = 0, runID: UInt64, customerID: UInt64) {
        self.context = context
        self.candidates = candidates
        self.amountDue = amountDue
        self.runID = runID
        self.customerID = customerID
    }
}

/// How a decision's propensity was obtained.
public enum PropensityMethod: Hashable, Codable, Sendable {
    /// Computed from the policy's closed-form distribution.
    case exact
    /// The share of `draws` posterior draws in which the candidate won (Thompson sampling).
    case monteCarlo(draws: Int)
}

/// One term of a score: a feature's coefficient times its value (on the model's scale).
public struct FeatureContribution: Hashable, Codable, Sendable {
    public var feature: String
    public var value: Double

    public init(feature: String, value: Double) {
        self.feature = feature
        self.value = value
    }
}

/// Why the chosen candidate scored as it did.
public struct BanditExplanation: Hashable, Codable, Sendable {
    /// The arm (model) that scored the candidate, e.g. `sms/friendly`.
    public var arm: String
    /// `"logit"` (logistic model) or `"reward"` (linear model).
    public var scale: String
    /// `ψᵀθ`, the posterior-mean linear predictor.
    public var linearPredictor: Double
    /// The largest contributions `θ_j ψ_j` by absolute value (at most three), then the channel cost if any.
    public var contributions: [FeatureContribution]
    /// LinUCB's bonus `α·√(ψᵀA⁻¹ψ)`.
    public var explorationBonus: Double?

    public init(arm: String, scale: String, linearPredictor: Double, contributions: [FeatureContribution], explorationBonus: Double?) {
        self.arm = arm
        self.scale = scale
        self.linearPredictor = linearPredictor
        self.contributions = contributions
        self.explorationBonus = explorationBonus
    }

    /// `sms/friendly: +0.42 intercept, +0.31 weekday=tuesday×intercept, −0.12 days_overdue`.
    public var summary: String {
        arm + ": " + contributions.map { String(format: "%+.3g %@", $0.value, $0.feature) }.joined(separator: ", ")
    }
}

/// A candidate with its score and probability, for showing the alternatives.
public struct ScoredCandidate: Hashable, Sendable {
    public var candidate: Candidate
    public var score: Double
    public var probability: Double

    public init(candidate: Candidate, score: Double, probability: Double) {
        self.candidate = candidate
        self.score = score
        self.probability = probability
    }
}

/// The outcome of one decision: what was chosen, with which probability, why, and the alternatives.
public struct BanditDecision: Sendable {
    public let candidate: Candidate
    /// Probability with which `candidate` was chosen (for off-policy evaluation).
    public let propensity: Double
    public let propensityMethod: PropensityMethod
    /// The policy's ranking score per candidate index (`−∞` outside the allowed set): the upper
    /// confidence bound for LinUCB, else the expected utility under the posterior mean.
    public let scores: [Double]
    /// The policy's probability per candidate index (0 outside the allowed set; sums to 1).
    public let probabilities: [Double]
    public let explanation: BanditExplanation
    /// The generator seed the decision used (derived from the decider's seed, run id and customer id).
    public let seed: UInt64

    /// The allowed candidates, best score first (ties to the lower index), at most `n`.
    /// Complexity: `O(C·log n)` by insertion into a sorted run of the best `n` for small `n`
    /// (`C` = 757 candidate indices), else a full sort.
    public func alternatives(top n: Int = .max) -> [ScoredCandidate] {
        precondition(n >= 0, "BanditDecision.alternatives: top \(n) must be ≥ 0")
        if n == 0 { return [] }
        func better(_ a: Int, _ b: Int) -> Bool { scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
        var best: [Int] = []
        if n <= 32 {
            best.reserveCapacity(n + 1)
            scores.withUnsafeBufferPointer { s in
                for c in 0..<s.count where s[c] > -.infinity {
                    // Candidates come in increasing index order, so a later one only beats an equal score never.
                    guard best.count < n || s[c] > s[best[best.count - 1]] else { continue }
                    var k = best.count
                    while k > 0 && s[c] > s[best[k - 1]] { k -= 1 }
                    best.insert(c, at: k)
                    if best.count > n { best.removeLast() }
                }
            }
        } else {
            best = scores.indices.filter { scores[$0] > -.infinity }.sorted(by: better)
            if best.count > n { best.removeLast(best.count - n) }
        }
        return best.map { ScoredCandidate(candidate: Candidate(index: $0), score: scores[$0], probability: probabilities[$0]) }
    }
}

/// Step 1's output: everything scored for one request.
public struct CandidateScores: Sendable {
    /// The candidates that are allowed and scorable.
    public let allowed: CandidateSet
    /// Utility of the posterior-mean prediction per candidate index (`−∞` outside `allowed`).
    public let expected: [Double]
    /// LinUCB's optimistic utility per candidate index, else `nil`.
    public let upperBounds: [Double]?
    /// The scores the policy ranks by.
    public var ranking: [Double] { upperBounds ?? expected }

    // Thompson sampling state. Blocks of arm g live at g·S ..< g·S + S with S = B + 1; slot B is
    // always 0, so a candidate's predictor is the sum of four slots (base, up to three effects).
    let list: [Int32]
    let listOffsets: [Int32]
    let listCost: [Double]
    let usedArms: [Int]
    let blockMeans: [Double]
    let blockCholesky: [Double]
    let utilityScale: Double
    let logistic: Bool
}

/// Makes decisions with a policy over a trained posterior, in Vowpal Wabbit's three pure steps:
/// `scores` (model → per-candidate scores), `distribution` (scores → probabilities),
/// `sample` (probabilities + seeded generator → candidate). `decide` runs the three and adds the
/// propensity and an explanation. Every decision is replayable: its generator is
/// `Xoshiro256(seed: seed, keys: runID, customerID)`.
///
/// ```swift
/// let model = try LinUCB(alpha: 1, l2: 1).fit(log, featureMap: map, reward: .paidWithin(days: 7))
/// let decider = try BanditDecider(policy: .linUCB(try LinUCB(alpha: 1)), posterior: model.posterior,
///                                 objective: .paymentProbability(horizonDays: 7), seed: 2026)
/// let decision = try decider.decide(BanditRequest(context: x, candidates: constraints.candidates,
///                                                runID: 17, customerID: 4711))
/// print(decision.candidate, decision.propensity, decision.explanation.summary)
/// ```
/// Complexity per decision: `O(G·p²)` for the block quadratic forms (LinUCB, Thompson sampling)
/// or `O(G·p)` (ε-greedy, softmax), plus `O(n)` over the `n ≤ 757` allowed candidates; Thompson
/// sampling adds `O(M·(G·B² + n))` for `M` propensity draws.
public struct BanditDecider: Sendable {
    public let policy: BanditPolicy
    public let posterior: BanditPosterior
    public let objective: DecisionObjective
    public let seed: UInt64

    // Per-candidate tables, computed once: arm, the four block slots (base first; absent effects
    // point at the zero slot B), and the objective's cost.
    let scorable: CandidateSet
    let slots: [Int32]
    let candidateArm: [Int32]
    let candidateCost: [Double]
    let stride: Int
    /// Per arm, the base block of `Σ_g` packed as `(Σ_ii ; 2Σ_ij)_{i<j}` so that
    /// `xᵀΣ_g,00 x = vech(xxᵀ)·packed` is one contiguous dot product (LinUCB and Thompson sampling only).
    let packedBase: [Double]
    /// Per arm, the base × effect block of `Σ_g` row-major (`d × (p − d)`), for `blockForms`.
    let crossRows: [Double]

    /// - Throws: `BanditError.objectiveMismatch` if the objective does not fit the model, or if the
    ///   policy needs another model kind (LinUCB/linear TS need a linear model, logistic TS a logistic one).
    public init(policy: BanditPolicy, posterior: BanditPosterior, objective: DecisionObjective, seed: UInt64) throws {
        try objective.validate(reward: posterior.reward, link: posterior.link)
        switch (policy, posterior.link) {
        case (.linUCB, .logistic), (.linearThompson, .logistic):
            throw BanditError.objectiveMismatch("\(policy.name) needs a linear (ridge) model; this posterior is logistic")
        case (.logisticThompson, .identity):
            throw BanditError.objectiveMismatch("logistic-thompson needs a logistic (Laplace) model; this posterior is linear")
        default: break
        }
        self.policy = policy
        self.posterior = posterior
        self.objective = objective
        self.seed = seed
        let map = posterior.featureMap
        let nb = map.blockCount
        stride = nb + 1
        scorable = map.scorableCandidates
        var slots = [Int32](repeating: Int32(nb), count: Candidate.count * 4)
        for c in 0..<Candidate.count {
            slots[c * 4] = 0
            if c == Candidate.noContactIndex { continue }
            for k in 0..<3 where map.candidateBlocks[c * 3 + k] >= 0 { slots[c * 4 + 1 + k] = Int32(map.candidateBlocks[c * 3 + k]) }
        }
        self.slots = slots
        candidateArm = map.candidateArm
        candidateCost = (0..<Candidate.count).map { objective.cost(ofCandidate: $0) }
        switch policy {
        case .linUCB, .linearThompson, .logisticThompson:
            let d = map.contextDimension, p = map.armFeatureCount, qd = d * (d + 1) / 2
            var packed = [Double](repeating: 0, count: map.armCount * qd)
            for g in 0..<map.armCount {
                let sigma = posterior.arms[g].covariance
                var r = g * qd
                for j in 0..<d {
                    for i in 0...j {
                        packed[r] = (i == j ? 1 : 2) * sigma[i + j * p]
                        r += 1
                    }
                }
            }
            packedBase = packed
            // Per arm, Σ[0..<d, d..<p] row-major (row i: Σ[i, d + c] for every effect column c).
            let e = p - d
            var rows = [Double](repeating: 0, count: map.armCount * d * e)
            for g in 0..<map.armCount {
                let sigma = posterior.arms[g].covariance
                for i in 0..<d { for c in 0..<e { rows[(g * d + i) * e + c] = sigma[i + (d + c) * p] } }
            }
            crossRows = rows
        case .epsilonGreedy, .softmax:
            packedBase = []
            crossRows = []
        }
    }

    /// The decision generator for a run and a customer.
    public func generator(runID: UInt64, customerID: UInt64) -> Xoshiro256 {
        Xoshiro256(seed: seed, keys: runID, customerID)
    }

    // MARK: Step 1: scores

    /// Scores every allowed candidate (pure).
    public func scores(_ request: BanditRequest) -> CandidateScores {
        let map = posterior.featureMap
        precondition(request.context.count == map.contextDimension,
                     "BanditDecider: context has \(request.context.count) features, the model \(map.contextDimension)")
        let allowed = request.candidates.intersection(scorable)
        let logistic = posterior.link == .logistic
        var scale = 1.0
        if case .expectedNetAmount = objective, logistic {
            precondition(request.amountDue >= 0 && request.amountDue.isFinite, "BanditDecider: amountDue \(request.amountDue)")
            scale = request.amountDue
        }
        let needQ: Bool, ucbAlpha: Double?, thompsonAlpha: Double?
        switch policy {
        case .linUCB(let c): needQ = c.alpha > 0; ucbAlpha = c.alpha; thompsonAlpha = nil
        case .linearThompson(let c): needQ = true; ucbAlpha = nil; thompsonAlpha = c.alpha
        case .logisticThompson(let c): needQ = true; ucbAlpha = nil; thompsonAlpha = c.alpha
        case .epsilonGreedy, .softmax: needQ = false; ucbAlpha = nil; thompsonAlpha = nil
        }

        let nb = map.blockCount, st = stride, armCount = map.armCount
        let n = allowed.count
        var list = [Int32](repeating: 0, count: n)
        var offsets = [Int32](repeating: 0, count: n * 4)
        var costs = [Double](repeating: 0, count: n)
        var armUsed = [Bool](repeating: false, count: armCount)
        list.withUnsafeMutableBufferPointer { lp in
            offsets.withUnsafeMutableBufferPointer { op in
                costs.withUnsafeMutableBufferPointer { cp in
                    armUsed.withUnsafeMutableBufferPointer { up in
                        candidateArm.withUnsafeBufferPointer { arms in
                            slots.withUnsafeBufferPointer { sl in
                                candidateCost.withUnsafeBufferPointer { cc in
                                    var e = 0
                                    for w in 0..<allowed.words.count {
                                        var bits = allowed.words[w]
                                        while bits != 0 {
                                            let c = w << 6 | bits.trailingZeroBitCount
                                            bits &= bits &- 1
                                            let g = Int(arms[c])
                                            lp[e] = Int32(c)
                                            let base = Int32(g * st)
                                            op[e * 4] = base + sl[c * 4]
                                            op[e * 4 + 1] = base + sl[c * 4 + 1]
                                            op[e * 4 + 2] = base + sl[c * 4 + 2]
                                            op[e * 4 + 3] = base + sl[c * 4 + 3]
                                            cp[e] = cc[c]
                                            up[g] = true
                                            e += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let usedArms = (0..<armCount).filter { armUsed[$0] }

        var means = [Double](repeating: 0, count: armCount * st)
        var quad = [Double](repeating: 0, count: needQ ? armCount * st * st : 0)
        let d = map.contextDimension
        withUnsafeTemporaryAllocation(of: Double.self, capacity: d * (d + 1) / 2 + map.armFeatureCount) { buffer in
            let z = buffer.baseAddress!, scratch = z + d * (d + 1) / 2
            request.context.withUnsafeBufferPointer { xb in
                let x = xb.baseAddress!
                if needQ {
                    var r = 0
                    for j in 0..<d { for i in 0...j { z[r] = x[i] * x[j]; r += 1 } }
                }
                means.withUnsafeMutableBufferPointer { m in
                    quad.withUnsafeMutableBufferPointer { q in
                        for g in usedArms {
                            blockForms(arm: g, context: x, vech: z, quadratic: needQ, means: m.baseAddress!,
                                       quad: q.baseAddress ?? m.baseAddress!, scratch: scratch)
                        }
                    }
                }
            }
        }

        var expected = [Double](repeating: -.infinity, count: Candidate.count)
        var upperValues = [Double](repeating: -.infinity, count: ucbAlpha == nil ? 0 : Candidate.count)
        expected.withUnsafeMutableBufferPointer { expectedOut in
        upperValues.withUnsafeMutableBufferPointer { upperOut in
        means.withUnsafeBufferPointer { m in
            quad.withUnsafeBufferPointer { q in
                offsets.withUnsafeBufferPointer { o in
                  candidateArm.withUnsafeBufferPointer { arms in
                    for e in 0..<n {
                        let i0 = Int(o[e * 4]), i1 = Int(o[e * 4 + 1]), i2 = Int(o[e * 4 + 2]), i3 = Int(o[e * 4 + 3])
                        let eta = m[i0] + m[i1] + m[i2] + m[i3]
                        let c = Int(list[e])
                        expectedOut[c] = utility(eta, scale: scale, logistic: logistic, cost: costs[e])
                        guard let alpha = ucbAlpha else { continue }
                        var variance = 0.0
                        if needQ {
                            // Offsets are g·S + slot; Q of arm g starts at g·S² and is indexed slot_a + slot_b·S.
                            let g = Int(arms[c])
                            let base = g * st * st
                            let a0 = i0 - g * st, a1 = i1 - g * st, a2 = i2 - g * st, a3 = i3 - g * st
                            let r0 = base + a0 * st, r1 = base + a1 * st, r2 = base + a2 * st, r3 = base + a3 * st
                            variance = q[r0 + a0] + q[r1 + a1] + q[r2 + a2] + q[r3 + a3]
                                + 2 * (q[r0 + a1] + q[r0 + a2] + q[r0 + a3] + q[r1 + a2] + q[r1 + a3] + q[r2 + a3])
                        }
                        upperOut[c] = utility(eta + alpha * Swift.max(variance, 0).squareRoot(), scale: scale, logistic: logistic, cost: costs[e])
                    }
                  }
                }
            }
        }
        }
        }
        let upper: [Double]? = ucbAlpha == nil ? nil : upperValues

        var chol = [Double]()
        if let alpha = thompsonAlpha {
            chol = [Double](repeating: 0, count: armCount * st * st)
            for g in usedArms {
                var qg = [Double](repeating: 0, count: nb * nb)
                for b in 0..<nb { for a in 0..<nb { qg[a + b * nb] = quad[g * st * st + a + b * st] } }
                let l = semidefiniteCholesky(qg, n: nb)
                for b in 0..<nb { for a in 0..<nb { chol[g * st * st + a + b * st] = alpha * l[a + b * nb] } }
            }
        }
        return CandidateScores(allowed: allowed, expected: expected, upperBounds: upper, list: list, listOffsets: offsets,
                               listCost: costs, usedArms: usedArms, blockMeans: means, blockCholesky: chol,
                               utilityScale: scale, logistic: logistic)
    }

    @inline(__always)
    func utility(_ eta: Double, scale: Double, logistic: Bool, cost: Double) -> Double {
        (logistic ? sigmoid(eta) : eta) * scale - cost
    }

    /// Block means `m_b = θ_bᵀu_b` and block quadratic forms `Q_ab = u_aᵀ Σ_ab u_b` of arm `g`
    /// for context `x` (`u_0 = x`, effect blocks `u_b = x₁..ₖ`), written at `g·S` and `g·S²`
    /// (stride `S = B + 1`, the last slot and row/column staying 0).
    ///
    /// `Q_00 = vech(xxᵀ)·packed` is one contiguous dot product (four partial sums); the base ×
    /// effect forms `Q_0b` use `s = Σ_{0,E}ᵀ x` for all effect columns at once from the row-major
    /// copy `crossRows` (each `s_c` summed over `i` in order, the columns side by side); the effect
    /// × effect forms read `Σ` directly (`(Σ_ab·x₁)·x₁` when `k = 1`). Every sum runs in the order
    /// of the plain per-block loops, so the values are the same to the last bit.
    /// Complexity: `O(p²/2)` multiply-adds.
    func blockForms(arm g: Int, context xp: UnsafePointer<Double>, vech zp: UnsafePointer<Double>, quadratic: Bool,
                    means m: UnsafeMutablePointer<Double>, quad q: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        let map = posterior.featureMap
        let p = map.armFeatureCount, nb = map.blockCount, st = stride, d = map.contextDimension, k = map.effectFeatureCount
        let arm = posterior.arms[g]
        arm.mean.withUnsafeBufferPointer { theta in
            var s = 0.0
            for j in 0..<d { s += theta[j] * xp[j] }
            m[g * st] = s
            for b in 1..<Swift.max(nb, 1) {
                let o = d + (b - 1) * k
                var t = 0.0
                for j in 0..<k { t += theta[o + j] * xp[j] }
                m[g * st + b] = t
            }
        }
        guard quadratic else { return }
        let qb = g * st * st
        // The base block: one contiguous dot product with the packed covariance.
        let qd = d * (d + 1) / 2
        packedBase.withUnsafeBufferPointer { packed in
            let c = packed.baseAddress! + g * qd
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            var i = 0
            while i + 4 <= qd {
                s0 += c[i] * zp[i]; s1 += c[i + 1] * zp[i + 1]
                s2 += c[i + 2] * zp[i + 2]; s3 += c[i + 3] * zp[i + 3]
                i += 4
            }
            while i < qd { s0 += c[i] * zp[i]; i += 1 }
            q[qb] = (s0 + s1) + (s2 + s3)
        }
        let e = p - d
        guard e > 0 else { return }
        // Base × effect: s_c = Σ_i Σ[i, d + c]·x_i for every effect column c, then Q_0b = Σ_j s_{(b−1)k+j}·x_j.
        let sums = scratch
        for c in 0..<e { sums[c] = 0 }
        crossRows.withUnsafeBufferPointer { rows in
            let base = rows.baseAddress! + g * d * e
            for i in 0..<d {
                let xi = xp[i], row = base + i * e
                for c in 0..<e { sums[c] += row[c] * xi }
            }
        }
        for b in 1..<nb {
            var total = 0.0
            for j in 0..<k { total += sums[(b - 1) * k + j] * xp[j] }
            q[qb + b * st] = total
            q[qb + b] = total
        }
        // Effect × effect.
        arm.covariance.withUnsafeBufferPointer { sigma in
            if k == 1 {
                let x0 = xp[0]
                for b in 1..<nb {
                    let col = sigma.baseAddress! + (d + b - 1) * p + d - 1
                    for a in 1...b {
                        let total = (col[a] * x0) * x0
                        q[qb + a + b * st] = total
                        q[qb + b + a * st] = total
                    }
                }
                return
            }
            for b in 1..<nb {
                let ob = d + (b - 1) * k
                for a in 1...b {
                    let oa = d + (a - 1) * k
                    var total = 0.0
                    if a == b {
                        for j in 0..<k {
                            let col = sigma.baseAddress! + (ob + j) * p + oa
                            var s = 0.5 * col[j] * xp[j]
                            for i in 0..<j { s += col[i] * xp[i] }
                            total += 2 * s * xp[j]
                        }
                    } else {
                        for j in 0..<k {
                            let col = sigma.baseAddress! + (ob + j) * p + oa
                            var s = 0.0
                            for i in 0..<k { s += col[i] * xp[i] }
                            total += s * xp[j]
                        }
                    }
                    q[qb + a + b * st] = total
                    q[qb + b + a * st] = total
                }
            }
        }
    }

    // MARK: Step 2: distribution

    /// The policy's probability per candidate index (pure given `generator`'s state; only
    /// Thompson sampling draws from it, `propensityDraws` posterior draws).
    public func distribution(_ scores: CandidateScores, using generator: inout Xoshiro256) -> [Double] {
        switch policy {
        case .linUCB:
            return BanditDecider.greedy(scores.ranking, scores.allowed, epsilon: 0)
        case .epsilonGreedy(let c):
            return BanditDecider.greedy(scores.expected, scores.allowed, epsilon: c.epsilon)
        case .softmax(let c):
            return BanditDecider.softmax(scores.expected, scores.allowed, temperature: c.temperature)
        case .linearThompson(let c):
            return thompson(scores, draws: c.propensityDraws, &generator)
        case .logisticThompson(let c):
            return thompson(scores, draws: c.propensityDraws, &generator)
        }
    }

    /// `(1−ε)` split evenly over the best candidates (ties within `1e-12` relative) plus `ε/n` each.
    static func greedy(_ u: [Double], _ allowed: CandidateSet, epsilon: Double) -> [Double] {
        var p = [Double](repeating: 0, count: Candidate.count)
        var best = -Double.infinity
        let n = allowed.count
        guard n > 0 else { return p }
        u.withUnsafeBufferPointer { up in
            allowed.forEachIndex { best = Swift.max(best, up[$0]) }
            let tol = 1e-12 * Swift.max(1, abs(best))
            var ties = 0
            allowed.forEachIndex { c in if up[c] >= best - tol { ties += 1 } }
            let base = epsilon / Double(n), top = (1 - epsilon) / Double(ties)
            p.withUnsafeMutableBufferPointer { pp in
                allowed.forEachIndex { c in pp[c] = up[c] >= best - tol ? base + top : base }
            }
        }
        return p
    }

    static func softmax(_ u: [Double], _ allowed: CandidateSet, temperature: Double) -> [Double] {
        var p = [Double](repeating: 0, count: Candidate.count)
        var best = -Double.infinity
        allowed.forEachIndex { best = Swift.max(best, u[$0]) }
        var total = 0.0
        allowed.forEachIndex { c in
            let e = exp((u[c] - best) / temperature)
            p[c] = e
            total += e
        }
        if total > 0 { allowed.forEachIndex { p[$0] /= total } }
        return p
    }

    /// Monte-Carlo Thompson distribution: the share of `draws` posterior draws each candidate wins
    /// (a tie of `t` candidates gives each `1/t` of that draw).
    func thompson(_ s: CandidateScores, draws: Int, _ rng: inout Xoshiro256) -> [Double] {
        var p = [Double](repeating: 0, count: Candidate.count)
        let n = s.list.count
        guard n > 0 else { return p }
        let nb = posterior.featureMap.blockCount, st = stride
        var sampled = [Double](repeating: 0, count: posterior.featureMap.armCount * st)
        var z = [Double](repeating: 0, count: nb + 1)
        var u = [Double](repeating: 0, count: n)
        var wins = [Double](repeating: 0, count: n)
        let scale = s.utilityScale, logistic = s.logistic
        let plain = !logistic && s.listCost.allSatisfy { $0 == 0 } && scale == 1
        s.blockMeans.withUnsafeBufferPointer { m in
            s.blockCholesky.withUnsafeBufferPointer { l in
                s.listOffsets.withUnsafeBufferPointer { o in
                    s.listCost.withUnsafeBufferPointer { cost in
                        sampled.withUnsafeMutableBufferPointer { sp in
                            z.withUnsafeMutableBufferPointer { zp in
                                u.withUnsafeMutableBufferPointer { up in
                                    wins.withUnsafeMutableBufferPointer { wp in
                                        for _ in 0..<draws {
                                            for g in s.usedArms {
                                                var b = 0
                                                while b < nb {
                                                    let (z0, z1) = normalPair(&rng)
                                                    zp[b] = z0
                                                    if b + 1 < nb { zp[b + 1] = z1 }
                                                    b += 2
                                                }
                                                let mb = g * st, lb = g * st * st
                                                for b in 0..<nb {
                                                    var v = m[mb + b]
                                                    for j in 0...b { v += l[lb + b + j * st] * zp[j] }
                                                    sp[mb + b] = v
                                                }
                                            }
                                            // One pass finds the best value and whether anything comes within
                                            // the tie tolerance of it; a second pass only runs for ties.
                                            var best = -Double.infinity, arg = 0, near = 0
                                            for e in 0..<n {
                                                let eta = sp[Int(o[e * 4])] + sp[Int(o[e * 4 + 1])] + sp[Int(o[e * 4 + 2])] + sp[Int(o[e * 4 + 3])]
                                                let value = plain ? eta : (logistic ? sigmoid(eta) : eta) * scale - cost[e]
                                                up[e] = value
                                                let tolerance = 1e-12 * Swift.max(1, abs(Swift.max(best, value)))
                                                if value > best + tolerance {
                                                    near = best >= value - tolerance ? near + 1 : 1
                                                    best = value
                                                    arg = e
                                                } else if value >= best - tolerance {
                                                    near += 1
                                                    if value > best { best = value; arg = e }
                                                }
                                            }
                                            let tol = 1e-12 * Swift.max(1, abs(best))
                                            if near == 1 {
                                                wp[arg] += 1
                                            } else {
                                                var ties = 0
                                                for e in 0..<n where up[e] >= best - tol { ties += 1 }
                                                let share = 1 / Double(ties)
                                                for e in 0..<n where up[e] >= best - tol { wp[e] += share }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for e in 0..<n { p[Int(s.list[e])] = wins[e] / Double(draws) }
        return p
    }

    // MARK: Step 3: sample

    /// Draws a candidate index from `probabilities` by inversion with one uniform (pure given the
    /// generator's state).
    public static func sample(_ probabilities: [Double], from allowed: CandidateSet, using generator: inout Xoshiro256) -> Int {
        let u = generator.uniform()
        var cumulative = 0.0
        var last = -1
        var chosen = -1
        allowed.forEachIndex { c in
            guard chosen < 0, probabilities[c] > 0 else { return }
            cumulative += probabilities[c]
            last = c
            if u < cumulative { chosen = c }
        }
        precondition(last >= 0, "BanditDecider.sample: no candidate has positive probability")
        return chosen >= 0 ? chosen : last
    }

    // MARK: The whole decision

    /// Scores, turns the scores into a distribution, samples, and explains.
    /// - Throws: `BanditError.noCandidates` when no allowed candidate can be scored.
    public func decide(_ request: BanditRequest) throws -> BanditDecision {
        let s = scores(request)
        if s.allowed.isEmpty { throw BanditError.noCandidates(customerID: request.customerID) }
        var rng = generator(runID: request.runID, customerID: request.customerID)
        let probabilities = distribution(s, using: &rng)
        let chosen = BanditDecider.sample(probabilities, from: s.allowed, using: &rng)
        let method: PropensityMethod
        switch policy {
        case .linearThompson(let c): method = .monteCarlo(draws: c.propensityDraws)
        case .logisticThompson(let c): method = .monteCarlo(draws: c.propensityDraws)
        default: method = .exact
        }
        return BanditDecision(candidate: Candidate(index: chosen), propensity: probabilities[chosen], propensityMethod: method,
                              scores: s.ranking, probabilities: probabilities,
                              explanation: explain(chosen, request: request, scores: s),
                              seed: Xoshiro256.derivedSeed(seed, keys: [request.runID, request.customerID]))
    }

    /// The top contributions to candidate `c`'s linear predictor.
    func explain(_ c: Int, request: BanditRequest, scores s: CandidateScores) -> BanditExplanation {
        let map = posterior.featureMap
        let g = Int(candidateArm[c])
        let theta = posterior.arms[g].mean
        let x = request.context
        // The non-zero entries of ψ: the context, then x₁..ₖ in each active effect block.
        var eta = 0.0
        var top: [(index: Int, value: Double)] = []
        func consider(_ j: Int, _ v: Double) {
            eta += v
            if top.count < 3 {
                top.append((j, v))
            } else if let weakest = top.indices.min(by: { abs(top[$0].value) < abs(top[$1].value) }), abs(v) > abs(top[weakest].value) {
                top[weakest] = (j, v)
            }
        }
        for j in 0..<x.count where x[j] != 0 { consider(j, theta[j] * x[j]) }
        for k in 1..<4 {
            let b = Int(slots[c * 4 + k])
            if b >= map.blockCount { continue }
            let o = map.blockOffsets[b]
            for j in 0..<map.blockSizes[b] where x[j] != 0 { consider(o + j, theta[o + j] * x[j]) }
        }
        top.sort { abs($0.value) > abs($1.value) || (abs($0.value) == abs($1.value) && $0.index < $1.index) }
        var contributions = top.map { FeatureContribution(feature: map.featureName($0.index), value: $0.value) }
        let cost = candidateCost[c]
        if cost != 0 {
            contributions.append(FeatureContribution(feature: "cost(\(Candidate(index: c).action!.channel.rawValue))", value: -cost))
        }
        var bonus: Double? = nil
        if case .linUCB(let cfg) = policy, let upper = s.upperBounds {
            // ranking = utility(η + bonus) and expected = utility(η) with the identity link.
            bonus = cfg.alpha > 0 ? upper[c] - s.expected[c] : 0
        }
        return BanditExplanation(arm: map.armName(g), scale: posterior.link == .logistic ? "logit" : "reward",
                                 linearPredictor: eta, contributions: contributions, explorationBonus: bonus)
    }
}

/// Two independent standard-normal draws (Marsaglia's polar method, both values used).
@inline(__always)
func normalPair(_ rng: inout Xoshiro256) -> (Double, Double) {
    while true {
        let u = 2 * rng.uniform() - 1, v = 2 * rng.uniform() - 1
        let s = u * u + v * v
        if s > 0 && s < 1 {
            let f = (-2 * log(s) / s).squareRoot()
            return (u * f, v * f)
        }
    }
}

/// The lower Cholesky factor of a symmetric positive semi-definite `n × n` matrix (column-major),
/// with columns whose pivot is below `1e-12` of the largest diagonal set to zero (so a block whose
/// score has no variance is drawn at its mean). Plain Swift, so results do not depend on the BLAS build.
func semidefiniteCholesky(_ a: [Double], n: Int) -> [Double] {
    var l = [Double](repeating: 0, count: n * n)
    var maxDiag = 0.0
    for i in 0..<n { maxDiag = Swift.max(maxDiag, a[i + i * n]) }
    let floor = 1e-12 * maxDiag
    for j in 0..<n {
        var d = a[j + j * n]
        for k in 0..<j { d -= l[j + k * n] * l[j + k * n] }
        if d <= floor || maxDiag == 0 { continue }
        let ljj = d.squareRoot()
        l[j + j * n] = ljj
        for i in (j + 1)..<Swift.max(n, j + 1) {
            var s = a[i + j * n]
            for k in 0..<j { s -= l[i + k * n] * l[j + k * n] }
            l[i + j * n] = s / ljj
        }
    }
    return l
}

extension Xoshiro256 {
    /// The seed `Xoshiro256(seed:keys:)` derives for a sub-stream (recorded with each decision).
    public static func derivedSeed(_ seed: UInt64, keys: [UInt64]) -> UInt64 {
        var h = seed
        for k in keys { h = (h ^ k) &* 0x1000_0000_01B3 ^ (h >> 29) &+ 0x9E37_79B9_7F4A_7C15 }
        return h
    }
}
