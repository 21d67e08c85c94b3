import Channels
import Dispatch
import FeatureStoreBackends
import Flows
import Foundation
import LinAlg
import Orchestrator
import Vocabulary

/// One `Orchestrator.run` over a store of 1,000,000 open cases (100,000 under `--quick`,
/// POM_BENCH_ORCHESTRATE_CASES to choose), on SQLite
/// and, when POM_BENCH_POSTGRES_URL is set, on PostgreSQL (POM_BENCH_ORCHESTRATE_BACKENDS=postgres
/// for PostgreSQL only), with the time of each phase.
///
/// The store (not timed): one customer per case in Berlin with a valid e-mail address and a mobile
/// number (both with consent), one open invoice of 20–500 EUR per customer, enrolled in the
/// repository's `b2c-consumer-dunning` flow. Due dates are spread so that the run's day falls on
/// every day from 5 days before the due date to 60 days after it; each case's progress records the
/// processes before that day as done (with the message ids of its sends), and the latest message
/// sent for the case is in `messages`. Every case is due (`next_due_at` is the run's time), as after
/// a backlog: the run claims, reads, plans and writes all of them; about one case in seven reaches a
/// flow process that day and gets a decision, a queued message and an outbox row, which dispatch
/// renders and hands to a channel adapter that only counts (pom's work, no provider's).
func orchestrateBenchmarks() throws -> [BenchResult] {
    let box = OrchestrateResultBox()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await orchestrateBenchmarksAsync()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class OrchestrateResultBox: @unchecked Sendable {
    var result: Result<[BenchResult], any Error>?
}

/// Takes every message and gives a receipt; keeps only the count.
private final class CountingAdapter: ChannelAdapter, @unchecked Sendable {
    let name = "bench_count"
    let lock = NSLock()
    var count = 0
    let acceptedAt: Date

    init(acceptedAt: Date) { self.acceptedAt = acceptedAt }

    func send(_ message: OutgoingMessage) async throws -> SendReceipt {
        lock.withLock { count += 1 }
        return SendReceipt(providerId: "bench:" + message.idempotencyKey, acceptedAt: acceptedAt, status: .accepted)
    }
}

/// Sums the phase times a run reports.
private final class PhaseTotals: @unchecked Sendable {
    let lock = NSLock()
    var seconds: [String: Double] = [:]
    var order: [String] = []

    func add(_ phase: String, _ s: Double) {
        lock.lock()
        if seconds[phase] == nil { order.append(phase) }
        seconds[phase, default: 0] += s
        lock.unlock()
    }
}

/// The repository's flow files.
private func repositoryFlows() throws -> [(path: String, text: String)] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let dir = root.appendingPathComponent("flows")
    return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted().map { name in
        let path = dir.appendingPathComponent(name).path
        return (path, try String(contentsOfFile: path, encoding: .utf8))
    }
}

