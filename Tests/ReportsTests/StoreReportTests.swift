import FeatureStore
import FeatureStoreBackends
import Foundation
import LinAlg
import Reports
import Simulator
import Testing
import Vocabulary

/// A simulated experiment in a temporary SQLite store: one world, the uniform random policy on
/// the even customers (`control`) and the rule-based policy on the odd ones (`treatment`), the
/// decisions labelled with the experiment and arm. Built once and shared by the tests.
actor SimulatedExperiment {
    static let shared = SimulatedExperiment()
    static let name = "reminder-ab"

    struct Built {
        var directory: String
        var storeURL: String
        /// The merged record rows by table name, as imported.
        var rows: [String: [[Value]]]
    }

    private var built: Built?

    func get() async throws -> Built {
        if let built { return built }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pom-report-\(UUID().uuidString)").path
        let world = World(config: SimulationConfig(customers: 240, days: 75, seed: 20261129))
        let a = root + "/control", b = root + "/treatment", merged = root + "/merged"
        try Simulation.writeHistory(world: world, policy: UniformRandomPolicy(), directory: a)
        try Simulation.writeHistory(world: world, policy: RuleBasedPolicy(), directory: b)
        try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: true)
        let fromA = try await RecordImport.load(directory: a, store: nil)
        let fromB = try await RecordImport.load(directory: b, store: nil)
        var rows: [String: [[Value]]] = [:]
        for (la, lb) in zip(fromA, fromB) {
            let table = la.table
            let customer = table.index(table.name == "customers" ? "id" : "customer_id")
            func index(_ row: [Value]) -> Int { Int(row[customer].text!.dropFirst())! }
            var out = la.rows.filter { index($0) % 2 == 0 } + lb.rows.filter { index($0) % 2 == 1 }
            if table.name == Schema.decisions.name {
                let e = table.index("experiment"), arm = table.index("arm")
                for i in out.indices {
                    out[i][e] = .text(SimulatedExperiment.name)
                    out[i][arm] = .text(index(out[i]) % 2 == 0 ? "control" : "treatment")
                }
            }
            rows[table.name] = out
            try RecordFiles.write(table, rows: out, to: (merged as NSString).appendingPathComponent(table.file))
        }
        let url = "sqlite:" + root + "/pom.sqlite"
        let store = try await openStore(url)
        try await RecordImport.run(directory: merged, into: store)
        try await store.close()
        let result = Built(directory: root, storeURL: url, rows: rows)
        built = result
        return result
    }
}

/// Counts computed directly from the record rows, independently of the report's loader.
struct DirectCounts {
    var customers: [String: Set<String>] = [:]
    var invoices: [String: Set<String>] = [:]
    var paid: [String: Int] = [:]
    var collected: [String: Int64] = [:]
    var messages: [String: Int] = [:]
    var cost: [String: Int64] = [:]

    init(_ rows: [String: [[Value]]], asOf: Int64) {
        let d = Schema.decisions, p = Schema.payments, m = Schema.messages
        var start: [String: (Int64, String)] = [:]  // invoice -> (first decision time, arm)
        for r in rows["decisions"]! {
            let at = r[d.index("decided_at")].integer!
            guard at <= asOf else { continue }
            let invoice = r[d.index("invoice_id")].text!, arm = r[d.index("arm")].text!
            if let s = start[invoice], s.0 <= at { continue }
            start[invoice] = (at, arm)
            customers[arm, default: []].insert(r[d.index("customer_id")].text!)
        }
        for (invoice, s) in start { invoices[s.1, default: []].insert(invoice) }
        for r in rows["payments"]! {
            let invoice = r[p.index("invoice_id")].text!
            let at = r[p.index("paid_at")].integer!
            guard let s = start[invoice], at >= s.0, at <= asOf else { continue }
            paid[s.1, default: 0] += 1  // the simulator pays each invoice in full, once
            collected[s.1, default: 0] += r[p.index("amount_minor")].integer!
        }
        for r in rows["messages"]! {
            let invoice = r[m.index("invoice_id")].text!
            let at = r[m.index("scheduled_at")].integer!
            guard let s = start[invoice], at >= s.0, at <= asOf else { continue }
            messages[s.1, default: 0] += 1
            cost[s.1, default: 0] += r[m.index("cost_minor")].integer!
        }
    }
}

@Suite(.serialized) struct StoreReportTests {
    func makeReport(asOf: Date? = nil, options: ABReport.Options = .init()) async throws -> (ABReport, SimulatedExperiment.Built) {
        let built = try await SimulatedExperiment.shared.get()
        let store = try await openStore(built.storeURL)
        do {
            let report = try await ABReport.build(store: store, experiment: SimulatedExperiment.name, asOf: asOf, options: options)
            try await store.close()
            return (report, built)
        } catch {
            try? await store.close()
            throw error
        }
    }

