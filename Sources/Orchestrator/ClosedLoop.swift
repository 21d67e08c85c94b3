import Channels
import FeatureStore
import Foundation
import Simulator

/// A closed-loop run against the simulated world (SPEC §4): the world's customers, contact points
/// and invoices are written to the store, then time advances in ticks; at each tick the world's
/// events since the last one (deliveries, bounces, visits, payments) are ingested and the
/// orchestrator runs as of that instant, sending through the world.
public enum ClosedLoop {
    public struct Summary: Codable, Sendable {
        public var days: Int
        public var ticks: Int
        public var events: Int
        public var runs: [RunSummary]
        public var enrolled: Int { runs.reduce(0) { $0 + $1.enrolled } }
        public var sent: Int { runs.reduce(0) { $0 + $1.sent } }
        public var decisions: Int { runs.reduce(0) { $0 + $1.decisions } }
    }

    /// Writes the world's customers, contact points and invoices into the store (idempotent).
    public static func seed(store: any CaseQueue, world: SimulatedChannel) async throws {
        let customers = await world.customers, points = await world.contactPoints, invoices = await world.invoices
        try await store.apply([
            .upsert(TableRows(table: Schema.customers, rows: customers.map(Schema.customers.row))),
            .upsert(TableRows(table: Schema.contactPoints, rows: points.map(Schema.contactPoints.row))),
            .upsert(TableRows(table: Schema.contactPointVersions, rows: points.map(Schema.contactPoints.row))),
            .upsert(TableRows(table: Schema.invoices, rows: invoices.map(Schema.invoices.row))),
        ])
    }

    /// Runs `days` days from `start` in ticks of `tickHours`.
    /// - Parameter progress: called after each simulated day with (day, days).
    public static func run(orchestrator: Orchestrator, world: SimulatedChannel, start: Date, days: Int, tickHours: Double = 1,
                           progress: (Int, Int) -> Void = { _, _ in }) async throws -> Summary {
        var summary = Summary(days: days, ticks: 0, events: 0, runs: [])
        let ticksPerDay = Int((24 / tickHours).rounded())
        var t = start
        for day in 0..<days {
            for _ in 0..<ticksPerDay {
                t = t.addingTimeInterval(tickHours * 3600)
                let events = await world.advance(to: t)
                summary.events += events.count
                if !events.isEmpty { try await orchestrator.ingest(events, asOf: t, react: false) }
                let run = try await orchestrator.run(asOf: t, runId: "loop-\(Int(t.timeIntervalSince1970))")
                if run.enrolled + run.cases + run.sent + run.failed > 0 { summary.runs.append(run) }
                summary.ticks += 1
            }
            progress(day + 1, days)
        }
        return summary
    }
}