private func orchestrateBenchmarksAsync() async throws -> [BenchResult] {
    var results: [BenchResult] = []
    // POM_BENCH_ORCHESTRATE_CASES overrides the number of cases (e.g. 10000000).
    let n = ProcessInfo.processInfo.environment["POM_BENCH_ORCHESTRATE_CASES"].flatMap { Int($0) } ?? size(1_000_000, quick: 100_000)
    // 2026-03-02T09:00:00Z, a Monday: 10:00 in Berlin, the flows' send hour, so that the messages
    // planned in the run are also due in it and dispatch hands them over.
    let asOf = Date(timeIntervalSince1970: 1_772_442_000)
    let postgresURL = ProcessInfo.processInfo.environment["POM_BENCH_POSTGRES_URL"] ?? ""
    // Each SQLite store lives in its own temporary directory, removed once the store is closed.
    var scratch: [String] = []
    defer { for dir in scratch { try? FileManager.default.removeItem(atPath: dir) } }
    // POM_BENCH_ORCHESTRATE_SQLITE_COPY=FILE keeps a copy of the SQLite store as set up in FILE and
    // starts later runs (of the same number of cases) from it: comparing builds then takes seconds
    // of set-up instead of minutes.
    let keptCopy = ProcessInfo.processInfo.environment["POM_BENCH_ORCHESTRATE_SQLITE_COPY"].map { "\($0).\(n)" }
    var sqlitePath = ""
    var locations: [(String, () async throws -> any CaseQueue)] = [("sqlite", {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        scratch.append(dir)
        sqlitePath = "\(dir)/orchestrate.sqlite"
        if let keptCopy, FileManager.default.fileExists(atPath: keptCopy) {
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: keptCopy + suffix) {
                try FileManager.default.copyItem(atPath: keptCopy + suffix, toPath: sqlitePath + suffix)
            }
        }
        return try await openStore("sqlite:" + sqlitePath)
    })]
    if !postgresURL.isEmpty {
        let url = postgresURL
        locations.append(("postgres", {
            let schema = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
            return try await openStore(url + (url.contains("?") ? "&" : "?") + "schema=\(schema)")
        }))
    }
    if let only = ProcessInfo.processInfo.environment["POM_BENCH_ORCHESTRATE_BACKENDS"] {
        let wanted = Set(only.split(separator: ",").map(String.init))
        locations = locations.filter { wanted.contains($0.0) }
    }
    let files = try repositoryFlows()
    for (name, open) in locations {
        var store = try await open()
        let copied = name == "sqlite" && keptCopy.map { FileManager.default.fileExists(atPath: $0) } == true
        let setup0 = DispatchTime.now().uptimeNanoseconds
        if !copied {
            _ = try await FlowLibrary.store(files: files, into: store, now: asOf.addingTimeInterval(-500 * 86_400))
            let flow = try await FlowLibrary.load(from: store).newest("b2c-consumer-dunning")
            try await SyntheticCases.write(into: store, cases: n, chunk: 100_000, flow: flow, asOf: asOf, seed: 5)
            if name == "sqlite", let keptCopy {
                // Closed first (checkpointed); a log SQLite kept goes with it.
                try await store.close()
                for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: sqlitePath + suffix) {
                    try FileManager.default.copyItem(atPath: sqlitePath + suffix, toPath: keptCopy + suffix)
                }
                store = try await openStore("sqlite:" + sqlitePath)
            }
        }
        let library = try await FlowLibrary.load(from: store)
        let setupSeconds = Double(DispatchTime.now().uptimeNanoseconds - setup0) / 1e9

        let adapter = CountingAdapter(acceptedAt: asOf)
        let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }))
        let phases = PhaseTotals()
        var configuration = RunConfiguration()
        configuration.phaseObserver = { phase, seconds in phases.add(phase, seconds) }
        // POM_BENCH_ORCHESTRATE_OVERLAP=0 writes each planned batch before the next is claimed.
        configuration.overlapPlanWrites = ProcessInfo.processInfo.environment["POM_BENCH_ORCHESTRATE_OVERLAP"] != "0"
        // POM_BENCH_ORCHESTRATE_BATCH sets the cases (and messages) per claim.
        if let batch = ProcessInfo.processInfo.environment["POM_BENCH_ORCHESTRATE_BATCH"].flatMap({ Int($0) }) {
            configuration.batchSize = batch
        }
        let orchestrator = Orchestrator(store: store, flows: library, router: router, model: nil,
                                        templates: try TemplateCatalogue.bundled(), configuration: configuration)
        resetPeakRSS()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let c0 = cpuSeconds()
        let s0 = name == "postgres" ? postgresServerCPUSeconds(url: postgresURL) : nil
        let summary = try await orchestrator.run(asOf: asOf, runId: "bench")
        let wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let cpu = cpuSeconds() - c0
        let serverCPU = s0.flatMap { s0 in postgresServerCPUSeconds(url: postgresURL).map { $0 - s0 } }
        precondition(summary.cases == n, "the run planned \(summary.cases) of \(n) cases")
        precondition(summary.sent == adapter.count && summary.sent == summary.queued,
                     "sent \(summary.sent), adapter took \(adapter.count), queued \(summary.queued)")
        try await store.close()
        results.append(BenchResult(
            group: "orchestrate", name: "\(name) run over \(countLabel(n)) open cases (all due)", medianSeconds: wall, runs: 1,
            rate: Double(n) / wall, rateUnit: "cases/s", peakRSSMiB: peakRSSMiB(), cpuSecondsPerRun: cpu, serverCPUSecondsPerRun: serverCPU,
            note: "\(summary.decisions) decisions, \(summary.queued) queued and \(summary.sent) sent, \(summary.skipped) skipped, "
                + "\(summary.tasks) tasks; store set up in \(String(format: "%.0f", setupSeconds)) s (not timed)"))
        for phase in phases.order {
            let s = phases.seconds[phase]!
            results.append(BenchResult(group: "orchestrate", name: "\(name) phase \(phase)", medianSeconds: s, runs: 1,
                                       rate: nil, rateUnit: nil, peakRSSMiB: peakRSSMiB(),
                                       note: String(format: "%.1f µs per case, %.0f%% of the run", s / Double(n) * 1e6, s / wall * 100)))
        }
    }
    return results
}