    func lastInstant(_ rows: [String: [[Value]]]) -> Int64 {
        var last: Int64 = 0
        for (table, column) in [("decisions", "decided_at"), ("messages", "scheduled_at"), ("events", "occurred_at"), ("payments", "paid_at")] {
            let t = Schema.table(named: table)!, c = t.index(column)
            for r in rows[table]! { last = max(last, r[c].integer!) }
        }
        return last
    }

    @Test func countsMatchTheRecords() async throws {
        let (report, built) = try await makeReport()
        let direct = DirectCounts(built.rows, asOf: lastInstant(built.rows))
        #expect(report.arms.map(\.name) == ["control", "treatment"])
        #expect(report.control == "control")
        for arm in report.arms {
            #expect(arm.customers == direct.customers[arm.name]!.count)
            #expect(arm.invoices == direct.invoices[arm.name]!.count)
            #expect(arm.paid == direct.paid[arm.name]!)
            #expect(arm.censored == arm.invoices - arm.paid)
            #expect(arm.amountCollectedMinor.values.reduce(0, +) == direct.collected[arm.name]!)
            #expect(arm.messages == direct.messages[arm.name]!)
            #expect(arm.costByChannelMinor.values.reduce(0, +) == direct.cost[arm.name]!)
            #expect(arm.costByCurrencyMinor.values.reduce(0, +) == direct.cost[arm.name]!)
            #expect(report.curves[arm.name]!.first!.atRisk == arm.invoices)
        }
        // The channel breakdown sees every message of the experiment.
        #expect(report.channels.map(\.messages).reduce(0, +) == report.arms.map(\.messages).reduce(0, +))
        #expect(report.sampleRatio.observed == report.arms.map(\.customers))
        #expect(report.sampleRatio.observed.reduce(0, +) == direct.customers.values.map(\.count).reduce(0, +))
        #expect(report.sampleRatio.observed.reduce(0, +) >= 60)
        #expect(!report.sampleRatio.mismatch)
        #expect(report.power != nil)
        #expect(!report.verdict.isEmpty)
    }

    @Test func asOfCensorsLaterPayments() async throws {
        let built = try await SimulatedExperiment.shared.get()
        let cut = (lastInstant(built.rows) + micros(SimulationConfig(customers: 1, days: 75, seed: 0).startInstant)) / 2
        let asOf = Date(timeIntervalSince1970: Double(cut) / 1_000_000)
        let (report, _) = try await makeReport(asOf: asOf)
        let direct = DirectCounts(built.rows, asOf: cut)
        let full = try await makeReport().0
        for (arm, all) in zip(report.arms, full.arms) {
            #expect(arm.invoices == direct.invoices[arm.name]!.count)
            #expect(arm.paid == direct.paid[arm.name, default: 0])
            #expect(arm.invoices < all.invoices)
            #expect(arm.followUpHours <= Double(cut - micros(SimulationConfig(customers: 1, days: 75, seed: 0).startInstant)) / 3.6e9)
        }
        #expect(report.asOf == ISO8601DateFormatter().string(from: asOf))
    }

    @Test func splitFlagsAMismatch() async throws {
        // Equal arms against a configured 80/20 split: a sample ratio mismatch.
        let (report, _) = try await makeReport(options: ABReport.Options(split: [80, 20]))
        #expect(report.sampleRatio.expectedShares == [0.8, 0.2])
        #expect(report.sampleRatio.mismatch)
        #expect(report.notes.first?.hasPrefix("Sample ratio mismatch") == true)
    }

    @Test func unknownExperimentNamesTheKnownOnes() async throws {
        let built = try await SimulatedExperiment.shared.get()
        let store = try await openStore(built.storeURL)
        await #expect(throws: ReportError.noExperiment("nope", known: [SimulatedExperiment.name])) {
            _ = try await ABReport.build(store: store, experiment: "nope")
        }
        try await store.close()
    }

    @Test func filesAreWrittenAndAgree() async throws {
        let (report, built) = try await makeReport()
        let out = built.directory + "/report-files"
        try ReportFiles.write(report, to: out)
        for name in ReportFiles.names {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))) as! [String: Any]
        #expect(json["verdict"] as? String == report.verdict)
        #expect((json["arms"] as? [[String: Any]])?.count == 2)
        let arms = try String(contentsOfFile: out + "/arms.csv", encoding: .utf8).split(separator: "\n")
        #expect(arms.count == 3)
        #expect(arms[1].hasPrefix("control,\(report.arms[0].customers),\(report.arms[0].invoices),"))
        let curves = try String(contentsOfFile: out + "/survival_curves.csv", encoding: .utf8).split(separator: "\n")
        #expect(curves.count == 1 + report.curves.values.map(\.count).reduce(0, +))
        let channels = try String(contentsOfFile: out + "/channels.csv", encoding: .utf8).split(separator: "\n")
        #expect(channels.count == 1 + report.channels.count)
        let markdown = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(markdown.contains(report.verdict))
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").count - 1 == html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count - 1)
        #expect(!html.contains("<script"))
        // No temporary files are left behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty)
    }
}

func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
