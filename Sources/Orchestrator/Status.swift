import FeatureStore
import Foundation

/// A summary of the orchestrator's state in a store (`pom-orchestrate status`).
public struct OrchestratorStatus: Sendable, Codable {
    /// Cases by flow, arm and whether their flow has ended.
    public var cases: [String: Int] = [:]
    public var messages: [String: Int] = [:]
    public var outbox = 0
    public var runs = 0

    /// Counts from the store (reads every case state and message: for operators, not hot paths).
    public static func read(from store: any CaseQueue) async throws -> OrchestratorStatus {
        var s = OrchestratorStatus()
        let ct = Schema.caseStates
        for row in try await store.allRows(of: ct) {
            let ended = ct.value(row, "next_due_at") == .null ? "waiting for events or ended" : "active"
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
        return lines.joined(separator: "\n")
    }
}
