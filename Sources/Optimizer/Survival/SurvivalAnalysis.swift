import Dispatch
import LinAlg

/// Kaplan–Meier tables for several groups and the log-rank test between them.
///
/// Each subject becomes one 64-bit key, `duration.bitPattern << 1 | event` (exact, and ordered as
/// (duration, event) because non-negative doubles have a zero sign bit), written into its group's
/// segment of one array. Each segment is radix-sorted (`DurationSort.sortKeys`) and read once to
/// build the group's `LifeTable` straight into its storage; groups are processed concurrently
/// (`BLASRuntime.threads` workers) when there are at least 100,000 subjects. The log-rank sums
/// come from merging the groups' tables in time order. Time O(n) for the sort and the tables plus
/// O(k · rows) for the log-rank merge (O(k²) per distinct event time for the covariance); memory:
/// 16 bytes per subject while sorting, and the tables.
///
/// ```swift
/// let analysis = SurvivalAnalysis(durations: hours, events: paid, groups: arm, groupCount: 2)
/// analysis.tables[1].median().time
/// analysis.logRank?.pValue
/// ```
public struct SurvivalAnalysis: Sendable {
    /// One life table per group, indexed like `groups`.
    public let tables: [LifeTable]
    /// The log-rank test over all groups; nil with fewer than two groups.
    public let logRank: LogRankTest?

