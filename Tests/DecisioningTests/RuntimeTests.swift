import Foundation
import FeatureStoreBackends
import LinAlg
import Optimizer
import Simulator
import Testing
import Vocabulary
@testable import Decisioning

/// A reward model with seeded random coefficients over the feature schema.
func randomModel(seed: UInt64) -> ActionRewardModel {
    var rng = Xoshiro256(seed: seed)
    let names = FeatureSchema.names
    let interactions = ActionDesign.defaultInteractionNames.map { names.firstIndex(of: $0)! }
    let design = ActionDesign(contextFeatures: names, means: names.map { _ in rng.normal() },
                              scales: names.map { _ in 0.5 + rng.uniform() }, interactions: interactions)
    return ActionRewardModel(design: design, intercept: rng.normal(), coefficients: (0..<(design.width - 1)).map { _ in 0.3 * rng.normal() },
                             horizonDays: 7)
}

func randomContext(_ rng: inout Xoshiro256) -> [Double] { FeatureSchema.names.map { _ in 2 * rng.normal() } }

func artifact(_ model: ActionRewardModel, rule: RewardPolicyRule = .greedy, hash: String = FeatureSchema.hash) throws -> ModelArtifact {
    try ModelArtifact(kind: "logistic", version: "test@1", featureSchema: FeatureSchemaReference(names: FeatureSchema.names, hash: hash),
                      hyperparameters: ["policy": try JSONValue(encoding: rule)], state: model)
}

@Suite("Policy runtime")
struct RuntimeTests {
    @Test("The send delay is the time to the next local occurrence of the action's weekday and window")
    func sendDelay() {
        let monday6 = DecisionClock(weekday: 1, hour: 6)
        #expect(monday6.sendDelayDays(DeliveryAction(channel: .email, tone: .friendly, weekday: .monday, hour: .h08)) == 2.0 / 24)
        #expect(monday6.sendDelayDays(DeliveryAction(channel: .email, tone: .friendly, weekday: .sunday, hour: .h18)) == 6 + 12.0 / 24)
        let monday9 = DecisionClock(weekday: 1, hour: 9)
        #expect(monday9.sendDelayDays(DeliveryAction(channel: .sms, tone: .firm, weekday: .monday, hour: .h08)) == 7 - 1.0 / 24)
        let sunday20 = DecisionClock(weekday: 7, hour: 20)
        #expect(sunday20.sendDelayDays(DeliveryAction(channel: .sms, tone: .firm, weekday: .monday, hour: .h08)) == 12.0 / 24)
    }

    @Test("The factorised scorer equals the explicit design for every action", arguments: [1, 2, 3] as [UInt64])
    func scorerMatchesDesign(seed: UInt64) {
        let model = randomModel(seed: seed)
        let scorer = ActionScorer(model)
        var rng = Xoshiro256(seed: seed + 100)
        for _ in 0..<3 {
            let x = randomContext(&rng)
            let clock = DecisionClock(weekday: 1 + Int(rng.uniform() * 7), hour: Int(rng.uniform() * 24))
            var eta = [Double](repeating: .nan, count: Candidate.count)
            scorer.linearPredictors(context: x, clock: clock, candidates: .all(), into: &eta)
            for a in DeliveryAction.all {
                let slow = model.linearPredictor(context: x, clock: clock, action: a)
                #expect(abs(eta[a.index] - slow) <= 1e-10 * max(1, abs(slow)), "\(a)")
            }
            #expect(eta[Candidate.noContactIndex].isNaN)
        }
    }

