import Channels
import FeatureStore
import Flows
import Foundation
import LinAlg
import Optimizer
import Vocabulary

/// Rows a planning batch writes, in one transaction.
struct PlanWrites {
    var decisions: [[Value]] = []
    var messages: [[Value]] = []
    var outbox: [[Value]] = []
    var caseStates: [[Value]] = []
    /// The invoice columns the flows changed (status, amount, flow, step), by invoice key: only those
    /// are written, so a payment ingested meanwhile keeps its status.
    var invoices: [[String]: [String: Value]] = [:]
    var contactPoints: [[Value]] = []
    /// Messages due now, rendered, to be handed to their channels once this transaction has
    /// committed (`RunConfiguration.sendOnCommit`).
    var dueNow: [Orchestrator.DueMessage] = []

    /// Adds the rows of `other` (planned from other customers' cases).
    mutating func append(_ other: PlanWrites) {
        decisions += other.decisions
        messages += other.messages
        outbox += other.outbox
        caseStates += other.caseStates
        invoices.merge(other.invoices) { mine, theirs in mine.merging(theirs) { $1 } }
        contactPoints += other.contactPoints
        dueNow += other.dueNow
    }

    var changes: [TableChange] {
        let points = TableRows(table: Schema.contactPoints, rows: contactPoints)
        return [
            .upsert(points), .upsert(TableRows(table: Schema.contactPointVersions, rows: contactPoints)),
        ] + invoices.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { .update(Schema.invoices, key: $0, set: invoices[$0]!) } + [
            .upsert(TableRows(table: Schema.decisions, rows: decisions)),
            .upsert(TableRows(table: Schema.messages, rows: messages)),
            .upsert(TableRows(table: Schema.outbox, rows: outbox)),
            .upsert(TableRows(table: Schema.caseStates, rows: caseStates)),
        ]
    }
}

/// Everything planning needs to know about one case.
struct CaseFacts {
    var key: CaseKey
    var state: [Value]
    var flow: FlowDefinition
    var invoice: [Value]
    var customer: [Value]
    var points: [[Value]]
    var timeZone: TimeZone
    var arm: Experiment.Arm?
    /// Send instants of the customer's messages (for the contact cap).
    var sends: [Int64]
}

/// What carrying out a step came to.
enum StepOutcome {
    case done(raised: [FlowCondition])
    /// The step cannot run yet (contact cap); try again at the instant.
    case postponed(until: Date)
}

/// What planning a claimed batch reads from the store.
struct BatchFacts: Sendable {
    var invoices: [CaseKey: [Value]] = [:]
    var customers: [String: [Value]] = [:]
    var points: [String: [[Value]]] = [:]
    /// Send instants in the contact cap's window.
    var sends: [String: [Int64]] = [:]
    /// Features of the treatment cases, by invoice.
    var contexts: [String: LiveContext] = [:]
}

/// A claimed batch and the read of its rows, running (its cases of customers in `unread` are not
/// read: they wait for the commit of the batch being written).
struct ClaimedBatch: Sendable {
    var rows: [[Value]]
    var facts: Task<BatchFacts, any Error>
    var unread: Set<String>
}

extension Orchestrator {
    /// Reads what a claimed batch of cases needs and plans it: the rows its one transaction writes,
    /// and what the cases came to (counted from `base`).
    func prepare(_ rows: [[Value]], asOf: Date, runId: String, base: RunSummary) async throws -> (PlanWrites, RunSummary) {
        guard !rows.isEmpty else { return (PlanWrites(), base) }
        return try compute(rows, facts: try await read(rows, asOf: asOf), asOf: asOf, runId: runId, base: base)
    }

