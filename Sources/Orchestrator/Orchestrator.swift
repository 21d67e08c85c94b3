import Channels
import FeatureStore
import Flows
import Foundation
import Optimizer
import Vocabulary

/// What the orchestrator keeps per case beside the flow's own progress: which step each of the
/// case's messages belongs to (so that a bounce or a provider failure raises its condition on the
/// right step).
public struct StoredProgress: Codable, Sendable, Equatable {
    public var flow: CaseProgress
    /// Message id → the step that sent it.
    public var messages: [String: StepRef]

    public init(flow: CaseProgress, messages: [String: StepRef] = [:]) {
        self.flow = flow
        self.messages = messages
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .secondsSince1970
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// The JSON form, which earlier versions stored in `case_states.progress` (`compact()` is
    /// stored now; `init(stored:)` reads both).
    public func json() -> String {
        // Encoding a value of plain fields cannot fail.
        String(decoding: try! Self.encoder.encode(self), as: UTF8.self)
    }

    /// Reads `case_states.progress`.
    public init(json: String) throws {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .secondsSince1970
        self = try d.decode(StoredProgress.self, from: Data(json.utf8))
    }
}

/// `pom-orchestrate run`: one pass over every open case that is due.
///
/// 1. **Enrol**: open invoices issued by the run's date that have no case state get the flow
///    their segment rules pick (newest version) and, when an experiment runs, their arm.
/// 2. **Plan**: due cases are claimed in batches (leases; `FOR UPDATE SKIP LOCKED` on PostgreSQL).
///    For each, the flow executor says which steps are due; send steps become a decision (with its
///    propensity, policy version, experiment and arm) plus a `queued` message plus an outbox row,
///    control steps change the case; all of it and the new progress are written in **one
///    transaction per batch**, before anything is sent.
/// 3. **Dispatch**: due outbox rows are claimed, handed to the channel adapters with their
///    idempotency keys, and marked `sent` (outbox row deleted) in one transaction. A crash between
///    the hand-over and that transaction leaves the row leased; the next run of the worker sends it
///    again under the same idempotency key, which the adapter (or the provider) deduplicates: every
///    message goes out exactly once.
public final class Orchestrator: Sendable {
    public let store: any CaseQueue
    public let flows: FlowLibrary
    public let router: ChannelRouter
    public let model: (any DeliveryModel)?
    public let templates: TemplateCatalogue
    public let configuration: RunConfiguration
    let executor: FlowExecutor

    public init(store: any CaseQueue, flows: FlowLibrary, router: ChannelRouter, model: (any DeliveryModel)?,
                templates: TemplateCatalogue, configuration: RunConfiguration) {
        self.store = store
        self.flows = flows
        self.router = router
        self.model = model
        self.templates = templates
        self.configuration = configuration
        self.executor = FlowExecutor(maxLateDays: configuration.maxLateDays)
    }

    /// Runs enrolment, planning and dispatch for `asOf`.
    /// - Parameter customers: only these customers' due cases and messages (no enrolment): what the
    ///   service runs after events reached them, so that a bounce's fallback goes out in seconds
    ///   however many other cases are due. Nil runs every due case.
    public func run(asOf: Date, runId: String = UUID().uuidString.lowercased(), customers: Set<String>? = nil) async throws -> RunSummary {
        var summary = RunSummary(runId: runId, worker: configuration.worker, asOf: asOf)
        let started = Date()
        let only = customers.map { $0.sorted() }
        try await store.releaseLeases(owner: configuration.worker)
        var clock = PhaseClock(configuration.phaseObserver)
        if configuration.enrol && only == nil { (summary.enrolled, summary.unassigned) = try await enrol(asOf: asOf) }
        clock.lap("enrol")
        try await planDueCases(asOf: asOf, runId: runId, customers: only, summary: &summary)
        try await dispatch(asOf: asOf, customers: only, summary: &summary)
        try await router.flush()
        try await store.apply([.upsert(TableRows(table: Schema.runs, rows: [[
            .text(runId + "/" + configuration.worker), .text(configuration.worker), .integer(micros(asOf)), .integer(micros(started)),
            .integer(micros(Date())), .integer(Int64(summary.enrolled)), .integer(Int64(summary.cases)),
            .integer(Int64(summary.decisions)), .integer(Int64(summary.queued)), .integer(Int64(summary.sent)),
            .integer(Int64(summary.failed)),
        ]]))])
        return summary
    }

    // MARK: Planning

