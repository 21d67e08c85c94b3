import Dispatch
import Foundation
import LinAlg
import Optimizer
import Vocabulary

/// A trained ridge bandit over `d` seeded context features, `rows` logged rows spread over every delivery action.
private func banditModel(d: Int, effectFeatures: Int, noContact: Bool, rows: Int, seed: UInt64) throws -> RidgeBandit {
    var rng = Xoshiro256(seed: seed)
    let names = ["intercept"] + (1..<d).map { "x\($0)" }
    let map = BanditFeatureMap(contextFeatures: names, effectFeatureCount: effectFeatures, modelsNoContact: noContact)
    let theta = (0..<map.armCount).map { _ in (0..<d).map { _ in 0.3 * rng.normal() } }
    var x = [Double](repeating: 0, count: rows * d)
    var candidates = [Int](), rewards = [Double]()
    for i in 0..<rows {
        x[i] = 1
        for j in 1..<d { x[i + j * rows] = rng.normal() }
        let c = Int.random(in: 0..<(noContact ? Candidate.count : DeliveryAction.count), using: &rng)
        let g = map.arm(ofCandidate: c)!
        var mean = 0.0
        for j in 0..<d { mean += theta[g][j] * x[i + j * rows] }
        candidates.append(c)
        rewards.append(rng.uniform() < sigmoid(mean) ? 1 : 0)
    }
    let log = try BanditLog(contexts: Matrix(rows: rows, columns: d, columnMajor: x), candidates: candidates, rewards: rewards,
                            propensities: [Double](repeating: 1.0 / Double(Candidate.count), count: rows))
    return try LinUCB(alpha: 1, l2: 1).fit(log, featureMap: map, reward: .paidWithin(days: 7))
}

/// Latency distribution and two-core throughput of single decisions.
private func decisionBench(_ name: String, decider: BanditDecider, contexts: [[Double]], allowed: CandidateSet,
                           note: String) throws -> BenchResult {
    let n = contexts.count
    // Warm-up.
    for i in 0..<Swift.min(n, 200) {
        blackHole(try decider.decide(BanditRequest(context: contexts[i], candidates: allowed, runID: 1, customerID: UInt64(i))))
    }
    var times = [Double]()
    times.reserveCapacity(n)
    for i in 0..<n {
        let request = BanditRequest(context: contexts[i], candidates: allowed, runID: 1, customerID: UInt64(i))
        var decision: BanditDecision?
        let t = seconds { decision = try? decider.decide(request) }
        blackHole(decision)
        times.append(t)
    }
    times.sort()
    let p50 = times[n / 2], p99 = times[Int(Double(n) * 0.99)]
    // CPU time of this thread per decision: less sensitive than wall time to other processes on a shared machine.
    var c0 = timespec(), c1 = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0)
    for i in 0..<n {
        blackHole(try? decider.decide(BanditRequest(context: contexts[i], candidates: allowed, runID: 3, customerID: UInt64(i))))
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1)
    let cpu = (Double(c1.tv_sec - c0.tv_sec) + Double(c1.tv_nsec - c0.tv_nsec) / 1e9) / Double(n)
    // Throughput: every core decides its own share of the contexts.
    let cores = ProcessInfo.processInfo.activeProcessorCount
    // Each worker folds its decisions into its own slot (blackHole's global must not be written concurrently).
    let checksums = UnsafeMutableBufferPointer<Int>.allocate(capacity: cores)
    defer { checksums.deallocate() }
    nonisolated(unsafe) let slots = checksums
    let wall = seconds {
        DispatchQueue.concurrentPerform(iterations: cores) { worker in
            var i = worker, sum = 0
            while i < n {
                if let d = try? decider.decide(BanditRequest(context: contexts[i], candidates: allowed, runID: 2, customerID: UInt64(i))) {
                    sum &+= d.candidate.index
                }
                i += cores
            }
            slots[worker] = sum
        }
    }
    blackHole(Array(checksums))
    return BenchResult(group: "bandits", name: name, medianSeconds: p50, runs: n, rate: Double(n) / wall,
                       rateUnit: "decisions/s on \(cores) cores", peakRSSMiB: peakRSSMiB(),
                       note: String(format: "p50 %.1f µs, p99 %.1f µs wall, %.1f µs CPU per decision; ", p50 * 1e6, p99 * 1e6, cpu * 1e6) + note)
}

