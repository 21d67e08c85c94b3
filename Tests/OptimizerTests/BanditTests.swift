import Foundation
import Testing
@testable import Optimizer
import Vocabulary

// MARK: - Helpers

private func fixture(_ name: String) throws -> [String: Any] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bandits/\(name)")
    let data = try Data(contentsOf: url)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

private func matrix(_ rows: [[Double]]) -> Matrix {
    Matrix(rows: rows.count, columns: rows.first?.count ?? 0, rowMajor: rows.flatMap { $0 })
}

/// The candidate standing for channel×tone arm `g` (Monday 08-10).
private func armCandidate(_ g: Int) -> Int {
    DeliveryAction(channel: Channel.allCases[g / 3], tone: Tone.allCases[g % 3], weekday: .monday, hour: .h08).index
}

private let everyChannel = Channel.allCases.map { ContactPoint(channel: $0) }

/// A seeded linear world: rewards `θ_gᵀx + (day, hour) shifts + noise`.
private struct LinearWorld {
    let d: Int
    let theta: [[Double]]     // per channel×tone arm
    let dayShift: [Double]
    let hourShift: [Double]
    let noise: Double

    init(d: Int, seed: UInt64, noise: Double = 0.1) {
        var rng = Xoshiro256(seed: seed)
        self.d = d
        theta = (0..<18).map { _ in (0..<d).map { _ in 0.5 * rng.normal() } }
        dayShift = (0..<7).map { $0 == 0 ? 0 : 0.2 * rng.normal() }
        hourShift = (0..<6).map { $0 == 0 ? 0 : 0.2 * rng.normal() }
        self.noise = noise
    }

    func context(_ rng: inout Xoshiro256) -> [Double] { [1] + (1..<d).map { _ in rng.normal() } }

    func mean(_ x: [Double], _ c: Int) -> Double {
        let a = DeliveryAction(index: c)
        let g = a.channel.index * 3 + a.tone.index
        return zip(theta[g], x).reduce(0) { $0 + $1.0 * $1.1 } + dayShift[a.weekday.index] + hourShift[a.hour.index]
    }

    func reward(_ x: [Double], _ c: Int, _ rng: inout Xoshiro256) -> Double { mean(x, c) + noise * rng.normal() }
}

/// A random logging history over `candidates` (uniform logging policy).
private func uniformLog(world: LinearWorld, rows n: Int, candidates: CandidateSet, seed: UInt64,
                        binary: Bool = false) throws -> BanditLog {
    var rng = Xoshiro256(seed: seed)
    let allowed = Array(candidates)
    var x = [[Double]](), c = [Int](), r = [Double](), p = [Double]()
    for _ in 0..<n {
        let ctx = world.context(&rng)
        let a = allowed[Int.random(in: 0..<allowed.count, using: &rng)]
        x.append(ctx)
        c.append(a)
        let m = world.mean(ctx, a)
        r.append(binary ? (rng.uniform() < sigmoid(m) ? 1 : 0) : m + world.noise * rng.normal())
        p.append(1 / Double(allowed.count))
    }
    return try BanditLog(contexts: matrix(x), candidates: c, rewards: r, propensities: p)
}

private let names5 = ["intercept", "x1", "x2", "x3", "x4"]

// MARK: - Constraints

