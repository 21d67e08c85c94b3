import FeatureStore
import Foundation

/// A summary of the orchestrator's state in a store (`pom-orchestrate status`).
public struct OrchestratorStatus: Sendable, Codable {
    /// Cases by flow, arm and whether their flow has ended.
    public var cases: [String: Int] = [:]
    public var messages: [String: Int] = [:]
    public var outbox = 0
    public var runs = 0
    /// With `asOf`: the instant, and the active cases whose next step was due by then (a run as of
    /// that instant leaves none: each is done, or postponed to a later time).
    public var asOf: Date?
    public var due = 0

    /// Counts from the store (reads every case state and message: for operators, not hot paths).
    /// - Parameter asOf: also count the cases due by this instant.
    public static func read(from store: any CaseQueue, asOf: Date? = nil) async throws -> OrchestratorStatus {
        var s = OrchestratorStatus()
        s.asOf = asOf
        let ct = Schema.caseStates
        let limit = asOf.map(micros)
        for row in try await store.allRows(of: ct) {
            let next = ct.value(row, "next_due_at").integer
            if let limit, let next, next <= limit { s.due += 1 }
            let ended = next == nil ? "waiting for events or ended" : "active"
            s.cases["\(ct.value(row, "flow_name").text!)@\(ct.value(row, "flow_version").integer!) · \(ct.value(row, "arm").text ?? "no experiment") · \(ended)", default: 0] += 1
        }
        for row in try await store.allRows(of: Schema.messages) { s.messages[Schema.messages.value(row, "status").text!, default: 0] += 1 }
        s.outbox = try await store.count(Schema.outbox)
        s.runs = try await store.count(Schema.runs)
        return s
    }

    /// The summary as lines of text.
    public var text: String {
        var lines = ["cases \(cases.values.reduce(0, +))"]
        for (k, v) in cases.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") }
        lines.append("messages \(messages.values.reduce(0, +))")
        for (k, v) in messages.sorted(by: { $0.key < $1.key }) { lines.append("  \(k): \(v)") }
        lines.append("outbox \(outbox)")
        lines.append("runs \(runs)")
        if let asOf { lines.append("due by \(ISO8601DateFormatter().string(from: asOf)) \(due)") }
        return lines.joined(separator: "\n")
    }
}
