import Foundation
import LinAlg

/// One measured benchmark: median wall time over `runs`, an optional rate, and peak memory.
struct BenchResult: Codable {
    var group: String
    var name: String
    var medianSeconds: Double
    var runs: Int
    var rate: Double?
    var rateUnit: String?
    var peakRSSMiB: Double
    var note: String?

    var line: String {
        var s = "\(group)/\(name): " + String(format: "%.4f s (median of %d)", medianSeconds, runs)
        if let rate, let rateUnit { s += String(format: ", %.3g %@", rate, rateUnit) }
        s += String(format: ", peak RSS %.0f MiB", peakRSSMiB)
        if let note { s += " — \(note)" }
        return s
    }
}

/// Peak resident set size of this process so far, in MiB.
func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Wall-clock seconds of `body`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs `body` once to warm up, then `runs` times, and reports the median.
func measure(_ group: String, _ name: String, runs: Int = 5, rate: ((Double) -> Double)? = nil, unit: String? = nil,
             note: String? = nil, _ body: () throws -> Void) rethrows -> BenchResult {
    try body()
    var times = [Double]()
    for _ in 0..<runs { times.append(try seconds(body)) }
    times.sort()
    let median = times[times.count / 2]
    return BenchResult(group: group, name: name, medianSeconds: median, runs: runs,
                       rate: rate.map { $0(median) }, rateUnit: unit, peakRSSMiB: peakRSSMiB(), note: note)
}

/// Keeps a value alive and observable so the optimiser cannot drop the work that made it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
