import Foundation
import Optimizer
import Reports
import Tabular
import Testing

/// The A/B figures pinned to lifelines and scipy on the same data
/// (`scripts/reference/report.py` wrote `Fixtures/report/ab.csv` and `ab.json`).
@Suite struct ArmStatisticsTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/report")

    struct Reference: Decodable {
        struct Paid: Decodable { var hours: Double; var rate: Double?; var ci: [Double]? }
        struct Arm: Decodable {
            var n: Int
            var events: Int
            var median: Double?
            var median_ci: [Double?]
            var paid_within: [Paid]
            var follow_up: Double
            var rmst: Double
            var rmst_variance: Double
        }
        struct Difference: Decodable { var value: Double; var se: Double; var ci: [Double]; var p_value: Double }
        struct LogRank: Decodable { var statistic: Double; var p_value: Double }
        struct Power: Decodable {
            var allocation: Double
            var events: Int
            var required_events_hr_1_25: Double
            var detectable_hazard_ratio: Double
        }
        struct SRM: Decodable { var observed: [Int]; var weights: [Double]; var statistic: Double; var p_value: Double }
        var tau: Double
        var arms: [String: Arm]
        var rmst_difference: Difference
        var logrank: LogRank
        var power: Power
        var srm: [SRM]
    }

    static func load() throws -> (Reference, ArmStatistics) {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: fixtures.appendingPathComponent("ab.json")))
        let csv = try CSVFile(path: fixtures.appendingPathComponent("ab.csv").path)
        let columns = try csv.read(numeric: ["duration", "event"], text: ["arm"])
        let names = ["control", "treatment"]
        let groups = columns.string("arm").map { names.firstIndex(of: $0)! }
        let stats = ArmStatistics(arms: names, durations: columns.number("duration"), events: columns.number("event").map { $0 == 1 },
                                  groups: groups, control: 0)
        return (reference, stats)
    }

    func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (x?, y?): return abs(x - y) <= tolerance * max(1, abs(y))
        default: return false
        }
    }

    @Test func armsMatchLifelines() throws {
        let (reference, stats) = try Self.load()
        #expect(stats.tau == reference.tau)
        for arm in stats.arms {
            let ref = try #require(reference.arms[arm.name])
            #expect(arm.count == ref.n)
            #expect(arm.events == ref.events)
            #expect(close(arm.median.time, ref.median))
            #expect(close(arm.median.lower, ref.median_ci[0]))
            #expect(close(arm.median.upper, ref.median_ci[1]))
            #expect(arm.followUp == ref.follow_up)
            #expect(close(arm.rmst.value, ref.rmst))
            #expect(close(arm.rmst.variance, ref.rmst_variance))
            #expect(arm.paidWithin.count == ref.paid_within.count)
            for (p, r) in zip(arm.paidWithin, ref.paid_within) {
                #expect(p.hours == r.hours)
                #expect(close(p.rate, r.rate), "paid within \(p.hours) h in \(arm.name)")
                #expect(close(p.ci?[0], r.ci?[0]))
                #expect(close(p.ci?[1], r.ci?[1]))
            }
        }
    }

    @Test func differenceAndLogRankMatchLifelines() throws {
        let (reference, stats) = try Self.load()
        let c = try #require(stats.comparisons.first)
        #expect(c.arm == "treatment" && c.control == "control")
        #expect(close(c.rmstDifference, reference.rmst_difference.value))
        #expect(close(c.standardError, reference.rmst_difference.se))
        #expect(close(c.ci[0], reference.rmst_difference.ci[0]))
        #expect(close(c.ci[1], reference.rmst_difference.ci[1]))
        #expect(close(c.pValue, reference.rmst_difference.p_value, 1e-7))
        #expect(close(c.logRank.statistic, reference.logrank.statistic))
        #expect(close(c.logRank.pValue, reference.logrank.p_value, 1e-7))
        let overall = try #require(stats.logRank)
        #expect(close(overall.statistic, reference.logrank.statistic))
    }

    @Test func powerMatchesSchoenfeldWithScipyQuantiles() throws {
        let (reference, stats) = try Self.load()
        let n = Double(stats.arms[0].count + stats.arms[1].count)
        let p = Double(stats.arms[1].count) / n
        #expect(close(p, reference.power.allocation))
        #expect(stats.arms[0].events + stats.arms[1].events == reference.power.events)
        #expect(close(ArmStatistics.requiredEvents(hazardRatio: 1.25, allocation: p), reference.power.required_events_hr_1_25, 1e-8))
        #expect(close(ArmStatistics.detectableHazardRatio(events: reference.power.events, allocation: p),
                      reference.power.detectable_hazard_ratio, 1e-8))
    }

    @Test func sampleRatioMatchesScipyChisquare() throws {
        let (reference, _) = try Self.load()
        #expect(reference.srm.count == 5)
        for case_ in reference.srm {
            let names = case_.observed.indices.map { "arm\($0)" }
            let check = SampleRatioCheck(arms: names, observed: case_.observed, weights: case_.weights)
            #expect(close(check.statistic, case_.statistic, 1e-12))
            #expect(close(check.pValue, case_.p_value, 1e-9), "\(case_.observed)")
            #expect(check.mismatch == (case_.p_value < 0.001))
            #expect(check.degreesOfFreedom == case_.observed.count - 1)
        }
    }

    @Test func paidWithinBeyondFollowUpIsNotEstimated() {
        let stats = ArmStatistics(arms: ["a", "b"], durations: [1, 2, 3, 30, 5, 6, 7, 8], events: [true, true, false, true, true, false, true, true],
                                  groups: [0, 0, 0, 0, 1, 1, 1, 1], control: 0)
        // Follow-up 30 h and 8 h: the 24 h rate exists only for the first arm.
        #expect(close(stats.arms[0].paidWithin[0].rate, 0.5, 1e-12))
        #expect(stats.arms[1].paidWithin[0].rate == nil)
        #expect(stats.arms[1].paidWithin[0].ci == nil)
        // τ defaults to the shorter follow-up.
        #expect(stats.tau == 8)
    }
}