    /// The store rows planning `rows` needs: their invoices, customers, contact points, recent
    /// sends and (treatment cases) model features.
    func read(_ rows: [[Value]], asOf: Date) async throws -> BatchFacts {
        guard !rows.isEmpty else { return BatchFacts() }
        let ct = Schema.caseStates, it = Schema.invoices, cu = Schema.customers, cp = Schema.contactPoints
        var clock = PhaseClock(configuration.phaseObserver)
        let keys = rows.map { CaseKey(customerId: ct.value($0, "customer_id").text!, invoiceId: ct.value($0, "invoice_id").text!) }
        let customerIds = Array(Set(keys.map(\.customerId)))
        // The four reads run at once (SQLite: on the pool's reader connections).
        async let invoiceRows = store.rows(of: it, keys: keys.map { [$0.customerId, $0.invoiceId] })
        async let customerRows = store.rows(of: cu, customerIds: customerIds)
        async let pointRows = store.rows(of: cp, customerIds: customerIds)
        let capFrom = micros(asOf) - Int64(configuration.contactCapDays) * 86_400_000_000
        async let sendTimes = store.sendTimes(customerIds: customerIds, since: capFrom)
        var facts = BatchFacts()
        for row in try await invoiceRows {
            facts.invoices[CaseKey(customerId: it.value(row, "customer_id").text!, invoiceId: it.value(row, "id").text!)] = row
        }
        for row in try await customerRows { facts.customers[cu.value(row, "id").text!] = row }
        for row in try await pointRows { facts.points[cp.value(row, "customer_id").text!, default: []].append(row) }
        facts.sends = try await sendTimes
        // Features for the treatment cases whose flow may ask the model.
        if let model, configuration.experiment != nil {
            let treated = rows.filter { ct.value($0, "arm").text == Experiment.Arm.treatment.rawValue }.map {
                CaseKey(customerId: ct.value($0, "customer_id").text!, invoiceId: ct.value($0, "invoice_id").text!)
            }
            if !treated.isEmpty { facts.contexts = try await model.contexts(for: treated, asOf: asOf, store: store) }
        }
        clock.lap("plan.read")
        return facts
    }