    /// Analyses right-censored durations in groups.
    /// - Parameters:
    ///   - durations: non-negative finite durations.
    ///   - events: `true` where the event was observed.
    ///   - groups: the group of each subject, in `0..<groupCount`; every group must occur.
    ///   - groupCount: number of groups (1 for a single sample: no log-rank test).
    public init(durations: [Double], events: [Bool], groups: [Int], groupCount: Int) {
        let n = durations.count
        precondition(events.count == n && groups.count == n,
                     "SurvivalAnalysis: \(n) durations, \(events.count) events, \(groups.count) groups")
        precondition(groupCount >= 1 && groupCount < 1 << 30, "SurvivalAnalysis: groupCount = \(groupCount)")
        // Group sizes, then each subject's key written into its group's segment. The key is the
        // duration's bit pattern shifted left by one with the event flag in bit 0: non-negative
        // doubles have a zero sign bit, so nothing is lost and keys order as (duration, event).
        var starts = [Int](repeating: 0, count: groupCount + 1)
        groups.withUnsafeBufferPointer { gs in
            for i in 0..<n {
                let g = gs[i]
                precondition(g >= 0 && g < groupCount, "SurvivalAnalysis: group \(g) at index \(i) is not in 0..<\(groupCount)")
                starts[g + 1] += 1
            }
        }
        for g in 0..<groupCount {
            precondition(starts[g + 1] > 0, "SurvivalAnalysis: group \(g) has no subjects")
            starts[g + 1] += starts[g]
        }
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: Swift.max(n, 1))
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: Swift.max(n, 1))
        defer {
            keys.deallocate()
            scratch.deallocate()
        }
        starts.withUnsafeBufferPointer { starts in
            let next = UnsafeMutablePointer<Int>.allocate(capacity: groupCount)
            defer { next.deallocate() }
            next.initialize(from: starts.baseAddress!, count: groupCount)
            durations.withUnsafeBufferPointer { d in
                events.withUnsafeBufferPointer { e in
                    groups.withUnsafeBufferPointer { gs in
                        for i in 0..<n {
                            let x = d[i]
                            precondition(x >= 0 && x.isFinite, "SurvivalAnalysis: duration \(x) at index \(i) is not a finite non-negative number")
                            let g = gs[i]
                            // + 0.0 turns −0.0 into +0.0.
                            keys[next[g]] = (x + 0.0).bitPattern &<< 1 | (e[i] ? 1 : 0)
                            next[g] += 1
                        }
                    }
                }
            }
        }
        // Each group: sort its segment, then one pass builds its table; groups run concurrently.
        let shared = KeyBuffers(keys: keys, scratch: scratch)
        let bounds = starts
        let workers = n >= 100_000 ? Swift.min(groupCount, BLASRuntime.threads) : 1
        let built = ResultSlots<LifeTable>(count: groupCount)
        let work: @Sendable (Int) -> Void = { worker in
            for g in stride(from: worker, to: groupCount, by: workers) {
                let lo = bounds[g], count = bounds[g + 1] - bounds[g]
                DurationSort.sortKeys(UnsafeMutableBufferPointer(start: shared.keys + lo, count: count),
                                      scratch: UnsafeMutableBufferPointer(start: shared.scratch + lo, count: count))
                built.set(g, LifeTable(sortedKeys: UnsafeBufferPointer(start: shared.keys + lo, count: count)))
            }
        }
        if workers > 1 {
            DispatchQueue.concurrentPerform(iterations: workers, execute: work)
        } else {
            work(0)
        }
        tables = built.values
        logRank = groupCount > 1 ? SurvivalAnalysis.logRank(tables) : nil
    }

    /// The log-rank test from the groups' tables: their rows merged in time order give, at each
    /// pooled time, every group's number at risk and events.
    static func logRank(_ tables: [LifeTable]) -> LogRankTest {
        tables.count == 2 ? logRankTwo(tables[0].rows, tables[1].rows) : logRankMerged(tables)
    }

    /// The log-rank test for any number of groups (`LogRankAccumulator` over the merged rows).
    static func logRankMerged(_ tables: [LifeTable]) -> LogRankTest {
        let k = tables.count
        var accumulator = LogRankAccumulator(groupCount: k)
        var heads = [Int](repeating: 0, count: k)
        var atRisk = [Int](repeating: 0, count: k), deaths = [Int](repeating: 0, count: k)
        while true {
            var time = Double.infinity
            for g in 0..<k where heads[g] < tables[g].rows.count { time = Swift.min(time, tables[g].rows[heads[g]].time) }
            if time == .infinity { break }
            var totalAtRisk = 0, totalDeaths = 0
            for g in 0..<k {
                let rows = tables[g].rows
                if heads[g] < rows.count {
                    atRisk[g] = rows[heads[g]].atRisk
                    if rows[heads[g]].time == time {
                        deaths[g] = rows[heads[g]].events
                        heads[g] += 1
                    } else {
                        deaths[g] = 0
                    }
                } else {
                    atRisk[g] = 0
                    deaths[g] = 0
                }
                totalAtRisk += atRisk[g]
                totalDeaths += deaths[g]
            }
            if totalDeaths > 0 {
                atRisk.withUnsafeMutableBufferPointer { n in
                    deaths.withUnsafeMutableBufferPointer { d in
                        accumulator.add(atRisk: n.baseAddress!, totalAtRisk: totalAtRisk, deaths: d.baseAddress!, totalDeaths: totalDeaths)
                    }
                }
            }
        }
        return accumulator.test()
    }

    /// `logRank` for two groups with scalar running sums (the same arithmetic as
    /// `LogRankAccumulator.add`, in the same order, so the same bits).
    static func logRankTwo(_ a: [LifeTable.Row], _ b: [LifeTable.Row]) -> LogRankTest {
        var sums = TwoGroupSums()
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                var i = 0, j = 0
                // Both groups have rows left: take the earlier time (both on a tie) without
                // branching on the comparison; the other group's number at risk is its next row's.
                while i < a.count && j < b.count {
                    let ta = a[i].time, tb = b[j].time
                    let takeA = ta <= tb, takeB = tb <= ta
                    let d0 = takeA ? a[i].events : 0, d1 = takeB ? b[j].events : 0
                    if d0 + d1 > 0 { sums.add(n0: a[i].atRisk, d0: d0, n1: b[j].atRisk, d1: d1) }
                    i += takeA ? 1 : 0
                    j += takeB ? 1 : 0
                }
                while i < a.count {
                    if a[i].events > 0 { sums.add(n0: a[i].atRisk, d0: a[i].events, n1: 0, d1: 0) }
                    i += 1
                }
                while j < b.count {
                    if b[j].events > 0 { sums.add(n0: 0, d0: 0, n1: b[j].atRisk, d1: b[j].events) }
                    j += 1
                }
            }
        }
        let z = sums.observed0 - sums.expected0
        let statistic = sums.variance != 0 ? z * z / sums.variance : 0
        let pValue = statistic.isNaN ? .nan : SpecialFunctions.chiSquareSurvival(statistic, degreesOfFreedom: 1)
        return LogRankTest(statistic: statistic, pValue: pValue, degreesOfFreedom: 1,
                           observed: [sums.observed0, sums.observed1], expected: [sums.expected0, sums.expected1])
    }
}

/// The running sums of a two-group log-rank test: `LogRankAccumulator.add` for `k = 2` in
/// scalars, with the same arithmetic in the same order.
struct TwoGroupSums {
    var observed0 = 0.0, observed1 = 0.0, expected0 = 0.0, expected1 = 0.0, variance = 0.0

