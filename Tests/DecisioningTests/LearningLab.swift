import Foundation
import FeatureStore
import FeatureStoreBackends
import LinAlg
import Optimizer
@testable import Simulator
import Testing
import Vocabulary
@testable import Decisioning

// Diagnostics of policy learning against the simulator's oracle, opt-in (they take minutes):
// POM_LEARNING_LAB=V0,V1,V2,... swift test --filter LearningLab. Each variant fits a reward model on the
// seed-2026 random-logging history (8,000 customers) and runs it greedily online on fresh customers
// (seed 77, 800), printing its share of the oracle's value, the shares when the timing (resp. the
// channel and tone) of each chosen action is replaced by the best one, and the mean send delays.
// V2 gives the model the simulator's latent persona: an upper reference, not a usable policy.
// BayesLab (POM_BAYES_LAB=77,78,... swift test --filter BayesLab) needs no fit: it is the Bayes-optimal
// policy on the observable data under the simulator's own model, the ceiling for any learner.
enum Lab {
    static func data(seed: UInt64, customers: Int) async throws -> PolicyData {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-learning-lab-\(seed)-\(customers)").path
        let db = dir + "/pom.sqlite"
        if !FileManager.default.fileExists(atPath: dir + "/done") {
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let world = World(config: SimulationConfig(customers: customers, days: 120, seed: seed))
            try Simulation.writeHistory(world: world, policy: UniformRandomPolicy(), directory: dir + "/history")
            let store = try await openStore("sqlite:\(db)")
            try await RecordImport.run(directory: dir + "/history", into: store)
            try await store.close()
            FileManager.default.createFile(atPath: dir + "/done", contents: Data())
        }
        let store = try await openStore("sqlite:\(db)")
        let data = try await PolicyData.load(store: store, horizonDays: 7)
        try await store.close()
        return data
    }

    /// IPCW weights for "no later message inside the window": 0 for contaminated rows.
    static func cleanWeights(_ data: PolicyData, horizon: Double = 7) -> [Double] {
        var w = [Double](repeating: 1, count: data.count)
        var byID: [String: Int] = [:]
        for i in 0..<data.count { byID[data.decisionIDs[i]] = i }
        for i in 0..<data.count {
            let id = data.decisionIDs[i]
            guard let r = id.range(of: "-D", options: .backwards), let n = Int(id[r.upperBound...]) else { continue }
            let next = id[..<r.upperBound] + String(n + 1)
            guard let j = byID[String(next)] else { continue }
            let t0 = Double(data.decidedAt[i]) / 86_400e6 + data.clocks[i].sendDelayDays(data.actions[i])
            let end = t0 + horizon
            let tj = Double(data.decidedAt[j]) / 86_400e6
            let sj = tj + data.clocks[j].sendDelayDays(data.actions[j])
            if sj < end { w[i] = 0; continue }
            var keep = 0, all = 0
            for a in data.candidates[j] { all += 1; if tj + data.clocks[j].sendDelayDays(a) >= end { keep += 1 } }
            w[i] = Double(all) / Double(max(keep, 1))
        }
        return w
    }

    /// `only`: when set, the interaction columns of the other levels are zeroed (their coefficients stay 0),
    /// e.g. `["weekday=", "hour="]` for interactions with the timing only.
    static func fit(_ data: PolicyData, interactions: [String], l2: Double, weights: [Double]?, families: [String] = [],
                    only: [String]? = nil, interactionScale: Double = 1) throws -> ActionRewardModel {
        let design = try ActionDesign.fitted(contexts: data.contexts, names: data.featureNames, interactionNames: interactions,
                                             channelFamilies: families)
        var x = ActionRewardRegression.designMatrix(data, design: design)
        if let only {
            for (j, name) in design.featureNames.enumerated() where name.contains("×") && !only.contains(where: { name.hasPrefix($0) }) {
                for i in 0..<x.rows { x[i, j + 1] = 0 }   // column 0 is the intercept
            }
        }
        // Interaction columns scaled by s: their ridge penalty becomes λ/s² (main effects keep λ).
        let interactionColumns = design.featureNames.indices.filter { design.featureNames[$0].contains("×") }
        if interactionScale != 1 {
            for j in interactionColumns { for i in 0..<x.rows { x[i, j + 1] *= interactionScale } }
        }
        let reg = LogisticRegression(l2: l2, solver: .newton, tolerance: 1e-7, maxIterations: 200, standardErrors: false)
        let f = try reg.fit(design: x, labels: data.labels, weights: weights, featureNames: design.featureNames)
        var coefficients = f.coefficients
        if interactionScale != 1 { for j in interactionColumns { coefficients[j] *= interactionScale } }
        return ActionRewardModel(design: design, intercept: f.intercept, coefficients: coefficients, horizonDays: 7)
    }

