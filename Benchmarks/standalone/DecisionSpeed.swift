// Decision speed without the benchmark package: the bandits group's shapes (batch LinUCB argmax, 18 arms x 20
// features, 1M contexts; single decisions over the constrained space) on the LinAlg, Vocabulary and Optimizer
// (Bandits, Logistic) sources compiled as one module. Build and run: scripts/bench-decisions-standalone.
import Foundation
import Dispatch

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func threadCPU() -> Double { var t = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }
func processCPU() -> Double { var t = timespec(); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }
nonisolated(unsafe) var sink = 0

func model(d: Int, k: Int, noContact: Bool, rows: Int, seed: UInt64) throws -> RidgeBandit {
    var rng = Xoshiro256(seed: seed)
    let names = ["intercept"] + (1..<d).map { "x\($0)" }
    let map = BanditFeatureMap(contextFeatures: names, effectFeatureCount: k, modelsNoContact: noContact)
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

let d = 20
let armsOnly = try model(d: d, k: 0, noContact: false, rows: 50_000, seed: 1)
let scorer = BatchLinUCBScorer(posterior: armsOnly.posterior, alpha: 1)
var rng = Xoshiro256(seed: 2)
let n = 1_000_000
let contexts = Matrix(rows: n, columns: d) { _, j in j == 0 ? 1 : rng.normal() }
var walls = [Double](), cpus = [Double]()
for _ in 0..<5 {
    let c0 = processCPU(), t0 = now()
    sink &+= scorer.bestArms(contexts).count
    walls.append(now() - t0); cpus.append(processCPU() - c0)
}
walls.sort(); cpus.sort()
let check = scorer.bestArms(Matrix(rows: 20_000, columns: d) { i, j in contexts[i, j] }) == scorer.bestArmsByScores(Matrix(rows: 20_000, columns: d) { i, j in contexts[i, j] })
print(String(format: "batch LinUCB argmax 18x20, 1M: median %.4f s wall -> %.3g decisions/s; %.3g per CPU-second; equal to full scoring on 20k: %@", walls[2], Double(n) / walls[2], Double(n) / cpus[2], check ? "yes" : "NO"))

let full = try model(d: d, k: 1, noContact: true, rows: 50_000, seed: 3)
let allowed = ActionConstraints(contactPoints: Channel.allCases.map { ContactPoint(channel: $0) }, flow: FlowRestrictions(allowsNoContact: true)).candidates
let single = (0..<20_000).map { _ in [1.0] + (1..<d).map { _ in rng.normal() } }
for (name, policy) in [("LinUCB", BanditPolicy.linUCB(try LinUCB(alpha: 1))), ("epsilon-greedy", .epsilonGreedy(try EpsilonGreedy(epsilon: 0.1))), ("softmax", .softmax(try Softmax(temperature: 0.05)))] {
    let decider = try BanditDecider(policy: policy, posterior: full.posterior, objective: .paymentProbability(horizonDays: 7), seed: 7)
    for i in 0..<500 { sink &+= try decider.decide(BanditRequest(context: single[i], candidates: allowed, runID: 1, customerID: UInt64(i))).candidate.index }
    var times = [Double]()
    // Histogram of latencies in 0.1 µs buckets up to 10 ms.
    var hist = [Int](repeating: 0, count: 100_001)
    let c0 = threadCPU()
    for i in 0..<single.count {
        let t0 = now()
        let dd = try decider.decide(BanditRequest(context: single[i], candidates: allowed, runID: 1, customerID: UInt64(i)))
        let t = now() - t0
        sink &+= dd.candidate.index
        times.append(t)
        hist[min(100_000, Int(t * 1e7))] += 1
    }
    let cpu = (threadCPU() - c0) / Double(single.count)
    func q(_ p: Double) -> Double { var acc = 0; let target = Int(Double(single.count) * p); for (b, c) in hist.enumerated() { acc += c; if acc > target { return Double(b) / 10 } }; return .nan }
    final class Slots: @unchecked Sendable { var v = [Int](repeating: 0, count: 2) }
    let slots = Slots()
    let rounds = 4
    let t0 = now()
    DispatchQueue.concurrentPerform(iterations: 2) { w in
        var s = 0
        for _ in 0..<rounds { var i = w; while i < single.count { s &+= (try? decider.decide(BanditRequest(context: single[i], candidates: allowed, runID: 2, customerID: UInt64(i))))?.candidate.index ?? 0; i += 2 } }
        slots.v[w] = s
    }
    let wall = now() - t0
    sink &+= slots.v[0] &+ slots.v[1]
    print(String(format: "single decision %@ (%d candidates): p50 %.1f µs, p99 %.1f µs wall (histogram), %.1f µs CPU; %.3g decisions/s on 2 threads", name, allowed.count, q(0.5), q(0.99), cpu * 1e6, Double(single.count * rounds) / wall))
}
print(sink == 42 ? "" : " ")
