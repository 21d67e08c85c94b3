import Foundation

private func require(_ ok: Bool, _ name: String, _ value: Double, _ expected: String) throws {
    if !ok { throw BanditError.invalidParameter(name: name, value: value, expected: expected) }
}

/// LinUCB (Li, Chu, Langford & Schapire 2010, disjoint arms; MABWiser's `LearningPolicy.LinUCB`):
/// picks `argmax_a  θ_gᵀψ + α·√(ψᵀ A_g⁻¹ ψ)` under the decision objective. Deterministic: its
/// propensity is 1, or `1/t` uniformly over `t` tied candidates.
public struct LinUCB: Hashable, Codable, Sendable {
    /// Exploration width `α ≥ 0`.
    public let alpha: Double
    /// Ridge penalty `λ > 0` (`A = λI + Σ ψψᵀ`).
    public let l2: Double

    /// - Throws: `BanditError.invalidParameter` for `alpha < 0` or `l2 ≤ 0` (or non-finite values).
    public init(alpha: Double = 1, l2: Double = 1) throws {
        try require(alpha >= 0 && alpha.isFinite, "alpha", alpha, "a finite number ≥ 0")
        try require(l2 > 0 && l2.isFinite, "l2", l2, "a finite number > 0")
        self.alpha = alpha
        self.l2 = l2
    }

    /// Trains per-arm ridge models on `log` (see `RidgeBandit`).
    public func fit(_ log: BanditLog, featureMap: BanditFeatureMap, reward: RewardDefinition,
                    weighting: ImportanceWeighting = .none) -> RidgeBandit {
        var model = RidgeBandit(featureMap: featureMap, l2: l2, reward: reward)
        model.update(with: log, weighting: weighting)
        return model
    }
}

/// Linear Thompson sampling (Agrawal & Goyal 2013; MABWiser's `LinTS`): draws coefficients
/// `θ̃_g ~ N(θ_g, α² A_g⁻¹)` and picks the best candidate under the draw.
///
/// Draws go through the Cholesky factor of the posterior covariance, never an SVD or eigen-
/// decomposition, so they reproduce across BLAS builds. For a fixed context only the block scores
/// `s_g = U_gᵀθ̃_g` matter (`U_g` holds the context in each block of arm `g`); they are drawn as
/// `s_g = U_gᵀθ_g + α·chol(U_gᵀΣ_gU_g)·z` — the same distribution through the Cholesky factor of the
/// block scores' posterior covariance, `B` normals per arm instead of `p`.
///
/// The propensity is a Monte-Carlo estimate over `propensityDraws` posterior draws; the decision
/// itself is one of those draws picked uniformly (itself an exact posterior draw), so the logged
/// propensity is exactly the probability with which the decision was sampled given the draws.
public struct LinearThompsonSampling: Hashable, Codable, Sendable {
    /// Posterior scale `α > 0` (the covariance is `α² A⁻¹`).
    public let alpha: Double
    public let l2: Double
    /// Number of posterior draws `M` for the propensity estimate (standard error `≤ 0.5/√M`).
    public let propensityDraws: Int

    public init(alpha: Double = 1, l2: Double = 1, propensityDraws: Int = 1000) throws {
        try require(alpha > 0 && alpha.isFinite, "alpha", alpha, "a finite number > 0")
        try require(l2 > 0 && l2.isFinite, "l2", l2, "a finite number > 0")
        try require(propensityDraws >= 1, "propensityDraws", Double(propensityDraws), "an integer ≥ 1")
        self.alpha = alpha
        self.l2 = l2
        self.propensityDraws = propensityDraws
    }

    public func fit(_ log: BanditLog, featureMap: BanditFeatureMap, reward: RewardDefinition,
                    weighting: ImportanceWeighting = .none) -> RidgeBandit {
        var model = RidgeBandit(featureMap: featureMap, l2: l2, reward: reward)
        model.update(with: log, weighting: weighting)
        return model
    }
}

