import FeatureStore
import Foundation
import LinAlg
import Optimizer
import Vocabulary

/// What `pom-train fit --store` trains.
public struct TrainingRequest: Sendable {
    /// Registry model name.
    public var model: String
    /// `logistic` (the action reward model with a greedy policy), `linucb`, `lints` or `logistic-ts`.
    public var kind: String
    /// H in "paid within H days of the send".
    public var horizonDays: Double
    /// Decision window `[from, to)`, microseconds since the epoch.
    public var from: Int64?
    public var to: Int64?
    /// L2 penalty (prior precision for the bandits).
    public var l2: Double
    /// Share of customers held out for the metrics (0: none).
    public var holdoutFraction: Double
    /// Clip of the importance weights; nil: unweighted.
    public var maxWeight: Double?
    /// Exploration width (LinUCB) or posterior scale (Thompson sampling).
    public var alpha: Double
    /// Monte-Carlo draws for Thompson-sampling propensities.
    public var propensityDraws: Int
    /// The `logistic` artifact's decision rule.
    public var rule: RewardPolicyRule
    /// Context features whose interactions with every action attribute the `logistic` model gets
    /// (none by default: on the simulator, main effects of channel, tone, weekday, window and send
    /// delay generalise better than the interactions — see BENCHMARKS.md, Policy learning).
    public var interactions: [String]

    public init(model: String, kind: String, horizonDays: Double = 7, from: Int64? = nil, to: Int64? = nil, l2: Double = 1,
                holdoutFraction: Double = 0.2, maxWeight: Double? = 20, alpha: Double = 1, propensityDraws: Int = 1000,
                rule: RewardPolicyRule = .greedy, interactions: [String] = []) {
        self.model = model
        self.kind = kind
        self.horizonDays = horizonDays
        self.from = from
        self.to = to
        self.l2 = l2
        self.holdoutFraction = holdoutFraction
        self.maxWeight = maxWeight
        self.alpha = alpha
        self.propensityDraws = propensityDraws
        self.rule = rule
        self.interactions = interactions
    }
}

/// A trained model: its artifact, registry entry and metrics.
public struct TrainingOutcome: Sendable {
    public var artifact: ModelArtifact
    public var registered: RegisteredModel?
    public var trainRows: Int
    public var holdoutRows: Int
    public var holdout: PredictionMetrics?
}

