import Decisioning
import Dispatch
import FeatureStoreBackends
import Foundation
import LinAlg
import Optimizer
import Simulator
import Vocabulary

/// A reward-model artifact with seeded coefficients over pom's feature schema.
private func seededRewardArtifact(seed: UInt64) throws -> ModelArtifact {
    var rng = Xoshiro256(seed: seed)
    let names = FeatureSchema.names
    let design = ActionDesign(contextFeatures: names, means: names.map { _ in 0 }, scales: names.map { _ in 1 },
                              interactions: ActionDesign.defaultInteractionNames.map { names.firstIndex(of: $0)! })
    let model = ActionRewardModel(design: design, intercept: -1, coefficients: (0..<(design.width - 1)).map { _ in 0.2 * rng.normal() },
                                  horizonDays: 7)
    return try ModelArtifact(kind: "logistic", version: "bench@1", featureSchema: FeatureSchemaReference(names: names, hash: FeatureSchema.hash),
                             hyperparameters: ["policy": try JSONValue(encoding: RewardPolicyRule.epsilonGreedy(0.05))], state: model)
}

/// Latency (p50/p99 wall, CPU per decision) and two-core throughput of `PolicyRuntime.decide`.
private func runtimeDecisions(_ name: String, runtime: PolicyRuntime, contexts: [[Double]], allowed: CandidateSet, note: String) throws -> BenchResult {
    let n = contexts.count
    let clock = DecisionClock(weekday: 2, hour: 6)
    for i in 0..<min(n, 500) { blackHole(try runtime.decide(features: contexts[i], clock: clock, candidates: allowed, runID: 1, customerKey: UInt64(i))) }
    var times = [Double]()
    times.reserveCapacity(n)
    for i in 0..<n {
        var d: PolicyDecision?
        let t = seconds { d = try? runtime.decide(features: contexts[i], clock: clock, candidates: allowed, runID: 1, customerKey: UInt64(i)) }
        blackHole(d)
        times.append(t)
    }
    times.sort()
    let p50 = times[n / 2], p99 = times[Int(Double(n) * 0.99)]
    var c0 = timespec(), c1 = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0)
    for i in 0..<n { blackHole(try? runtime.decide(features: contexts[i], clock: clock, candidates: allowed, runID: 3, customerKey: UInt64(i))) }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1)
    let cpu = (Double(c1.tv_sec - c0.tv_sec) + Double(c1.tv_nsec - c0.tv_nsec) / 1e9) / Double(n)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let checksums = UnsafeMutableBufferPointer<Int>.allocate(capacity: cores)
    defer { checksums.deallocate() }
    nonisolated(unsafe) let slots = checksums
    let rounds = 4
    let wall = seconds {
        DispatchQueue.concurrentPerform(iterations: cores) { worker in
            var sum = 0
            for _ in 0..<rounds {
                var i = worker
                while i < n {
                    if let d = try? runtime.decide(features: contexts[i], clock: clock, candidates: allowed, runID: 2, customerKey: UInt64(i)) {
                        sum &+= d.action.index
                    }
                    i += cores
                }
            }
            slots[worker] = sum
        }
    }
    blackHole(Array(checksums))
    return BenchResult(group: "policy", name: name, medianSeconds: p50, runs: n, rate: Double(n * rounds) / wall,
                       rateUnit: "decisions/s on \(cores) cores", peakRSSMiB: peakRSSMiB(),
                       note: String(format: "p50 %.2f µs, p99 %.2f µs wall, %.2f µs CPU per decision; ", p50 * 1e6, p99 * 1e6, cpu * 1e6) + note)
}

/// Learning works: train on a random-logging history, run the policy online on fresh customers,
/// and report its value as a share of the oracle's, per seed.
private func learningRatio(seed: UInt64) async throws -> BenchResult {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-bench-learning-\(seed)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var result: OnlineEvaluation?
    var trainRows = 0
    let t = try await asyncSeconds {
        let world = World(config: SimulationConfig(customers: 4000, days: 120, seed: seed))
        try Simulation.writeHistory(world: world, policy: UniformRandomPolicy(), directory: dir + "/history")
        let store = try await openStore("sqlite:\(dir)/pom.sqlite")
        try await RecordImport.run(directory: dir + "/history", into: store)
        let outcome = try await ModelTrainer.train(store: store, request: TrainingRequest(model: "reminders", kind: "logistic"))
        try await store.close()
        trainRows = outcome.trainRows
        let runtime = try PolicyRuntime(artifact: outcome.artifact, model: "reminders")
        let fresh = World(config: SimulationConfig(customers: 1500, days: 60, seed: seed &+ 1000))
        result = try Simulation.evaluateOnline(world: fresh, horizonDays: 7, policy: "reminders", version: outcome.artifact.version) { c in
            let tl = c.timeline
            let live = LiveFeatures.context(customer: tl.customer, contactPoints: tl.contactPoints, invoices: tl.invoices,
                                            messages: tl.messages, events: tl.events, payments: tl.payments,
                                            invoiceID: c.context.invoice.id, at: LiveFeatures.micros(c.context.decidedAt))
            let d = try runtime.decide(features: live.features, clock: DecisionClock(weekday: live.localWeekday, hour: live.localHour),
                                       candidates: CandidateSet(indices: c.context.candidates.map(\.index)), runID: 1,
                                       customerKey: PolicyRuntime.key(tl.customer.id))
            return (d.action, d.propensity)
        }
    }
    let r = result!
    return BenchResult(group: "policy", name: "learning-seed-\(seed)", medianSeconds: t, runs: 1, rate: r.ratioToOracle,
                       rateUnit: "of the oracle's value", peakRSSMiB: peakRSSMiB(),
                       note: String(format: "%d training rows, %d online decisions: learned %.4f, oracle %.4f, uniform %.4f (%.3f of oracle)",
                                    trainRows, r.decisions, r.policy, r.oracle, r.uniform, r.uniformRatioToOracle))
}

private func asyncSeconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs an async benchmark from the synchronous harness.
private func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    nonisolated(unsafe) var result: Result<T, Error>?
    let done = DispatchSemaphore(value: 0)
    Task {
        do { result = .success(try await body()) } catch { result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try result!.get()
}

func policyBenchmarks() throws -> [BenchResult] {
    var out: [BenchResult] = []
    var rng = Xoshiro256(seed: 42)
    let contexts = (0..<20_000).map { _ in FeatureSchema.names.map { _ in rng.normal() } }
    let everyChannel = ActionConstraints(contactPoints: Channel.allCases.map { Optimizer.ContactPoint(channel: $0) })
    let allowed = everyChannel.candidates
    let artifact = try seededRewardArtifact(seed: 7)
    let runtime = try PolicyRuntime(artifact: artifact, model: "bench")
    out.append(try runtimeDecisions("decide-logistic-epsilon-greedy", runtime: runtime, contexts: contexts, allowed: allowed,
                                    note: "\(allowed.count) allowed actions (every channel, no robocall on Sunday), d = \(FeatureSchema.names.count), exact propensity, top-10 alternatives and explanation"))
    let greedy = try PolicyRuntime(artifact: artifact, model: "bench", rule: .greedy)
    out.append(try runtimeDecisions("decide-logistic-greedy", runtime: greedy, contexts: contexts, allowed: allowed, note: "greedy"))
    for seed in [2026, 2027, 2028] as [UInt64] {
        out.append(try blocking { try await learningRatio(seed: seed) })
    }
    return out
}