/// Contextual bandits: batch LinUCB scoring (18 arms × 20 features, the peers' shape) and single
/// decisions over the full constrained action space with propensities.
/// Peer figures (numpy vectorised LinUCB, MABWiser) come from Benchmarks/peers/bandits.py.
func banditBenchmarks() throws -> [BenchResult] {
    var results = [BenchResult]()
    let d = 20

    // Batch scoring: 18 channel×tone arms over the raw 20-feature context.
    let trainingRows = size(50_000, quick: 10_000)
    let armsOnly = try banditModel(d: d, effectFeatures: 0, noContact: false, rows: trainingRows, seed: 1)
    let scorer = BatchLinUCBScorer(posterior: armsOnly.posterior, alpha: 1)
    var rng = Xoshiro256(seed: 2)
    let n = size(1_000_000, quick: 100_000)
    let contexts = Matrix(rows: n, columns: d) { _, j in j == 0 ? 1 : rng.normal() }
    var p0 = timespec(), p1 = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p0)
    blackHole(scorer.bestArms(contexts))
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p1)
    let cpuSeconds = Double(p1.tv_sec - p0.tv_sec) + Double(p1.tv_nsec - p0.tv_nsec) / 1e9
    results.append(measure("bandits", "batch LinUCB argmax, 18 arms x 20 features, \(countLabel(n)) contexts",
                           rate: { Double(n) / $0 }, unit: "decisions/s",
                           note: String(format: "%.3g decisions per CPU-second", Double(n) / cpuSeconds)) {
        blackHole(scorer.bestArms(contexts))
    })

    // Single decisions over the full space: every channel reachable, the standard channel rules,
    // "no contact now" allowed: 750 + 1 candidates. Feature map: 18 arms, d = 20, weekday and hour
    // effects on the intercept (k = 1, p = 31).
    let full = try banditModel(d: d, effectFeatures: 1, noContact: true, rows: trainingRows, seed: 3)
    let allowed = ActionConstraints(contactPoints: Channel.allCases.map { ContactPoint(channel: $0) },
                                    flow: FlowRestrictions(allowsNoContact: true)).candidates
    let single = (0..<size(20_000, quick: 2_000)).map { _ in [1.0] + (1..<d).map { _ in rng.normal() } }
    let objective = DecisionObjective.paymentProbability(horizonDays: 7)
    let note = "\(allowed.count) candidates, d=20, 18+1 arms, p=\(full.featureMap.armFeatureCount)"
    for (name, policy) in [("LinUCB", BanditPolicy.linUCB(try LinUCB(alpha: 1))),
                           ("epsilon-greedy", .epsilonGreedy(try EpsilonGreedy(epsilon: 0.1))),
                           ("softmax", .softmax(try Softmax(temperature: 0.05)))] {
        let decider = try BanditDecider(policy: policy, posterior: full.posterior, objective: objective, seed: 7)
        results.append(try decisionBench("single decision \(name) (exact propensity)", decider: decider, contexts: single,
                                         allowed: allowed, note: note))
    }
    // Thompson sampling: the propensity is a 1000-draw Monte-Carlo estimate, so it is slower by design.
    let ts = try BanditDecider(policy: .linearThompson(try LinearThompsonSampling(alpha: 1, propensityDraws: 1000)),
                               posterior: full.posterior, objective: objective, seed: 7)
    results.append(try decisionBench("single decision linear TS (1000-draw propensity)", decider: ts,
                                     contexts: Array(single.prefix(size(300, quick: 100))), allowed: allowed, note: note))
    let ts100 = try BanditDecider(policy: .linearThompson(try LinearThompsonSampling(alpha: 1, propensityDraws: 100)),
                                  posterior: full.posterior, objective: objective, seed: 7)
    results.append(try decisionBench("single decision linear TS (100-draw propensity)", decider: ts100,
                                     contexts: Array(single.prefix(size(1000, quick: 200))), allowed: allowed, note: note))
    return results
}