    final class Diag: @unchecked Sendable {
        var n = 0, chosen = 0.0, oracle = 0.0, uniform = 0.0, bestSameArm = 0.0, bestSameTime = 0.0
        var delayChosen = 0.0, delayOracle = 0.0
        var line: String {
            let k = Double(n)
            return String(format: "n %d ratio %.4f uniform %.4f | timing-fixed %.4f arm-fixed %.4f | delay chosen %.2f oracle %.2f",
                          n, chosen / oracle, uniform / oracle, bestSameArm / oracle, bestSameTime / oracle, delayChosen / k, delayOracle / k)
        }
    }

    /// Online value of a greedy policy scoring `extra(timeline) + live features`.
    static func evaluate(_ model: ActionRewardModel, seed: UInt64 = 77, customers: Int = 800,
                         extra: ((CustomerTimeline) -> [Double])? = nil) throws -> Diag {
        let scorer = ActionScorer(model)
        let diag = Diag()
        let fresh = World(config: SimulationConfig(customers: customers, days: 60, seed: seed))
        _ = Simulation.evaluateOnline(world: fresh, horizonDays: 7, policy: "lab", version: "1") { c in
            let tl = c.timeline
            let live = LiveFeatures.context(customer: tl.customer, contactPoints: tl.contactPoints, invoices: tl.invoices,
                                            messages: tl.messages, events: tl.events, payments: tl.payments,
                                            invoiceID: c.context.invoice.id, at: LiveFeatures.micros(c.context.decidedAt))
            let x = live.features + (extra?(tl) ?? [])
            let clock = DecisionClock(weekday: live.localWeekday, hour: live.localHour)
            var eta = [Double](repeating: -.infinity, count: Candidate.count)
            let set = CandidateSet(indices: c.context.candidates.map(\.index))
            scorer.linearPredictors(context: x, clock: clock, candidates: set, into: &eta)
            var best = c.context.candidates[0]
            for a in c.context.candidates where eta[a.index] > eta[best.index] { best = a }
            let i = tl.invoiceIndex(c.context.invoice.id)!
            let values = tl.actionValues(invoice: i, at: c.context.decidedAt, horizonDays: 7, actions: c.context.candidates)
            let v = values.first { $0.action == best }!
            let o = values.max { $0.probabilityPaid < $1.probabilityPaid }!
            diag.n += 1
            diag.chosen += v.probabilityPaid
            diag.oracle += o.probabilityPaid
            diag.uniform += values.reduce(0) { $0 + $1.probabilityPaid } / Double(values.count)
            diag.bestSameArm += values.filter { $0.action.channel == best.channel && $0.action.tone == best.tone }.map(\.probabilityPaid).max()!
            diag.bestSameTime += values.filter { $0.action.weekday == best.weekday && $0.action.hour == best.hour }.map(\.probabilityPaid).max()!
            diag.delayChosen += clock.sendDelayDays(best)
            diag.delayOracle += clock.sendDelayDays(o.action)
            return (best, 1)
        }
        return diag
    }

    static func personaColumns(_ p: Persona) -> [Double] { Persona.allCases.map { $0 == p ? 1 : 0 } }
    static let personaNames = Persona.allCases.map { "persona_\($0.rawValue)" }

    static func withPersona(_ data: PolicyData, world: World) -> PolicyData {
        withColumns(data, world: world, names: personaNames) { personaColumns($0.persona) }
    }