    /// Claims the due cases batch by batch, plans each batch and writes it in one transaction.
    ///
    /// With `RunConfiguration.overlapPlanWrites` the work is a pipeline over three batches: while
    /// one batch is planned on the cores, a task writes the batch before it and, once that has
    /// committed, claims the batch after it and starts reading that batch's rows (SQLite has one
    /// writer: the claim waits for the write anyway; the reads run on the pool's readers, beside
    /// the next write). Cases of customers whose rows a write in flight may change (the batch
    /// being planned, which is written next, and the customers of the messages handed over with
    /// it) are not read ahead: they are read and planned once that write has committed, so they
    /// see its messages, contact points and contact-cap sends as they would one batch after the
    /// other. The other customers' rows those writes do not touch.
    func planDueCases(asOf: Date, runId: String, customers only: [String]?, summary: inout RunSummary) async throws {
        let ct = Schema.caseStates
        let base = RunSummary(runId: summary.runId, worker: summary.worker, asOf: summary.asOf)
        let (observer, store, configuration) = (configuration.phaseObserver, store, configuration)
        @Sendable func customer(_ row: [Value]) -> String { ct.value(row, "customer_id").text! }
        @Sendable func claim() async throws -> [[Value]] {
            var clock = PhaseClock(observer)
            let rows = try await store.claim(ct, dueColumn: "next_due_at", dueBy: micros(asOf), owner: configuration.worker,
                                             leaseUntil: micros(asOf.addingTimeInterval(configuration.leaseSeconds)), now: micros(asOf),
                                             limit: configuration.batchSize, customers: only)
            clock.lap("claim")
            return rows
        }
        /// Claims a batch and starts reading the rows of its cases except those of `unread`
        /// customers (on SQLite's readers, beside the next write).
        @Sendable func claimAndRead(unread: Set<String>) async throws -> ClaimedBatch {
            let rows = try await claim()
            let readable = unread.isEmpty ? rows : rows.filter { !unread.contains(customer($0)) }
            return ClaimedBatch(rows: rows, facts: Task { try await self.read(readable, asOf: asOf) }, unread: unread)
        }
        var rounds: [CaseKey: Int] = [:]
        // Writes the batch before the one being planned, then claims and reads the batch after it.
        var writing: Task<ClaimedBatch, any Error>?
        var writingCustomers: Set<String> = []
        // The written batch's messages due now, handed over once it has committed ...
        var handing: [DueMessage] = []
        // ... and what came of them, written with the next batch.
        var outcomes: [TableChange] = [], outcomeCustomers: Set<String> = []
        func sendCommitted() async throws {
            guard !handing.isEmpty else { return }
            var clock = PhaseClock(observer)
            let (changes, customers) = try await handOver(handing, asOf: asOf, summary: &summary)
            handing = []
            outcomes += changes
            outcomeCustomers.formUnion(customers)
            clock.lap("plan.send")
        }
        func finishWrite() async throws -> ClaimedBatch {
            guard let previous = writing else { return try await claimAndRead(unread: []) }
            writing = nil
            writingCustomers = []
            var clock = PhaseClock(observer)
            let next = try await previous.value
            clock.lap("plan.wait")
            try await sendCommitted()
            return next
        }
        /// Starts the write of `changes` (touching `customers`' rows); the batch its task claims
        /// afterwards is not read for `unread` customers (the batch planned meanwhile).
        func write(_ changes: [TableChange], customers: Set<String>, unread: Set<String>) {
            writing = Task {
                var clock = PhaseClock(observer)
                try await store.apply(changes)
                clock.lap("plan.write")
                return try await claimAndRead(unread: unread)
            }
            writingCustomers = customers
        }
        // The reads of the batch at hand, awaited before an error leaves the run.
        var reading: Task<BatchFacts, any Error>?
        do {
            var batch = try await claimAndRead(unread: [])
            while true {
                reading = batch.facts
                let rows = batch.rows
                if rows.isEmpty {
                    if writing != nil {
                        // The batch being written may leave cases due again today: its task claims after its commit.
                        batch = try await finishWrite()
                    } else if !outcomes.isEmpty {
                        // The last batch's hand-over; a failed message's case is due again at once.
                        write(outcomes, customers: outcomeCustomers, unread: [])
                        (outcomes, outcomeCustomers) = ([], [])
                    } else {
                        break
                    }
                    continue
                }
                for row in rows {
                    let key = CaseKey(customerId: customer(row), invoiceId: ct.value(row, "invoice_id").text!)
                    rounds[key, default: 0] += 1
                    if rounds[key]! > 20 { throw OrchestratorError.caseLoops(invoice: key.invoiceId, steps: 20) }
                }
                guard configuration.overlapPlanWrites else {
                    let (writes, part) = try compute(rows, facts: try await batch.facts.value, asOf: asOf, runId: runId, base: base)
                    summary.add(part)
                    var clock = PhaseClock(observer)
                    try await store.apply(writes.changes)
                    clock.lap("plan.write")
                    handing = writes.dueNow
                    try await sendCommitted()
                    if !outcomes.isEmpty {
                        try await store.apply(outcomes)
                        (outcomes, outcomeCustomers) = ([], [])
                        clock.lap("plan.write")
                    }
                    batch = try await claimAndRead(unread: [])
                    continue
                }
                // Cases of customers the write in flight touches (it includes everyone not read ahead) wait for its commit.
                precondition(batch.unread.isSubset(of: writingCustomers), "planDueCases: rows read ahead of a write that changes them")
                let waits = writingCustomers.isEmpty ? [] : rows.filter { writingCustomers.contains(customer($0)) }
                let now = waits.isEmpty ? rows : rows.filter { !writingCustomers.contains(customer($0)) }
                var (writes, part) = try compute(now, facts: try await batch.facts.value, asOf: asOf, runId: runId, base: base)
                let next = try await finishWrite()
                if !waits.isEmpty {
                    let (more, morePart) = try await prepare(waits, asOf: asOf, runId: runId, base: base)
                    writes.append(more)
                    part.add(morePart)
                }
                summary.add(part)
                // `next` is leased, so the claim after this write skips it; its customers' rows are
                // written by the task after this one, so the batch after it is not read for them.
                write(outcomes + writes.changes, customers: Set(rows.map(customer)).union(outcomeCustomers),
                      unread: Set(next.rows.map(customer)))
                (outcomes, outcomeCustomers) = ([], [])
                handing = writes.dueNow
                batch = next
            }
        } catch {
            // No write or read may outlive the run. What it claimed, and the messages leased for a
            // hand-over that did not happen, are released by the next run of this worker.
            _ = try? await reading?.value
            if let claimed = try? await writing?.value { _ = try? await claimed.facts.value }
            throw error
        }
    }

