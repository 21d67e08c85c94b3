import Foundation
import Simulator

/// The simulator: customers per second written to a history (all files, atomically), for both
/// logging policies, and decisions valued per second by the oracle (every candidate of every decision).
/// No peer: the simulator is pom's own.
func simulatorBenchmarks() throws -> [BenchResult] {
    var results = [BenchResult]()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-bench-sim-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let customers = size(20_000, quick: 2_000), days = 120
    let world = World(config: SimulationConfig(customers: customers, days: days, seed: 1))
    var rows = 0
    results.append(try measure("simulator", "write history \(customers) customers x \(days) days, random policy", runs: 3,
                               rate: { Double(customers) / $0 }, unit: "customers/s") {
        rows = try Simulation.writeHistory(world: world, policy: UniformRandomPolicy(), directory: dir).total
    })
    results[results.count - 1].note = "\(rows) rows in all"
    results.append(try measure("simulator", "write history \(customers) customers x \(days) days, rules policy", runs: 3,
                               rate: { Double(customers) / $0 }, unit: "customers/s") {
        rows = try Simulation.writeHistory(world: world, policy: RuleBasedPolicy(), directory: dir).total
    })
    results[results.count - 1].note = "\(rows) rows in all"
    let small = World(config: SimulationConfig(customers: size(2_000, quick: 200), days: 120, seed: 1))
    var evaluation: Simulation.PolicyEvaluation?
    results.append(measure("simulator", "oracle: value every candidate of every decision, \(countLabel(small.config.customers)) customers", runs: 3,
                           rate: { Double(evaluation!.decisions) / $0 }, unit: "decisions/s") {
        evaluation = Simulation.evaluate(world: small, logging: UniformRandomPolicy(), targets: [RuleBasedPolicy()], horizonDays: 7)
    })
    if let e = evaluation {
        results[results.count - 1].note = String(format: "%d decisions; P(paid within 7 d of send): uniform %.3f, rules %.3f, oracle %.3f",
                                                 e.decisions, e.uniform, e.targets["rules"]!, e.oracle)
    }
    return results
}
