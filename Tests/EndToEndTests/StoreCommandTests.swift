import Foundation
import Testing

@Suite struct StoreCommandTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("datasets/sample").path

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pom-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func importThenExportTheSampleHistory() throws {
        let dir = try temporaryDirectory()
        let store = "sqlite:\(dir)/pom.sqlite"
        let imported = try Binaries.run("pom-train", ["import", "--store", store, Self.sample, "--out", dir + "/import.json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/import.json"))) as! [String: Any]
        let rows = summary["rows"] as! [String: Int]
        let decisionLines = try String(contentsOfFile: Self.sample + "/decisions.csv", encoding: .utf8).split(separator: "\n").count - 1
        #expect(rows["decisions"] == decisionLines)
        #expect(imported.stdout.contains("imported \(decisionLines) decisions"))

        let exported = try Binaries.run("pom-train", ["export", "--store", store, "--out", dir + "/export"])
        #expect(exported.status == 0, "\(exported.stderr)")
        for file in ["customers.csv", "contact_points.csv", "invoices.csv", "decisions.csv", "messages.csv", "events.jsonl", "payments.csv"] {
            let a = try String(contentsOfFile: Self.sample + "/" + file, encoding: .utf8).split(separator: "\n").sorted()
            let b = try String(contentsOfFile: dir + "/export/" + file, encoding: .utf8).split(separator: "\n").sorted()
            #expect(a == b, "\(file)")
        }
    }

    @Test func aBadRowIsRefusedWithItsPlace() throws {
        let dir = try temporaryDirectory()
        let input = dir + "/history"
        try FileManager.default.copyItem(atPath: Self.sample, toPath: input)
        var lines = try String(contentsOfFile: input + "/payments.csv", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var fields = lines[4].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[5] = "2026-13-01T00:00:00Z"
        lines[4] = fields.joined(separator: ",")
        try lines.joined(separator: "\n").write(toFile: input + "/payments.csv", atomically: true, encoding: .utf8)
        let out = try Binaries.run("pom-train", ["import", "--store", "sqlite:\(dir)/pom.sqlite", input])
        #expect(out.status != 0)
        #expect(out.stderr.contains("payments.csv:5, column 'paid_at', value '2026-13-01T00:00:00Z': unparsable time"), "\(out.stderr)")
        let bad = try Binaries.run("pom-train", ["import", "--store", "mysql://x", input])
        #expect(bad.status != 0 && bad.stderr.contains("expected sqlite:PATH or postgres://"), "\(bad.stderr)")
    }
}