@Suite("Bandit constraints")
struct BanditConstraintTests {
    @Test func reachableChannelsFollowContactPointsAndConsent() {
        let c = ActionConstraints(contactPoints: [
            ContactPoint(channel: .email, state: .bounced),
            ContactPoint(channel: .email, state: .valid),
            ContactPoint(channel: .sms, state: .invalid),
            ContactPoint(channel: .letter, state: .unverified),
            ContactPoint(channel: .whatsapp, state: .valid, consent: false),
        ])
        #expect(c.reachableChannels == [.email, .letter])
        let set = c.candidates
        #expect(set.count == 2 * 3 * 7 * 6)
        for i in set { #expect([Channel.email, .letter].contains(DeliveryAction(index: i).channel)) }
        #expect(!set.contains(Candidate.noContactIndex))
    }

    @Test func quietHoursChannelRulesAndFlowRestrictions() {
        let c = ActionConstraints(
            contactPoints: everyChannel,
            quietHours: QuietHours(startHour: 19, endHour: 9),
            flow: FlowRestrictions(tones: [.friendly, .firm], weekdays: [.saturday, .sunday, .monday], allowsNoContact: true))
        let set = c.candidates
        // Hours: 08-10 and 18-20 overlap the quiet period 19-09; 4 windows remain.
        // Robocall loses Sunday (standard rule): 5 channels × 3 days + robocall × 2 days.
        #expect(set.count == (5 * 3 + 2) * 2 * 4 + 1)
        #expect(set.contains(Candidate.noContactIndex))
        for i in set where i != Candidate.noContactIndex {
            let a = DeliveryAction(index: i)
            #expect(a.hour != .h08 && a.hour != .h18)
            #expect(a.tone != .neutral)
            #expect(!(a.channel == .robocall && a.weekday == .sunday))
        }
        let robocallMonday = DeliveryAction(channel: .robocall, tone: .firm, weekday: .monday, hour: .h10)
        #expect(set.contains(Candidate.deliver(robocallMonday)))
        #expect(!set.contains(Candidate.deliver(DeliveryAction(channel: .robocall, tone: .firm, weekday: .sunday, hour: .h10))))
    }

    @Test func quietHoursWrapPastMidnight() {
        let q = QuietHours(startHour: 20, endHour: 8)
        #expect(q.isQuiet(hour: 23) && q.isQuiet(hour: 0) && q.isQuiet(hour: 7))
        #expect(!q.isQuiet(hour: 8) && !q.isQuiet(hour: 19))
        #expect(HourBucket.allCases.allSatisfy { !q.overlaps($0) })
        let day = QuietHours(startHour: 12, endHour: 14)
        #expect(day.overlaps(.h12) && !day.overlaps(.h10) && !day.overlaps(.h14))
    }

    @Test func bitsetOperations() {
        var s = CandidateSet(indices: [0, 63, 64, 700, 756])
        #expect(s.count == 5)
        #expect(Array(s) == [0, 63, 64, 700, 756])
        s.remove(63)
        #expect(!s.contains(63) && s.contains(64))
        var seen = [Int]()
        s.forEachIndex { seen.append($0) }
        #expect(seen == [0, 64, 700, 756])
        #expect(s.intersection(CandidateSet(indices: [64, 756, 3])) == CandidateSet(indices: [64, 756]))
        #expect(CandidateSet.all().count == 756 && CandidateSet.all(includingNoContact: true).count == 757)
        #expect(Candidate(index: 756) == .noContact && Candidate(index: 5).index == 5)
    }

    @Test func customersWithoutAMobileNumberNeverGetSMSAndRobocallsSkipSunday() throws {
        // A world where SMS and robocall are by far the best channels.
        let map = BanditFeatureMap(contextFeatures: ["intercept"], effectFeatureCount: 1)
        var model = RidgeBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
        for _ in 0..<50 {
            for c in CandidateSet.all() {
                let a = DeliveryAction(index: c)
                let good = a.channel == .sms || (a.channel == .robocall && a.weekday == .sunday)
                model.update(context: [1], candidate: c, reward: good ? 1 : 0)
            }
        }
        let noMobile = ActionConstraints(contactPoints: [ContactPoint(channel: .email), ContactPoint(channel: .letter),
                                                         ContactPoint(channel: .robocall)])
        for policy in [BanditPolicy.linUCB(try LinUCB(alpha: 0.5)), .epsilonGreedy(try EpsilonGreedy(epsilon: 0.3)),
                       .linearThompson(try LinearThompsonSampling(alpha: 1, propensityDraws: 50))] {
            let decider = try BanditDecider(policy: policy, posterior: model.posterior,
                                            objective: .paymentProbability(horizonDays: 7), seed: 9)
            for customer in 0..<40 {
                let d = try decider.decide(BanditRequest(context: [1], candidates: noMobile.candidates, runID: 1,
                                                         customerID: UInt64(customer)))
                let a = try #require(d.candidate.action)
                #expect(a.channel != .sms)
                #expect(!(a.channel == .robocall && a.weekday == .sunday))
                #expect(d.probabilities.enumerated().allSatisfy { noMobile.candidates.contains($0.offset) || $0.element == 0 })
            }
        }
        // With SMS reachable it wins.
        let decider = try BanditDecider(policy: .linUCB(try LinUCB(alpha: 0)), posterior: model.posterior,
                                        objective: .paymentProbability(horizonDays: 7), seed: 9)
        let d = try decider.decide(BanditRequest(context: [1], candidates: ActionConstraints(contactPoints: everyChannel).candidates,
                                                 runID: 1, customerID: 1))
        #expect(d.candidate.action?.channel == .sms)
    }

    @Test func noCandidateIsAClearError() throws {
        let map = BanditFeatureMap(contextFeatures: ["intercept"])
        let model = RidgeBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
        let decider = try BanditDecider(policy: .linUCB(try LinUCB()), posterior: model.posterior,
                                        objective: .paymentProbability(horizonDays: 7), seed: 1)
        let none = ActionConstraints(contactPoints: [ContactPoint(channel: .sms, state: .bounced)]).candidates
        #expect(throws: BanditError.noCandidates(customerID: 77)) {
            try decider.decide(BanditRequest(context: [1], candidates: none, runID: 1, customerID: 77))
        }
    }
}

// MARK: - Policies: distributions and propensities

@Suite("Bandit policies")
struct BanditPolicyTests {
    static func trainedModels() throws -> (RidgeBandit, LaplaceLogisticBandit) {
        let world = LinearWorld(d: 5, seed: 3)
        let map = BanditFeatureMap(contextFeatures: names5, effectFeatureCount: 2, modelsNoContact: true)
        let log = try uniformLog(world: world, rows: 3000, candidates: CandidateSet.all(), seed: 4)
        let binary = try uniformLog(world: world, rows: 3000, candidates: CandidateSet.all(), seed: 5, binary: true)
        let ridge = try LinUCB(alpha: 1, l2: 1).fit(log, featureMap: map, reward: .paidWithin(days: 7))
        let logistic = try LogisticThompsonSampling(l2: 1).fit(binary, featureMap: map, reward: .paidWithin(days: 7))
        return (ridge, logistic)
    }

    static func policies() throws -> [BanditPolicy] {
        [.linUCB(try LinUCB(alpha: 1)), .linearThompson(try LinearThompsonSampling(alpha: 1, propensityDraws: 300)),
         .logisticThompson(try LogisticThompsonSampling(alpha: 1, propensityDraws: 300)),
         .epsilonGreedy(try EpsilonGreedy(epsilon: 0.2)), .softmax(try Softmax(temperature: 0.3))]
    }

