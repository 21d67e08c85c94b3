import FeatureStore
import Foundation
import Vocabulary

/// What an ingested event means for a case's flow.
public struct CaseSignal: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// A message of the case was delivered.
        case delivered
        /// A message bounced hard (the contact point is dead) or soft.
        case bouncedHard, bouncedSoft
        /// The payer opened the payment page (link or QR) or scanned the QR code.
        case visited
        /// A payment arrived; `paidInFull` tells whether the invoice is now paid.
        case payment
        /// The payer disputes the invoice, or agreed a payment plan.
        case dispute, paymentPlan
        /// New contact data or a preferred channel was submitted.
        case contactData
    }

    public var customerId: String
    public var invoiceId: String
    public var kind: Kind
    public var messageId: String?
    public var at: Date
    public var paidInFull: Bool

    public init(customerId: String, invoiceId: String, kind: Kind, messageId: String?, at: Date, paidInFull: Bool = false) {
        self.customerId = customerId
        self.invoiceId = invoiceId
        self.kind = kind
        self.messageId = messageId
        self.at = at
        self.paidInFull = paidInFull
    }
}

/// Event ingest (SPEC §3): delivery, bounce, visit, payment, dispute and contact-data events land
/// in the store, and their consequences are written in the same transaction — the message's
/// status, a hard-bounced contact point marked `bounced` (never used again until revalidated),
/// payments and the invoice's status. Ingesting the same event (same id) twice changes nothing.
public enum EventIngest {
    /// The result of one ingest: how many events were new, and what they signal to the flows.
    public struct Result: Sendable {
        public var received: Int
        public var new: Int
        public var signals: [CaseSignal]
        /// `[customer id, event id]` of the new events (each once, however often it came).
        public var newKeys: Set<[String]> = []
    }

    /// Writes `events` and their consequences in one transaction.
    /// - Parameter extra: further changes to write in the same transaction (e.g. the flows'
    ///   progress updates computed from the signals).
    /// - Throws: `StoreError` (e.g. an event naming an unknown invoice): nothing is written then.
    public static func apply(_ events: [Event], to store: any CaseQueue) async throws -> Result {
        let (changes, result) = try await plan(events, store: store)
        try await store.apply(changes)
        return result
    }