    @inline(__always)
    mutating func add(n0: Int, d0: Int, n1: Int, d1: Int) {
        let totalAtRisk = n0 + n1, totalDeaths = d0 + d1
        let bigN = Double(totalAtRisk), bigD = Double(totalDeaths)
        let ratio = bigD / bigN
        let spread = totalAtRisk == 1 ? 1 : (bigN - bigD) / (bigN - 1)
        let f = spread * bigD / (bigN * bigN)
        let ng0 = Double(n0), ng1 = Double(n1)
        observed0 += Double(d0)
        expected0 += ng0 * ratio
        if n0 != 0 { variance += f * ng0 * (bigN - ng0) }
        observed1 += Double(d1)
        expected1 += ng1 * ratio
    }
}

/// The sort's buffers, shared by the workers (each touches only its groups' segments).
struct KeyBuffers: @unchecked Sendable {
    let keys: UnsafeMutablePointer<UInt64>
    let scratch: UnsafeMutablePointer<UInt64>
}

/// The log-rank test of equal hazards across `k ≥ 2` groups (Mantel 1966; Peto & Peto 1972),
/// as lifelines 0.30.3 `multivariate_logrank_test` computes it.
///
/// At each distinct event time with `N` at risk, `D` events, `n_g` at risk and `d_g` events in
/// group `g`: `E_g += n_g D / N`, `O_g += d_g`, and with `f = (N − D)/(N − 1) · D / N²`
/// (`(N − D)/(N − 1)` taken as 1 when `N = 1`) the hypergeometric covariance
/// `V_gg += f n_g (N − n_g)`, `V_gh −= f n_g n_h`. With `Z = O − E`, the statistic is
/// `U = Z' V⁺ Z` over the first `k − 1` groups (`V⁺` the Moore–Penrose pseudo-inverse, so a
/// singular `V` behaves as in lifelines), chi-square with `k − 1` degrees of freedom.
public struct LogRankTest: Sendable, Equatable {
    /// The chi-square statistic `U`.
    public var statistic: Double
    /// `P(χ²_{k−1} > U)`.
    public var pValue: Double
    /// `k − 1`.
    public var degreesOfFreedom: Int
    /// Observed events per group, `O_g`.
    public var observed: [Double]
    /// Expected events per group under equal hazards, `E_g`.
    public var expected: [Double]
}

/// Running sums of the log-rank test.
struct LogRankAccumulator {
    let groupCount: Int
    var observed: [Double]
    var expected: [Double]
    var covariance: [Double]  // row-major k × k

    init(groupCount: Int) {
        self.groupCount = groupCount
        observed = [Double](repeating: 0, count: groupCount)
        expected = observed
        covariance = [Double](repeating: 0, count: groupCount * groupCount)
    }

    mutating func add(atRisk: UnsafeMutablePointer<Int>, totalAtRisk: Int, deaths: UnsafeMutablePointer<Int>, totalDeaths: Int) {
        let bigN = Double(totalAtRisk), bigD = Double(totalDeaths)
        let ratio = bigD / bigN
        let spread = totalAtRisk == 1 ? 1 : (bigN - bigD) / (bigN - 1)
        let f = spread * bigD / (bigN * bigN)
        let k = groupCount
        observed.withUnsafeMutableBufferPointer { observed in
            expected.withUnsafeMutableBufferPointer { expected in
                covariance.withUnsafeMutableBufferPointer { covariance in
                    for g in 0..<k {
                        let ng = Double(atRisk[g])
                        observed[g] += Double(deaths[g])
                        expected[g] += ng * ratio
                        if ng == 0 { continue }
                        let fg = f * ng
                        for h in 0..<k where h != g {
                            covariance[g * k + h] -= fg * Double(atRisk[h])
                        }
                        covariance[g * k + g] += fg * (bigN - ng)
                    }
                }
            }
        }
    }

    func test() -> LogRankTest {
        let m = groupCount - 1
        let z = (0..<m).map { observed[$0] - expected[$0] }
        var statistic = 0.0
        if m == 1 {
            let v = covariance[0]
            statistic = v != 0 ? z[0] * z[0] / v : 0
        } else {
            let v = Matrix(rows: m, columns: m) { covariance[$0 * groupCount + $1] }
            if let eigen = try? SymmetricEigen(v) {
                let largest = eigen.values.map(abs).max() ?? 0
                let cutoff = 1e-15 * largest
                for (j, lambda) in eigen.values.enumerated() where abs(lambda) > cutoff {
                    var projection = 0.0
                    for i in 0..<m { projection += eigen.vectors[i, j] * z[i] }
                    statistic += projection * projection / lambda
                }
            } else {
                statistic = .nan
            }
        }
        let pValue = statistic.isNaN ? .nan : SpecialFunctions.chiSquareSurvival(statistic, degreesOfFreedom: m)
        return LogRankTest(statistic: statistic, pValue: pValue, degreesOfFreedom: m,
                           observed: observed, expected: expected)
    }
}