    @Test func probabilitiesSumToOneOverTheAllowedCandidatesAndVanishOutside() throws {
        let (ridge, logistic) = try Self.trainedModels()
        let constraints = ActionConstraints(contactPoints: [ContactPoint(channel: .email), ContactPoint(channel: .sms)],
                                            quietHours: QuietHours(startHour: 18, endHour: 10),
                                            flow: FlowRestrictions(allowsNoContact: true))
        let allowed = constraints.candidates
        #expect(allowed.count == 2 * 3 * 7 * 4 + 1)
        var rng = Xoshiro256(seed: 8)
        for policy in try Self.policies() {
            let posterior = if case .logisticThompson = policy { logistic.posterior } else { ridge.posterior }
            let decider = try BanditDecider(policy: policy, posterior: posterior, objective: .paymentProbability(horizonDays: 7), seed: 5)
            for customer in 0..<3 {
                let x = [1.0] + (0..<4).map { _ in rng.normal() }
                let d = try decider.decide(BanditRequest(context: x, candidates: allowed, runID: 2, customerID: UInt64(customer)))
                let total = d.probabilities.reduce(0, +)
                #expect(abs(total - 1) < 1e-12, "\(policy.name): probabilities sum to \(total)")
                for c in 0..<Candidate.count where !allowed.contains(c) {
                    #expect(d.probabilities[c] == 0)
                    #expect(d.scores[c] == -.infinity)
                }
                #expect(allowed.contains(d.candidate))
                #expect(d.propensity == d.probabilities[d.candidate.index] && d.propensity > 0)
                #expect(d.propensityMethod == (policy.hasExactPropensities ? .exact : .monteCarlo(draws: 300)))
                #expect(d.alternatives().count == allowed.count)
            }
        }
    }

    @Test func closedFormDistributions() {
        let allowed = CandidateSet(indices: [3, 10, 11, 500])
        var u = [Double](repeating: -.infinity, count: Candidate.count)
        u[3] = 0.2; u[10] = 0.5; u[11] = 0.5; u[500] = -0.1
        let greedy = BanditDecider.greedy(u, allowed, epsilon: 0.2)
        #expect(abs(greedy[10] - (0.4 + 0.05)) < 1e-15 && abs(greedy[11] - 0.45) < 1e-15)
        #expect(abs(greedy[3] - 0.05) < 1e-15 && abs(greedy[500] - 0.05) < 1e-15)
        let soft = BanditDecider.softmax(u, allowed, temperature: 0.5)
        let z = exp(0.4) + 2 * exp(1.0) + exp(-0.2)
        #expect(abs(soft[3] - exp(0.4) / z) < 1e-15 && abs(soft[500] - exp(-0.2) / z) < 1e-15)
    }

    /// Repeated seeded decisions (one per customer id) choose each candidate with the frequency
    /// their propensities state, within 4 binomial standard errors (plus the Monte-Carlo error of
    /// the Thompson estimates, whose mean over N decisions has standard error ≤ 0.5/√(N·M)).
    @Test func propensitiesMatchEmpiricalFrequencies() throws {
        let (ridge, logistic) = try Self.trainedModels()
        // A small candidate set keeps the check quick: 2 channels × 2 tones × 2 days × 2 hours + no contact.
        let constraints = ActionConstraints(contactPoints: [ContactPoint(channel: .email), ContactPoint(channel: .sms)],
                                            flow: FlowRestrictions(tones: [.friendly, .firm], weekdays: [.monday, .friday],
                                                                   hours: [.h10, .h16], allowsNoContact: true))
        let allowed = constraints.candidates
        #expect(allowed.count == 17)
        let x = [1.0, 0.3, -0.8, 0.5, 0.1]
        let n = 1200
        let policies: [BanditPolicy] = [
            .epsilonGreedy(try EpsilonGreedy(epsilon: 0.3)), .softmax(try Softmax(temperature: 0.15)),
            .linearThompson(try LinearThompsonSampling(alpha: 3, propensityDraws: 100)),
            .logisticThompson(try LogisticThompsonSampling(alpha: 3, propensityDraws: 100)),
        ]
        for policy in policies {
            let posterior = if case .logisticThompson = policy { logistic.posterior } else { ridge.posterior }
            let decider = try BanditDecider(policy: policy, posterior: posterior, objective: .paymentProbability(horizonDays: 7), seed: 77)
            var counts = [Int](repeating: 0, count: Candidate.count)
            var meanProbability = [Double](repeating: 0, count: Candidate.count)
            for customer in 0..<n {
                let d = try decider.decide(BanditRequest(context: x, candidates: allowed, runID: 3, customerID: UInt64(customer)))
                counts[d.candidate.index] += 1
                for c in allowed { meanProbability[c] += d.probabilities[c] / Double(n) }
            }
            var spread = 0
            for c in allowed {
                let p = meanProbability[c], f = Double(counts[c]) / Double(n)
                let tolerance = 4 * (p * (1 - p) / Double(n)).squareRoot() + 2 / Double(n) + 4 * 0.5 / (Double(n) * 100).squareRoot()
                #expect(abs(f - p) <= tolerance, "\(policy.name) \(Candidate(index: c)): frequency \(f), propensity \(p)")
                if p > 0.01 { spread += 1 }
            }
            #expect(spread >= 2, "\(policy.name) explores more than one candidate: \(allowed.map { meanProbability[$0] })")
        }
    }