    @Test("Decisions: probabilities sum to 1 over the allowed actions, the propensity is the chosen one's, and replays reproduce")
    func distributions() throws {
        let model = randomModel(seed: 9)
        var rng = Xoshiro256(seed: 10)
        let constraints = ActionConstraints(contactPoints: [.init(channel: .email), .init(channel: .sms), .init(channel: .letter)],
                                            quietHours: QuietHours(startHour: 20, endHour: 9))
        let allowed = constraints.candidates
        for rule in [RewardPolicyRule.greedy, .epsilonGreedy(0.1), .softmax(0.02)] {
            let runtime = try PolicyRuntime(artifact: artifact(model, rule: rule), model: "m")
            for customer in 0..<20 as Range<UInt64> {
                let x = randomContext(&rng)
                let clock = DecisionClock(weekday: 3, hour: 6)
                let dist = runtime.distribution(features: x, clock: clock, candidates: allowed)
                #expect(abs(dist.probabilities.reduce(0, +) - 1) < 1e-12)
                for a in 0..<Candidate.count where !allowed.contains(a) { #expect(dist.probabilities[a] == 0) }
                let d = try runtime.decide(features: x, clock: clock, candidates: allowed, runID: 5, customerKey: customer)
                #expect(allowed.contains(d.action.index))
                #expect(d.propensity == dist.probabilities[d.action.index])
                #expect(d.propensityMethod == .exact)
                #expect(d.model == "m" && d.version == "test@1")
                #expect(d.alternatives.count == 10 && d.alternatives[0].score >= d.alternatives[9].score)
                #expect(d.explanation.contributions.count == 3)
                #expect(abs(d.explanation.linearPredictor - model.linearPredictor(context: x, clock: clock, action: d.action)) < 1e-9)
                let again = try runtime.decide(features: x, clock: clock, candidates: allowed, runID: 5, customerKey: customer)
                #expect(again.action == d.action && again.seed == d.seed)
                if rule == .greedy {
                    let best = DeliveryAction.all.filter { allowed.contains($0.index) }
                        .max { model.linearPredictor(context: x, clock: clock, action: $0) < model.linearPredictor(context: x, clock: clock, action: $1) }!
                    #expect(d.action == best && d.propensity == 1)
                }
                if case .epsilonGreedy(let e) = rule {
                    #expect(abs(dist.probabilities.filter { $0 > 0 }.min()! - e / Double(allowed.count)) < 1e-15)
                }
            }
        }
    }

    @Test("An artifact trained on another feature schema is refused")
    func schemaMismatch() throws {
        let stale = try artifact(randomModel(seed: 1), hash: String(repeating: "0", count: 64))
        #expect(throws: DecisioningError.schemaMismatch(model: "old", modelHash: String(repeating: "0", count: 64), liveHash: FeatureSchema.hash)) {
            try PolicyRuntime(artifact: stale, model: "old")
        }
        let other = try ModelArtifact(kind: "survival", version: "x", featureSchema: FeatureSchemaReference(names: FeatureSchema.names, hash: FeatureSchema.hash),
                                      state: [1.0])
        #expect(throws: DecisioningError.unsupportedKind("survival")) { try PolicyRuntime(artifact: other) }
    }

    @Test("Live features equal the training set's features, from the store and from a customer's records")
    func liveFeaturesMatchTrainingSet() async throws {
        let world = World(config: SimulationConfig(customers: 150, days: 60, seed: 11))
        let store = try await importedHistory(world)
        let set = try await TrainingSetBuilder.build(from: store, options: TrainingSetOptions(horizonDays: 7))
        #expect(set.count > 200)
        var byDecision: [String: Int] = [:]
        for i in 0..<set.count { byDecision[set.decisionIDs[i]] = i }
        for i in stride(from: 0, to: set.count, by: 7) {
            let live = try await LiveFeatures.context(store: store, customerID: set.customerIDs[i], invoiceID: set.invoiceIDs[i],
                                                      at: set.decidedAt[i])
            #expect(live.features == (0..<set.features.columns).map { set.features[i, $0] }, "\(set.decisionIDs[i])")
            #expect(live.localHour == Int(set.features[i, FeatureSchema.names.firstIndex(of: "local_hour")!]))
        }
        var compared = 0
        for index in 0..<world.config.customers {
            _ = Simulation.runCustomer(world: world, index: index, policy: UniformRandomPolicy()) { o in
                let tl = o.timeline
                let live = LiveFeatures.context(customer: tl.customer, contactPoints: tl.contactPoints, invoices: tl.invoices,
                                                messages: tl.messages, events: tl.events, payments: tl.payments,
                                                invoiceID: o.context.invoice.id, at: LiveFeatures.micros(o.context.decidedAt))
                guard let i = byDecision[o.context.decisionId] else { Issue.record("no row for \(o.context.decisionId)"); return }
                #expect(live.features == (0..<set.features.columns).map { set.features[i, $0] }, "\(o.context.decisionId)")
                #expect(live.localWeekday == o.context.localTime.date.weekday.rawValue && live.localHour == o.context.localTime.hour)
                compared += 1
            }
        }
        #expect(compared == set.count)
        await #expect(throws: LiveFeatureError.unknownCustomer("nobody")) {
            try await LiveFeatures.context(store: store, customerID: "nobody", invoiceID: "x", at: 0)
        }
        try await store.close()
    }
}

@Suite("Action design")
struct ActionDesignTests {
    @Test("Column names one at a time equal the full list")
    func names() {
        let design = randomModel(seed: 4).design
        let all = design.featureNames
        #expect(all.count == design.width - 1)
        for k in 0..<all.count { #expect(design.featureName(k) == all[k], "\(k)") }
        #expect(all.contains("channel=sms×reachable_sms") && all.contains("send_delay_days×log_amount") && all.contains("hour=18-20"))
    }
}
