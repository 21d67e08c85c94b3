import Foundation
import Testing
@testable import Optimizer

/// Reference figures from lifelines 0.30.3 (and scipy for the special functions), produced by
/// `scripts/reference/survival.py` into `Fixtures/survival/`.
struct SurvivalFixture: Decodable {
    struct Quantile: Decodable { var q: Double; var time: Double?; var lower: Double?; var upper: Double? }
    struct RMST: Decodable {
        var tau: Double
        var rmst: Double
        var restricted_time_variance_lifelines_quad: Double
        var restricted_time_variance_exact: Double
        var rmst_variance: Double
    }
    struct Group: Decodable {
        var n: Int
        var events: Int
        var timeline: [Double]
        var survival: [Double]
        var survival_lower: [Double]
        var survival_upper: [Double]
        var cumulative_hazard: [Double]
        var median: Double?
        var median_ci: [Double?]
        var quantiles: [Quantile]
        var survival_at: [Double]
        var cumulative_hazard_at: [Double]
        var rmst: [RMST]
    }
    struct LogRank: Decodable { var statistic: Double; var p_value: Double; var degrees_of_freedom: Int }

    var file: String
    var level: Double
    var times: [Double]
    var taus: [Double]
    var group_order: [String]
    var groups: [String: Group]
    var all: Group
    var logrank: LogRank

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/survival")

    static func load(_ name: String) throws -> SurvivalFixture {
        try JSONDecoder().decode(SurvivalFixture.self, from: Data(contentsOf: directory.appendingPathComponent(name + ".json")))
    }

    /// The data set as columns (the file is plain `arm,duration,event` without quotes).
    func data() throws -> (arms: [String], durations: [Double], events: [Bool]) {
        let text = try String(contentsOf: SurvivalFixture.directory.appendingPathComponent(file), encoding: .utf8)
        var arms = [String](), durations = [Double](), events = [Bool]()
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            arms.append(String(fields[0]))
            durations.append(Double(fields[1])!)
            events.append(fields[2] == "1")
        }
        return (arms, durations, events)
    }
}

/// `|a − b| ≤ tolerance · max(1, |b|)`: absolute near zero, relative for large figures.
func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(b))
}

func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case let (x?, y?): return close(x, y, tolerance)
    default: return false
    }
}

@Suite struct SurvivalTests {
    static let dataSets = ["integer_ties", "continuous", "median_never", "late_censoring", "small"]

