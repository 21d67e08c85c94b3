import Foundation
import LinAlg
import Optimizer

/// Time-to-pay statistics over 1,000,000 continuous durations (hours) in two arms with random
/// censoring: Kaplan–Meier per arm, the log-rank test and RMST to 336 h. Peers (lifelines and a
/// vectorised numpy version on the same kind of data, same sitting): Benchmarks/peers/survival.py.
func survivalBenchmarks() throws -> [BenchResult] {
    let n = size(1_000_000, quick: 100_000), tau = 336.0
    var rng = Xoshiro256(seed: 20261129)
    var durations = [Double](), events = [Bool](), groups = [Int]()
    durations.reserveCapacity(n)
    for _ in 0..<n {
        let g = rng.uniform() < 0.5 ? 0 : 1
        let t = -(g == 0 ? 100.0 : 120.0) * log(1 - rng.uniform())
        let c = 500 * rng.uniform()
        durations.append(min(t, c))
        events.append(t <= c)
        groups.append(g)
    }
    var results = [BenchResult]()

    var summary = ""
    results.append(measureCPU("survival", "KM per arm + log-rank + RMST(336) + median CI, \(countLabel(n)) continuous, 2 arms", runs: 7) {
        let analysis = SurvivalAnalysis(durations: durations, events: events, groups: groups, groupCount: 2)
        let rmst = analysis.tables.map { $0.restrictedMean(upTo: tau) }
        let medians = analysis.tables.map { $0.median() }
        summary = String(format: "log-rank %.6f, RMST %.6f / %.6f, medians %.4f / %.4f",
                         analysis.logRank!.statistic, rmst[0].value, rmst[1].value,
                         medians[0].time ?? .nan, medians[1].time ?? .nan)
        blackHole((analysis, rmst, medians))
    })
    results[results.count - 1].note = summary + "; " + results[results.count - 1].note!

    results.append(measureCPU("survival", "same + S(t) and 95% band at every time (as lifelines materialises them)", runs: 7) {
        let analysis = SurvivalAnalysis(durations: durations, events: events, groups: groups, groupCount: 2)
        let rmst = analysis.tables.map { $0.restrictedMean(upTo: tau) }
        let medians = analysis.tables.map { $0.median() }
        let z = LifeTable.criticalValue(level: 0.95)
        var curves = [[Double]]()
        for table in analysis.tables {
            var curve = [Double](repeating: 0, count: 3 * table.rows.count)
            for k in table.rows.indices {
                let band = table.band(row: k, z: z)
                curve[3 * k] = table.survival(row: k)
                curve[3 * k + 1] = band.lower
                curve[3 * k + 2] = band.upper
            }
            curves.append(curve)
        }
        blackHole((analysis, rmst, medians, curves))
    })

    let censored = [Bool](repeating: false, count: n)
    results.append(measureCPU("survival", "one sample, all censored: the sort and one pass without logarithms", runs: 7) {
        blackHole(LifeTable(durations: durations, events: censored).rows.count)
    })
    results.append(measureCPU("survival", "Swift Array.sort of the \(countLabel(n)) durations (for scale)", runs: 7) {
        var copy = durations
        copy.sort()
        blackHole(copy)
    })
    return results
}

/// `measure`, with the CPU time per run (warm-up included) in the note: the machine is shared,
/// and CPU time is the steadier figure there.
func measureCPU(_ group: String, _ name: String, runs: Int, _ body: () throws -> Void) rethrows -> BenchResult {
    let before = cpuSeconds()
    var result = try measure(group, name, runs: runs, body)
    result.note = String(format: "CPU %.1f ms/run", (cpuSeconds() - before) / Double(effectiveRuns(runs) + 1) * 1000)
    return result
}
