import FeatureStore
import Flows
import Foundation

extension Orchestrator {
    /// `pom-orchestrate ingest`: writes `events` and their consequences (`EventIngest`) and, in the
    /// same transaction, tells each case's flow what happened — a hard bounce raises `bounced` on
    /// the step that sent the message, a soft bounce `undeliverable`, a visit starts the
    /// visited-not-paid clock, a full payment ends the flow — and makes the case due at once, so
    /// that the next run sends the backup (`react: true` runs it right away, for the customers whose
    /// cases the events moved).
    /// - Parameter extra: further changes written first in the same transaction (e.g. the contact
    ///   points a `contact_submitted` event names); nothing is written when no event is new.
    @discardableResult
    public func ingest(_ events: [Event], asOf: Date, react: Bool = true, with extra: [TableChange] = []) async throws -> (EventIngest.Result, RunSummary?) {
        let (changes, result) = try await EventIngest.plan(events, store: store)
        guard result.new > 0 else { return (result, nil) }
        let ct = Schema.caseStates
        var states: [CaseKey: [Value]] = [:]
        let keys = Set(result.signals.map { [$0.customerId, $0.invoiceId] })
        for row in try await store.rows(of: ct, keys: Array(keys)) {
            states[CaseKey(customerId: ct.value(row, "customer_id").text!, invoiceId: ct.value(row, "invoice_id").text!)] = row
        }
        var touched = Set<CaseKey>()
        for signal in result.signals {
            let key = CaseKey(customerId: signal.customerId, invoiceId: signal.invoiceId)
            guard var row = states[key] else { continue }
            var stored = try StoredProgress(stored: ct.value(row, "progress").text!)
            guard stored.flow.end == nil else { continue }
            let ref = signal.messageId.flatMap { stored.messages[$0] }
            switch signal.kind {
            case .bouncedHard, .bouncedSoft:
                guard let ref, stored.flow.record(of: ref) != nil else { continue }
                stored.flow.raise(signal.kind == .bouncedHard ? .bounced : .undeliverable, for: ref, at: signal.at)
            case .visited: stored.flow.add(CaseEvent(.visited, at: signal.at, step: ref))
            case .payment:
                guard signal.paidInFull else { continue }
                stored.flow.add(CaseEvent(.paid, at: signal.at))
            case .dispute: stored.flow.add(CaseEvent(.disputed, at: signal.at))
            case .paymentPlan: stored.flow.add(CaseEvent(.paymentPlanAgreed, at: signal.at))
            case .delivered, .contactData: continue
            }
            row[ct.index("progress")] = .text(stored.compact())
            let due = min(ct.value(row, "next_due_at").integer ?? .max, micros(signal.at))
            row[ct.index("next_due_at")] = .integer(due)
            row[ct.index("updated_at")] = .integer(micros(asOf))
            states[key] = row
            touched.insert(key)
        }
        try await store.apply(extra + changes + [.upsert(TableRows(table: ct, rows: touched.sorted().map { states[$0]! }))])
        guard react, !touched.isEmpty else { return (result, nil) }
        return (result, try await run(asOf: asOf, customers: Set(touched.map(\.customerId))))
    }
}
