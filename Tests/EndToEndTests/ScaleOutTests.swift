import Foundation
import Tabular
import Testing

/// Several orchestrator workers against one PostgreSQL server (issue 8's scale-out check).
///
/// The size is `POM_SCALE_CASES` customers (20,000 by default, each with one or more invoices, as
/// `scripts/test` runs it with the debug build); `scripts/scale-out` runs it over 200,000 customers
/// with the release build and prints the timings that docs/scale.md quotes. Speed itself is measured
/// by the `orchestrate` benchmark, not here.
@Suite("Scale-out", .serialized)
struct ScaleOutTests {
    @Test("Four workers over one PostgreSQL store: every due message is sent exactly once")
    func fourWorkers() throws {
        guard let server = ProcessInfo.processInfo.environment["POM_TEST_POSTGRES_URL"], !server.isEmpty else {
            Issue.record("POM_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts a PostgreSQL server")
            return
        }
        let customers = Int(ProcessInfo.processInfo.environment["POM_SCALE_CASES"] ?? "") ?? 20_000
        let started = Date()
        let fixture = try OrchestratorFixture(customers: customers, seed: 31)
        let schema = "s_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let url = server + (server.contains("?") ? "&" : "?") + "schema=\(schema)"
        try fixture.store(url)
        let prepared = Date()
        let spool = fixture.directory + "/spool"
        let config = try fixture.spoolConfiguration(spool)

        // Two days of the simulated month, all four workers at once on each.
        var runSeconds: [Double] = []
        for day in ["2026-02-10T15:00:00Z", "2026-02-20T15:00:00Z"] {
            let dayStarted = Date()
            let failures = Counter()
            let group = DispatchGroup()
            for worker in ["w1", "w2", "w3", "w4"] {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    do {
                        let r = try Binaries.run("pom-orchestrate", ["run", "--store", url, "--as-of", day, "--channels", config,
                                                                     "--worker", worker])
                        if r.status != 0 {
                            Issue.record("worker \(worker) on \(day): \(r.stderr)")
                            failures.increment()
                        }
                    } catch {
                        Issue.record("worker \(worker) on \(day): \(error)")
                        failures.increment()
                    }
                }
            }
            group.wait()
            try #require(failures.value == 0)
            runSeconds.append(Date().timeIntervalSince(dayStarted))
            // Nothing due by the day's instant is left: every case's step is done or postponed.
            let status = try Binaries.run("pom-orchestrate", ["status", "--store", url, "--as-of", day])
            #expect(status.stdout.contains("due by \(day) 0"), "\(status.stdout)")
        }

        // What the channels took, against what the store says it sent.
        let sent = try OrchestratorFixture.spooled(spool)
        #expect(Set(sent).count == sent.count, "a message was spooled twice")
        let export = fixture.directory + "/export"
        let exported = try Binaries.run("pom-train", ["export", "--store", url, "--out", export])
        try #require(exported.status == 0, "\(exported.stderr)")
        let messages = try CSVFile(path: export + "/messages.csv").read(numeric: [], text: ["idempotency_key", "status"])
        let keys = messages.string("idempotency_key")
        let status = messages.string("status")
        let storeSent = zip(keys, status).filter { $0.1 == "sent" }.map(\.0).sorted()
        #expect(storeSent == sent, "store sent \(storeSent.count), channels took \(sent.count)")
        #expect(Set(keys).count == keys.count, "two messages share an idempotency key")
        #expect(sent.count >= customers / 5, "only \(sent.count) messages for \(customers) customers")
        let check = try Binaries.run("pom-orchestrate", ["status", "--store", url])
        #expect(check.stdout.contains("outbox 0"), "\(check.stdout)")
        print(String(format: "scale-out: %d customers, %d messages sent by 4 workers; set-up %.0f s, runs %@ s, total %.0f s",
                     customers, sent.count, prepared.timeIntervalSince(started),
                     runSeconds.map { String(format: "%.0f", $0) }.joined(separator: " + "), Date().timeIntervalSince(started)))
    }
}
