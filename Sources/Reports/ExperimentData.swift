import FeatureStore
import Foundation
import Vocabulary

/// What an A/B report needs from the store for one experiment, as of one instant: the cases in
/// the experiment with their arm, start and full-payment instants, and their messages.
///
/// A case (invoice) is in the experiment when at least one of its decisions up to the as-of
/// instant carries the experiment's name; its arm is the arm of its first such decision (by
/// `decided_at`, then id) and its start is that decision's time. It is paid at the first
/// payment that brings the sum of its payments up to the invoice amount.
public struct ExperimentData: Sendable {
    /// One case in the experiment.
    public struct Case: Sendable, Equatable {
        public var customerId: String
        public var invoiceId: String
        public var arm: String
        /// The first decision of the case in the experiment.
        public var start: Date
        /// When the payments first reached the invoice amount (nil: not by the as-of instant).
        public var paidAt: Date?
        public var amountMinor: Int64
        public var currency: String
        /// Sum of the case's payments from its start up to the as-of instant.
        public var collectedMinor: Int64

        public init(customerId: String, invoiceId: String, arm: String, start: Date, paidAt: Date?, amountMinor: Int64,
                    currency: String, collectedMinor: Int64) {
            self.customerId = customerId
            self.invoiceId = invoiceId
            self.arm = arm
            self.start = start
            self.paidAt = paidAt
            self.amountMinor = amountMinor
            self.currency = currency
            self.collectedMinor = collectedMinor
        }

        /// Hours from the start to full payment, or to `asOf` when unpaid; and whether paid.
        public func duration(asOf: Date) -> (hours: Double, paid: Bool) {
            let end = paidAt ?? asOf
            return (max(0, end.timeIntervalSince(start)) / 3600, paidAt != nil)
        }
    }

    /// One message of a case in the experiment, sent at or after the case's start.
    public struct SentMessage: Sendable, Equatable {
        /// Index of the case in `cases`.
        public var caseIndex: Int
        public var channel: Channel
        public var costMinor: Int64
        /// The delivery instant: the message's `delivered` event, else its send time when its
        /// status says it went out (`sent`/`delivered`: letters have no delivery reports); nil for
        /// queued, bounced and failed messages.
        public var deliveredAt: Date?

        public init(caseIndex: Int, channel: Channel, costMinor: Int64, deliveredAt: Date?) {
            self.caseIndex = caseIndex
            self.channel = channel
            self.costMinor = costMinor
            self.deliveredAt = deliveredAt
        }
    }

    /// The experiment's name.
    public var experiment: String
    /// The instant at which unpaid cases are censored.
    public var asOf: Date
    /// The cases, in (customer, invoice) order.
    public var cases: [Case]
    /// Their messages sent in [start, as-of], in (case, send time) order.
    public var messages: [SentMessage]
    /// Every payment instant of each case after its start up to as-of, ascending (for the
    /// per-channel "next payment after a message").
    public var paymentTimes: [[Date]]
    /// Customers whose cases fell into more than one arm (each case keeps its own arm).
    public var customersInSeveralArms: Int
    /// Cases whose payments had reached the amount before their first experiment decision (left out).
    public var paidBeforeStart: Int

    public init(experiment: String, asOf: Date, cases: [Case], messages: [SentMessage], paymentTimes: [[Date]],
                customersInSeveralArms: Int = 0, paidBeforeStart: Int = 0) {
        precondition(paymentTimes.count == cases.count, "ExperimentData: \(paymentTimes.count) payment lists for \(cases.count) cases")
        self.experiment = experiment
        self.asOf = asOf
        self.cases = cases
        self.messages = messages
        self.paymentTimes = paymentTimes
        self.customersInSeveralArms = customersInSeveralArms
        self.paidBeforeStart = paidBeforeStart
    }

    /// Arm names in order of first appearance.
    public var armNames: [String] {
        var seen = Set<String>(), names: [String] = []
        for c in cases where seen.insert(c.arm).inserted { names.append(c.arm) }
        return names
    }
}

/// Errors of an A/B report the user can fix.
public enum ReportError: Error, CustomStringConvertible, Equatable {
    case noExperiment(String, known: [String])
    case badSplit(String, String)
    case noArm(String, arms: [String])
    case cannotWrite(String, String)