/// Logistic Thompson sampling with the Laplace approximation (Chapelle & Li 2011): per-arm
/// penalised logistic fits whose Hessian at the mode is the posterior precision (see
/// `LaplaceLogisticBandit`); draws `θ̃_g ~ N(β̂_g, α² H_g⁻¹)` as in `LinearThompsonSampling` and ranks
/// candidates by `σ(ψᵀθ̃)` under the objective. Propensity: Monte-Carlo over `propensityDraws` draws.
public struct LogisticThompsonSampling: Hashable, Codable, Sendable {
    public let alpha: Double
    /// Prior precision `λ > 0` (prior `N(0, λ⁻¹I)`).
    public let l2: Double
    public let propensityDraws: Int
    public let maxIterations: Int
    public let tolerance: Double

    public init(alpha: Double = 1, l2: Double = 1, propensityDraws: Int = 1000, maxIterations: Int = 50,
                tolerance: Double = 1e-9) throws {
        try require(alpha > 0 && alpha.isFinite, "alpha", alpha, "a finite number > 0")
        try require(l2 > 0 && l2.isFinite, "l2", l2, "a finite number > 0")
        try require(propensityDraws >= 1, "propensityDraws", Double(propensityDraws), "an integer ≥ 1")
        try require(maxIterations >= 1, "maxIterations", Double(maxIterations), "an integer ≥ 1")
        try require(tolerance > 0 && tolerance.isFinite, "tolerance", tolerance, "a finite number > 0")
        self.alpha = alpha
        self.l2 = l2
        self.propensityDraws = propensityDraws
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }

    public func fit(_ log: BanditLog, featureMap: BanditFeatureMap, reward: RewardDefinition,
                    weighting: ImportanceWeighting = .none) throws -> LaplaceLogisticBandit {
        var model = LaplaceLogisticBandit(featureMap: featureMap, l2: l2, reward: reward)
        try model.update(with: log, weighting: weighting, maxIterations: maxIterations, tolerance: tolerance)
        return model
    }
}

/// ε-greedy over a fitted model's expected utilities: probability `(1−ε)/t` on each of the `t`
/// best candidates plus `ε/n` on every one of the `n` allowed candidates (exact propensities).
public struct EpsilonGreedy: Hashable, Codable, Sendable {
    public let epsilon: Double

    public init(epsilon: Double = 0.1) throws {
        try require(epsilon >= 0 && epsilon <= 1, "epsilon", epsilon, "a probability in [0, 1]")
        self.epsilon = epsilon
    }
}

/// Softmax (Boltzmann) exploration over a fitted model's expected utilities:
/// `π(a) = exp(u_a/τ) / Σ_b exp(u_b/τ)` over the allowed candidates (exact propensities).
/// `τ` is in the objective's units (probability, or currency for the net amount).
public struct Softmax: Hashable, Codable, Sendable {
    public let temperature: Double

    public init(temperature: Double = 0.05) throws {
        try require(temperature > 0 && temperature.isFinite, "temperature", temperature, "a finite number > 0")
        self.temperature = temperature
    }
}

/// A decision policy: how a posterior's scores become a distribution over candidates.
public enum BanditPolicy: Hashable, Codable, Sendable {
    case linUCB(LinUCB)
    case linearThompson(LinearThompsonSampling)
    case logisticThompson(LogisticThompsonSampling)
    case epsilonGreedy(EpsilonGreedy)
    case softmax(Softmax)

    public var name: String {
        switch self {
        case .linUCB: return "linucb"
        case .linearThompson: return "linear-thompson"
        case .logisticThompson: return "logistic-thompson"
        case .epsilonGreedy: return "epsilon-greedy"
        case .softmax: return "softmax"
        }
    }

    /// Whether the policy's propensities are exact.
    public var hasExactPropensities: Bool {
        switch self {
        case .linUCB, .epsilonGreedy, .softmax: return true
        case .linearThompson, .logisticThompson: return false
        }
    }
}