    /// With one feature and two arms the Thompson probability is known in closed form: arm scores are
    /// independent `N(θ_g, α²Σ_g)`, so `P(arm 0 wins) = Φ((θ₀ − θ₁)/(α√(Σ₀ + Σ₁)))`. The Monte-Carlo
    /// propensity over 20,000 draws must match it within 4 standard errors.
    @Test func thompsonPropensityMatchesTheClosedForm() throws {
        let map = BanditFeatureMap(contextFeatures: ["intercept"], effectFeatureCount: 0)
        var ridge = RidgeBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
        for (i, r) in [1.0, 0, 1, 1, 0, 1].enumerated() { ridge.update(context: [1], candidate: armCandidate(0), reward: r + 0.1 * Double(i)) }
        for r in [0.0, 1, 0, 1] { ridge.update(context: [1], candidate: armCandidate(1), reward: r) }
        var logistic = LaplaceLogisticBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
        try logistic.update(with: try BanditLog(contexts: matrix([[1], [1], [1], [1], [1], [1], [1]]),
                                                candidates: [0, 0, 0, 0, 1, 1, 1].map(armCandidate),
                                                rewards: [1, 1, 0, 1, 0, 1, 0], propensities: [Double](repeating: 0.5, count: 7)))
        let draws = 20_000
        let allowed = CandidateSet(indices: [armCandidate(0), armCandidate(1)])
        for (policy, posterior) in [(BanditPolicy.linearThompson(try LinearThompsonSampling(alpha: 0.8, propensityDraws: draws)), ridge.posterior),
                                    (.logisticThompson(try LogisticThompsonSampling(alpha: 1.3, propensityDraws: draws)), logistic.posterior)] {
            let alpha: Double = switch policy {
            case .linearThompson(let c): c.alpha
            case .logisticThompson(let c): c.alpha
            default: 0
            }
            let decider = try BanditDecider(policy: policy, posterior: posterior, objective: .paymentProbability(horizonDays: 7), seed: 5)
            let d = try decider.decide(BanditRequest(context: [1], candidates: allowed, runID: 1, customerID: 1))
            let a0 = posterior.arms[0], a1 = posterior.arms[1]
            let z = (a0.mean[0] - a1.mean[0]) / (alpha * (a0.covariance[0] + a1.covariance[0]).squareRoot())
            let exact = 0.5 * erfc(-z / 2.0.squareRoot())
            let p0 = d.probabilities[armCandidate(0)]
            #expect(exact > 0.55 && exact < 0.95)
            #expect(abs(p0 - exact) < 4 * (exact * (1 - exact) / Double(draws)).squareRoot(), "\(policy.name): \(p0) vs \(exact)")
            #expect(abs(p0 + d.probabilities[armCandidate(1)] - 1) < 1e-12)
        }
    }

    @Test func linUCBTiesAreUniformAndPropensityIsOneOverTies() throws {
        // Without effect features every send time of an arm scores the same.
        let map = BanditFeatureMap(contextFeatures: ["intercept"], effectFeatureCount: 0)
        var model = RidgeBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
        model.update(context: [1], candidate: armCandidate(0), reward: 1)
        let decider = try BanditDecider(policy: .linUCB(try LinUCB(alpha: 0)), posterior: model.posterior,
                                        objective: .paymentProbability(horizonDays: 7), seed: 3)
        let allowed = ActionConstraints(contactPoints: everyChannel, flow: FlowRestrictions(weekdays: [.monday, .tuesday])).candidates
        var seen = Set<Int>()
        for customer in 0..<400 {
            let d = try decider.decide(BanditRequest(context: [1], candidates: allowed, runID: 1, customerID: UInt64(customer)))
            #expect(d.candidate.action?.channel == .email && d.candidate.action?.tone == .friendly)
            #expect(abs(d.propensity - 1.0 / 12) < 1e-15)
            seen.insert(d.candidate.index)
        }
        #expect(seen.count == 12)
    }

    @Test func sameSeedSameDecision() throws {
        let (ridge, logistic) = try Self.trainedModels()
        let allowed = ActionConstraints(contactPoints: everyChannel, flow: FlowRestrictions(allowsNoContact: true)).candidates
        let x = [1.0, -0.2, 0.4, 1.1, -0.6]
        for policy in try Self.policies() {
            let posterior = if case .logisticThompson = policy { logistic.posterior } else { ridge.posterior }
            let decider = try BanditDecider(policy: policy, posterior: posterior, objective: .paymentProbability(horizonDays: 7), seed: 2026)
            let request = BanditRequest(context: x, candidates: allowed, runID: 41, customerID: 4711)
            let a = try decider.decide(request), b = try decider.decide(request)
            #expect(a.candidate == b.candidate && a.propensity == b.propensity && a.probabilities == b.probabilities)
            #expect(a.seed == b.seed)
            var g1 = Xoshiro256(seed: a.seed), g2 = decider.generator(runID: 41, customerID: 4711)
            #expect(g1.next() == g2.next())
            // The three steps by hand give the same decision.
            let s = decider.scores(request)
            var rng = decider.generator(runID: 41, customerID: 4711)
            let pmf = decider.distribution(s, using: &rng)
            #expect(BanditDecider.sample(pmf, from: s.allowed, using: &rng) == a.candidate.index)
        }
        // Another customer gets another stream.
        let decider = try BanditDecider(policy: .softmax(try Softmax(temperature: 1)), posterior: ridge.posterior,
                                        objective: .paymentProbability(horizonDays: 7), seed: 2026)
        let picks = Set(try (0..<30).map {
            try decider.decide(BanditRequest(context: x, candidates: allowed, runID: 41, customerID: UInt64($0))).candidate
        })
        #expect(picks.count > 10)
    }

    @Test func validatedConfigurations() {
        #expect(throws: BanditError.invalidParameter(name: "alpha", value: -1, expected: "a finite number ≥ 0")) { try LinUCB(alpha: -1) }
        #expect(throws: BanditError.self) { try LinUCB(l2: 0) }
        #expect(throws: BanditError.self) { try EpsilonGreedy(epsilon: 1.5) }
        #expect(throws: BanditError.self) { try Softmax(temperature: 0) }
        #expect(throws: BanditError.self) { try LinearThompsonSampling(propensityDraws: 0) }
        #expect(throws: BanditError.self) { try LogisticThompsonSampling(alpha: 0) }
    }

