import Foundation
import Vocabulary

/// One customer's rows, in the shapes the feature code needs, sorted by time.
struct CustomerHistory {
    struct ContactPointFacts {
        var id: String
        var kind: String
        var phoneType: String?
        var validation: String
        var consent: Bool
        var updatedAt: Int64
    }
    struct MessageFacts {
        var id: String
        var invoiceID: String
        var decisionID: String?
        var channel: Int
        var scheduledAt: Int64
        var costMinor: Int64
    }
    struct EventFacts {
        var invoiceID: String
        var kind: String
        var messageID: String?
        var t: Int64
        var contactPointID: String?
        var channel: String?
    }
    struct PaymentFacts {
        var invoiceID: String
        var amountMinor: Int64
        var t: Int64
    }
    struct DecisionFacts {
        var id: String
        var invoiceID: String
        var t: Int64
        var action: DeliveryAction
        var candidates: ActionSet
        var propensity: Double
        var propensityIsExact: Bool
        var policy: String
        var policyVersion: String
        var experiment: String?
        var arm: String?
    }

    var customerID: String
    var timeZone: TimeZone
    var invoices: [String: InvoiceFacts] = [:]
    /// Every known version of each contact point, oldest first.
    var contactPoints: [String: [ContactPointFacts]] = [:]
    var messages: [MessageFacts] = []
    var messageChannel: [String: Int] = [:]
    var events: [EventFacts] = []
    var payments: [PaymentFacts] = []
    var decisions: [DecisionFacts] = []
    /// When each invoice was first fully paid, if it was.
    var fullyPaidAt: [String: Int64] = [:]

