import Foundation
import Testing
import LinAlg
#if canImport(Glibc)
import Glibc
#endif

/// A small world of open cases in a store, with the example flows loaded and a spool channel
/// configuration, built through the command line as an operator would.
struct OrchestratorFixture {
    let directory: String
    let cases: String
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    init(customers: Int, seed: UInt64) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pom-orch-\(UUID().uuidString)").path
        cases = directory + "/cases"
        try FileManager.default.createDirectory(atPath: cases, withIntermediateDirectories: true)
        let history = directory + "/history"
        let sim = try Binaries.run("pom-train", ["simulate", "--customers", String(customers), "--days", "40", "--seed", String(seed),
                                                 "--policy", "rules", "--out", history])
        try #require(sim.status == 0, "\(sim.stderr)")
        // Only the cases: customers, their contact points and invoices (no messages yet).
        for file in ["customers.csv", "contact_points.csv", "invoices.csv"] {
            try FileManager.default.copyItem(atPath: history + "/" + file, toPath: cases + "/" + file)
        }
    }

    /// A new store holding the cases and the example flows.
    func store(_ url: String) throws {
        let imported = try Binaries.run("pom-train", ["import", "--store", url, cases])
        try #require(imported.status == 0, "\(imported.stderr)")
        let flows = try FileManager.default.contentsOfDirectory(atPath: repository.path + "/flows").filter { $0.hasSuffix(".yaml") }.sorted()
        let loaded = try Binaries.run("pom-orchestrate", ["flows", "load", "--store", url] + flows.map { repository.path + "/flows/" + $0 })
        try #require(loaded.status == 0, "\(loaded.stderr)")
    }

    /// A channel configuration spooling every channel into `spool`.
    func spoolConfiguration(_ spool: String) throws -> String {
        let path = directory + "/channels-\(UUID().uuidString).yaml"
        let channels = ["email", "sms", "letter", "push", "robocall", "whatsapp"].map { "  \($0):\n    adapter: spool" }.joined(separator: "\n")
        try "version: 1\nspool:\n  directory: \(spool)\nchannels:\n\(channels)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The idempotency keys the spool took (its index: one record per key under pending/ or sent/).
    static func spooled(_ spool: String) throws -> [String] {
        var keys: [String] = []
        for state in ["pending", "sent"] {
            let root = spool + "/" + state
            guard let channels = try? FileManager.default.contentsOfDirectory(atPath: root) else { continue }
            for channel in channels {
                for file in try FileManager.default.contentsOfDirectory(atPath: root + "/" + channel) where file.hasSuffix(".json") {
                    let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + channel + "/" + file))
                    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
                    let message = object?["message"] as? [String: Any]
                    keys.append(try #require(message?["idempotency_key"] as? String))
                }
            }
        }
        return keys.sorted()
    }
}