    @Test func badLogRowsNameTheRowAndField() {
        let x = Matrix(rows: 2, columns: 1, rowMajor: [1, 1])
        #expect(throws: BanditError.invalidLogRow(row: 1, field: "propensity", value: 0, expected: "a probability in (0, 1]")) {
            try BanditLog(contexts: x, candidates: [0, 1], rewards: [1, 0], propensities: [0.5, 0])
        }
        #expect(throws: BanditError.invalidLogRow(row: 0, field: "action", value: 900, expected: "a candidate index in 0..<757")) {
            try BanditLog(contexts: x, candidates: [900, 1], rewards: [1, 0], propensities: [0.5, 0.5])
        }
    }
}

// MARK: - Training

@Suite("Bandit training")
struct BanditTrainingTests {
    @Test func linUCBAgainstAHandComputation() throws {
        // One arm, d = 2, λ = 2: A = 2I + Σ xxᵀ, b = Σ r x, θ = A⁻¹b, UCB = θᵀx + α√(xᵀA⁻¹x).
        let map = BanditFeatureMap(contextFeatures: ["intercept", "x"], effectFeatureCount: 0)
        var model = RidgeBandit(featureMap: map, l2: 2, reward: .paidWithin(days: 7))
        let c = armCandidate(4)
        model.update(context: [1, 2], candidate: c, reward: 1)
        model.update(context: [1, -1], candidate: c, reward: 0)
        model.update(context: [1, 0.5], candidate: c, reward: 1, weight: 2)
        // A = [[2+1+1+2, 2-1+1], [2-1+1, 2+4+1+0.5]] = [[6, 2], [2, 7.5]]; b = [1+0+2, 2+0+1] = [3, 3].
        let a = model.gramMatrix(arm: 4)
        #expect(a.maxAbsDifference(Matrix(rows: 2, columns: 2, rowMajor: [6, 2, 2, 7.5])) < 1e-14)
        #expect(model.moment(arm: 4).maxAbsDifference([3, 3]) < 1e-14)
        let det = 6 * 7.5 - 4.0
        let theta: Vector = [(7.5 * 3 - 2 * 3) / det, (6 * 3 - 2 * 3) / det]
        #expect(model.coefficients(arm: 4).maxAbsDifference(theta) < 1e-14)
        // Score of the arm at x = (1, 1) with α = 0.5: xᵀA⁻¹x = (7.5 − 2 − 2 + 6)/det.
        let ucb = theta[0] + theta[1] + 0.5 * ((7.5 - 4 + 6) / det).squareRoot()
        let decider = try BanditDecider(policy: .linUCB(try LinUCB(alpha: 0.5, l2: 2)), posterior: model.posterior,
                                        objective: .paymentProbability(horizonDays: 7), seed: 1)
        let d = try decider.decide(BanditRequest(context: [1, 1], candidates: CandidateSet(indices: [c]), runID: 1, customerID: 1))
        #expect(abs(d.scores[c] - ucb) < 1e-14)
        #expect(abs(d.explanation.explorationBonus! - 0.5 * ((7.5 - 4 + 6) / det).squareRoot()) < 1e-14)
        #expect(abs(d.explanation.linearPredictor - (theta[0] + theta[1])) < 1e-14)
        // Untrained arms keep A = λI, b = 0.
        #expect(model.gramMatrix(arm: 0).maxAbsDifference(2 * Matrix.identity(2)) == 0)
    }