    public var description: String {
        switch self {
        case .noExperiment(let name, let known):
            return "--experiment '\(name)': no decision in the store carries this experiment name up to the as-of time; "
                + (known.isEmpty ? "no decision has an experiment at all" : "experiments in the store: \(known.joined(separator: ", "))")
        case .badSplit(let text, let why):
            return "--split '\(text)': \(why); expected shares in arm order such as 50/50, or arm=share pairs such as control=50,treatment=50"
        case .noArm(let name, let arms):
            return "--control '\(name)': no such arm; the arms are \(arms.joined(separator: ", "))"
        case .cannotWrite(let path, let why):
            return "\(path): cannot write the report (\(why))"
        }
    }
}

extension ExperimentData {
    /// Reads the experiment's cases, payments and messages from `store`.
    ///
    /// Reads the decisions, invoices, payments, messages and events tables in key order (one
    /// pass each). Only rows up to `asOf` count.
    /// - Parameters:
    ///   - store: an open store.
    ///   - experiment: the experiment's name as logged on the decisions.
    ///   - asOf: the censoring instant; nil takes the store's last instant (the largest of
    ///     `decided_at`, `scheduled_at`, `occurred_at` and `paid_at`).
    /// - Throws: `ReportError.noExperiment` (naming the experiments present) when no decision
    ///   carries the name; store errors.
    public static func load(store: any Store, experiment: String, asOf: Date? = nil) async throws -> ExperimentData {
        let end: Date
        if let asOf {
            end = asOf
        } else {
            var last: Int64 = 0
            for (column, table) in [("decided_at", Schema.decisions), ("scheduled_at", Schema.messages),
                                    ("occurred_at", Schema.events), ("paid_at", Schema.payments)] {
                if let m = try await store.maxInstant(of: column, in: table) { last = max(last, m) }
            }
            end = instant(last)
        }
        let endMicros = micros(end)

        // Decisions: the first one of each case in the experiment.
        let d = Schema.decisions
        let (dCustomer, dInvoice, dId, dAt, dExperiment, dArm) =
            (d.index("customer_id"), d.index("invoice_id"), d.index("id"), d.index("decided_at"), d.index("experiment"), d.index("arm"))
        var first: [CaseKey: (at: Int64, id: String, arm: String)] = [:]
        var known = Set<String>()
        for row in try await store.allRows(of: d) {
            guard let name = row[dExperiment].text, let at = row[dAt].integer, at <= endMicros else { continue }
            known.insert(name)
            guard name == experiment else { continue }
            let key = CaseKey(customer: row[dCustomer].text!, invoice: row[dInvoice].text!)
            let id = row[dId].text!
            let arm = row[dArm].text ?? "(no arm)"
            if let f = first[key], (f.at, f.id) <= (at, id) { continue }
            first[key] = (at, id, arm)
        }
        guard !first.isEmpty else { throw ReportError.noExperiment(experiment, known: known.sorted()) }

        // Invoices of those cases.
        let inv = Schema.invoices
        let (iCustomer, iId, iAmount, iCurrency) = (inv.index("customer_id"), inv.index("id"), inv.index("amount_minor"), inv.index("currency"))
        var invoice: [CaseKey: (amount: Int64, currency: String)] = [:]
        for row in try await store.allRows(of: inv) {
            let key = CaseKey(customer: row[iCustomer].text!, invoice: row[iId].text!)
            if first[key] != nil { invoice[key] = (row[iAmount].integer!, row[iCurrency].text!) }
        }

        // Payments up to as-of, per case, ascending.
        let pay = Schema.payments
        let (pCustomer, pInvoice, pAmount, pAt) = (pay.index("customer_id"), pay.index("invoice_id"), pay.index("amount_minor"), pay.index("paid_at"))
        var payments: [CaseKey: [(at: Int64, amount: Int64)]] = [:]
        for row in try await store.allRows(of: pay) {
            let key = CaseKey(customer: row[pCustomer].text!, invoice: row[pInvoice].text!)
            guard first[key] != nil, let at = row[pAt].integer, at <= endMicros else { continue }
            payments[key, default: []].append((at, row[pAmount].integer!))
        }

        var cases: [Case] = [], paymentTimes: [[Date]] = [], index: [CaseKey: Int] = [:]
        var paidBeforeStart = 0
        var armsOfCustomer: [String: Set<String>] = [:]
        for key in first.keys.sorted() {
            let f = first[key]!
            guard let due = invoice[key] else { continue }
            let (amount, currency) = (due.amount, due.currency)
            let list = (payments[key] ?? []).sorted { $0.at < $1.at }
            var sum: Int64 = 0, paidAt: Int64? = nil, collected: Int64 = 0
            var times: [Date] = []
            for p in list {
                sum += p.amount
                if p.at >= f.at {
                    collected += p.amount
                    times.append(instant(p.at))
                }
                if paidAt == nil && sum >= amount { paidAt = p.at }
            }
            if amount == 0 { paidAt = f.at - 1 }
            if let paidAt, paidAt < f.at {
                paidBeforeStart += 1
                continue
            }
            index[key] = cases.count
            armsOfCustomer[key.customer, default: []].insert(f.arm)
            cases.append(Case(customerId: key.customer, invoiceId: key.invoice, arm: f.arm, start: instant(f.at),
                              paidAt: paidAt.map(instant), amountMinor: amount, currency: currency, collectedMinor: collected))
            paymentTimes.append(times)
        }

        // Delivery instants from the event log.
        let ev = Schema.events
        let (eCustomer, eInvoice, eKind, eMessage, eAt) = (ev.index("customer_id"), ev.index("invoice_id"), ev.index("kind"),
                                                           ev.index("message_id"), ev.index("occurred_at"))
        var delivered: [String: Int64] = [:]
        for row in try await store.allRows(of: ev) {
            guard row[eKind].text == EventKind.delivered.rawValue, let message = row[eMessage].text,
                  let at = row[eAt].integer, at <= endMicros,
                  index[CaseKey(customer: row[eCustomer].text!, invoice: row[eInvoice].text!)] != nil else { continue }
            delivered[message] = min(delivered[message] ?? .max, at)
        }

        // Messages sent in [start, as-of].
        let msg = Schema.messages
        let (mCustomer, mInvoice, mId, mChannel, mAt, mStatus, mCost) = (msg.index("customer_id"), msg.index("invoice_id"), msg.index("id"),
                                                                         msg.index("channel"), msg.index("scheduled_at"), msg.index("status"),
                                                                         msg.index("cost_minor"))
        var messages: [(SentMessage, Int64)] = []
        for row in try await store.allRows(of: msg) {
            guard let c = index[CaseKey(customer: row[mCustomer].text!, invoice: row[mInvoice].text!)],
                  let at = row[mAt].integer, at <= endMicros, at >= micros(cases[c].start),
                  let channel = Channel(rawValue: row[mChannel].text!) else { continue }
            let status = MessageStatus(rawValue: row[mStatus].text!)
            var deliveredAt: Date? = nil
            if let e = delivered[row[mId].text!] {
                deliveredAt = instant(e)
            } else if status == .sent || status == .delivered {
                deliveredAt = instant(at)
            }
            messages.append((SentMessage(caseIndex: c, channel: channel, costMinor: row[mCost].integer ?? 0, deliveredAt: deliveredAt), at))
        }
        messages.sort { ($0.0.caseIndex, $0.1) < ($1.0.caseIndex, $1.1) }
        return ExperimentData(experiment: experiment, asOf: end, cases: cases, messages: messages.map(\.0), paymentTimes: paymentTimes,
                              customersInSeveralArms: armsOfCustomer.values.filter { $0.count > 1 }.count,
                              paidBeforeStart: paidBeforeStart)
    }
}

/// A case's key in the store: (customer, invoice).
struct CaseKey: Hashable, Comparable {
    var customer: String
    var invoice: String
    static func < (a: CaseKey, b: CaseKey) -> Bool { (a.customer, a.invoice) < (b.customer, b.invoice) }
}

/// Store instants are microseconds since 1970 (UTC).
func instant(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