/// Fits policies on the store's point-in-time training sets and keeps them in its registry.
public enum ModelTrainer {
    /// Fits `request.kind` on `train` and packs the artifact (version string `version`).
    /// - Throws: fit errors; `DecisioningError.unsupportedKind`.
    public static func fit(_ train: PolicyData, request: TrainingRequest, version: String,
                           holdout: PolicyData? = nil) throws -> (ModelArtifact, PredictionMetrics?) {
        let schema = FeatureSchemaReference(names: train.featureNames, hash: train.featureSchemaHash)
        let window = train.count > 0 ? TrainingWindow(from: date(train.window.from), to: date(train.window.to)) : nil
        var hyper: [String: JSONValue] = [
            "horizon_days": .number(request.horizonDays), "l2": .number(request.l2),
            "max_importance_weight": request.maxWeight.map(JSONValue.number) ?? .null,
            "holdout_fraction": .number(request.holdoutFraction),
        ]
        if let from = request.from { hyper["from"] = .string(ISO8601DateFormatter().string(from: date(from))) }
        if let to = request.to { hyper["to"] = .string(ISO8601DateFormatter().string(from: date(to))) }
        var metrics: [String: Double] = ["train_rows": Double(train.count)]
        switch request.kind {
        case "logistic":
            var regression = ActionRewardRegression(l2: request.l2, maxWeight: request.maxWeight, interactionNames: request.interactions)
            regression.newton = true
            let (model, report) = try regression.fit(train)
            hyper["policy"] = try JSONValue(encoding: request.rule)
            hyper["interactions"] = .array(model.design.interactions.map { .string(model.design.contextFeatures[$0]) })
            metrics["train_iterations"] = Double(report.iterations)
            metrics["train_converged"] = report.converged ? 1 : 0
            var holdoutMetrics: PredictionMetrics? = nil
            if let holdout, holdout.count > 0 {
                holdoutMetrics = PredictionMetrics(predictions: predictions(model, holdout), labels: holdout.labels)
                metrics.merge(holdoutMetrics!.summary) { $1 }
            }
            let artifact = try ModelArtifact(kind: "logistic", version: version, featureSchema: schema, trainingWindow: window,
                                             hyperparameters: hyper, metrics: metrics.filter { $0.value.isFinite }, state: model)
            return (artifact, holdoutMetrics)
        case "linucb", "lints", "logistic-ts":
            let design = try ActionDesign.fitted(contexts: train.contexts, names: train.featureNames, interactionNames: [])
            let map = BanditFeatureMap(contextFeatures: BanditContext.names(design), grouping: .channelTone,
                                       effectFeatureCount: BanditContext.effectCount)
            let log = try banditLog(train, design: design)
            let weighting: ImportanceWeighting = request.maxWeight.map { .inversePropensity(maxWeight: $0) } ?? .none
            let reward = RewardDefinition.paidWithin(days: Int(request.horizonDays.rounded()))
            let posterior: BanditPosterior, policy: BanditPolicy
            switch request.kind {
            case "linucb":
                let cfg = try LinUCB(alpha: request.alpha, l2: request.l2)
                posterior = cfg.fit(log, featureMap: map, reward: reward, weighting: weighting).posterior
                policy = .linUCB(cfg)
            case "lints":
                let cfg = try LinearThompsonSampling(alpha: request.alpha, l2: request.l2, propensityDraws: request.propensityDraws)
                posterior = cfg.fit(log, featureMap: map, reward: reward, weighting: weighting).posterior
                policy = .linearThompson(cfg)
            default:
                let cfg = try LogisticThompsonSampling(alpha: request.alpha, l2: request.l2, propensityDraws: request.propensityDraws)
                posterior = try cfg.fit(log, featureMap: map, reward: reward, weighting: weighting).posterior
                policy = .logisticThompson(cfg)
            }
            hyper["alpha"] = .number(request.alpha)
            hyper["propensity_draws"] = .number(Double(request.propensityDraws))
            hyper["grouping"] = .string(ArmGrouping.channelTone.rawValue)
            let state = BanditArtifactState(design: design, posterior: posterior, policy: policy)
            var holdoutMetrics: PredictionMetrics? = nil
            if let holdout, holdout.count > 0 {
                holdoutMetrics = PredictionMetrics(predictions: predictions(state, holdout), labels: holdout.labels)
                metrics.merge(holdoutMetrics!.summary) { $1 }
            }
            let artifact = try ModelArtifact(kind: request.kind, version: version, featureSchema: schema, trainingWindow: window,
                                             hyperparameters: hyper, metrics: metrics.filter { $0.value.isFinite }, state: state)
            return (artifact, holdoutMetrics)
        default:
            throw DecisioningError.unsupportedKind(request.kind)
        }
    }

    /// Loads the training set from the store, splits off the holdout, fits, and saves the artifact
    /// as the next version of `request.model` in the store's registry.
    public static func train(store: any Store, request: TrainingRequest) async throws -> TrainingOutcome {
        guard RegisteredModel.isValidName(request.model) else { throw ModelRegistryError.invalidName(request.model) }
        guard PolicyRuntime.kinds.contains(request.kind) else { throw DecisioningError.unsupportedKind(request.kind) }
        let data = try await PolicyData.load(store: store, horizonDays: request.horizonDays, from: request.from, to: request.to)
        let (train, holdout) = data.split(holdoutFraction: request.holdoutFraction)
        guard train.count > 0 else { throw DecisioningError.noTrainingRows("every customer fell into the holdout; lower --holdout-fraction") }
        let registry = try store.modelRegistry()
        for _ in 0..<3 {
            let next = try await registry.nextModelVersion(model: request.model)
            let (artifact, metrics) = try fit(train, request: request, version: RegisteredModel.id(model: request.model, version: next),
                                              holdout: holdout)
            do {
                let saved = try await registry.saveModel(entry(artifact, model: request.model, version: next))
                return TrainingOutcome(artifact: artifact, registered: saved, trainRows: train.count, holdoutRows: holdout.count,
                                       holdout: metrics)
            } catch ModelRegistryError.versionTaken {
                continue
            }
        }
        throw ModelRegistryError.versionTaken(model: request.model, version: try await registry.nextModelVersion(model: request.model) - 1)
    }