    @Test func agreesWithMABWiserLinUCB() throws {
        let f = try fixture("mabwiser_linucb.json")
        let alpha = try #require(f["alpha"] as? Double), l2 = try #require(f["l2"] as? Double)
        let first = try #require(f["fit_rows"] as? Int)
        let contexts = try #require(f["contexts"] as? [[Double]])
        let decisions = try #require(f["decisions"] as? [Int]), rewards = try #require(f["rewards"] as? [Double])
        let tests = try #require(f["test_contexts"] as? [[Double]])
        let map = BanditFeatureMap(contextFeatures: ["one", "a", "b", "c"], effectFeatureCount: 0)
        let batch = try BanditLog(contexts: matrix(Array(contexts[..<first])), candidates: decisions[..<first].map(armCandidate),
                                  rewards: Array(rewards[..<first]), propensities: [Double](repeating: 1, count: first))
        var model = try LinUCB(alpha: alpha, l2: l2).fit(batch, featureMap: map, reward: .paidWithin(days: 7))

        func check(_ key: String) throws {
            let stage = try #require(f[key] as? [String: Any])
            let arms = try #require(stage["arms"] as? [String: [String: Any]])
            for g in 0..<18 {
                let ref = try #require(arms[String(g)])
                let a = matrix(try #require(ref["A"] as? [[Double]]))
                #expect(model.gramMatrix(arm: g).maxAbsDifference(a) < 1e-10, "\(key) arm \(g) A")
                #expect(model.moment(arm: g).maxAbsDifference(Vector(try #require(ref["Xty"] as? [Double]))) < 1e-10)
                #expect(model.coefficients(arm: g).maxAbsDifference(Vector(try #require(ref["beta"] as? [Double]))) < 1e-10)
            }
            let expectations = try #require(stage["expectations"] as? [[Double]])
            let predictions = try #require(stage["predictions"] as? [Int])
            let decider = try BanditDecider(policy: .linUCB(try LinUCB(alpha: alpha, l2: l2)), posterior: model.posterior,
                                            objective: .paymentProbability(horizonDays: 7), seed: 1)
            let armSet = CandidateSet(indices: (0..<18).map(armCandidate))
            let scorer = BatchLinUCBScorer(posterior: model.posterior, alpha: alpha)
            let batchScores = scorer.scores(matrix(tests))
            #expect(scorer.bestArms(matrix(tests)) == predictions)
            for (t, x) in tests.enumerated() {
                let d = try decider.decide(BanditRequest(context: x, candidates: armSet, runID: 0, customerID: UInt64(t)))
                for g in 0..<18 {
                    #expect(abs(d.scores[armCandidate(g)] - expectations[t][g]) < 1e-10, "\(key) context \(t) arm \(g)")
                    #expect(abs(batchScores[t, g] - expectations[t][g]) < 1e-10)
                }
                #expect(d.candidate.index == armCandidate(predictions[t]))
                #expect(d.propensity == 1)
            }
        }
        try check("after_fit")
        // MABWiser's partial_fit, here as one incremental update per row.
        for i in first..<contexts.count {
            model.update(context: contexts[i], candidate: armCandidate(decisions[i]), reward: rewards[i])
        }
        try check("after_partial_fit")
    }

    @Test func batchTrainingEqualsSequentialUpdates() throws {
        let world = LinearWorld(d: 4, seed: 12)
        let map = BanditFeatureMap(contextFeatures: ["intercept", "a", "b", "c"], effectFeatureCount: 2, modelsNoContact: true)
        let allowed = CandidateSet.all(includingNoContact: true)
        var rng = Xoshiro256(seed: 13)
        var x = [[Double]](), c = [Int](), r = [Double](), p = [Double]()
        for _ in 0..<5000 {
            let ctx = world.context(&rng)
            let a = Int.random(in: 0..<allowed.count, using: &rng)
            x.append(ctx); c.append(a)
            r.append(a == Candidate.noContactIndex ? 0.1 : world.reward(ctx, a, &rng))
            p.append(0.01 + 0.99 * rng.uniform())
        }
        let log = try BanditLog(contexts: matrix(x), candidates: c, rewards: r, propensities: p)
        let weighting = ImportanceWeighting.inversePropensity(maxWeight: 20)
        let batch = try LinUCB(alpha: 1, l2: 0.5).fit(log, featureMap: map, reward: .paidWithin(days: 7), weighting: weighting)
        var sequential = RidgeBandit(featureMap: map, l2: 0.5, reward: .paidWithin(days: 7))
        for i in 0..<log.count {
            sequential.update(context: x[i], candidate: c[i], reward: r[i], weight: weighting.weight(propensity: p[i]))
        }
        #expect(map.armFeatureCount == 4 + 2 * (6 + 5))
        for g in 0..<map.armCount {
            #expect(batch.gramMatrix(arm: g).maxAbsDifference(sequential.gramMatrix(arm: g)) < 1e-10)
            #expect(batch.moment(arm: g).maxAbsDifference(sequential.moment(arm: g)) < 1e-10)
            #expect(batch.coefficients(arm: g).maxAbsDifference(sequential.coefficients(arm: g)) < 1e-10)
        }
        let totalWeight: Double = batch.weightTotals.reduce(0, +)
        let expectedWeight: Double = p.map { weighting.weight(propensity: $0) }.reduce(0, +)
        #expect(abs(totalWeight - expectedWeight) < 1e-8)
        // Clipping happened: some weights hit the bound.
        #expect(p.contains { 1 / $0 > 20 })
    }

    @Test func laplaceLogisticAgreesWithScikitLearn() throws {
        let f = try fixture("laplace_logistic.json")
        let l2 = try #require(f["l2"] as? Double)
        let x = try #require(f["contexts"] as? [[Double]]), y = try #require(f["labels"] as? [Double])
        let map = BanditFeatureMap(contextFeatures: ["one", "a", "b", "c"], effectFeatureCount: 0)
        let log = try BanditLog(contexts: matrix(x), candidates: [Int](repeating: armCandidate(7), count: x.count),
                                rewards: y, propensities: [Double](repeating: 1, count: x.count))
        let model = try LogisticThompsonSampling(l2: l2).fit(log, featureMap: map, reward: .paidWithin(days: 3))
        let beta = Vector(try #require(f["coefficients"] as? [Double]))
        let arm = model.posterior.arms[7]
        #expect(Vector(arm.mean).maxAbsDifference(beta) < 1e-7 * Swift.max(1, beta.normInfinity))
        #expect(model.precision(arm: 7).maxAbsDifference(matrix(try #require(f["precision"] as? [[Double]]))) < 1e-6)
        let cov = Matrix(rows: 4, columns: 4, columnMajor: arm.covariance)
        #expect(cov.maxAbsDifference(matrix(try #require(f["covariance"] as? [[Double]]))) < 1e-8)
        let fit = try #require(model.fits[7])
        #expect(fit.converged && fit.rows == x.count && fit.gradientNorm < 1e-8)
        #expect(model.fits[0] == nil)
        // Rewards outside [0, 1] are refused with the row.
        let bad = try BanditLog(contexts: matrix([[1, 0, 0, 0]]), candidates: [0], rewards: [3], propensities: [1])
        var m2 = LaplaceLogisticBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 3))
        #expect(throws: BanditError.invalidLogRow(row: 0, field: "reward", value: 3, expected: "a label in [0, 1] (paid within the horizon)")) {
            try m2.update(with: bad)
        }
    }

    @Test func laplaceIncrementalUpdateKeepsThePosteriorAsPrior() throws {
        // Two halves: the second update starts from the first posterior, so its precision is the
        // first posterior's precision plus the second half's Hessian at the new mode, and its mode
        // is close to the batch fit's.
        let world = LinearWorld(d: 3, seed: 21)
        let map = BanditFeatureMap(contextFeatures: ["intercept", "a", "b"], effectFeatureCount: 0)
        let arms = CandidateSet(indices: (0..<18).map(armCandidate))
        let log = try uniformLog(world: world, rows: 4000, candidates: arms, seed: 22, binary: true)
        func part(_ r: Range<Int>) throws -> BanditLog {
            try BanditLog(contexts: Matrix(rows: r.count, columns: 3) { i, j in log.contexts[r.lowerBound + i, j] },
                          candidates: Array(log.candidates[r]), rewards: Array(log.rewards[r]), propensities: Array(log.propensities[r]))
        }
        let policy = try LogisticThompsonSampling(l2: 1)
        let batch = try policy.fit(log, featureMap: map, reward: .paidWithin(days: 7))
        let second = try part(2000..<4000)
        var online = try policy.fit(try part(0..<2000), featureMap: map, reward: .paidWithin(days: 7))
        let firstPrecision = (0..<18).map { online.precision(arm: $0) }
        try online.update(with: second)
        let (rows, _) = rowsByArm(second, map)
        for g in 0..<18 {
            let design = armDesign(second, map, rows: rows[g][...])
            let hessian = try #require(logisticPass(design: design.view, labels: rows[g].map { second.rewards[$0] },
                                                    coefficients: Vector(online.posterior.arms[g].mean), hessian: true).hessian)
            let expected = firstPrecision[g] + hessian
            #expect(online.precision(arm: g).maxAbsDifference(expected) < 1e-9 * expected.diagonal.normInfinity)
            #expect(try #require(online.fits[g]).converged)
            #expect(Vector(batch.posterior.arms[g].mean).maxAbsDifference(Vector(online.posterior.arms[g].mean)) < 0.05)
        }
    }
}

