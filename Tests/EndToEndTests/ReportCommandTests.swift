import Foundation
import Testing

/// `pom-train report ab` end to end: the sample history with its decisions labelled as an
/// experiment (even customers control, odd treatment), imported into a new SQLite store.
@Suite struct ReportCommandTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("datasets/sample").path

    /// A store holding the sample history as experiment `ab-sample`; returns its URL and directory.
    func experimentStore() throws -> (store: String, directory: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-e2e-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let history = dir + "/history"
        try FileManager.default.copyItem(atPath: Self.sample, toPath: history)
        var lines = try String(contentsOfFile: history + "/decisions.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let (customer, experiment, arm) = (header.firstIndex(of: "customer_id")!, header.firstIndex(of: "experiment")!, header.firstIndex(of: "arm")!)
        for i in 1..<lines.count {
            var fields = lines[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields[experiment] = "ab-sample"
            fields[arm] = Int(fields[customer].dropFirst())! % 2 == 0 ? "control" : "treatment"
            lines[i] = fields.joined(separator: ",")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: history + "/decisions.csv", atomically: true, encoding: .utf8)
        let store = "sqlite:\(dir)/pom.sqlite"
        let imported = try Binaries.run("pom-train", ["import", "--store", store, history])
        try #require(imported.status == 0, "\(imported.stderr)")
        return (store, dir)
    }

    @Test func writesEveryFileAndPrintsTheVerdict() throws {
        let (store, dir) = try experimentStore()
        let out = dir + "/report"
        let run = try Binaries.run("pom-train", ["report", "ab", "--store", store, "--experiment", "ab-sample", "--split", "50/50", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        for name in ["report.html", "report.md", "report.json", "survival_curves.csv", "arms.csv", "channels.csv"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as! [String: Any]
        let verdict = try #require(json["verdict"] as? String)
        #expect(run.stdout.hasPrefix(verdict))
        let arms = try #require(json["arms"] as? [[String: Any]])
        #expect(arms.map { $0["name"] as? String } == ["control", "treatment"])
        // Every labelled decision's case is counted once.
        let decisions = try String(contentsOfFile: Self.sample + "/decisions.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let invoices = Set(decisions.map { $0.split(separator: ",", omittingEmptySubsequences: false)[2] })
        #expect(arms.map { $0["invoices"] as! Int }.reduce(0, +) == invoices.count)
        let srm = try #require(json["sample_ratio"] as? [String: Any])
        #expect(srm["expected_shares"] as? [Double] == [0.5, 0.5])
    }

    @Test func anUnknownExperimentNamesTheOnesThere() throws {
        let (store, dir) = try experimentStore()
        let run = try Binaries.run("pom-train", ["report", "ab", "--store", store, "--experiment", "other", "--out", dir + "/r"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--experiment 'other'"), "\(run.stderr)")
        #expect(run.stderr.contains("experiments in the store: ab-sample"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/r/report.json"))
    }

    @Test func aBadSplitOrDateIsRefused() throws {
        let (store, dir) = try experimentStore()
        let split = try Binaries.run("pom-train", ["report", "ab", "--store", store, "--experiment", "ab-sample", "--split", "50/x", "--out", dir + "/r"])
        #expect(split.status != 0)
        #expect(split.stderr.contains("--split '50/x'"), "\(split.stderr)")
        let arms = try Binaries.run("pom-train", ["report", "ab", "--store", store, "--experiment", "ab-sample", "--split", "30/30/40", "--out", dir + "/r"])
        #expect(arms.status != 0)
        #expect(arms.stderr.contains("3 shares for 2 arms"), "\(arms.stderr)")
        let date = try Binaries.run("pom-train", ["report", "ab", "--store", store, "--experiment", "ab-sample", "--as-of", "2026-02-30", "--out", dir + "/r"])
        #expect(date.status != 0)
        #expect(date.stderr.contains("--as-of '2026-02-30'"), "\(date.stderr)")
    }
}