    /// Groups the rows of a customer block into histories, in customer-id order.
    static func group(_ tables: [String: [[Value]]]) -> [CustomerHistory] {
        var byCustomer: [String: CustomerHistory] = [:]
        var order: [String] = []
        let c = Schema.customers
        for row in tables["customers"] ?? [] {
            let id = row[c.index("id")].text!
            order.append(id)
            byCustomer[id] = CustomerHistory(customerID: id, timeZone: zone(row[c.index("time_zone")].text!))
        }
        func each(_ table: StoreTable, _ body: (inout CustomerHistory, [Value]) -> Void) {
            let k = table.index("customer_id")
            for row in tables[table.name] ?? [] {
                guard let id = row[k].text, byCustomer[id] != nil else { continue }
                body(&byCustomer[id]!, row)
            }
        }
        let inv = Schema.invoices
        each(inv) { h, r in
            let id = r[inv.index("id")].text!
            h.invoices[id] = InvoiceFacts(id: id, amountMinor: r[inv.index("amount_minor")].integer!,
                                          issueDay: CivilTime.parseDate(Array(r[inv.index("issue_date")].text!.utf8))!,
                                          dueDay: CivilTime.parseDate(Array(r[inv.index("due_date")].text!.utf8))!)
        }
        let cp = Schema.contactPointVersions
        each(cp) { h, r in
            h.contactPoints[r[cp.index("id")].text!, default: []].append(ContactPointFacts(
                id: r[cp.index("id")].text!, kind: r[cp.index("kind")].text!, phoneType: r[cp.index("phone_type")].text,
                validation: r[cp.index("validation")].text!, consent: r[cp.index("consent")].integer! != 0,
                updatedAt: r[cp.index("updated_at")].integer!))
        }
        let m = Schema.messages
        each(m) { h, r in
            let channel = Channel(rawValue: r[m.index("channel")].text!)!.index
            let id = r[m.index("id")].text!
            h.messages.append(MessageFacts(id: id, invoiceID: r[m.index("invoice_id")].text!, decisionID: r[m.index("decision_id")].text,
                                           channel: channel, scheduledAt: r[m.index("scheduled_at")].integer!,
                                           costMinor: r[m.index("cost_minor")].integer!))
            h.messageChannel[id] = channel
        }
        let e = Schema.events
        each(e) { h, r in
            h.events.append(EventFacts(invoiceID: r[e.index("invoice_id")].text!, kind: r[e.index("kind")].text!,
                                       messageID: r[e.index("message_id")].text, t: r[e.index("occurred_at")].integer!,
                                       contactPointID: r[e.index("contact_point_id")].text, channel: r[e.index("channel")].text))
        }
        let p = Schema.payments
        each(p) { h, r in
            h.payments.append(PaymentFacts(invoiceID: r[p.index("invoice_id")].text!, amountMinor: r[p.index("amount_minor")].integer!,
                                           t: r[p.index("paid_at")].integer!))
        }
        let d = Schema.decisions
        each(d) { h, r in
            let action = DeliveryAction(channel: Channel(rawValue: r[d.index("channel")].text!)!, tone: Tone(rawValue: r[d.index("tone")].text!)!,
                                        weekday: Weekday(rawValue: Int(r[d.index("weekday")].integer!))!,
                                        hour: HourBucket(rawValue: Int(r[d.index("hour")].integer!))!)
            h.decisions.append(DecisionFacts(
                id: r[d.index("id")].text!, invoiceID: r[d.index("invoice_id")].text!, t: r[d.index("decided_at")].integer!,
                action: action, candidates: ActionSet(hex: r[d.index("candidates")].text!)!,
                propensity: r[d.index("propensity")].real!, propensityIsExact: r[d.index("propensity_is_exact")].integer! != 0,
                policy: r[d.index("policy")].text!, policyVersion: r[d.index("policy_version")].text!,
                experiment: r[d.index("experiment")].text, arm: r[d.index("arm")].text))
        }
        return order.map { id in
            var h = byCustomer[id]!
            h.messages.sort { ($0.scheduledAt, $0.id) < ($1.scheduledAt, $1.id) }
            h.events.sort { $0.t < $1.t }
            for id in h.contactPoints.keys { h.contactPoints[id]!.sort { $0.updatedAt < $1.updatedAt } }
            h.payments.sort { $0.t < $1.t }
            h.decisions.sort { ($0.t, $0.id) < ($1.t, $1.id) }
            var cumulative: [String: Int64] = [:]
            for payment in h.payments {
                cumulative[payment.invoiceID, default: 0] += payment.amountMinor
                if h.fullyPaidAt[payment.invoiceID] == nil, let invoice = h.invoices[payment.invoiceID],
                   cumulative[payment.invoiceID]! >= invoice.amountMinor {
                    h.fullyPaidAt[payment.invoiceID] = payment.t
                }
            }
            return h
        }
    }

    nonisolated(unsafe) private static var zones: [String: TimeZone] = [:]
    private static let zonesLock = NSLock()

    /// The IANA zone `identifier` (UTC when the system does not know it).
    static func zone(_ identifier: String) -> TimeZone {
        zonesLock.lock()
        defer { zonesLock.unlock() }
        if let z = zones[identifier] { return z }
        let z = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
        zones[identifier] = z
        return z
    }

