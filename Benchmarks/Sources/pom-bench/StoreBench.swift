import Dispatch
import FeatureStoreBackends
import Foundation
import LinAlg

/// Bulk writes into the store: event rows per second into SQLite (prepared statements, one
/// transaction) and PostgreSQL (COPY FROM STDIN), plus the whole `import` of an events.jsonl file
/// (parse, check, write). CPU seconds are this process's (PostgreSQL's server works on its own). PostgreSQL runs when
/// POM_BENCH_POSTGRES_URL is set. The peer (Benchmarks/peers/store.py) inserts the same rows with
/// Python's sqlite3 `executemany` and with psql's `\copy`.
func storeBenchmarks() throws -> [BenchResult] {
    let box = ResultBox()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await storeBenchmarksAsync()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox: @unchecked Sendable {
    var result: Result<[BenchResult], any Error>?
}

/// Customers, invoices and `events` event rows referencing them, like a dunning history.
struct EventWorkload {
    var customers: [[Value]] = []
    var invoices: [[Value]] = []
    var events: [[Value]] = []

    init(events count: Int, customers customerCount: Int, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        let start: Int64 = 1_767_571_200_000_000
        for c in 0..<customerCount {
            let id = String(format: "C%07d", c)
            customers.append([.text(id), .text("de-DE"), .text("DE"), .text("Europe/Berlin"), .null, .integer(start)])
            invoices.append([.text(id + "-I0"), .text(id), .integer(10_000), .text("EUR"), .text("2026-01-05"), .text("2026-01-19"),
                             .text("open"), .null, .null, .null])
        }
        let kinds = ["delivered", "opened", "clicked", "page_visit", "bounced_soft", "payment"]
        for e in 0..<count {
            let c = Int(rng.next() % UInt64(customerCount))
            let id = String(format: "C%07d", c)
            let kind = kinds[Int(rng.next() % UInt64(kinds.count))]
            let payment = kind == "payment"
            events.append([.text(String(format: "E%09d", e)), .text(id), .text(id + "-I0"), .text(kind), .null,
                           .integer(start + Int64(e) * 1_000_000),
                           payment ? .integer(10_000) : .null, .null,
                           payment ? .null : .text(id + "-P1"), payment ? .text("EUR") : .null, .null,
                           payment ? .text(String(format: "P%09d", e)) : .null, kind == "bounced_soft" ? .text("mailbox_full") : .null,
                           kind == "page_visit" ? .text("link") : .null])
        }
    }
}

private func storeBenchmarksAsync() async throws -> [BenchResult] {
    var results: [BenchResult] = []
    let n = size(1_000_000, quick: 100_000)
    let work = EventWorkload(events: n, customers: size(20_000, quick: 2_000), seed: 1)
    let postgresURL = ProcessInfo.processInfo.environment["POM_BENCH_POSTGRES_URL"] ?? ""
    // Each SQLite store lives in its own temporary directory, removed once the store is closed.
    var scratch: [String] = []
    defer { for dir in scratch { try? FileManager.default.removeItem(atPath: dir) } }
    var locations: [(String, () async throws -> any Store)] = [("sqlite", {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        scratch.append(dir)
        return try await openStore("sqlite:\(dir)/bench.sqlite")
    })]
    if !postgresURL.isEmpty {
        let url = postgresURL
        locations.append(("postgres", {
            let schema = "bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
            return try await openStore(url + (url.contains("?") ? "&" : "?") + "schema=\(schema)")
        }))
    }
    for (name, open) in locations {
        var times: [Double] = []
        var cpu = 0.0
        var serverCPU: Double? = nil
        for _ in 0..<3 {
            let store = try await open()
            try await store.write([TableRows(table: Schema.customers, rows: work.customers),
                                   TableRows(table: Schema.invoices, rows: work.invoices)])
            let t0 = DispatchTime.now().uptimeNanoseconds
            let c0 = cpuSeconds()
            let s0 = name == "postgres" ? postgresServerCPUSeconds(url: postgresURL) : nil
            try await store.write([TableRows(table: Schema.events, rows: work.events)])
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            cpu += cpuSeconds() - c0
            if let s0, let s1 = postgresServerCPUSeconds(url: postgresURL) { serverCPU = (serverCPU ?? 0) + s1 - s0 }
            let written = try await store.count(Schema.events)
            precondition(written == n, "wrote \(written) of \(n) events")
            try await store.close()
        }
        times.sort()
        let median = times[times.count / 2]
        results.append(BenchResult(group: "store", name: "\(name) write \(countLabel(n)) event rows (one transaction)", medianSeconds: median,
                                   runs: times.count, rate: Double(n) / median, rateUnit: "rows/s", peakRSSMiB: peakRSSMiB(),
                                   cpuSecondsPerRun: cpu / Double(times.count), serverCPUSecondsPerRun: serverCPU.map { $0 / Double(times.count) },
                                   note: name == "sqlite" ? "rows in key order, prepared INSERT of 100 rows (upsert when keys exist), foreign keys per parent key, WAL"
                                       : "rows in key order, COPY FROM STDIN (staging + upsert when keys exist), foreign keys checked once"))
    }

    // The whole import of an events.jsonl file: read, check types and references, write.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-bench-files-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try RecordFiles.write(Schema.customers, rows: work.customers, to: dir + "/customers.csv")
    try RecordFiles.write(Schema.invoices, rows: work.invoices, to: dir + "/invoices.csv")
    try RecordFiles.write(Schema.events, rows: work.events, to: dir + "/events.jsonl")
    for (name, open) in locations {
        var times: [Double] = []
        var cpu = 0.0
        var serverCPU: Double? = nil
        for _ in 0..<3 {
            let store = try await open()
            let t0 = DispatchTime.now().uptimeNanoseconds
            let c0 = cpuSeconds()
            let s0 = name == "postgres" ? postgresServerCPUSeconds(url: postgresURL) : nil
            try await RecordImport.run(directory: dir, into: store)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            cpu += cpuSeconds() - c0
            if let s0, let s1 = postgresServerCPUSeconds(url: postgresURL) { serverCPU = (serverCPU ?? 0) + s1 - s0 }
            try await store.close()
        }
        times.sort()
        let median = times[times.count / 2]
        results.append(BenchResult(group: "store", name: "\(name) import events.jsonl \(countLabel(n)) rows (parse, check, write)", medianSeconds: median,
                                   runs: times.count, rate: Double(n) / median, rateUnit: "rows/s", peakRSSMiB: peakRSSMiB(),
                                   cpuSecondsPerRun: cpu / Double(times.count), serverCPUSecondsPerRun: serverCPU.map { $0 / Double(times.count) },
                                   note: nil))
    }
    return results
}
