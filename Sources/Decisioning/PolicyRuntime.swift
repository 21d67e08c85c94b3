import FeatureStore
import Foundation
import LinAlg
import Optimizer
import Vocabulary

/// How a reward model's scores become a distribution over the allowed actions.
public enum RewardPolicyRule: Hashable, Codable, Sendable {
    /// All mass on the best actions (ties share it): exact propensity 1 (or 1/ties).
    case greedy
    /// `(1−ε)` on the best, `ε/n` on each of the `n` allowed actions.
    case epsilonGreedy(Double)
    /// `π(a) ∝ exp(p(a)/τ)` over the predicted payment probabilities `p(a)`.
    case softmax(Double)
}

/// One live decision: the chosen delivery action, the probability with which it was chosen, why,
/// and the best alternatives.
public struct PolicyDecision: Sendable {
    public let action: DeliveryAction
    /// `π(action | context)`, for the decision log and off-policy evaluation.
    public let propensity: Double
    public let propensityMethod: PropensityMethod
    /// The allowed actions with their scores (predicted payment probability, or the policy's
    /// ranking score for LinUCB) and probabilities, best first (at most 10).
    public let alternatives: [ScoredCandidate]
    public let explanation: BanditExplanation
    /// The registry model name (or the artifact's kind when loaded from a file) and version.
    public let model: String
    public let version: String
    /// The seed of the decision's generator (`Xoshiro256(seed:keys: runID, customerKey)`).
    public let seed: UInt64
}

/// The state of a bandit artifact (`linucb`, `lints`, `logistic-ts`): the context standardisation
/// and the per-arm posterior over `BanditContext` features.
public struct BanditArtifactState: Codable, Sendable {
    public var design: ActionDesign
    public var posterior: BanditPosterior
    public var policy: BanditPolicy
}

/// The bandits' context: `[1, local weekday indicators (Tuesday ... Sunday), x̃]`. With the first
/// seven entries as effect features, the per-arm weekday effects become effects of the send
/// weekday *given* the decision weekday — the send delay — and the hour effects plain window effects.
public enum BanditContext {
    public static let effectCount = 7

    public static func names(_ design: ActionDesign) -> [String] {
        ["intercept"] + Weekday.allCases.dropFirst().map { "decided_\($0.name)" } + design.contextFeatures
    }

    public static func vector(_ x: [Double], clock: DecisionClock, design: ActionDesign) -> [Double] {
        var z = [Double](repeating: 0, count: effectCount)
        z[0] = 1
        if clock.weekday > 1 { z[clock.weekday - 1] = 1 }
        return z + design.standardised(x)
    }
}

/// A trained policy ready to decide: loaded from a model artifact (or the store's promoted one),
/// checked against the feature schema this pom computes, scoring the live features exactly as the
/// training set computed them (`LiveFeatures`).
///
/// ```swift
/// let runtime = try await PolicyRuntime.promoted(store: store, model: "reminders")
/// let decision = try await runtime.decide(store: store, customerID: "C0000042", invoiceID: "C0000042-I1",
///                                         at: now, candidates: constraints.candidates, runID: 7)
/// log(decision.action, decision.propensity, decision.model, decision.version)
/// ```
/// Complexity of one decision with a `logistic` artifact: `O(d + 19·|s| + n)` over the `n ≤ 756`
/// allowed actions (a few microseconds); bandit artifacts cost what `BanditDecider` costs.
public struct PolicyRuntime: Sendable {
    public enum Engine: Sendable {
        case reward(ActionScorer, RewardPolicyRule)
        case bandit(BanditDecider, ActionDesign)
    }

    public let engine: Engine
    public let model: String
    public let version: String
    public let kind: String
    public let seed: UInt64
    public let horizonDays: Double

    /// The artifact kinds a runtime can serve.
    public static let kinds = ["logistic", "linucb", "lints", "logistic-ts"]

