import Foundation
import LinAlg

/// Set by `--quick`: every group runs on smaller data (about a tenth) so the whole suite takes minutes.
nonisolated(unsafe) var quickMode = false

/// `full` normally, `quick` under `--quick`.
func size(_ full: Int, quick: Int) -> Int { quickMode ? quick : full }

/// The number of timed runs: `runs`, at most 3 under `--quick`.
func effectiveRuns(_ runs: Int) -> Int { quickMode ? min(runs, 3) : runs }

/// A count as benchmark names spell it: 1M, 1.5M, 100k, 4096.
func countLabel(_ n: Int) -> String {
    func trim(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x) }
    if n >= 1_000_000 && n % 100_000 == 0 { return trim(Double(n) / 1e6) + "M" }
    if n >= 10_000 && n % 1_000 == 0 { return trim(Double(n) / 1e3) + "k" }
    return String(n)
}

/// One measured benchmark: median wall time over `runs`, an optional rate, and peak memory.
struct BenchResult: Codable {
    var group: String
    var name: String
    var medianSeconds: Double
    var runs: Int
    var rate: Double?
    var rateUnit: String?
    var peakRSSMiB: Double
    /// Memory the timed operation added at its peak over what was resident before it (MiB).
    var extraPeakMiB: Double? = nil
    /// CPU seconds (all threads) per run: steadier than wall time on a shared machine.
    var cpuSecondsPerRun: Double? = nil
    /// CPU seconds per run of a local database server working for the benchmark (PostgreSQL).
    var serverCPUSecondsPerRun: Double? = nil
    var note: String?

    var line: String {
        var s = "\(group)/\(name): " + String(format: "%.4f s (median of %d)", medianSeconds, runs)
        if let cpuSecondsPerRun { s += String(format: ", %.4f CPU s/run", cpuSecondsPerRun) }
        if let serverCPUSecondsPerRun { s += String(format: " + %.4f server CPU s/run", serverCPUSecondsPerRun) }
        if let rate, let rateUnit { s += String(format: ", %.3g %@", rate, rateUnit) }
        s += String(format: ", peak RSS %.0f MiB", peakRSSMiB)
        if let extraPeakMiB { s += String(format: ", +%.0f MiB during the operation", extraPeakMiB) }
        if let note { s += " — \(note)" }
        return s
    }
}

/// Peak resident set size of this process (since the last `resetPeakRSS()`), in MiB.
func peakRSSMiB() -> Double { procStatus("VmHWM") }

/// Current resident set size, in MiB.
func currentRSSMiB() -> Double { procStatus("VmRSS") }

/// Resets the kernel's peak-RSS mark (Linux ≥ 4.0: writing 5 to /proc/self/clear_refs).
func resetPeakRSS() {
    if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
        handle.write(Data("5".utf8))
        try? handle.close()
    }
}

private func procStatus(_ key: String) -> Double {
    guard let handle = FileHandle(forReadingAtPath: "/proc/self/status"),
          let data = try? handle.readToEnd() else { return .nan }
    try? handle.close()
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(key + ":") {
        let kib = line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first
        return (kib.flatMap { Double($0) } ?? .nan) / 1024
    }
    return .nan
}

/// CPU seconds (user + system, all threads) this process has used so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return s(usage.ru_utime) + s(usage.ru_stime)
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
    let runs = effectiveRuns(runs)
    let baseline = currentRSSMiB()
    resetPeakRSS()
    try body()
    let extra = peakRSSMiB() - baseline
    var times = [Double]()
    let cpuStart = cpuSeconds()
    for _ in 0..<runs { times.append(try seconds(body)) }
    let cpuPerRun = (cpuSeconds() - cpuStart) / Double(runs)
    times.sort()
    let median = times[times.count / 2]
    return BenchResult(group: group, name: name, medianSeconds: median, runs: runs,
                       rate: rate.map { $0(median) }, rateUnit: unit, peakRSSMiB: peakRSSMiB(), extraPeakMiB: extra,
                       cpuSecondsPerRun: cpuPerRun, note: note)
}

nonisolated(unsafe) private var sink: Any? = nil

/// Keeps a value observable so the optimiser cannot drop the work that made it.
@inline(never)
func blackHole<T>(_ value: T) {
    sink = value
}