    /// The changes `events` make, without writing them.
    public static func plan(_ events: [Event], store: any CaseQueue) async throws -> ([TableChange], Result) {
        var seen = Set<[String]>()
        let unique = events.filter { seen.insert([$0.customerId, $0.id]).inserted }
        let existing = try await store.existing(Set(unique.map { [$0.customerId, $0.id] }), in: Schema.events)
        let fresh = unique.filter { !existing.contains([$0.customerId, $0.id]) }.sorted { ($0.occurredAt, $0.id) < ($1.occurredAt, $1.id) }
        guard !fresh.isEmpty else { return ([], Result(received: events.count, new: 0, signals: [])) }

        let mt = Schema.messages, it = Schema.invoices, ct = Schema.contactPoints, pt = Schema.payments, cu = Schema.customers
        let messageKeys = Set(fresh.compactMap { e in e.messageId.map { [e.customerId, $0] } })
        var messages: [[String]: [Value]] = [:]
        for row in try await store.rows(of: mt, keys: Array(messageKeys)) {
            messages[[mt.value(row, "customer_id").text!, mt.value(row, "id").text!]] = row
        }
        let invoiceKeys = Set(fresh.map { [$0.customerId, $0.invoiceId] })
        var invoices: [[String]: [Value]] = [:]
        for row in try await store.rows(of: it, keys: Array(invoiceKeys)) {
            invoices[[it.value(row, "customer_id").text!, it.value(row, "id").text!]] = row
        }
        var paidSoFar: [[String]: Int64] = [:]
        for row in try await store.rows(of: pt, customerIds: fresh.filter { $0.kind == .payment }.map(\.customerId)) {
            let key = [pt.value(row, "customer_id").text!, pt.value(row, "invoice_id").text!]
            paidSoFar[key, default: 0] += pt.value(row, "amount_minor").integer ?? 0
        }
        var contactPoints: [[String]: [Value]] = [:]
        let bouncedPoints = fresh.filter { $0.kind == .bouncedHard }.compactMap { e -> [String]? in
            if let p = e.payload.contactPointId { return [e.customerId, p] }
            if let m = e.messageId, let row = messages[[e.customerId, m]], let p = mt.value(row, "contact_point_id").text { return [e.customerId, p] }
            return nil
        }
        for row in try await store.rows(of: ct, keys: Array(Set(bouncedPoints))) {
            contactPoints[[ct.value(row, "customer_id").text!, ct.value(row, "id").text!]] = row
        }
        var customers: [String: [Value]] = [:]
        for row in try await store.rows(of: cu, customerIds: fresh.filter { $0.kind == .preferredChannelSet }.map(\.customerId)) {
            customers[cu.value(row, "id").text!] = row
        }

        var changedMessages: [[String]: [Value]] = [:]
        var changedInvoices: [[String]: [Value]] = [:]
        var changedPoints: [[String]: [Value]] = [:]
        var changedCustomers: [String: [Value]] = [:]
        var newPayments: [[Value]] = []
        var signals: [CaseSignal] = []
        func setMessageStatus(_ e: Event, _ status: MessageStatus) {
            guard let m = e.messageId, var row = changedMessages[[e.customerId, m]] ?? messages[[e.customerId, m]] else { return }
            let current = MessageStatus(rawValue: mt.value(row, "status").text ?? "") ?? .queued
            // A bounce or failure is final; a late `delivered` does not undo it.
            if current == .bounced || current == .failed { return }
            row[mt.index("status")] = .text(status.rawValue)
            changedMessages[[e.customerId, m]] = row
        }
        func setInvoiceStatus(_ e: Event, _ status: InvoiceStatus) {
            let key = [e.customerId, e.invoiceId]
            guard var row = changedInvoices[key] ?? invoices[key] else { return }
            let current = InvoiceStatus(rawValue: it.value(row, "status").text ?? "") ?? .open
            if current.isClosed { return }
            row[it.index("status")] = .text(status.rawValue)
            changedInvoices[key] = row
        }
        for e in fresh {
            let signal = { (kind: CaseSignal.Kind, full: Bool) in
                signals.append(CaseSignal(customerId: e.customerId, invoiceId: e.invoiceId, kind: kind, messageId: e.messageId,
                                          at: e.occurredAt, paidInFull: full))
            }
            switch e.kind {
            case .delivered:
                setMessageStatus(e, .delivered)
                signal(.delivered, false)
            case .bouncedHard, .bouncedSoft:
                setMessageStatus(e, .bounced)
                if e.kind == .bouncedHard {
                    var point = e.payload.contactPointId
                    if point == nil, let m = e.messageId, let row = messages[[e.customerId, m]] { point = mt.value(row, "contact_point_id").text }
                    if let point, var row = changedPoints[[e.customerId, point]] ?? contactPoints[[e.customerId, point]] {
                        row[ct.index("validation")] = .text(ValidationState.bounced.rawValue)
                        row[ct.index("updated_at")] = .integer(micros(e.occurredAt))
                        changedPoints[[e.customerId, point]] = row
                    }
                }
                signal(e.kind == .bouncedHard ? .bouncedHard : .bouncedSoft, false)
            case .opened, .clicked:
                break
            case .pageVisit, .qrScan:
                signal(.visited, false)
            case .payment:
                let key = [e.customerId, e.invoiceId]
                let amount = e.payload.amountMinor ?? 0
                guard amount > 0 else { break }
                newPayments.append([.text(e.payload.paymentId ?? e.id), .text(e.customerId), .text(e.invoiceId), .integer(amount),
                                    .text(e.payload.currency ?? (invoices[key].flatMap { it.value($0, "currency").text } ?? "EUR")),
                                    .integer(micros(e.occurredAt))])
                paidSoFar[key, default: 0] += amount
                let due = invoices[key].flatMap { it.value($0, "amount_minor").integer } ?? .max
                let full = paidSoFar[key]! >= due
                setInvoiceStatus(e, full ? .paid : .partiallyPaid)
                signal(.payment, full)
            case .dispute:
                setInvoiceStatus(e, .disputed)
                signal(.dispute, false)
            case .paymentPlanAgreed:
                setInvoiceStatus(e, .paymentPlan)
                signal(.paymentPlan, false)
            case .contactSubmitted:
                signal(.contactData, false)
            case .preferredChannelSet:
                if var row = changedCustomers[e.customerId] ?? customers[e.customerId], let channel = e.payload.channel {
                    row[cu.index("preferred_channel")] = .text(channel.rawValue)
                    changedCustomers[e.customerId] = row
                }
                signal(.contactData, false)
            }
        }
        var changes: [TableChange] = []
        if !changedCustomers.isEmpty { changes.append(.upsert(TableRows(table: cu, rows: changedCustomers.keys.sorted().map { changedCustomers[$0]! }))) }
        if !changedPoints.isEmpty {
            let rows = changedPoints.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { changedPoints[$0]! }
            changes.append(.upsert(TableRows(table: ct, rows: rows)))
            changes.append(.upsert(TableRows(table: Schema.contactPointVersions, rows: rows)))
        }
        // Payments reference invoices, events reference messages: write in dependency order.
        // A message's status only moves forward (queued → sent → delivered → bounced): each update is
        // guarded by the statuses it may replace, so a dispatch or another ingest that wrote meanwhile
        // is not undone.
        // Grouped by status (one batched statement per group on PostgreSQL), keys in order within it.
        let byStatus = changedMessages.map { (status: mt.value($0.value, "status").text!, key: $0.key) }
            .sorted { $0.status != $1.status ? $0.status < $1.status : $0.key.lexicographicallyPrecedes($1.key) }
        for (rawStatus, key) in byStatus {
            let status = MessageStatus(rawValue: rawStatus)!
            let replaceable: [MessageStatus] = status == .delivered ? [.queued, .sent, .delivered] : [.queued, .sent, .delivered, .bounced]
            changes.append(.update(mt, key: key, set: ["status": .text(status.rawValue)],
                                   onlyIf: RowGuard("status", in: replaceable.map(\.rawValue))))
        }
        changes.append(.upsert(TableRows(table: Schema.events, rows: fresh.map(Schema.row))))
        changes.append(.upsert(TableRows(table: pt, rows: newPayments)))
        // Only the status column of an invoice changes, and only while the case is not closed (a run
        // that wrote the invoice's flow columns meanwhile, or a payment ingested elsewhere, stays).
        let open = RowGuard("status", in: InvoiceStatus.allCases.filter { !$0.isClosed }.map(\.rawValue))
        for key in changedInvoices.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            changes.append(.update(it, key: key, set: ["status": it.value(changedInvoices[key]!, "status")], onlyIf: open))
        }
        return (changes, Result(received: events.count, new: fresh.count, signals: signals, newKeys: Set(fresh.map { [$0.customerId, $0.id] })))
    }
}