// MARK: - Objective and explanation

@Suite("Bandit objective")
struct BanditObjectiveTests {
    @Test func netAmountWeighsChannelCostsAndNoContactCanWin() throws {
        let map = BanditFeatureMap(contextFeatures: ["intercept"], effectFeatureCount: 0, modelsNoContact: true)
        var model = RidgeBandit(featureMap: map, l2: 0.001, reward: .amountCollectedWithin(days: 14))
        let letter = armCandidate(Channel.letter.index * 3), sms = armCandidate(Channel.sms.index * 3)
        // Both collect 50 on average; without contact 49.5 is collected anyway.
        for _ in 0..<100 {
            model.update(context: [1], candidate: letter, reward: 50)
            model.update(context: [1], candidate: sms, reward: 50)
            model.update(context: [1], candidate: Candidate.noContactIndex, reward: 49.5)
        }
        let costs = ChannelCosts([.letter: 0.95, .sms: 0.08])
        #expect(costs.cost(.letter) > costs.cost(.sms))
        let decider = try BanditDecider(policy: .linUCB(try LinUCB(alpha: 0)), posterior: model.posterior,
                                        objective: .expectedNetAmount(horizonDays: 14, costs: costs), seed: 1)
        let both = CandidateSet(indices: [letter, sms])
        let d = try decider.decide(BanditRequest(context: [1], candidates: both, runID: 1, customerID: 1))
        #expect(d.candidate.index == sms)
        #expect(abs(d.scores[letter] - (50 - 0.95)) < 1e-3 && abs(d.scores[sms] - (50 - 0.08)) < 1e-3)
        #expect(d.explanation.contributions.contains(FeatureContribution(feature: "cost(sms)", value: -0.08)))
        let withWait = CandidateSet(indices: [letter, Candidate.noContactIndex])
        let w = try decider.decide(BanditRequest(context: [1], candidates: withWait, runID: 1, customerID: 1))
        #expect(w.candidate == .noContact)
        #expect(w.explanation.arm == "no-contact")
    }

    @Test func logisticNetAmountUsesTheAmountDue() throws {
        let map = BanditFeatureMap(contextFeatures: ["intercept"], effectFeatureCount: 0)
        let model = LaplaceLogisticBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
        let decider = try BanditDecider(policy: .epsilonGreedy(try EpsilonGreedy(epsilon: 0)), posterior: model.posterior,
                                        objective: .expectedNetAmount(horizonDays: 7, costs: .typical), seed: 1)
        let letter = armCandidate(Channel.letter.index * 3), email = armCandidate(0)
        let d = try decider.decide(BanditRequest(context: [1], candidates: CandidateSet(indices: [letter, email]),
                                                 amountDue: 200, runID: 1, customerID: 1))
        // Untrained: σ(0) = 0.5 for every arm, so 100 minus the channel cost.
        #expect(abs(d.scores[letter] - (100 - 0.95)) < 1e-12 && abs(d.scores[email] - (100 - 0.002)) < 1e-12)
        #expect(d.candidate.index == email)
    }

