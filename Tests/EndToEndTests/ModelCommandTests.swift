import Foundation
import Testing

@Suite struct ModelCommandTests {
    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pom-e2e-models-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func json(_ path: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) }

    @Test func trainListPromoteEvaluateAndOffPolicy() throws {
        let dir = try temporaryDirectory()
        let store = "sqlite:\(dir)/pom.sqlite"
        let simulated = try Binaries.run("pom-train", ["simulate", "--customers", "400", "--days", "60", "--seed", "3", "--out", dir + "/history"])
        #expect(simulated.status == 0, "\(simulated.stderr)")
        let imported = try Binaries.run("pom-train", ["import", "--store", store, dir + "/history"])
        #expect(imported.status == 0, "\(imported.stderr)")

        let fit = try Binaries.run("pom-train", ["fit", "--store", store, "--model", "reminders", "--kind", "logistic", "--out", dir + "/m1.json"])
        #expect(fit.status == 0, "\(fit.stderr)")
        #expect(fit.stdout.contains("saved reminders@1 (logistic"), "\(fit.stdout)")
        #expect(fit.stdout.contains("holdout: log-loss"), "\(fit.stdout)")
        let artifact = try json(dir + "/m1.json") as! [String: Any]
        #expect(artifact["kind"] as? String == "logistic")
        #expect(artifact["version"] as? String == "reminders@1")
        let fit2 = try Binaries.run("pom-train", ["fit", "store", "--store", store, "--model", "reminders", "--kind", "linucb",
                                                  "--from", "2026-01-20", "--to", "2026-03-01"])
        #expect(fit2.status == 0, "\(fit2.stderr)")
        #expect(fit2.stdout.contains("saved reminders@2 (linucb"), "\(fit2.stdout)")

        let list = try Binaries.run("pom-train", ["models", "list", "--store", store, "--out", dir + "/list.json"])
        #expect(list.status == 0, "\(list.stderr)")
        let entries = try json(dir + "/list.json") as! [[String: Any]]
        #expect(entries.map { $0["id"] as? String } == ["reminders@1", "reminders@2"])
        #expect(entries.map { $0["kind"] as? String } == ["logistic", "linucb"])
        #expect(entries.allSatisfy { $0["promoted"] as? Bool == false })
        #expect((entries[1]["trained_from"] as? String ?? "") >= "2026-01-20")
        #expect(((entries[0]["metrics"] as? [String: Double])?["holdout_auc"] ?? 0) > 0.5)
        #expect(list.stdout.contains("reminders@2"))

        let promote = try Binaries.run("pom-train", ["models", "promote", "--store", store, "--model", "reminders", "--version", "1"])
        #expect(promote.status == 0 && promote.stdout.contains("promoted reminders@1"), "\(promote.stderr)")
        let missing = try Binaries.run("pom-train", ["models", "promote", "--store", store, "--model", "reminders", "--version", "9"])
        #expect(missing.status != 0 && missing.stderr.contains("no model reminders@9"), "\(missing.stderr)")
        let show = try Binaries.run("pom-train", ["models", "show", "--store", store, "--model", "reminders", "--version", "1",
                                                  "--out", dir + "/show.json", "--artifact", dir + "/shown.json"])
        #expect(show.status == 0, "\(show.stderr)")
        let shown = try json(dir + "/show.json") as! [String: Any]
        #expect((shown["entry"] as? [String: Any])?["promoted"] as? Bool == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/shown.json")) == Data(contentsOf: URL(fileURLWithPath: dir + "/m1.json")))

        let evaluate = try Binaries.run("pom-train", ["evaluate", "--store", store, "--model", "reminders", "--version", "1", "--out", dir + "/eval.json"])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        #expect(evaluate.stdout.contains("calibration"), "\(evaluate.stdout)")
        let report = try json(dir + "/eval.json") as! [String: Any]
        #expect((report["calibration"] as? [Any])?.count == 10)
        let ope = try #require(report["ope"] as? [String: [String: Any]])
        // A greedy policy over ~700 actions rarely matches a random log's action, so IPW may be 0 and
        // SNIPW undefined (null); the model-based estimates always exist.
        for name in ["ipw", "snipw"] { #expect(ope[name] != nil, "\(name)") }
        for name in ["dm", "dr"] {
            let e = try #require(ope[name], "\(name)")
            let low = try #require(e["ci_low"] as? Double, "\(name) \(e)"), estimate = try #require(e["estimate"] as? Double)
            let high = try #require(e["ci_high"] as? Double)
            #expect(low <= estimate && estimate <= high, "\(name)")
        }
        #expect((report["auc"] as? Double ?? 0) > 0.5)

        // --best-by dr promotes the version with the highest DR lower bound, when it beats the logged policy.
        let evaluate2 = try Binaries.run("pom-train", ["evaluate", "--store", store, "--model", "reminders", "--version", "2", "--out", dir + "/eval2.json"])
        #expect(evaluate2.status == 0, "\(evaluate2.stderr)")
        let reports = [report, try json(dir + "/eval2.json") as! [String: Any]]
        let lows = try reports.map { r in try #require(((r["ope"] as? [String: [String: Any]])?["dr"]?["ci_low"]) as? Double) }
        let logged = try #require(report["logged_policy_value"] as? Double)
        let best = try Binaries.run("pom-train", ["models", "promote", "--store", store, "--model", "reminders", "--best-by", "dr"])
        #expect(best.stdout.contains("dr of each version"), "\(best.stdout)")
        #expect(best.stdout.contains("reminders@1") && best.stdout.contains("reminders@2"), "\(best.stdout)")
        let winner = lows[1] > lows[0] ? 2 : 1
        if max(lows[0], lows[1]) > logged {
            #expect(best.status == 0 && best.stdout.contains("promoted reminders@\(winner)"), "\(best.stdout) \(best.stderr)")
        } else {
            #expect(best.status != 0 && best.stderr.contains("dr lower bound is") && best.stderr.contains("nothing promoted"),
                    "\(best.stdout) \(best.stderr)")
        }
        let estimates = try reports.map { r in try #require(((r["ope"] as? [String: [String: Any]])?["dr"]?["estimate"]) as? Double) }
        let byEstimate = try Binaries.run("pom-train", ["models", "promote", "--store", store, "--model", "reminders", "--best-by", "dr",
                                                        "--criterion", "estimate"])
        if max(estimates[0], estimates[1]) > logged {
            let top = estimates[1] > estimates[0] ? 2 : 1
            #expect(byEstimate.status == 0 && byEstimate.stdout.contains("promoted reminders@\(top)"), "\(byEstimate.stdout) \(byEstimate.stderr)")
        } else {
            #expect(byEstimate.status != 0 && byEstimate.stderr.contains("dr estimate is"), "\(byEstimate.stdout) \(byEstimate.stderr)")
        }
        let versionAndBest = try Binaries.run("pom-train", ["models", "promote", "--store", store, "--model", "reminders", "--version", "1", "--best-by", "dr"])
        #expect(versionAndBest.status != 0 && versionAndBest.stderr.contains("either --version or --best-by"), "\(versionAndBest.stderr)")
        let unknown = try Binaries.run("pom-train", ["models", "promote", "--store", store, "--model", "reminders", "--best-by", "mrdr"])
        #expect(unknown.status != 0 && unknown.stderr.contains("expected one of ipw, snipw, dm, dr"), "\(unknown.stderr)")

        // ope --policy on a generic log carrying the model's features.
        let names = (artifact["featureSchema"] as! [String: Any])["names"] as! [String]
        let actions = ["email/friendly/tuesday/10-12", "sms/neutral/friday/18-20", "letter/firm/monday/08-10"]
        var lines = [(["action", "reward", "propensity", "decision_weekday"] + names).joined(separator: ",")]
        for i in 0..<60 {
            let values = names.map { name -> String in
                name == "local_hour" ? "6" : name.hasPrefix("reachable_") ? "1" : String(Double((i * 7 + name.count) % 11) / 10)
            }
            lines.append(([actions[i % 3], String(i % 2), "0.3333333333", String(1 + i % 7)] + values).joined(separator: ","))
        }
        try lines.joined(separator: "\n").write(toFile: dir + "/log.csv", atomically: true, encoding: .utf8)
        let opeRun = try Binaries.run("pom-train", ["ope", "--log", dir + "/log.csv", "--policy", dir + "/m1.json", "--out", dir + "/ope.json"])
        #expect(opeRun.status == 0, "\(opeRun.stderr)")
        let opeReport = try json(dir + "/ope.json") as! [String: Any]
        for name in ["ipw", "snipw", "dm", "dr"] { #expect(opeReport[name] != nil, "\(name)") }
        #expect(opeReport["action_labels"] as? [String] == ["email/friendly/tuesday/10-12", "sms/neutral/friday/18-20", "letter/firm/monday/08-10"])

        let thin = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(10).joined(separator: ",") }
        try thin.joined(separator: "\n").write(toFile: dir + "/thin.csv", atomically: true, encoding: .utf8)
        let refused = try Binaries.run("pom-train", ["ope", "--log", dir + "/thin.csv", "--policy", dir + "/m1.json", "--out", dir + "/x.json"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("thin.csv:1") && refused.stderr.contains("lacks the model's features"), "\(refused.stderr)")
        let both = try Binaries.run("pom-train", ["ope", "--log", dir + "/log.csv", "--out", dir + "/x.json"])
        #expect(both.status != 0 && both.stderr.contains("exactly one of --target-probs"), "\(both.stderr)")
    }
}
