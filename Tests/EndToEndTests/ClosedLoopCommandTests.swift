import Foundation
import Testing

@Suite("Closed loop from the command line")
struct ClosedLoopCommandTests {
    @Test("60 simulated days against the simulated channel with a 50/50 split: both arms' decisions logged, the report reads them")
    func sixtyDays() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-loop-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = "sqlite:" + dir + "/pom.sqlite"
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let flows = try FileManager.default.contentsOfDirectory(atPath: repository.path + "/flows").filter { $0.hasSuffix(".yaml") }.sorted()
        let loaded = try Binaries.run("pom-orchestrate", ["flows", "load", "--store", store] + flows.map { repository.path + "/flows/" + $0 })
        try #require(loaded.status == 0, "\(loaded.stderr)")
        let loop = try Binaries.run("pom-orchestrate", [
            "simulate", "--store", store, "--customers", "150", "--days", "60", "--seed", "3", "--start", "2027-01-04",
            "--experiment", "trial", "--experiment-salt", "s", "--treatment-share", "0.5", "--flow", "b2c-model-delivery",
            "--tick-hours", "6", "--out", dir + "/loop.json"])
        try #require(loop.status == 0, "\(loop.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/loop.json"))) as? [String: Any])
        #expect((summary["days"] as? Int) == 60 && (summary["customers"] as? Int) == 150)
        #expect((summary["sent"] as? Int ?? 0) > 100)
        #expect((summary["events"] as? Int ?? 0) > 100)
        let report = try Binaries.run("pom-train", ["report", "ab", "--store", store, "--experiment", "trial", "--out", dir + "/report"])
        try #require(report.status == 0, "\(report.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/report/report.json"))) as? [String: Any])
        let arms = try #require(json["arms"] as? [[String: Any]])
        #expect(Set(arms.compactMap { $0["name"] as? String }) == ["control", "treatment"])
        for arm in arms { #expect((arm["invoices"] as? Int ?? 0) > 20, "\(arm)") }
        #expect(FileManager.default.fileExists(atPath: dir + "/report/report.html"))
    }
}