/// Runs `pom-orchestrate` and kills it with SIGKILL after `delay` seconds unless it ended before.
/// - Returns: whether it ran to completion (exit status 0).
func runOrKill(_ arguments: [String], after delay: Double) throws -> Bool {
    let process = Process()
    process.executableURL = Binaries.productsDirectory.appendingPathComponent("pom-orchestrate")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    let err = Pipe()
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(delay)
    while process.isRunning && Date() < deadline { usleep(2_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    if process.terminationReason == .exit && process.terminationStatus != 0 {
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        Issue.record("pom-orchestrate \(arguments.joined(separator: " ")) failed: \(text)")
    }
    return process.terminationReason == .exit && process.terminationStatus == 0
}

@Suite("Crash safety", .serialized)
struct CrashSafetyTests {
    /// Afternoon runs (UTC), so that the morning's messages are due and go out in the same run.
    let days = ["2026-02-10T15:00:00Z", "2026-02-14T15:00:00Z", "2026-02-20T15:00:00Z", "2026-03-01T15:00:00Z"]

    @Test("SIGKILL at random points of runs against a SQLite store: every due message is sent exactly once")
    func killedRuns() throws {
        let fixture = try OrchestratorFixture(customers: 200, seed: 11)
        // The reference: the same runs, never interrupted.
        let reference = "sqlite:" + fixture.directory + "/reference.sqlite"
        try fixture.store(reference)
        let referenceSpool = fixture.directory + "/spool-reference"
        let referenceConfig = try fixture.spoolConfiguration(referenceSpool)
        var durations: [Double] = []
        for day in days {
            let started = Date()
            let r = try Binaries.run("pom-orchestrate", ["run", "--store", reference, "--as-of", day, "--channels", referenceConfig])
            try #require(r.status == 0, "\(r.stderr)")
            durations.append(Date().timeIntervalSince(started))
        }
        let expected = try OrchestratorFixture.spooled(referenceSpool)
        try #require(expected.count > 100, "the reference runs sent \(expected.count) messages")

        let killed = "sqlite:" + fixture.directory + "/killed.sqlite"
        try fixture.store(killed)
        let spool = fixture.directory + "/spool-killed"
        let config = try fixture.spoolConfiguration(spool)
        var rng = Xoshiro256(seed: 2026)
        var kills = 0
        for (d, day) in days.enumerated() {
            var finished = false
            var attempts = 0
            var killedToday = 0
            while !finished {
                attempts += 1
                // Kill points spread over the run, from start-up to near the end of an uninterrupted
                // run of the same day, until three runs of the day were killed; then it may finish.
                let delay = killedToday >= 3 || attempts > 20 ? 600 : rng.uniform() * 0.5 * durations[d]
                finished = try runOrKill(["run", "--store", killed, "--as-of", day, "--channels", config], after: delay)
                if !finished { kills += 1; killedToday += 1 }
            }
        }
        // Each kill leaves less work for the next run of the day, so later runs often finish first.
        #expect(kills >= days.count, "only \(kills) runs were killed mid-way")
        let sent = try OrchestratorFixture.spooled(spool)
        #expect(Set(sent).count == sent.count, "a message was spooled twice")
        #expect(sent == expected, "lost: \(Set(expected).subtracting(sent).count), extra: \(Set(sent).subtracting(expected).count)")
        // The store agrees: every message sent, nothing left in the outbox.
        let check = try Binaries.run("pom-orchestrate", ["status", "--store", killed])
        #expect(check.stdout.contains("outbox 0"), "\(check.stdout)")
    }

    @Test("Two workers sharing a PostgreSQL store, each killed at random points: every due message is sent exactly once")
    func concurrentWorkers() throws {
        guard let server = ProcessInfo.processInfo.environment["POM_TEST_POSTGRES_URL"], !server.isEmpty else {
            Issue.record("POM_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts a PostgreSQL server")
            return
        }
        let fixture = try OrchestratorFixture(customers: 200, seed: 12)
        let reference = "sqlite:" + fixture.directory + "/reference.sqlite"
        try fixture.store(reference)
        let referenceSpool = fixture.directory + "/spool-reference"
        let referenceConfig = try fixture.spoolConfiguration(referenceSpool)
        var durations: [Double] = []
        for day in days {
            let started = Date()
            let r = try Binaries.run("pom-orchestrate", ["run", "--store", reference, "--as-of", day, "--channels", referenceConfig])
            try #require(r.status == 0, "\(r.stderr)")
            durations.append(Date().timeIntervalSince(started))
        }
        let expected = try OrchestratorFixture.spooled(referenceSpool)
        try #require(expected.count > 100)

        let schema = "w_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let shared = server + (server.contains("?") ? "&" : "?") + "schema=\(schema)"
        try fixture.store(shared)
        let spool = fixture.directory + "/spool-shared"
        let config = try fixture.spoolConfiguration(spool)
        let kills = Counter()
        let runLength = durations
        for (d, day) in days.enumerated() {
            // Both workers run the day at once; each is killed at random points and restarted under
            // its name until one of its runs completes.
            let group = DispatchGroup()
            for (n, worker) in ["w1", "w2"].enumerated() {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    var rng = Xoshiro256(seed: 77, keys: UInt64(n), UInt64(d))
                    var attempts = 0
                    while true {
                        attempts += 1
                        // Within the length of an uninterrupted run of the day (on the faster SQLite
                        // store, so early kill points are favoured), twice per worker and day.
                        let delay = attempts > 2 ? 600 : rng.uniform() * 1.5 * runLength[d]
                        guard let finished = try? runOrKill(["run", "--store", shared, "--as-of", day, "--channels", config, "--worker", worker],
                                                            after: delay) else { return }
                        if finished { return }
                        kills.increment()
                    }
                }
            }
            group.wait()
        }
        #expect(kills.value >= 4, "only \(kills.value) runs were killed mid-way")
        let sent = try OrchestratorFixture.spooled(spool)
        #expect(Set(sent).count == sent.count, "a message was spooled twice")
        #expect(sent == expected, "lost: \(Set(expected).subtracting(sent).count), extra: \(Set(sent).subtracting(expected).count)")
        let check = try Binaries.run("pom-orchestrate", ["status", "--store", shared])
        #expect(check.stdout.contains("outbox 0"), "\(check.stdout)")
    }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private var n = 0
    private let lock = NSLock()
    func increment() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