    /// Contact-data proxies of the persona: a landline, an e-mail at a company domain.
    static let proxyNames = ["has_landline", "business_email"]
    static func proxyColumns(_ points: [FeatureStore.ContactPoint]) -> [Double] {
        [points.contains { $0.phoneType == PhoneType.landline } ? 1 : 0,
         points.contains { $0.kind == ContactKind.email && $0.value.contains("@firm") } ? 1 : 0]
    }

    static func withColumns(_ data: PolicyData, world: World, names: [String],
                            _ columns: (SimulatedCustomerView) -> [Double]) -> PolicyData {
        var out = data
        let d = data.contexts.columns, n = data.count
        var cache: [String: [Double]] = [:]
        let extra = (0..<n).map { i -> [Double] in
            let id = data.customerIDs[i]
            if cache[id] == nil {
                let c = world.customer(Int(id.dropFirst())!)
                cache[id] = columns(SimulatedCustomerView(persona: c.traits.persona, contactPoints: c.contactPoints))
            }
            return cache[id]!
        }
        out.contexts = Matrix(rows: n, columns: d + names.count) { i, j in j < d ? data.contexts[i, j] : extra[i][j - d] }
        out.featureNames = data.featureNames + names
        return out
    }

    struct SimulatedCustomerView { var persona: Persona; var contactPoints: [FeatureStore.ContactPoint] }
}