    /// - Parameters:
    ///   - artifact: a verified artifact (`ModelArtifact.read`/`decode`).
    ///   - model: the name decisions are logged under (default: the artifact's version string).
    ///   - rule: overrides the artifact's `policy` hyper-parameter for `logistic` artifacts.
    ///   - seed: the decision seed.
    /// - Throws: `DecisioningError.schemaMismatch` when the artifact was trained on another feature
    ///   schema, `.unsupportedKind`, or a decoding error of the state.
    public init(artifact: ModelArtifact, model: String? = nil, rule: RewardPolicyRule? = nil, seed: UInt64 = 0x90_1C1E5) throws {
        guard artifact.featureSchema.hash == FeatureSchema.hash else {
            throw DecisioningError.schemaMismatch(model: model ?? artifact.version, modelHash: artifact.featureSchema.hash,
                                                  liveHash: FeatureSchema.hash)
        }
        self.model = model ?? artifact.version
        version = artifact.version
        kind = artifact.kind
        self.seed = seed
        switch artifact.kind {
        case "logistic":
            let state = try artifact.state(as: ActionRewardModel.self)
            let stored = try artifact.hyperparameters["policy"].map { try $0.decode(as: RewardPolicyRule.self) }
            engine = .reward(ActionScorer(state), rule ?? stored ?? .greedy)
            horizonDays = state.horizonDays
        case "linucb", "lints", "logistic-ts":
            let state = try artifact.state(as: BanditArtifactState.self)
            let h = state.posterior.reward.horizonDays
            engine = .bandit(try BanditDecider(policy: state.policy, posterior: state.posterior,
                                               objective: .paymentProbability(horizonDays: h), seed: seed), state.design)
            horizonDays = Double(h)
        default:
            throw DecisioningError.unsupportedKind(artifact.kind)
        }
    }

    /// The promoted version of `model` in the store's registry.
    /// - Throws: `ModelRegistryError.notFound` when nothing is promoted; artifact and schema errors.
    public static func promoted(store: any Store, model: String, rule: RewardPolicyRule? = nil) async throws -> PolicyRuntime {
        guard let (record, body) = try await store.modelRegistry().promotedModel(model: model) else {
            throw ModelRegistryError.notFound("promoted version of '\(model)' (promote one with pom-train models promote)")
        }
        let artifact = try ModelArtifact.decode(body, path: "registry:\(record.id)")
        return try PolicyRuntime(artifact: artifact, model: record.id, rule: rule)
    }

    /// A stable 64-bit key of a customer id (FNV-1a), for decision seeds.
    public static func key(_ id: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// The policy's probability of every delivery action (index order, 0 outside `candidates`) and
    /// the per-action scores (`-∞` outside), for off-policy evaluation and valuation. For Thompson
    /// sampling the probabilities are Monte-Carlo estimates from the decision's generator.
    public func distribution(features x: [Double], clock: DecisionClock, candidates: CandidateSet,
                             runID: UInt64 = 0, customerKey: UInt64 = 0) -> (probabilities: [Double], scores: [Double]) {
        switch engine {
        case .reward(let scorer, let rule):
            var eta = [Double](repeating: -.infinity, count: Candidate.count)
            scorer.linearPredictors(context: x, clock: clock, candidates: candidates, into: &eta)
            return (RewardPolicyRule.probabilities(rule, eta: eta, candidates: candidates), eta)
        case .bandit(let decider, let design):
            let request = BanditRequest(context: BanditContext.vector(x, clock: clock, design: design), candidates: candidates,
                                        runID: runID, customerID: customerKey)
            let s = decider.scores(request)
            var rng = decider.generator(runID: runID, customerID: customerKey)
            return (decider.distribution(s, using: &rng), s.ranking)
        }
    }

    /// Decides for one case from its context features (`FeatureSchema` order) and decision clock.
    /// - Throws: `DecisioningError.noCandidates` when no delivery action is allowed.
    public func decide(features x: [Double], clock: DecisionClock, candidates: CandidateSet, runID: UInt64,
                       customerKey: UInt64, customerID: String = "") throws -> PolicyDecision {
        var allowed = candidates
        if allowed.contains(Candidate.noContactIndex) { allowed.remove(Candidate.noContactIndex) }
        guard !allowed.isEmpty else { throw DecisioningError.noCandidates(customerID: customerID.isEmpty ? String(customerKey) : customerID) }
        let derived = Xoshiro256.derivedSeed(seed, keys: [runID, customerKey])
        switch engine {
        case .reward(let scorer, let rule):
            var eta = [Double](repeating: -.infinity, count: Candidate.count)
            scorer.linearPredictors(context: x, clock: clock, candidates: allowed, into: &eta)
            let p = RewardPolicyRule.probabilities(rule, eta: eta, candidates: allowed)
            var rng = Xoshiro256(seed: seed, keys: runID, customerKey)
            let chosen = BanditDecider.sample(p, from: allowed, using: &rng)
            let action = DeliveryAction(index: chosen)
            // The ten best by η (σ is monotone), ties to the lower index; insertion into a sorted run.
            var best: [Int] = []
            best.reserveCapacity(11)
            allowed.forEachIndex { a in
                guard best.count < 10 || eta[a] > eta[best[best.count - 1]] else { return }
                var k = best.count
                while k > 0 && eta[best[k - 1]] < eta[a] { k -= 1 }
                best.insert(a, at: k)
                if best.count > 10 { best.removeLast() }
            }
            let top = best.map { ScoredCandidate(candidate: .deliver(DeliveryAction(index: $0)), score: sigmoid(eta[$0]), probability: p[$0]) }
            return PolicyDecision(action: action, propensity: p[chosen], propensityMethod: .exact, alternatives: top,
                                  explanation: RewardExplanation.explain(scorer.model, context: x, clock: clock, action: action, eta: eta[chosen]),
                                  model: model, version: version, seed: derived)
        case .bandit(let decider, let design):
            let request = BanditRequest(context: BanditContext.vector(x, clock: clock, design: design), candidates: allowed,
                                        runID: runID, customerID: customerKey)
            let d = try decider.decide(request)
            guard let action = d.candidate.action else { throw DecisioningError.noCandidates(customerID: customerID) }
            return PolicyDecision(action: action, propensity: d.propensity, propensityMethod: d.propensityMethod,
                                  alternatives: d.alternatives(top: 10), explanation: d.explanation, model: model, version: version,
                                  seed: d.seed)
        }
    }

    /// Decides for a case in the store: computes its live features at `t` (microseconds) with
    /// `LiveFeatures` — the training set's own feature code — and the customer-local clock.
    public func decide(store: any Store, customerID: String, invoiceID: String, at t: Int64, candidates: CandidateSet,
                       runID: UInt64) async throws -> PolicyDecision {
        let live = try await LiveFeatures.context(store: store, customerID: customerID, invoiceID: invoiceID, at: t)
        return try decide(features: live.features, clock: DecisionClock(weekday: live.localWeekday, hour: live.localHour),
                          candidates: candidates, runID: runID, customerKey: PolicyRuntime.key(customerID), customerID: customerID)
    }
}

extension RewardPolicyRule {
    /// The distribution over `candidates` from linear predictors `eta` (index order, length 757).
    static func probabilities(_ rule: RewardPolicyRule, eta: [Double], candidates: CandidateSet) -> [Double] {
        switch rule {
        case .greedy: return greedy(eta, candidates, epsilon: 0)
        case .epsilonGreedy(let e): return greedy(eta, candidates, epsilon: e)
        case .softmax(let tau):
            var p = [Double](repeating: 0, count: Candidate.count)
            var best = -Double.infinity
            candidates.forEachIndex { best = Swift.max(best, sigmoid(eta[$0])) }
            var total = 0.0
            candidates.forEachIndex { a in let e = exp((sigmoid(eta[a]) - best) / tau); p[a] = e; total += e }
            candidates.forEachIndex { p[$0] /= total }
            return p
        }
    }

