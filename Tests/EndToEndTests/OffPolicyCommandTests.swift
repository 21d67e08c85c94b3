import Foundation
import Testing
@testable import POMCommandLine

/// `pom-train ope` on the generic CSV files of SPEC §5, run in-process as the executable runs it.
@Suite("pom-train ope")
struct OffPolicyCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../OptimizerTests/Fixtures/ope").standardizedFileURL

    /// A fresh directory for one test's files.
    static func scratch(in parent: URL = FileManager.default.temporaryDirectory) throws -> URL {
        let url = parent.appendingPathComponent("pom-ope-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func run(_ arguments: [String]) throws {
        var command = try PomTrain.parseAsRoot(arguments)
        try command.run()
    }

    static func lines(_ name: String) throws -> [String] {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Writes the first `rows` data rows of the fixture log and target, after `edit`.
    static func smallFiles(in dir: URL, rows: Int = 10, editLog: (inout [String]) -> Void = { _ in },
                           editTarget: (inout [String]) -> Void = { _ in }) throws -> (log: String, target: String) {
        var log = Array(try lines("log.csv").prefix(rows + 1)), target = Array(try lines("target.csv").prefix(rows + 1))
        editLog(&log)
        editTarget(&target)
        let logURL = dir.appendingPathComponent("log.csv"), targetURL = dir.appendingPathComponent("target.csv")
        try (log.joined(separator: "\n") + "\n").write(to: logURL, atomically: true, encoding: .utf8)
        try (target.joined(separator: "\n") + "\n").write(to: targetURL, atomically: true, encoding: .utf8)
        return (logURL.path, targetURL.path)
    }

    /// Runs `ope` on the files, expecting a failure whose message contains every piece of `expected`,
    /// and no output file.
    static func expectFailure(_ files: (log: String, target: String), _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let out = URL(fileURLWithPath: files.log).deletingLastPathComponent().appendingPathComponent("out.json").path
        do {
            try run(["ope", "--log", files.log, "--target-probs", files.target, "--out", out])
            Issue.record("ope accepted bad input", sourceLocation: sourceLocation)
        } catch {
            let message = "\(error)"
            for piece in expected { #expect(message.contains(piece), "\(message) lacks \(piece)", sourceLocation: sourceLocation) }
        }
        #expect(!FileManager.default.fileExists(atPath: out), sourceLocation: sourceLocation)
    }

    @Test("ope writes IPW/SNIPW/DM/DR with intervals that match Open Bandit Pipeline, overall and per position")
    func fixtureReport() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("report.json")
        try Self.run(["ope", "--log", Self.fixtures.appendingPathComponent("log.csv").path,
                      "--target-probs", Self.fixtures.appendingPathComponent("target.csv").path,
                      "--estimators", "ipw,snipw,dm,dr", "--level", "0.95", "--out", out.path])
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as! [String: Any]
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json"))) as! [String: Any]
        let overall = expected["overall"] as! [String: Any]
        // IPW and SNIPW need no model: obp's values to 1e-12. DM and DR use pom's own reward model, which
        // equals scikit-learn's (the q obp was fed) to about 1e-10.
        for (name, tolerance) in [("ipw", 1e-12), ("snipw", 1e-12), ("dm", 1e-8), ("dr", 1e-8)] {
            let e = report[name] as! [String: Double]
            let ref = overall[name] as! Double
            #expect(abs(e["estimate"]! - ref) <= tolerance * abs(ref), "\(name)")
            #expect(e["ci_low"]! < e["estimate"]! && e["estimate"]! < e["ci_high"]!)
            #expect(e["std_error"]! > 0)
        }
        let byPosition = report["by_position"] as! [String: [String: Any]]
        #expect(Set(byPosition.keys) == ["0", "1"])
        let reference = expected["by_position"] as! [String: [String: Any]]
        for p in ["0", "1"] {
            let ipw = (byPosition[p]!["ipw"] as! [String: Double])["estimate"]!
            #expect(abs(ipw - (reference[p]!["ipw"] as! Double)) <= 1e-12 * ipw)
            #expect(byPosition[p]!["n"] as! Int == reference[p]!["n"] as! Int)
        }
        #expect(report["n"] as! Int == 2000)
        #expect(report["actions"] as! Int == 5)
        #expect((report["effective_sample_size"] as! Double) > 1 && (report["effective_sample_size"] as! Double) < 2000)
        #expect((report["max_weight"] as! Double) > 1)
        #expect((report["reward_model"] as! [String: Any])["converged"] as! Bool)
    }

    @Test("ope with --estimators, --cross-fit and --bootstrap")
    func options() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("report.json")
        try Self.run(["ope", "--log", Self.fixtures.appendingPathComponent("log.csv").path,
                      "--target-probs", Self.fixtures.appendingPathComponent("target.csv").path,
                      "--estimators", "dr,ipw", "--cross-fit", "3", "--seed", "4", "--bootstrap", "200", "--level", "0.9",
                      "--out", out.path])
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as! [String: Any]
        #expect(report["snipw"] == nil && report["dm"] == nil)
        #expect(report["interval"] as! String == "bootstrap")
        #expect(report["level"] as! Double == 0.9)
        let model = report["reward_model"] as! [String: Any]
        #expect(model["cross_fit_folds"] as! Int == 3 && (model["iterations"] as! [Int]).count == 3)
        let dr = report["dr"] as! [String: Double]
        #expect(dr["ci_low"]! < dr["estimate"]! && dr["estimate"]! < dr["ci_high"]!)
        #expect(throws: (any Error).self) {
            try Self.run(["ope", "--log", "a.csv", "--target-probs", "b.csv", "--estimators", "ipw,magic", "--out", out.path])
        }
    }

    @Test("Logged actions match their p_ columns as text or as numbers; the position column of the target is optional")
    func actionLabels() throws {
        let parent = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: parent) }
        let plain = try Self.smallFiles(in: Self.scratch(in: parent), rows: 50)
        let decimal = try Self.smallFiles(in: Self.scratch(in: parent), rows: 50, editLog: { lines in
            for i in 1..<lines.count {
                var fields = lines[i].split(separator: ",").map(String.init)
                fields[0] += ".0"
                lines[i] = fields.joined(separator: ",")
            }
        }, editTarget: { lines in
            lines = lines.map { $0.split(separator: ",").dropFirst().joined(separator: ",") }
        })
        var estimates = [Double]()
        for files in [plain, decimal] {
            let out = URL(fileURLWithPath: files.log).deletingLastPathComponent().appendingPathComponent("out.json")
            try Self.run(["ope", "--log", files.log, "--target-probs", files.target, "--estimators", "ipw", "--out", out.path])
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as! [String: Any]
            estimates.append((report["ipw"] as! [String: Double])["estimate"]!)
            #expect(report["action_labels"] as! [String] == ["0", "1", "2", "3", "4"])
        }
        #expect(estimates[0] == estimates[1])
    }

    @Test("Errors name the file, line, column and value")
    func errors() throws {
        let parent = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: parent) }
        // A target row whose probabilities do not sum to 1 (data row 3 is line 4).
        var dir = try Self.scratch(in: parent)
        try Self.expectFailure(Self.smallFiles(in: dir, editTarget: { $0[3] = "0,0.5,0.5,0.5,0,0" }),
                               ["target.csv:4", "p_0+p_1+p_2+p_3+p_4", "value '1.5'", "must sum to 1"])
        // Row counts differ.
        dir = try Self.scratch(in: parent)
        try Self.expectFailure(Self.smallFiles(in: dir, editTarget: { $0.removeLast() }), ["target.csv", "9 rows", "has 10"])
        // An action without a p_ column.
        dir = try Self.scratch(in: parent)
        try Self.expectFailure(Self.smallFiles(in: dir, editLog: { $0[2] = "7" + $0[2].drop { $0 != "," } }),
                               ["log.csv:3", "column 'action'", "value '7'", "no column 'p_7'"])
        // A propensity of zero.
        dir = try Self.scratch(in: parent)
        try Self.expectFailure(Self.smallFiles(in: dir, editLog: { line in
            var fields = line[5].split(separator: ",").map(String.init)
            fields[3] = "0"
            line[5] = fields.joined(separator: ",")
        }), ["log.csv:6", "column 'propensity'", "value '0.0'", "(0, 1]"])
        // Positions that do not follow the log's rows.
        dir = try Self.scratch(in: parent)
        try Self.expectFailure(Self.smallFiles(in: dir, editTarget: { line in
            var fields = line[1].split(separator: ",").map(String.init)
            fields[0] = fields[0] == "0" ? "1" : "0"
            line[1] = fields.joined(separator: ",")
        }), ["target.csv:2", "column 'position'"])
        // A missing required column.
        dir = try Self.scratch(in: parent)
        try Self.expectFailure(Self.smallFiles(in: dir, editLog: { $0[0] = $0[0].replacingOccurrences(of: "propensity", with: "pscore") }),
                               ["log.csv:1", "column 'propensity'", "no such column"])
    }
}
