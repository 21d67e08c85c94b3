import LinAlg

/// Kaplan–Meier tables for several groups and the log-rank test between them, from one sort.
///
/// The pooled durations are radix-sorted once (`O(n)`), then one pass over the sorted data
/// builds every group's `LifeTable` and accumulates the log-rank sums; nothing is allocated per
/// time point. The log-rank work is `O(k²)` per distinct event time for `k` groups.
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
        var sizes = [Int](repeating: 0, count: groupCount)
        var payload = [UInt32](repeating: 0, count: n)
        for i in 0..<n {
            let d = durations[i], g = groups[i]
            precondition(d >= 0 && d.isFinite, "SurvivalAnalysis: duration \(d) at index \(i) is not a finite non-negative number")
            precondition(g >= 0 && g < groupCount, "SurvivalAnalysis: group \(g) at index \(i) is not in 0..<\(groupCount)")
            sizes[g] += 1
            payload[i] = UInt32(g) << 1 | (events[i] ? 1 : 0)
        }
        for (g, size) in sizes.enumerated() {
            precondition(size > 0, "SurvivalAnalysis: group \(g) has no subjects")
        }
        let (keys, sortedPayload) = DurationSort.sort(durations, payload: payload)

        var tables = sizes.map { LifeTable(count: $0) }
        var logRank = LogRankAccumulator(groupCount: groupCount)
        // Per-group scratch: at risk, deaths and removals at the current time, and which groups
        // have rows at it.
        let scratch = UnsafeMutablePointer<Int>.allocate(capacity: 4 * groupCount)
        defer { scratch.deallocate() }
        let atRisk = scratch, deaths = scratch + groupCount, removals = scratch + 2 * groupCount
        let touched = scratch + 3 * groupCount
        for g in 0..<groupCount {
            atRisk[g] = sizes[g]
            deaths[g] = 0
            removals[g] = 0
        }
        var totalAtRisk = n
        keys.withUnsafeBufferPointer { keys in
            sortedPayload.withUnsafeBufferPointer { payload in
                var i = 0
                while i < n {
                    let key = keys[i]
                    var totalDeaths = 0, touchedCount = 0
                    var j = i
                    repeat {
                        let p = payload[j]
                        let g = Int(p >> 1)
                        if removals[g] == 0 {
                            touched[touchedCount] = g
                            touchedCount += 1
                        }
                        removals[g] += 1
                        let event = Int(p & 1)
                        deaths[g] += event
                        totalDeaths += event
                        j += 1
                    } while j < n && keys[j] == key
                    if groupCount > 1 && totalDeaths > 0 {
                        logRank.add(atRisk: atRisk, totalAtRisk: totalAtRisk, deaths: deaths, totalDeaths: totalDeaths)
                    }
                    let time = Double(bitPattern: key)
                    for t in 0..<touchedCount {
                        let g = touched[t]
                        tables[g].append(time: time, atRisk: atRisk[g], events: deaths[g], censored: removals[g] - deaths[g])
                        atRisk[g] -= removals[g]
                        totalAtRisk -= removals[g]
                        deaths[g] = 0
                        removals[g] = 0
                    }
                    i = j
                }
            }
        }
        self.tables = tables
        self.logRank = groupCount > 1 ? logRank.test() : nil
    }
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
