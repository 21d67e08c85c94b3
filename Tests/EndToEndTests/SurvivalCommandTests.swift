import Foundation
import POMCommandLine
import Testing

/// `pom-train survival` end to end: arguments parsed as on the command line, a CSV file in, the
/// JSON report out, compared with lifelines' figures (`scripts/reference/survival.py`).
@Suite struct SurvivalCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("OptimizerTests/Fixtures/survival")

    struct Reference: Decodable {
        struct RMST: Decodable { var tau: Double; var rmst: Double; var rmst_variance: Double }
        struct Group: Decodable {
            var n: Int
            var events: Int
            var median: Double?
            var median_ci: [Double?]
            var survival_at: [Double]
            var cumulative_hazard_at: [Double]
            var rmst: [RMST]
        }
        struct LogRank: Decodable { var statistic: Double; var p_value: Double; var degrees_of_freedom: Int }
        var times: [Double]
        var taus: [Double]
        var level: Double
        var groups: [String: Group]
        var all: Group
        var logrank: LogRank
    }

    struct Report: Decodable {
        struct Group: Decodable {
            var n: Int
            var events: Int
            var median: Double?
            var median_ci: [Double?]
            var survival_at: [Double]
            var cumulative_hazard_at: [Double]
            var paid_within: [PaidWithin]
            var rmst: Double
            var rmst_se: Double
        }
        struct PaidWithin: Decodable { var time: Double; var rate: Double; var ci: [Double] }
        struct LogRank: Decodable { var statistic: Double; var p_value: Double; var degrees_of_freedom: Int }
        var groups: [String: Group]
        var group_order: [String]
        var logrank: LogRank?
        var tau: Double
        var level: Double
    }

    func reference(_ name: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent(name + ".json")))
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pom-survival-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `pom-train survival ARGS --out FILE` in-process and decodes the report.
    func survival(_ arguments: [String]) throws -> Report {
        try survivalWithJSON(arguments).report
    }

    func survivalWithJSON(_ arguments: [String]) throws -> (report: Report, json: String) {
        let out = try temporaryDirectory().appendingPathComponent("report.json")
        var command = try PomTrain.parseAsRoot(["survival"] + arguments + ["--out", out.path])
        try command.run()
        let bytes = try Data(contentsOf: out)
        return (try JSONDecoder().decode(Report.self, from: bytes), String(decoding: bytes, as: UTF8.self))
    }

    func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return abs(a - b) <= tolerance * max(1, abs(b))
    }

    func expect(_ got: Report.Group, matches ref: Reference.Group, tau: Double, label: String) {
        #expect(got.n == ref.n && got.events == ref.events, "\(label)")
        #expect(got.median == ref.median, "\(label): median")
        #expect(got.median_ci == ref.median_ci, "\(label): median CI")
        #expect(zip(got.survival_at, ref.survival_at).allSatisfy { close($0, $1) } && got.survival_at.count == ref.survival_at.count,
                "\(label): survival_at \(got.survival_at) vs \(ref.survival_at)")
        #expect(zip(got.cumulative_hazard_at, ref.cumulative_hazard_at).allSatisfy { close($0, $1) },
                "\(label): cumulative_hazard_at")
        #expect(zip(got.paid_within, ref.survival_at).allSatisfy { close($0.rate, 1 - $1) && $0.ci[0] <= $0.rate && $0.rate <= $0.ci[1] },
                "\(label): paid_within")
        let rmst = ref.rmst.first { $0.tau == tau }!
        #expect(close(got.rmst, rmst.rmst), "\(label): rmst \(got.rmst) vs \(rmst.rmst)")
        #expect(close(got.rmst_se, rmst.rmst_variance.squareRoot()), "\(label): rmst_se")
    }

    @Test(arguments: ["integer_ties", "continuous", "median_never"])
    func groupedReportMatchesLifelines(name: String) throws {
        let ref = try reference(name)
        let file = Self.fixtures.appendingPathComponent(name + ".csv").path
        let tau = ref.taus[0]
        let report = try survival(["--data", file, "--duration", "duration", "--event", "event", "--group", "arm",
                                   "--times", ref.times.map { "\($0)" }.joined(separator: ","), "--tau", "\(tau)",
                                   "--level", "\(ref.level)"])
        #expect(Set(report.groups.keys) == Set(ref.groups.keys))
        #expect(report.tau == tau && report.level == ref.level)
        for (group, expected) in ref.groups {
            guard let got = report.groups[group] else { continue }
            expect(got, matches: expected, tau: tau, label: "\(name)/\(group)")
        }
        let logrank = try #require(report.logrank)
        #expect(close(logrank.statistic, ref.logrank.statistic), "log-rank \(logrank.statistic) vs \(ref.logrank.statistic)")
        #expect(abs(logrank.p_value - ref.logrank.p_value) <= 1e-9 * ref.logrank.p_value)
        #expect(logrank.degrees_of_freedom == ref.logrank.degrees_of_freedom)
    }

    @Test func withoutGroupsEverythingIsOneGroupNamedAll() throws {
        let ref = try reference("late_censoring")
        let file = Self.fixtures.appendingPathComponent("late_censoring.csv").path
        let (report, json) = try survivalWithJSON(["--data", file, "--duration", "duration", "--event", "event",
                                                   "--times", ref.times.map { "\($0)" }.joined(separator: ","),
                                                   "--tau", "\(ref.taus[1])"])
        #expect(report.group_order == ["all"])
        #expect(report.logrank == nil)
        expect(try #require(report.groups["all"]), matches: ref.all, tau: ref.taus[1], label: "late_censoring/all")
        // The JSON says `"logrank" : null` rather than leaving the key out.
        #expect(json.contains("\"logrank\" : null"))
    }

    /// Writes `text` as a CSV file and returns the error the command reports for it.
    func failure(_ text: String, _ extra: [String] = []) throws -> (message: String, path: String, outWritten: Bool) {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("data.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("report.json")
        do {
            var command = try PomTrain.parseAsRoot(["survival", "--data", path, "--duration", "hours", "--event", "paid"]
                                                   + extra + ["--out", out.path])
            try command.run()
            return ("", path, true)
        } catch {
            return (PomTrain.message(for: error), path, FileManager.default.fileExists(atPath: out.path))
        }
    }

    @Test func badInputIsNamedByFileLineColumnAndValue() throws {
        let badEvent = try failure("hours,paid\n3,1\n5,2\n")
        #expect(badEvent.message == "\(badEvent.path):3, column 'paid', value '2': the event flag must be 1 (paid) or 0 (censored)")
        #expect(!badEvent.outWritten)
        let negative = try failure("hours,paid\n3,1\n-0.5,0\n")
        #expect(negative.message.hasPrefix("\(negative.path):3, column 'hours', value '-0.5': durations must be non-negative"))
        let missing = try failure("hours,arm\n3,a\n")
        #expect(missing.message.hasPrefix("\(missing.path):1, column 'paid': no such column"))
        let notNumber = try failure("hours,paid\n3,1\nsoon,0\n")
        #expect(notNumber.message.contains(":3, column 'hours', value 'soon'"))
        let empty = try failure("hours,paid\n")
        #expect(empty.message.contains("no rows"))
        let badTimes = try failure("hours,paid\n3,1\n", ["--times", "24,x"])
        #expect(badTimes.message.contains("'x' is not a non-negative number"))
        let badLevel = try failure("hours,paid\n3,1\n", ["--level", "95"])
        #expect(badLevel.message.contains("--level"))
        #expect(!badTimes.outWritten && !badLevel.outWritten && !empty.outWritten)
    }
}
