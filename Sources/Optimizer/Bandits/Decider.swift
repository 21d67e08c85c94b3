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
    // `listOffsets` and `listCost` are filled for Thompson sampling only (empty otherwise).
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
/// Complexity per decision: `O(G·p²)` for the block quadratic forms (LinUCB, Thompson sampling;
/// their base parts as three `dgemv` over all arms) or `O(G·p)` (ε-greedy, softmax), plus `O(n)`
/// over the `n ≤ 757` allowed candidates; Thompson sampling adds `O(M·(G·B² + n))` for `M`
/// propensity draws.
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
    /// Per candidate: the mean slots `g·S + s` of its base and `effectSlots` effect blocks (absent
    /// effects at the zero slot), then the offsets `g·S² + s_i + s_j·S` of its effect pairs `i < j`
    /// in the block quadratic forms; `1 + E + E(E − 1)/2` entries each.
    let candidateTerms: [Int32]
    /// `E`: effect factors per candidate (2 for the channel × tone arms, 3 for channel arms, 0 for action arms).
    let effectSlots: Int
    let stride: Int
    /// Column `g`: the base block of `Σ_g` packed as `(Σ_ii ; 2Σ_ij)_{i<j}` (`d(d+1)/2 × G`), so that
    /// `xᵀΣ_g,00 x = vech(xxᵀ)·packed_g` for every arm is one `dgemv` (LinUCB and Thompson sampling only).
    let packedBase: Matrix
    /// Column `g·E + c` (`E = p − d`): `Σ_g[0..<d, d + c]`, so that `s_g = Σ_g,0Eᵀ x` for every arm
    /// is one `dgemv` (`d × G·E`; LinUCB and Thompson sampling only).
    let crossColumns: Matrix
    /// With `k = 1`: per arm, the effect × effect entries `Σ_g[d + a − 1, d + b − 1]` for
    /// `1 ≤ a ≤ b < B`, `b` major (`Q_ab = entry·x₁²`).
    let effectPairs: [Double]
    /// Column `g`: the base coefficients `θ_g[0..<d]` (`d × G`), so that the base means are one `dgemv`.
    let baseCoefficients: Matrix

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
        let effects = map.grouping.effectFactors.isEmpty || map.effectFeatureCount == 0 ? 0 : map.grouping.effectFactors.count
        let termCount = 1 + effects + effects * (effects - 1) / 2
        var terms = [Int32](repeating: 0, count: Candidate.count * termCount)
        for c in 0..<Candidate.count where map.candidateArm[c] >= 0 {
            let g = Int(map.candidateArm[c]), o = c * termCount
            let active = [0] + (0..<effects).map { Int(slots[c * 4 + 1 + $0]) }
            for i in 0...effects { terms[o + i] = Int32(g * stride + active[i]) }
            var r = o + 1 + effects
            for i in 1..<Swift.max(effects, 1) { for j in (i + 1)..<(effects + 1) {
                terms[r] = Int32(g * stride * stride + active[i] + active[j] * stride)
                r += 1
            } }
        }
        candidateTerms = terms
        effectSlots = effects
        candidateArm = map.candidateArm
        candidateCost = (0..<Candidate.count).map { objective.cost(ofCandidate: $0) }
        let d = map.contextDimension, p = map.armFeatureCount, armCount = map.armCount
        baseCoefficients = Matrix(rows: d, columns: armCount) { i, g in posterior.arms[g].mean[i] }
        switch policy {
        case .linUCB, .linearThompson, .logisticThompson:
            let qd = d * (d + 1) / 2, e = p - d
            var packed = [Double](repeating: 0, count: armCount * qd)
            var cross = [Double](repeating: 0, count: armCount * e * d)
            var pairs = [Double]()
            for g in 0..<armCount {
                let sigma = posterior.arms[g].covariance
                var r = g * qd
                for j in 0..<d {
                    for i in 0...j {
                        packed[r] = (i == j ? 1 : 2) * sigma[i + j * p]
                        r += 1
                    }
                }
                for c in 0..<e { for i in 0..<d { cross[(g * e + c) * d + i] = sigma[i + (d + c) * p] } }
                if map.effectFeatureCount == 1 {
                    for b in 1..<Swift.max(nb, 1) { for a in 1...b { pairs.append(sigma[(d + a - 1) + (d + b - 1) * p]) } }
                }
            }
            packedBase = Matrix(rows: qd, columns: armCount, columnMajor: packed)
            crossColumns = Matrix(rows: d, columns: armCount * e, columnMajor: cross)
            effectPairs = pairs
        case .epsilonGreedy, .softmax:
            packedBase = Matrix(rows: 0, columns: 0, columnMajor: [])
            crossColumns = Matrix(rows: 0, columns: 0, columnMajor: [])
            effectPairs = []
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
        let thompson = thompsonAlpha != nil
        // The allowed candidates in index order; Thompson sampling also keeps their four block
        // offsets and costs for its draws.
        var list = [Int32](repeating: 0, count: n)
        var offsets = [Int32](repeating: 0, count: thompson ? n * 4 : 0)
        var costs = [Double](repeating: 0, count: thompson ? n : 0)
        var armUsed = [Bool](repeating: false, count: armCount)
        list.withUnsafeMutableBufferPointer { lp in
            armUsed.withUnsafeMutableBufferPointer { up in
                candidateArm.withUnsafeBufferPointer { arms in
                    var e = 0
                    for w in 0..<allowed.words.count {
                        var bits = allowed.words[w]
                        while bits != 0 {
                            let c = w << 6 | bits.trailingZeroBitCount
                            bits &= bits &- 1
                            lp[e] = Int32(truncatingIfNeeded: c)
                            up[Int(arms[c])] = true
                            e &+= 1
                        }
                    }
                }
            }
        }
        if thompson {
            for e in 0..<n {
                let c = Int(list[e]), base = Int32(Int(candidateArm[c]) * st)
                for k in 0..<4 { offsets[e * 4 + k] = base + slots[c * 4 + k] }
                costs[e] = candidateCost[c]
            }
        }
        let usedArms = (0..<armCount).filter { armUsed[$0] }

        var means = [Double](repeating: 0, count: armCount * st)
        // Each used arm's forms are written by `blockForms` except the zero slot's row and column,
        // zeroed here; unused arms are never read, so the rest is left as it comes.
        let quadCount = needQ ? armCount * st * st : 0
        var quad = [Double](unsafeUninitializedCapacity: quadCount) { q, count in
            for g in needQ ? usedArms : [] {
                let qb = g &* st &* st
                for a in 0..<st { q[qb &+ a &+ nb &* st] = 0; q[qb &+ nb &+ a &* st] = 0 }
            }
            count = quadCount
        }
        // Every arm's base mean, base quadratic form and base × effect sums: three dgemv.
        let d = map.contextDimension, e = map.armFeatureCount - d
        let x = Vector(request.context)
        var baseMeans = Vector(count: armCount)
        gemv(1, baseCoefficients.view, .transpose, x, 0, &baseMeans)
        var baseForms = Vector(count: needQ ? armCount : 0), crossSums = Vector(count: needQ ? armCount * e : 0)
        if needQ {
            var z = Vector(count: d * (d + 1) / 2)
            z.elements.withUnsafeMutableBufferPointer { zp in
                var r = 0
                for j in 0..<d { for i in 0...j { zp[r] = request.context[i] * request.context[j]; r += 1 } }
            }
            gemv(1, packedBase.view, .transpose, z, 0, &baseForms)
            if e > 0 { gemv(1, crossColumns.view, .transpose, x, 0, &crossSums) }
        }
        request.context.withUnsafeBufferPointer { xb in
            means.withUnsafeMutableBufferPointer { m in
                quad.withUnsafeMutableBufferPointer { q in
                    crossSums.elements.withUnsafeBufferPointer { sums in
                        for g in usedArms {
                            blockForms(arm: g, context: xb.baseAddress!, baseMean: baseMeans[g], baseForm: needQ ? baseForms[g] : 0,
                                       crossSums: (sums.baseAddress ?? xb.baseAddress!) + (needQ ? g * e : 0), quadratic: needQ,
                                       means: m.baseAddress!, quad: q.baseAddress ?? m.baseAddress!)
                        }
                    }
                }
            }
        }

        var expected = [Double](repeating: -.infinity, count: Candidate.count)
        var upperValues = [Double](repeating: -.infinity, count: ucbAlpha == nil ? 0 : Candidate.count)
        let variances = ucbAlpha != nil && needQ
        // Per arm and block b: A_b = Q_bb + 2·Q_0b (A_0 = Q_00, the zero slot 0), so that a candidate's
        // variance is Σ_i A_{s_i} + 2·Σ_{i<j} Q_{s_i s_j} over its active effect slots s_i.
        var diagonal = [Double](repeating: 0, count: variances ? armCount * st : 0)
        if variances {
            for g in usedArms {
                let qb = g * st * st
                diagonal[g * st] = quad[qb]
                for b in 1..<nb { diagonal[g * st + b] = quad[qb + b * st + b] + 2 * quad[qb + b * st] }
            }
        }
        let alpha = ucbAlpha ?? 0
        let terms = candidateTerms.count / Candidate.count, effects = effectSlots
        expected.withUnsafeMutableBufferPointer { expectedOut in
        upperValues.withUnsafeMutableBufferPointer { upperOut in
        means.withUnsafeBufferPointer { m in
        quad.withUnsafeBufferPointer { q in
        diagonal.withUnsafeBufferPointer { a in
        candidateTerms.withUnsafeBufferPointer { ct in
        candidateCost.withUnsafeBufferPointer { cc in
        list.withUnsafeBufferPointer { lp in
            // Pass 1 gathers each candidate's predictor (and variance); pass 2 turns them into
            // utilities in straight runs the compiler vectorises (square roots included).
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * Swift.max(n, 1)) { buffer in
                let eta = buffer.baseAddress!, v = eta + n
                let m = m.baseAddress!, q = q.baseAddress ?? m, a = a.baseAddress ?? m, ct = ct.baseAddress!
                let lp = lp.baseAddress ?? UnsafePointer(ct), cc = cc.baseAddress!
                if effects == 2 && variances {
                    for e in 0..<n {
                        let t = ct + Int(lp[e]) &* terms
                        let s0 = Int(t[0]), s1 = Int(t[1]), s2 = Int(t[2])
                        eta[e] = m[s0] + m[s1] + m[s2]
                        v[e] = a[s0] + a[s1] + a[s2] + 2 * q[Int(t[3])]
                    }
                } else if effects == 2 {
                    for e in 0..<n {
                        let t = ct + Int(lp[e]) &* terms
                        eta[e] = m[Int(t[0])] + m[Int(t[1])] + m[Int(t[2])]
                    }
                } else {
                    for e in 0..<n {
                        let t = ct + Int(lp[e]) &* terms
                        var sum = 0.0, variance = 0.0
                        for i in 0...effects { sum += m[Int(t[i])]; if variances { variance += a[Int(t[i])] } }
                        if variances {
                            var pairs = 0.0
                            for i in (effects + 1)..<terms { pairs += q[Int(t[i])] }
                            variance += 2 * pairs
                        }
                        eta[e] = sum
                        if variances { v[e] = variance }
                    }
                }
                if ucbAlpha != nil {
                    if variances {
                        for e in 0..<n { v[e] = eta[e] + alpha * Swift.max(v[e], 0).squareRoot() }
                    } else {
                        for e in 0..<n { v[e] = eta[e] }
                    }
                }
                let expectedOut = expectedOut.baseAddress!, scale = scale
                if logistic {
                    for e in 0..<n {
                        let c = Int(lp[e])
                        expectedOut[c] = utility(eta[e], scale: scale, logistic: true, cost: cc[c])
                        if ucbAlpha != nil { upperOut[c] = utility(v[e], scale: scale, logistic: true, cost: cc[c]) }
                    }
                } else if ucbAlpha != nil {
                    let upperOut = upperOut.baseAddress!
                    for e in 0..<n {
                        let c = Int(lp[e]), cost = cc[c]
                        expectedOut[c] = eta[e] * scale - cost
                        upperOut[c] = v[e] * scale - cost
                    }
                } else {
                    for e in 0..<n {
                        let c = Int(lp[e])
                        expectedOut[c] = eta[e] * scale - cc[c]
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
    /// (stride `S = B + 1`; the zero slot's row and column are the caller's).
    ///
    /// The base mean `θ_g,0ᵀx`, the base form `Q_00 = vech(xxᵀ)·packed_g` and the base × effect
    /// sums `s = Σ_g,0Eᵀ x` come in from the caller's three `dgemv` over all arms; here
    /// `Q_0b = Σ_j s_{(b−1)k+j}·x_j` and the effect × effect forms (`Σ_ab·x₁²` when `k = 1`,
    /// from `effectPairs`). Complexity: `O(B·k + B²k²)` per arm after the `dgemv`.
    func blockForms(arm g: Int, context xp: UnsafePointer<Double>, baseMean: Double, baseForm: Double,
                    crossSums sums: UnsafePointer<Double>, quadratic: Bool,
                    means m: UnsafeMutablePointer<Double>, quad q: UnsafeMutablePointer<Double>) {
        let map = posterior.featureMap
        let p = map.armFeatureCount, nb = map.blockCount, st = stride, d = map.contextDimension, k = map.effectFeatureCount
        let arm = posterior.arms[g]
        m[g * st] = baseMean
        arm.mean.withUnsafeBufferPointer { theta in
            for b in 1..<Swift.max(nb, 1) {
                let o = d + (b - 1) * k
                var t = 0.0
                for j in 0..<k { t += theta[o + j] * xp[j] }
                m[g * st + b] = t
            }
        }
        guard quadratic else { return }
        let qb = g * st * st
        q[qb] = baseForm
        guard nb > 1 else { return }
        for b in 1..<nb {
            var total = 0.0
            for j in 0..<k { total += sums[(b - 1) * k + j] * xp[j] }
            q[qb &+ b &* st] = total
            q[qb &+ b] = total
        }
        // Effect × effect.
        if k == 1 {
            let x0sq = xp[0] * xp[0]
            effectPairs.withUnsafeBufferPointer { pairs in
                var r = g * (nb - 1) * nb / 2
                for b in 1..<nb {
                    for a in 1...b {
                        let total = pairs[r] * x0sq
                        q[qb &+ a &+ b &* st] = total
                        q[qb &+ b &+ a &* st] = total
                        r &+= 1
                    }
                }
            }
            return
        }
        arm.covariance.withUnsafeBufferPointer { sigma in
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
    /// `u` is `−∞` outside `allowed` (as `CandidateScores` are), so the best and the ties are found
    /// in plain passes over every index.
    static func greedy(_ u: [Double], _ allowed: CandidateSet, epsilon: Double) -> [Double] {
        var p = [Double](repeating: 0, count: Candidate.count)
        let n = allowed.count
        guard n > 0 else { return p }
        u.withUnsafeBufferPointer { up in
            var best = -Double.infinity
            for c in 0..<up.count where up[c] > best { best = up[c] }
            p.withUnsafeMutableBufferPointer { pp in
                guard best > -.infinity else {
                    allowed.forEachIndex { pp[$0] = 1 / Double(n) }
                    return
                }
                let cut = best - 1e-12 * Swift.max(1, abs(best))
                var ties = 0
                for c in 0..<up.count where up[c] >= cut { ties += 1 }
                let base = epsilon / Double(n), top = (1 - epsilon) / Double(ties)
                if base > 0 { allowed.forEachIndex { pp[$0] = base } }
                for c in 0..<up.count where up[c] >= cut { pp[c] = base + top }
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