@Suite("Learning lab", .enabled(if: ProcessInfo.processInfo.environment["POM_LEARNING_LAB"] != nil))
struct LearningLab {
    @Test func variants() async throws {
        let t0 = Date()
        let data = try await Lab.data(seed: 2026, customers: 8000)
        let (train, _) = data.split(holdoutFraction: 0.2)
        print("lab: data \(data.count) rows, train \(train.count), \(Date().timeIntervalSince(t0)) s")
        let clean = train.ownMessageWeights(maxWeight: Double(ProcessInfo.processInfo.environment["POM_LAB_CLIP"] ?? "50")!)
        let old = Lab.cleanWeights(train)
        print("lab: lab weights agree with ownMessageWeights on \((0..<train.count).filter { abs(min(old[$0], 50) - clean[$0]) < 1e-9 }.count) of \(train.count) rows")
        print("lab: clean rows \(clean.filter { $0 > 0 }.count), weight sum \(clean.reduce(0, +))")
        let which = ProcessInfo.processInfo.environment["POM_LEARNING_LAB"]!.split(separator: ",").map(String.init)
        let fam = ActionDesign.channelFamilyCandidates
        let reach = Channel.allCases.map { "reachable_\($0.rawValue)" }
        let specs: [(String, [String], [String], Bool, Double)] = [
            ("V0 main", [], [], false, 1),
            ("V1 main clean", [], [], true, 1),
            ("V4 families", [], fam, false, 1),
            ("V5 families+level", ["dunning_level"], fam, false, 1),
            ("V6 families+level+reach", ["dunning_level"] + reach, fam, false, 3),
            ("V7 families+level clean", ["dunning_level"], fam, true, 1),
            ("V8 families+level+reach clean", ["dunning_level"] + reach, fam, true, 3),
            ("V9 families+level+reach+amount clean", ["dunning_level", "log_amount", "prior_paid_share"] + reach, fam, true, 3),
        ]
        for (name, inter, families, isClean, l2) in specs where which.contains(String(name.split(separator: " ")[0])) {
            let t = Date()
            let m = try Lab.fit(train, interactions: inter, l2: l2, weights: isClean ? clean : nil, families: families)
            print("lab \(name): \(try Lab.evaluate(m).line) [\(Int(Date().timeIntervalSince(t))) s]")
        }
        if which.contains(where: { $0.hasPrefix("S") || $0.hasPrefix("P") }) {
            // Persona proxies from the simulated contact data, as extra context columns.
            let world = World(config: SimulationConfig(customers: 8000, days: 120, seed: 2026))
            let aug = Lab.withColumns(train, world: world, names: Lab.proxyNames) { Lab.proxyColumns($0.contactPoints) }
            let reachNames = ["reachable_email", "reachable_sms", "reachable_robocall", "reachable_push", "reachable_whatsapp"]
            let proxies: (CustomerTimeline) -> [Double] = { Lab.proxyColumns($0.contactPoints) }
            for spec in which where spec.hasPrefix("S") {
                // S<s>: interactions shrunk harder than the main effects (penalty λ/s² on them), λ = 1.
                let scale = Double(spec.dropFirst()) ?? 0.3
                let m = try Lab.fit(aug, interactions: Lab.proxyNames + reachNames + ["dunning_level"], l2: 1, weights: nil,
                                    interactionScale: scale)
                print("lab \(spec) proxies, interactions shrunk: \(try Lab.evaluate(m, extra: proxies).line)")
                let m2 = try Lab.fit(train, interactions: ["dunning_level"], l2: 1, weights: nil, families: ActionDesign.channelFamilyCandidates,
                                     interactionScale: scale)
                print("lab \(spec) families+level, interactions shrunk: \(try Lab.evaluate(m2).line)")
                let m3 = try Lab.fit(train, interactions: ActionDesign.defaultInteractionNames, l2: 1, weights: nil, interactionScale: scale)
                print("lab \(spec) default interactions, shrunk: \(try Lab.evaluate(m3).line)")
            }
            for spec in which where spec.hasPrefix("P") {
                // P<l2>: persona proxies × every action level, × the timing levels, × the hour levels.
                let l2 = Double(spec.dropFirst()) ?? 3
                let m = try Lab.fit(aug, interactions: Lab.proxyNames + reachNames + ["dunning_level"], l2: l2, weights: nil)
                print("lab \(spec) proxies: \(try Lab.evaluate(m, extra: proxies).line)")
                let m2 = try Lab.fit(aug, interactions: Lab.proxyNames + ["reachable_push", "reachable_whatsapp", "dunning_level"], l2: l2, weights: nil)
                print("lab \(spec) proxies (landline, business, push, whatsapp): \(try Lab.evaluate(m2, extra: proxies).line)")
                let m3 = try Lab.fit(aug, interactions: Lab.proxyNames + reachNames, l2: l2, weights: nil, only: ["weekday=", "hour="])
                print("lab \(spec) proxies × timing only: \(try Lab.evaluate(m3, extra: proxies).line)")
                let m4 = try Lab.fit(aug, interactions: Lab.proxyNames + reachNames, l2: l2, weights: nil, only: ["hour="])
                print("lab \(spec) proxies × hour only: \(try Lab.evaluate(m4, extra: proxies).line)")
            }
        }
        if which.contains("V2") || which.contains("V2T") || which.contains("V3") {
            let world = World(config: SimulationConfig(customers: 8000, days: 120, seed: 2026))
            let aug = Lab.withPersona(train, world: world)
            let extra: (CustomerTimeline) -> [Double] = { Lab.personaColumns($0.traits.persona) }
            if which.contains("V2") {
                let m = try Lab.fit(aug, interactions: Lab.personaNames + ["dunning_level"], l2: 1, weights: nil)
                let diag = try Lab.evaluate(m, extra: extra)
                print("lab V2 persona (cheat): \(diag.line)")
                // Knowing the persona is what closes the gap to 90% of the oracle.
                #expect(diag.chosen / diag.oracle >= 0.90, "\(diag.line)")
            }
            if which.contains("V2T") {
                let m = try Lab.fit(aug, interactions: Lab.personaNames, l2: 1, weights: nil, only: ["weekday=", "hour="])
                print("lab V2T persona (cheat) × timing only: \(try Lab.evaluate(m, extra: extra).line)")
            }
            if which.contains("V3") {
                let m = try Lab.fit(aug, interactions: Lab.personaNames + ["dunning_level"], l2: 1, weights: clean, families: fam)
                print("lab V3 persona (cheat)+families, clean: \(try Lab.evaluate(m, extra: extra).line)")
            }
        }
        print("lab: total \(Date().timeIntervalSince(t0)) s")
    }
}