    /// The registry entry of an artifact.
    public static func entry(_ artifact: ModelArtifact, model: String, version: Int) throws -> NewModel {
        NewModel(model: model, version: version, kind: artifact.kind, formatVersion: artifact.formatVersion,
                 featureSchemaHash: artifact.featureSchema.hash, trainedFrom: artifact.trainingWindow.map { micros($0.from) },
                 trainedTo: artifact.trainingWindow.map { micros($0.to) }, metrics: artifact.metrics,
                 createdAt: micros(artifact.createdAt), body: try artifact.encoded())
    }

    /// Loads a stored artifact (verified twice: the registry's body checksum and the artifact's own).
    public static func load(store: any Store, model: String, version: Int?) async throws -> (RegisteredModel, ModelArtifact) {
        let registry = try store.modelRegistry()
        let (record, body): (RegisteredModel, Data)
        if let version {
            (record, body) = try await registry.loadModel(model: model, version: version)
        } else {
            guard let latest = try await registry.listModels(model: model).last else { throw ModelRegistryError.notFound("'\(model)'") }
            (record, body) = try await registry.loadModel(model: model, version: latest.version)
        }
        return (record, try ModelArtifact.decode(body, path: "registry:\(record.id)"))
    }

    /// Predicted payment probabilities of the logged actions.
    public static func predictions(_ model: ActionRewardModel, _ data: PolicyData) -> [Double] {
        let scorer = ActionScorer(model)
        var eta = [Double](repeating: 0, count: Candidate.count)
        return (0..<data.count).map { i in
            var one = CandidateSet()
            one.insert(data.actions[i].index)
            scorer.linearPredictors(context: (0..<data.contexts.columns).map { data.contexts[i, $0] }, clock: data.clocks[i],
                                    candidates: one, into: &eta)
            return sigmoid(eta[data.actions[i].index])
        }
    }

    /// Posterior-mean predictions of a bandit's logged actions (clipped to `[1e-6, 1 − 1e-6]` for linear models).
    public static func predictions(_ state: BanditArtifactState, _ data: PolicyData) -> [Double] {
        let map = state.posterior.featureMap
        return (0..<data.count).map { i in
            let z = BanditContext.vector((0..<data.contexts.columns).map { data.contexts[i, $0] }, clock: data.clocks[i], design: state.design)
            let c = data.actions[i].index
            let psi = map.features(context: z, candidate: c)
            let theta = state.posterior.arms[map.arm(ofCandidate: c)!].mean
            var eta = 0.0
            for k in 0..<psi.count { eta += psi[k] * theta[k] }
            return state.posterior.link == .logistic ? sigmoid(eta) : min(max(eta, 1e-6), 1 - 1e-6)
        }
    }

    /// The bandit log of `data` over `BanditContext` vectors; propensities relative to uniform
    /// (`min(1, π·|A|)`), so that `ImportanceWeighting.inversePropensity` gives the weights of
    /// `PolicyData.uniformImportanceWeights`.
    static func banditLog(_ data: PolicyData, design: ActionDesign) throws -> BanditLog {
        let d = BanditContext.names(design).count
        var rows: [Double] = []
        rows.reserveCapacity(data.count * d)
        for i in 0..<data.count {
            rows += BanditContext.vector((0..<data.contexts.columns).map { data.contexts[i, $0] }, clock: data.clocks[i], design: design)
        }
        let relative = (0..<data.count).map { min(1, data.propensities[$0] * Double(max(data.candidates[$0].count, 1))) }
        return try BanditLog(contexts: Matrix(rows: data.count, columns: d, rowMajor: rows), candidates: data.actions.map(\.index),
                             rewards: data.labels, propensities: relative)
    }

    static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
}