    /// The context of decision `d`: only rows before `d.t`.
    func context(for d: DecisionFacts) -> DecisionContext {
        let t = d.t
        var c = DecisionContext(t: t, invoice: invoices[d.invoiceID] ?? InvoiceFacts(id: d.invoiceID, amountMinor: 0, issueDay: 0, dueDay: 0))
        for p in payments where p.t < t && p.invoiceID == d.invoiceID {
            c.paidOnInvoiceBefore += p.amountMinor
            c.lastPaymentOnInvoice = p.t
        }
        for m in messages where m.scheduledAt < t {
            if m.invoiceID == d.invoiceID { c.messagesOnInvoiceBefore += 1 }
            c.sent[m.channel] += 1
        }
        // In key order, so that sums come out the same to the last bit whatever the dictionary's order.
        for id in invoices.keys.sorted() where id != d.invoiceID {
            let invoice = invoices[id]!
            guard Int64(invoice.issueDay) * 86_400_000_000 <= t else { continue }
            c.priorInvoices += 1
            if let paidAt = fullyPaidAt[id], paidAt < t {
                c.priorPaid += 1
                c.priorDaysLateSum += Double(paidAt - Int64(invoice.dueDay) * 86_400_000_000) / 86_400_000_000
            }
        }
        var createdAfter = Set<String>()
        var bouncedPoints = Set<String>()
        for e in events {
            if e.t >= t {
                if e.kind == EventKind.contactSubmitted.rawValue, let cp = e.contactPointID { createdAfter.insert(cp) }
                continue
            }
            let channel = e.messageID.flatMap { messageChannel[$0] }
            switch e.kind {
            case EventKind.bouncedHard.rawValue, EventKind.bouncedSoft.rawValue:
                if let channel { c.bounces[channel] += 1 }
                if let cp = e.contactPointID { bouncedPoints.insert(cp) }
            case EventKind.opened.rawValue, EventKind.clicked.rawValue:
                if let channel { c.responses[channel] += 1 }
            case EventKind.pageVisit.rawValue, EventKind.qrScan.rawValue:
                if let channel { c.responses[channel] += 1 }
                if e.invoiceID == d.invoiceID {
                    c.visitsOnInvoiceBefore += 1
                    c.lastVisit = e.t
                }
            case EventKind.dispute.rawValue:
                if e.invoiceID == d.invoiceID { c.disputedBefore = true }
            case EventKind.paymentPlanAgreed.rawValue:
                if e.invoiceID == d.invoiceID { c.planBefore = true }
            case EventKind.preferredChannelSet.rawValue:
                c.preferred = e.channel.flatMap { Channel(rawValue: $0) }?.index
            default:
                break
            }
        }
        for id in contactPoints.keys.sorted() where !createdAfter.contains(id) && !bouncedPoints.contains(id) {
            let versions = contactPoints[id]!
            // The latest version known before t; before the first known version the point is taken
            // as unverified with consent (its earlier state is unknown).
            let point = versions.last { $0.updatedAt < t } ?? versions[0]
            let known = point.updatedAt < t
            let usable = known ? (point.validation == "unverified" || point.validation == "valid") && point.consent : true
            guard usable else { continue }
            for channel in Channel.allCases where channel.contactKind.rawValue == point.kind {
                if channel == .sms && point.phoneType != PhoneType.mobile.rawValue { continue }
                c.reachable[channel.index] = true
            }
        }
        let seconds = t >= 0 ? t / 1_000_000 : (t - 999_999) / 1_000_000
        let local = seconds + Int64(ZoneOffsets.secondsFromGMT(timeZone, for: Date(timeIntervalSince1970: Double(seconds))))
        let localDays = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        c.localHour = Int((local - localDays * 86_400) / 3600)
        c.localWeekday = CivilTime.isoWeekday(days: Int(localDays))
        return c
    }

    /// The outcome of decision `d` (see `TrainingSet`).
    func outcome(for d: DecisionFacts, horizon: Int64, observedUntil: Int64) -> (paidWithin: Bool, days: Double, paid: Bool, amount: Int64, cost: Int64) {
        var t0: Int64? = nil
        var cost: Int64 = 0
        for m in messages where m.decisionID == d.id {
            if t0 == nil { t0 = m.scheduledAt }
            cost += m.costMinor
        }
        let start = t0 ?? d.t
        var first: Int64? = nil
        var amount: Int64 = 0
        for p in payments where p.invoiceID == d.invoiceID && p.t >= d.t && p.t <= observedUntil {
            if first == nil { first = p.t }
            if p.t <= start + horizon { amount += p.amountMinor }
        }
        let day = 86_400_000_000.0
        if let first {
            return (first <= start + horizon, Double(max(0, first - start)) / day, true, amount, cost)
        }
        return (false, Double(max(0, observedUntil - start)) / day, false, amount, cost)
    }
}