/// The Bayes policy on the observable contact data: the simulator's own generative model, with
/// the persona integrated out under its posterior given the customer's imported contact points,
/// and the individual deviations (tone, best day, best window, channel noise) integrated out
/// under their priors. The part common to all actions (spontaneous payment, earlier messages)
/// is taken from the truth, so this bounds what any learner on those observables can reach (up to
/// what a customer's own earlier answers within the 60 days could add, which it leaves out).
/// The 0.7 below is the share of live points that are not validated at import (`World.customer`).
enum BayesLab {
    static func personaPosterior(_ points: [FeatureStore.ContactPoint], _ p: WorldParameters) -> [Persona: Double] {
        let hasEmail = points.contains { $0.kind == .email }
        let firm = points.contains { $0.kind == .email && $0.value.contains("@firm") }
        let mobile = points.contains { $0.kind == .phone && $0.phoneType == .mobile }
        let landline = points.contains { $0.kind == .phone && $0.phoneType == .landline }
        let push = points.contains { $0.kind == .push }
        let whatsapp = points.contains { $0.kind == .whatsapp }
        var w: [Persona: Double] = [:]
        for persona in Persona.allCases {
            let m = ContactMix.of(persona)
            func b(_ has: Bool, _ q: Double) -> Double { has ? q : 1 - q }
            var l = p.personaShares[persona]!
            l *= b(hasEmail, m.email)
            if hasEmail {
                let pf = persona == .office ? 0.6 : 0
                l *= firm ? pf : 1 - pf
            }
            l *= b(mobile, m.mobile) * b(landline, m.landline) * b(push, m.push)
            if mobile { l *= b(whatsapp, m.whatsapp) }
            w[persona] = l
        }
        let total = w.values.reduce(0, +)
        return w.mapValues { $0 / total }
    }

    struct Config { var weight: Double; var persona: Persona; var tone: Tone; var day: Weekday; var hour: Int; var z: Double }

    static func configurations(_ posterior: [Persona: Double], _ p: WorldParameters) -> [Config] {
        // 7-point Gauss–Hermite nodes and weights for N(0, 1).
        let nodes: [(Double, Double)] = [(-3.750439717725742, 0.000548268855972), (-2.366759410734541, 0.030757123967586),
                                         (-1.154405394739968, 0.240123178605013), (0, 0.457142857142857),
                                         (1.154405394739968, 0.240123178605013), (2.366759410734541, 0.030757123967586),
                                         (3.750439717725742, 0.000548268855972)]
        var out: [Config] = []
        for (persona, wp) in posterior where wp > 1e-4 {
            let days = p.personaDays[persona]!
            let centre = p.personaHour[persona]!.index
            var hours: [(Int, Double)] = [(centre, 1 - p.hourShiftProbability)]
            for s in [-1, 1] { hours.append((min(max(centre + s, 0), HourBucket.allCases.count - 1), p.hourShiftProbability / 2)) }
            for tone in Tone.allCases {
                let wt = (tone == p.personaTone[persona]! ? 0.8 : 0) + 0.2 / 3
                for day in days {
                    for (h, wh) in hours {
                        for (z, wz) in nodes {
                            out.append(Config(weight: wp * wt * wh * wz / Double(days.count), persona: persona, tone: tone, day: day, hour: h, z: z))
                        }
                    }
                }
            }
        }
        return out
    }

    /// Per configuration: channel logits (6), day effects by weekday (7), hour effects by window (6).
    struct Table {
        var channel: [Double] = [], day: [Double] = [], hour: [Double] = []
        init(_ configs: [Config], traits: CustomerTraits, _ p: WorldParameters) {
            for cfg in configs {
                var t = traits
                t.persona = cfg.persona
                t.bestWeekday = cfg.day
                t.bestHour = HourBucket.allCases[cfg.hour]
                for c in Channel.allCases { channel.append(p.channelLogit[c]! + p.personaChannelOffset[cfg.persona]![c]! + p.channelNoise * cfg.z) }
                for d in Weekday.allCases { day.append(p.dayEffect(traits: t, weekday: d)) }
                for h in HourBucket.allCases { hour.append(p.hourEffect(traits: t, localHour: Double(h.startHour))) }
            }
        }
    }