    static func greedy(_ u: [Double], _ allowed: CandidateSet, epsilon: Double) -> [Double] {
        var p = [Double](repeating: 0, count: Candidate.count)
        var best = -Double.infinity
        var n = 0
        allowed.forEachIndex { best = Swift.max(best, u[$0]); n += 1 }
        guard n > 0 else { return p }
        let tol = 1e-12 * Swift.max(1, abs(best))
        var ties = 0
        allowed.forEachIndex { if u[$0] >= best - tol { ties += 1 } }
        let base = epsilon / Double(n), top = (1 - epsilon) / Double(ties)
        allowed.forEachIndex { a in p[a] = u[a] >= best - tol ? base + top : base }
        return p
    }
}

/// The top contributions to a reward model's linear predictor for one action.
enum RewardExplanation {
    static func explain(_ model: ActionRewardModel, context x: [Double], clock: DecisionClock, action: DeliveryAction,
                        eta: Double) -> BanditExplanation {
        let design = model.design
        var phi = [Double](repeating: 0, count: design.width - 1)
        design.write(context: x, clock: clock, action: action, into: &phi)
        // The three largest |β_k φ_k|, ties to the lower column.
        var terms: [(Int, Double)] = []
        for k in 0..<phi.count where phi[k] != 0 {
            let v = model.coefficients[k] * phi[k]
            if terms.count < 3 {
                terms.append((k, v))
                terms.sort { abs($0.1) > abs($1.1) || (abs($0.1) == abs($1.1) && $0.0 < $1.0) }
            } else if abs(v) > abs(terms[2].1) {
                terms[2] = (k, v)
                terms.sort { abs($0.1) > abs($1.1) || (abs($0.1) == abs($1.1) && $0.0 < $1.0) }
            }
        }
        let contributions = terms.prefix(3).map { FeatureContribution(feature: design.featureName($0.0), value: $0.1) }
        return BanditExplanation(arm: action.description, scale: "logit", linearPredictor: eta,
                                 contributions: contributions, explorationBonus: nil)
    }
}