    // MARK: Enrolment

    /// Gives every open, issued invoice without a case state its flow, arm and first due time.
    /// - Returns: how many were enrolled, and how many no flow matched.
    func enrol(asOf: Date) async throws -> (Int, Int) {
        let it = Schema.invoices, cu = Schema.customers
        let issuedBy = CivilTime.formatDate(days: Int((asOf.timeIntervalSince1970 / 86_400).rounded(.down)))
        var after: [Value]? = nil
        var count = 0, unassigned = 0
        let experiment = configuration.experiment
        let newest = flows.newest
        let fallback = try configuration.defaultFlow.map { try flows.newest($0) }
        let only = try configuration.onlyFlow.map { try flows.newest($0) }
        while true {
            let invoices = try await store.unenrolledInvoices(issuedFrom: configuration.enrolIssuedFrom, issuedBy: issuedBy, after: after,
                                                              limit: configuration.batchSize)
            guard let last = invoices.last else { break }
            after = [it.value(last, "customer_id"), it.value(last, "id")]
            var customers: [String: [Value]] = [:]
            for row in try await store.rows(of: cu, customerIds: invoices.map { it.value($0, "customer_id").text! }) {
                customers[cu.value(row, "id").text!] = row
            }
            var states: [[Value]] = [], updated: [TableChange] = []
            for inv in invoices {
                let customerId = it.value(inv, "customer_id").text!
                let customer = customers[customerId]!
                let amount = it.value(inv, "amount_minor").integer!
                let currency = it.value(inv, "currency").text!
                let kind: CustomerKind = .consumer
                guard let flow = only ?? FlowAssignment.assign(
                    customer: FlowAssignment.Customer(kind: kind, country: cu.value(customer, "country").text!),
                    invoice: FlowAssignment.Invoice(amountMinor: amount, currency: currency), flows: newest) ?? fallback else {
                    unassigned += 1
                    continue
                }
                let progress = StoredProgress(flow: CaseProgress(flow: flow))
                let arm = experiment?.arm(of: customerId)
                states.append([.text(customerId), it.value(inv, "id"), .text(flow.name), .integer(Int64(flow.version)),
                               experiment.map { .text($0.name) } ?? .null, arm.map { .text($0.rawValue) } ?? .null,
                               .text(progress.compact()), .integer(micros(asOf)), .null, .null, .integer(micros(asOf))])
                updated.append(.update(it, key: [customerId, it.value(inv, "id").text!],
                                       set: ["flow_name": .text(flow.name), "flow_version": .integer(Int64(flow.version))]))
            }
            // Another worker may enrol the same invoices at the same time: the first case state wins,
            // and the invoice's flow columns are only informational.
            try await store.apply([.insertNew(TableRows(table: Schema.caseStates, rows: states))] + updated)
            count += states.count
        }
        return (count, unassigned)
    }
}