    /// Greedy online value of the Bayes policy (ratio to the oracle).
    /// - Parameters:
    ///   - contactData: whether the persona posterior uses the contact points (else the population shares).
    ///   - validation: whether a point's validation and earlier deliveries tell that it is alive.
    static func evaluate(seed: UInt64 = 77, customers: Int = 800, contactData: Bool = true,
                         validation: Bool = true) -> (ratio: Double, n: Int, uniform: Double) {
        let fresh = World(config: SimulationConfig(customers: customers, days: 60, seed: seed))
        let p = fresh.parameters
        let e = Simulation.evaluateOnline(world: fresh, horizonDays: 7, policy: "bayes", version: "1") { c in
            let tl = c.timeline
            let i = tl.invoiceIndex(c.context.invoice.id)!
            let t = c.context.decidedAt
            let level = c.context.level
            let posterior = contactData ? personaPosterior(fresh.customer(tl.index).contactPoints, p) : p.personaShares
            let configs = configurations(posterior, p)
            let values = tl.actionValues(invoice: i, at: t, horizonDays: 7, actions: c.context.candidates)
            let table = Table(configs, traits: tl.traits, p)
            let fixed = p.levelSlope * Double(level) + p.amountSlope * log(max(Double(tl.invoices[i].amountMinor), 1) / 10000)
            let toneTerm = Tone.allCases.map { p.toneBase[$0]! + p.toneSlope[$0]! * Double(level) }
            var best = 0, bestValue = -Double.infinity
            for (k, v) in values.enumerated() {
                let a = v.action
                let (delta, pi) = tl.probabilities(invoice: i, action: a, sendAt: v.sendAt, level: level)
                let f = p.delayCDF(channel: a.channel, hours: 7 * 24)
                let common = (1 - v.probabilityPaid) / (1 - delta * pi * f)
                // Expected delivery: alive if validated or delivered to before, else the prior given "unverified".
                let point = tl.contactPoints[tl.contactPoint(for: a.channel)!]
                let deliveredBefore = tl.messages.contains { $0.contactPointId == point.id && ($0.status == .delivered || $0.status == .sent) }
                let r = p.invalidRate[point.kind]!
                let alive = validation && (point.validation == .valid || deliveredBefore) ? 1 : (1 - r) * 0.7 / ((1 - r) * 0.7 + r)
                let eDelta = alive * (1 - p.softBounceRate[a.channel]!)
                var ePi = 0.0
                if tl.traits.segment != .never {
                    let ch = a.channel.index, wd = a.weekday.index, h = a.hour.index
                    let timed = a.channel != .letter
                    for (m, cfg) in configs.enumerated() {
                        var eta = table.channel[m * 6 + ch] + fixed + toneTerm[a.tone.index]
                        if a.tone == cfg.tone { eta += p.preferredToneBonus }
                        if timed { eta += table.day[m * 7 + wd] + table.hour[m * 6 + h] }
                        if a.channel == tl.customer.preferredChannel { eta += p.preferredChannelBonus }
                        ePi += cfg.weight / (1 + exp(-eta))
                    }
                }
                let estimate = 1 - common * (1 - eDelta * ePi * f)
                if estimate > bestValue { bestValue = estimate; best = k }
            }
            return (values[best].action, 1)
        }
        return (e.ratioToOracle, e.decisions, e.uniformRatioToOracle)
    }
}

@Suite("Bayes lab", .enabled(if: ProcessInfo.processInfo.environment["POM_BAYES_LAB"] != nil))
struct BayesLabTests {
    @Test func bayes() {
        // POM_BAYES_LAB=77,78,...: the fresh worlds' seeds (800 customers each).
        let seeds = ProcessInfo.processInfo.environment["POM_BAYES_LAB"]!.split(separator: ",").compactMap { UInt64($0) }
        for seed in seeds.isEmpty ? [77] : seeds {
            let t = Date()
            let r = BayesLab.evaluate(seed: seed)
            print("bayes lab: seed \(seed) n \(r.n) ratio \(r.ratio) uniform \(r.uniform) [\(Int(Date().timeIntervalSince(t))) s]")
            if ProcessInfo.processInfo.environment["POM_BAYES_ABLATE"] != nil {
                let a = BayesLab.evaluate(seed: seed, contactData: false)
                let b = BayesLab.evaluate(seed: seed, validation: false)
                print("bayes lab: seed \(seed) without contact data \(a.ratio), without validation \(b.ratio)")
                // The persona posterior from the contact points is what lifts the policy above the population's.
                #expect(r.ratio > a.ratio + 0.02, "with contact data \(r.ratio), without \(a.ratio)")
            }
        }
    }
}