    /// Plans `rows` from what `read` read for them.
    func compute(_ rows: [[Value]], facts: BatchFacts, asOf: Date, runId: String, base: RunSummary) throws -> (PlanWrites, RunSummary) {
        guard !rows.isEmpty else { return (PlanWrites(), base) }
        let ct = Schema.caseStates
        var clock = PhaseClock(configuration.phaseObserver)
        let keys = rows.map { CaseKey(customerId: ct.value($0, "customer_id").text!, invoiceId: ct.value($0, "invoice_id").text!) }
        // Cases are planned on `configuration.threads` cores, each customer's cases on one of them
        // in claim order (the contact cap and contact points carry over between a customer's cases).
        let parts = rows.count >= Self.parallelPlanRows ? min(configuration.threads, rows.count / (Self.parallelPlanRows / 2)) : 1
        let groups = parts > 1 ? Self.byCustomer(keys, parts: parts) : [Array(rows.indices)]
        let planned = ResultSlots<Result<(PlanWrites, RunSummary), any Error>>(count: groups.count)
        let (invoicesRead, customersRead, pointsRead, sendsRead, contextsRead) = (facts.invoices, facts.customers, facts.points, facts.sends,
                                                                                 facts.contexts)
        let work: @Sendable (Int) -> Void = { g in
            planned.set(g, Result {
                var writes = PlanWrites(), part = base
                var points = pointsRead, sends = sendsRead
                for r in groups[g] {
                    try self.plan(rows[r], key: keys[r], invoices: invoicesRead, customers: customersRead, points: &points, sends: &sends,
                                  context: contextsRead[keys[r].invoiceId], asOf: asOf, runId: runId, writes: &writes, summary: &part)
                }
                return (writes, part)
            })
        }
        if groups.count == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: groups.count, execute: work) }
        var writes = PlanWrites(), summary = base
        for g in groups.indices {
            let (w, part) = try planned.get(g).get()
            writes.append(w)
            summary.add(part)
        }
        clock.lap("plan.compute")
        return (writes, summary)
    }

    /// Batches from which planning runs on more than one core (at least half of it per core).
    static let parallelPlanRows = 64

    /// Positions `0..<keys.count` split into `parts` groups by customer (a customer's cases in one
    /// group, in their order), the groups of near-equal size.
    static func byCustomer(_ keys: [CaseKey], parts: Int) -> [[Int]] {
        var groups = [[Int]](repeating: [], count: parts)
        var groupOf: [String: Int] = [:]
        for (r, key) in keys.enumerated() {
            let g = groupOf[key.customerId] ?? groups.indices.min { groups[$0].count < groups[$1].count }!
            groupOf[key.customerId] = g
            groups[g].append(r)
        }
        return groups.filter { !$0.isEmpty }
    }

    /// Plans one claimed case: advances its flow and adds its case state, invoice changes,
    /// decisions, messages and outbox rows to `writes`. `points` and `sends` are the customers'
    /// contact points and recent send times, updated by what the case did.
    func plan(_ row: [Value], key: CaseKey, invoices: [CaseKey: [Value]], customers: [String: [Value]],
              points: inout [String: [[Value]]], sends: inout [String: [Int64]], context: LiveContext?, asOf: Date, runId: String,
              writes: inout PlanWrites, summary: inout RunSummary) throws {
        let ct = Schema.caseStates, it = Schema.invoices, cu = Schema.customers
        guard let invoice = invoices[key], let customer = customers[key.customerId] else { return }
        let flow = try flows.flow(ct.value(row, "flow_name").text!, version: Int(ct.value(row, "flow_version").integer!))
        let zone = LocalClock.zone(cu.value(customer, "time_zone").text!)
        var facts = CaseFacts(key: key, state: row, flow: flow, invoice: invoice,
                              customer: customer, points: points[key.customerId] ?? [], timeZone: zone,
                              arm: ct.value(row, "arm").text.flatMap(Experiment.Arm.init(rawValue:)), sends: sends[key.customerId] ?? [])
        var stored = try StoredProgress(stored: ct.value(row, "progress").text!)
        let (firstMessage, firstOutbox) = (writes.messages.count, writes.outbox.count)
        let next = try advance(&facts, &stored, asOf: asOf, runId: runId, context: context, writes: &writes, summary: &summary)
        sends[key.customerId] = facts.sends
        points[key.customerId] = facts.points
        var state = facts.state
        state[ct.index("flow_name")] = .text(facts.flow.name)
        state[ct.index("flow_version")] = .integer(Int64(facts.flow.version))
        state[ct.index("progress")] = .text(stored.compact())
        state[ct.index("next_due_at")] = next.map { .integer(micros($0)) } ?? .null
        state[ct.index("lease_owner")] = .null
        state[ct.index("lease_until")] = .null
        state[ct.index("updated_at")] = .integer(micros(asOf))
        writes.caseStates.append(state)
        for (i, column) in it.columns.enumerated() where facts.invoice[i] != invoice[i] {
            writes.invoices[[key.customerId, key.invoiceId], default: [:]][column.sqlName] = facts.invoice[i]
        }
        if configuration.sendOnCommit {
            // The case's messages due now, rendered as dispatch would from the rows this batch writes.
            let mt = Schema.messages, cp = Schema.contactPoints, ob = Schema.outbox
            for (m, o) in zip(writes.messages[firstMessage...], writes.outbox[firstOutbox...]) where ob.value(o, "lease_owner") != .null {
                let pointId = mt.value(m, "contact_point_id")
                let point = facts.points.first { cp.value($0, "id") == pointId }
                writes.dueNow.append(dueMessage(o, message: m, point: point, invoice: facts.invoice, customer: customer, asOf: asOf))
            }
        }
        summary.cases += 1
    }

    /// Runs the due steps of one case; returns when it next needs attention (nil: only an event can move it).
    func advance(_ facts: inout CaseFacts, _ stored: inout StoredProgress, asOf: Date, runId: String, context: LiveContext?,
                 writes: inout PlanWrites, summary: inout RunSummary) throws -> Date? {
        let it = Schema.invoices
        let schedule = DueSchedule(dueDate: LocalClock.noon(CalendarDate(parsing: it.value(facts.invoice, "due_date").text!)!, in: facts.timeZone),
                                   timeZone: facts.timeZone)
        for _ in 0..<50 {
            if let status = InvoiceStatus(rawValue: it.value(facts.invoice, "status").text!), status.isClosed, stored.flow.end == nil {
                stored.flow.finish(status == .paid ? .paid : status == .agency ? .escalated : .writtenOff, at: asOf)
            }
            let plan = executor.plan(flow: facts.flow, schedule: schedule, asOf: asOf, progress: stored.flow)
            if let end = plan.end {
                if stored.flow.end == nil { stored.flow.finish(end, at: asOf) }
                summary.flowsEnded += 1
                if end == .switched, let target = stored.flow.switchedTo {
                    // The case continues in the newest version of the target flow, from today on.
                    let next = try flows.newest(target)
                    facts.flow = next
                    stored = StoredProgress(flow: CaseProgress.start(flow: next, schedule: schedule, at: asOf, skipPast: true),
                                            messages: stored.messages)
                    var inv = facts.invoice
                    inv[it.index("flow_name")] = .text(next.name)
                    inv[it.index("flow_version")] = .integer(Int64(next.version))
                    facts.invoice = inv
                    continue
                }
                return nil
            }
            if plan.due.isEmpty { return plan.nextCheck }
            for step in plan.due {
                if step.disposition == .skipOverdue {
                    stored.flow.skip(step, at: asOf)
                    summary.skipped += 1
                    continue
                }
                switch try carryOut(step, &facts, &stored, asOf: asOf, runId: runId, context: context, writes: &writes, summary: &summary) {
                case .done(let raised):
                    stored.flow.record(step, at: asOf, raised: raised)
                    var inv = facts.invoice
                    inv[it.index("step")] = .integer(Int64(step.ref.process))
                    facts.invoice = inv
                case .postponed(let until):
                    summary.postponed += 1
                    return until
                }
            }
        }
        throw OrchestratorError.caseLoops(invoice: facts.key.invoiceId, steps: 50)
    }

    /// Carries out one due step.
    func carryOut(_ step: DueStep, _ facts: inout CaseFacts, _ stored: inout StoredProgress, asOf: Date, runId: String,
                  context: LiveContext?, writes: inout PlanWrites, summary: inout RunSummary) throws -> StepOutcome {
        let it = Schema.invoices
        switch step.kind {
        case .send(let channel, let purpose):
            let tone = step.settings.string("tone").flatMap(Tone.init(rawValue:)) ?? purpose.defaultTone
            return try send(step, channel: channel, tone: tone, purpose: purpose, choice: nil, &facts, &stored, asOf: asOf, runId: runId,
                            writes: &writes, summary: &summary)
        case .control:
            break
        }
        var inv = facts.invoice
        defer { facts.invoice = inv }
        switch step.action {
        case "optimise":
            return try optimise(step, &facts, &stored, asOf: asOf, runId: runId, context: context, writes: &writes, summary: &summary)
        case "stop_if_paid":
            let status = InvoiceStatus(rawValue: it.value(inv, "status").text!)
            return .done(raised: status == .paid ? [] : [.notPaid])
        case "escalate_to_agency", "start_legal_proceedings":
            inv[it.index("status")] = .text(InvoiceStatus.agency.rawValue)
            return .done(raised: [])
        case "write_off":
            inv[it.index("status")] = .text(InvoiceStatus.writtenOff.rawValue)
            return .done(raised: [])
        case "validate_contact_data":
            validateContactData(&facts, asOf: asOf, writes: &writes)
            return .done(raised: [])
        default:
            // Actions that hand work to people or systems outside pom — fees and interest (booked by
            // the ledger from the case's progress: the invoice amount stays what the payer owes on
            // the invoice), manual tasks, agent calls, account-manager notes, credit holds, tags,
            // enrichment requests, address checks — and flow control that the executor handles
            // (wait, pause_on_dispute, switch_flow, stop_flow) are recorded in the case's progress.
            summary.tasks += 1
            return .done(raised: [])
        }
    }
}