    func check(_ table: LifeTable, against ref: SurvivalFixture.Group, fixture: SurvivalFixture, label: String) {
        #expect(table.count == ref.n, "\(label)")
        #expect(table.eventCount == ref.events, "\(label)")
        #expect(table.times == ref.timeline, "\(label): timeline")
        guard table.times == ref.timeline else { return }
        let z = LifeTable.criticalValue(level: fixture.level)
        var worst = (survival: 0.0, lower: 0.0, upper: 0.0, hazard: 0.0)
        for k in ref.timeline.indices {
            let band = table.band(row: k, z: z)
            worst.survival = max(worst.survival, abs(table.survival(row: k) - ref.survival[k]))
            worst.lower = max(worst.lower, abs(band.lower - ref.survival_lower[k]))
            worst.upper = max(worst.upper, abs(band.upper - ref.survival_upper[k]))
            worst.hazard = max(worst.hazard, abs(table.rows[k].cumulativeHazard - ref.cumulative_hazard[k]) / max(1, ref.cumulative_hazard[k]))
        }
        #expect(worst.survival <= 1e-12, "\(label): survival function, worst difference \(worst.survival)")
        #expect(worst.lower <= 1e-9, "\(label): lower band, worst difference \(worst.lower)")
        #expect(worst.upper <= 1e-9, "\(label): upper band, worst difference \(worst.upper)")
        #expect(worst.hazard <= 1e-12, "\(label): Nelson-Aalen, worst difference \(worst.hazard)")

        let median = table.median(level: fixture.level)
        #expect(median.time == ref.median, "\(label): median \(String(describing: median.time)) vs \(String(describing: ref.median))")
        #expect([median.lower, median.upper] == ref.median_ci, "\(label): median CI")
        for q in ref.quantiles {
            let got = table.quantile(q.q, level: fixture.level)
            #expect(got.time == q.time && got.lower == q.lower && got.upper == q.upper,
                    "\(label): quantile \(q.q): \(got) vs \(q)")
        }
        for (t, (s, h)) in zip(fixture.times, zip(ref.survival_at, ref.cumulative_hazard_at)) {
            #expect(close(table.survival(at: t), s, 1e-12), "\(label): S(\(t))")
            #expect(close(table.cumulativeHazard(at: t), h, 1e-12), "\(label): H(\(t))")
        }
        for r in ref.rmst {
            let got = table.restrictedMean(upTo: r.tau)
            #expect(close(got.value, r.rmst), "\(label): RMST(\(r.tau)) \(got.value) vs \(r.rmst)")
            #expect(close(got.restrictedTimeVariance, r.restricted_time_variance_exact),
                    "\(label): restricted-time variance (\(r.tau)) \(got.restrictedTimeVariance) vs \(r.restricted_time_variance_exact)")
            // lifelines integrates the same quantity with scipy quad on a step function: good to ~1e-3 only.
            #expect(close(got.restrictedTimeVariance, r.restricted_time_variance_lifelines_quad, 2e-3),
                    "\(label): vs lifelines quad \(r.restricted_time_variance_lifelines_quad)")
            #expect(close(got.variance, r.rmst_variance), "\(label): RMST variance (\(r.tau)) \(got.variance) vs \(r.rmst_variance)")
        }
    }

    @Test(arguments: dataSets)
    func matchesLifelines(name: String) throws {
        let fixture = try SurvivalFixture.load(name)
        let data = try fixture.data()
        let index = Dictionary(uniqueKeysWithValues: fixture.group_order.enumerated().map { ($1, $0) })
        let groups = data.arms.map { index[$0]! }
        let analysis = SurvivalAnalysis(durations: data.durations, events: data.events, groups: groups,
                                        groupCount: fixture.group_order.count)
        for (g, name) in fixture.group_order.enumerated() {
            check(analysis.tables[g], against: fixture.groups[name]!, fixture: fixture, label: "\(fixture.file)/\(name)")
        }
        check(LifeTable(durations: data.durations, events: data.events), against: fixture.all, fixture: fixture,
              label: "\(fixture.file)/all")
        let test = try #require(analysis.logRank)
        #expect(test.degreesOfFreedom == fixture.logrank.degrees_of_freedom)
        #expect(close(test.statistic, fixture.logrank.statistic), "log-rank \(test.statistic) vs \(fixture.logrank.statistic)")
        #expect(abs(test.pValue - fixture.logrank.p_value) <= 1e-9 * fixture.logrank.p_value,
                "log-rank p \(test.pValue) vs \(fixture.logrank.p_value)")
        #expect(close(test.observed.reduce(0, +), test.expected.reduce(0, +), 1e-12))
    }

    @Test func specialFunctionsMatchSciPy() throws {
        struct Special: Decodable {
            struct Gamma: Decodable { var a: Double; var x: Double; var P: Double; var Q: Double }
            struct Chi: Decodable { var df: Int; var x: Double; var sf: Double }
            struct Norm: Decodable { var p: Double; var x: Double }
            var gamma: [Gamma]
            var chi2_sf: [Chi]
            var norm_ppf: [Norm]
        }
        let ref = try JSONDecoder().decode(Special.self, from: Data(contentsOf: SurvivalFixture.directory.appendingPathComponent("special.json")))
        func relative(_ a: Double, _ b: Double) -> Double { b == 0 ? abs(a) : abs(a - b) / abs(b) }
        for g in ref.gamma {
            let p = SpecialFunctions.regularizedGammaP(g.a, g.x), q = SpecialFunctions.regularizedGammaQ(g.a, g.x)
            // The smaller tail keeps full relative precision; the larger one is within 1e-15 absolute.
            #expect(relative(p, g.P) <= 1e-12 || abs(p - g.P) <= 1e-15, "P(\(g.a), \(g.x)) = \(p) vs \(g.P)")
            #expect(relative(q, g.Q) <= 1e-12 || abs(q - g.Q) <= 1e-15, "Q(\(g.a), \(g.x)) = \(q) vs \(g.Q)")
        }
        for c in ref.chi2_sf {
            let sf = SpecialFunctions.chiSquareSurvival(c.x, degreesOfFreedom: c.df)
            #expect(relative(sf, c.sf) <= 1e-12, "chi2.sf(\(c.x), \(c.df)) = \(sf) vs \(c.sf)")
        }
        for n in ref.norm_ppf {
            let x = SpecialFunctions.normalQuantile(n.p)
            #expect(relative(x, n.x) <= 1e-14, "norm.ppf(\(n.p)) = \(x) vs \(n.x)")
        }
        #expect(LifeTable.criticalValue(level: 0.95) == 1.959963984540054)
    }

    /// Draws `n` durations: whole hours (with ties) or continuous, with a fraction censored.
    func sample(_ rng: inout Xoshiro256, _ n: Int, ties: Bool, censoring: Double) -> ([Double], [Bool]) {
        var durations = [Double](), events = [Bool]()
        for _ in 0..<n {
            let t = -100 * log(1 - rng.uniform())
            durations.append(ties ? t.rounded(.down) : t)
            events.append(rng.uniform() >= censoring)
        }
        return (durations, events)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func kaplanMeierIsOneMinusECDFWithoutCensoring(seed: UInt64) {
        var rng = Xoshiro256(seed: seed, keys: 101)
        let (durations, events) = sample(&rng, 50 + Int(seed) * 37, ties: seed % 2 == 0, censoring: 0)
        let table = LifeTable(durations: durations, events: events)
        let n = Double(durations.count)
        let sorted = durations.sorted()
        for t in Set(durations).sorted() + [-1, 0.5, 1e9] {
            let ecdf = Double(sorted.filter { $0 <= t }.count) / n
            #expect(abs(table.survival(at: t) - (1 - ecdf)) <= 1e-12, "S(\(t)) vs 1 - ECDF")
        }
        // RMST without censoring is the sample mean of min(T, τ).
        for tau in [10.0, 75.5, 1e4] {
            let mean = durations.map { min($0, tau) }.reduce(0, +) / n
            #expect(close(table.restrictedMean(upTo: tau).value, mean, 1e-12), "RMST(\(tau))")
        }
        // Nelson–Aalen without ties is the sum of 1/(n − i); with ties each time adds d/n.
        #expect(table.rows.map(\.events).reduce(0, +) == durations.count)
    }

    @Test(arguments: [7, 8, 9] as [UInt64])
    func logRankOfIdenticalGroupsIsZero(seed: UInt64) {
        var rng = Xoshiro256(seed: seed, keys: 202)
        let (durations, events) = sample(&rng, 400, ties: seed % 2 == 1, censoring: 0.3)
        for k in [2, 3] {
            let analysis = SurvivalAnalysis(durations: Array(repeating: durations, count: k).flatMap { $0 },
                                            events: Array(repeating: events, count: k).flatMap { $0 },
                                            groups: (0..<k).flatMap { Array(repeating: $0, count: durations.count) },
                                            groupCount: k)
            let test = analysis.logRank!
            #expect(test.degreesOfFreedom == k - 1)
            #expect(abs(test.statistic) <= 1e-20, "statistic \(test.statistic)")
            #expect(test.pValue > 1 - 1e-9)
            for g in 1..<k { #expect(analysis.tables[g].logSurvival == analysis.tables[0].logSurvival) }
        }
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func radixSortAgreesWithTheStandardSort(seed: UInt64) {
        var rng = Xoshiro256(seed: seed, keys: 303)
        let n = [5000, 60_000, 3000][Int(seed - 11)]
        var values = (0..<n).map { _ in rng.uniform() < 0.5 ? (rng.uniform() * 1000).rounded() : -200 * log(1 - rng.uniform()) }
        values += [0, -0.0, 0, 1e300, .leastNonzeroMagnitude, 2.2250738585072014e-308, 1]
        // Keys sharing long prefixes (digits skipped, deep ranges) and long runs of one value.
        values += (0..<500).map { 1000 + Double($0 % 97) * 1e-12 }
        values += Array(repeating: 42, count: 300)
        let payload = values.indices.map(UInt32.init)
        let (keys, order) = DurationSort.sort(values, payload: payload)
        let sorted = keys.map { Double(bitPattern: $0) }
        #expect(sorted == values.map { $0 + 0.0 }.sorted())
        // Stable: equal durations keep their input order, and payloads travel with their keys.
        for i in 1..<order.count where sorted[i] == sorted[i - 1] { #expect(order[i] > order[i - 1]) }
        for (k, p) in zip(sorted, order) { #expect(k == values[Int(p)] + 0.0) }
    }

    @Test(arguments: [21, 22] as [UInt64])
    func keySortAgreesWithTheStandardSort(seed: UInt64) {
        var rng = Xoshiro256(seed: seed, keys: 304)
        var keys = (0..<70_000).map { _ -> UInt64 in
            let x = rng.uniform() < 0.4 ? (rng.uniform() * 500).rounded() : -100 * log(1 - rng.uniform())
            return (x + 0.0).bitPattern << 1 | (rng.uniform() < 0.7 ? 1 : 0)
        }
        keys += [0, 1, UInt64.max >> 1, 5, 5, 5] + (0..<300).map { 1 << 40 | UInt64($0 % 7) }
        let expected = keys.sorted()
        var scratch = [UInt64](repeating: 0, count: keys.count)
        keys.withUnsafeMutableBufferPointer { k in
            scratch.withUnsafeMutableBufferPointer { s in DurationSort.sortKeys(k, scratch: s) }
        }
        #expect(keys == expected)
    }

    @Test func twoGroupLogRankIsTheGeneralOneBitForBit() throws {
        var rng = Xoshiro256(seed: 305)
        for _ in 0..<5 {
            let n = 2000
            let durations = (0..<n).map { _ in (rng.uniform() * 200).rounded() / 2 }
            let events = (0..<n).map { _ in rng.uniform() < 0.6 }
            let groups = (0..<n).map { _ in rng.uniform() < 0.45 ? 0 : 1 }
            let analysis = SurvivalAnalysis(durations: durations, events: events, groups: groups, groupCount: 2)
            let two = try #require(analysis.logRank)
            let general = SurvivalAnalysis.logRankMerged(analysis.tables)
            #expect(two == general)
        }
    }

    @Test func concurrentGroupsGiveTheTablesOfEachGroupAlone() {
        // 150,000 subjects take the concurrent path; each group alone (< 100,000) the serial one.
        var rng = Xoshiro256(seed: 306)
        let n = 150_000
        let durations = (0..<n).map { _ in rng.uniform() < 0.3 ? (rng.uniform() * 300).rounded() : -90 * log(1 - rng.uniform()) }
        let events = (0..<n).map { _ in rng.uniform() < 0.75 }
        let groups = (0..<n).map { i in i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 2 }
        let analysis = SurvivalAnalysis(durations: durations, events: events, groups: groups, groupCount: 3)
        for g in 0..<3 {
            let members = groups.indices.filter { groups[$0] == g }
            let alone = LifeTable(durations: members.map { durations[$0] }, events: members.map { events[$0] })
            #expect(analysis.tables[g].rows == alone.rows)
            #expect(analysis.tables[g].eventCount == alone.eventCount)
        }
    }

    @Test func documentedExampleHolds() {
        let table = LifeTable(durations: [5, 8, 8, 12, 20], events: [true, true, false, true, false])
        #expect(table.times == [0, 5, 8, 12, 20])
        #expect(abs(table.survival(at: 10) - 0.6) <= 1e-15)
        #expect(table.median().time == 12)
        // ∫₀¹⁵ Ŝ = 5·1 + 3·0.8 + 4·0.6 + 3·0.3
        #expect(abs(table.restrictedMean(upTo: 15).value - 10.7) <= 1e-12)
        #expect(table.rows.map(\.censored) == [0, 0, 1, 0, 1])
    }

    @Test func singleGroupHasNoLogRankAndEdgeCasesFollowLifelines() {
        // Everyone pays at once at time 0: Ŝ = 0 from 0 on, band [0, 0], median 0.
        let table = LifeTable(durations: [0, 0, 0], events: [true, true, true])
        #expect(table.times == [0])
        #expect(table.survival(at: 0) == 0)
        #expect(table.band(row: 0, z: 1.96) == (0, 0))
        #expect(table.median().time == 0)
        // Nobody pays: Ŝ = 1 with band [1, 1]; no median; RMST = τ.
        let none = LifeTable(durations: [3, 5, 8], events: [false, false, false])
        #expect(none.median() == SurvivalQuantile(q: 0.5, time: nil, lower: nil, upper: nil))
        #expect(none.band(row: 2, z: 1.96) == (1, 1))
        #expect(none.restrictedMean(upTo: 6).value == 6)
        #expect(none.restrictedMean(upTo: 6).variance == 0)
        #expect(none.survival(at: -1) == 1)
        let single = SurvivalAnalysis(durations: [1, 2], events: [true, false], groups: [0, 0], groupCount: 1)
        #expect(single.logRank == nil)
    }
}