    @Test func objectiveAndModelMustFit() throws {
        let map = BanditFeatureMap(contextFeatures: ["intercept"])
        let ridge = RidgeBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
        #expect(throws: BanditError.self) {
            try BanditDecider(policy: .linUCB(try LinUCB()), posterior: ridge.posterior, objective: .paymentProbability(horizonDays: 3), seed: 1)
        }
        #expect(throws: BanditError.self) {
            try BanditDecider(policy: .linUCB(try LinUCB()), posterior: ridge.posterior,
                              objective: .expectedNetAmount(horizonDays: 7, costs: .typical), seed: 1)
        }
        let logistic = LaplaceLogisticBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
        #expect(throws: BanditError.self) {
            try BanditDecider(policy: .linUCB(try LinUCB()), posterior: logistic.posterior, objective: .paymentProbability(horizonDays: 7), seed: 1)
        }
        #expect(throws: BanditError.self) {
            try BanditDecider(policy: .logisticThompson(try LogisticThompsonSampling()), posterior: ridge.posterior,
                              objective: .paymentProbability(horizonDays: 7), seed: 1)
        }
    }

    @Test func explanationListsTheLargestContributions() throws {
        let map = BanditFeatureMap(contextFeatures: ["intercept", "overdue", "amount"], effectFeatureCount: 1)
        var model = RidgeBandit(featureMap: map, l2: 0.01, reward: .paidWithin(days: 7))
        let action = DeliveryAction(channel: .sms, tone: .firm, weekday: .friday, hour: .h14)
        var rng = Xoshiro256(seed: 5)
        for _ in 0..<200 {
            let x = [1, rng.normal(), rng.normal()]
            model.update(context: x, candidate: action.index, reward: 0.2 + 0.9 * x[1] - 0.05 * x[2])
        }
        let decider = try BanditDecider(policy: .epsilonGreedy(try EpsilonGreedy(epsilon: 0)), posterior: model.posterior,
                                        objective: .paymentProbability(horizonDays: 7), seed: 1)
        let x = [1.0, 2.0, 1.0]
        let d = try decider.decide(BanditRequest(context: x, candidates: CandidateSet(indices: [action.index]), runID: 1, customerID: 1))
        let e = d.explanation
        #expect(e.arm == "sms/firm" && e.scale == "reward")
        #expect(e.contributions.count == 3)
        #expect(e.contributions[0].feature == "overdue" && abs(e.contributions[0].value - 1.8) < 0.01)
        #expect(abs(e.linearPredictor - d.scores[action.index]) < 1e-12)
        #expect(abs(e.linearPredictor - (0.2 + 1.8 - 0.05)) < 0.01)
        #expect(map.featureName(3 + 2) == "weekday=thursday×intercept" && map.featureName(3 + 6) == "hour=10-12×intercept")
        #expect(e.summary.hasPrefix("sms/firm: +1.8 overdue"))
    }
}

// MARK: - Learning

@Suite("Bandit learning")
struct BanditLearningTests {
    /// Online learning in a seeded linear world with 18 arms (one send time each): over 3,000
    /// rounds the share of rounds choosing the best arm in the last 1,000 must exceed 80%, and the
    /// mean per-round regret there must stay below 0.05 (a uniform policy's is about 1.0 here).
    @Test(arguments: ["linucb", "linear-thompson"])
    func learnsTheBestArmInALinearWorld(policyName: String) throws {
        let world = LinearWorld(d: 4, seed: 31, noise: 0.3)
        let map = BanditFeatureMap(contextFeatures: ["intercept", "a", "b", "c"], effectFeatureCount: 0)
        let arms = (0..<18).map(armCandidate)
        let allowed = CandidateSet(indices: arms)
        var model = RidgeBandit(featureMap: map, l2: 1, reward: .paidWithin(days: 7))
        let policy: BanditPolicy = policyName == "linucb" ? .linUCB(try LinUCB(alpha: 0.5))
            : .linearThompson(try LinearThompsonSampling(alpha: 0.3, propensityDraws: 1))
        var rng = Xoshiro256(seed: 32)
        var lateRegret = 0.0, lateBest = 0, uniformRegret = 0.0
        let rounds = 3000, late = 1000
        for t in 0..<rounds {
            let x = world.context(&rng)
            let decider = try BanditDecider(policy: policy, posterior: model.posterior, objective: .paymentProbability(horizonDays: 7), seed: 33)
            let d = try decider.decide(BanditRequest(context: x, candidates: allowed, runID: 1, customerID: UInt64(t)))
            let means = arms.map { world.mean(x, $0) }
            let best = means.max()!
            let chosen = d.candidate.index
            if t >= rounds - late {
                lateRegret += best - world.mean(x, chosen)
                uniformRegret += best - means.reduce(0, +) / 18
                if world.mean(x, chosen) == best { lateBest += 1 }
            }
            model.update(context: x, candidate: chosen, reward: world.reward(x, chosen, &rng))
        }
        #expect(Double(lateBest) / Double(late) > 0.8, "\(policyName): best arm in \(lateBest) of \(late) late rounds")
        #expect(lateRegret / Double(late) < 0.05, "\(policyName): mean regret \(lateRegret / Double(late))")
        #expect(uniformRegret / Double(late) > 0.5)
    }

    @Test func offlineTrainingWithEffectsFindsTheBestSendTime() throws {
        // The world's day and hour shifts are learned by the additive effects from a uniform log.
        let world = LinearWorld(d: 3, seed: 41, noise: 0.2)
        let map = BanditFeatureMap(contextFeatures: ["intercept", "a", "b"], effectFeatureCount: 1)
        let log = try uniformLog(world: world, rows: 40_000, candidates: CandidateSet.all(), seed: 42)
        let model = try LinUCB(alpha: 0, l2: 1).fit(log, featureMap: map, reward: .paidWithin(days: 7), weighting: .inversePropensity(maxWeight: 1000))
        let decider = try BanditDecider(policy: .linUCB(try LinUCB(alpha: 0)), posterior: model.posterior,
                                        objective: .paymentProbability(horizonDays: 7), seed: 1)
        var rng = Xoshiro256(seed: 43)
        var regret = 0.0
        for t in 0..<200 {
            let x = world.context(&rng)
            let d = try decider.decide(BanditRequest(context: x, candidates: CandidateSet.all(), runID: 1, customerID: UInt64(t)))
            let best = (0..<756).map { world.mean(x, $0) }.max()!
            regret += best - world.mean(x, d.candidate.index)
        }
        #expect(regret / 200 < 0.02, "mean regret \(regret / 200)")
    }
}
