import FeatureStore
import Flows
import Foundation
import LinAlg
import Vocabulary

/// A synthetic book of open cases at every stage of a flow, for load tests and benchmarks
/// (`pom-bench orchestrate`).
///
/// One customer per case in Berlin with a valid e-mail address and a mobile number (both with
/// consent), one open invoice of 20–500 EUR per customer, enrolled in `flow`. Due dates are spread
/// so that `asOf` falls on every day from 5 days before the due date to 60 days after it; each
/// case's progress records the processes before that day as done (with the message ids of its
/// sends, as the orchestrator names them), the latest message sent for the case is in `messages`,
/// and every case is due at `asOf` (`next_due_at`), as after a backlog.
public enum SyntheticCases {
    /// Writes `cases` open cases, `chunk` customers per transaction; customer ids are `C0000000`,
    /// `C0000001`, ..., invoice ids the customer's id plus `-I1`, `-I2`, ... With
    /// `invoicesPerCustomer` > 1 (a divisor of `cases`) each customer has that many open cases, each
    /// at its own stage of the flow.
    /// - Throws: the store's errors.
    public static func write(into store: any Store, cases: Int, chunk: Int = 100_000, flow: FlowDefinition, asOf: Date,
                             seed: UInt64, invoicesPerCustomer: Int = 1) async throws {
        precondition(invoicesPerCustomer >= 1 && cases % invoicesPerCustomer == 0, "SyntheticCases: \(cases) cases, \(invoicesPerCustomer) per customer")
        var rng = Xoshiro256(seed: seed)
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        let today = CalendarDate(daysSinceEpoch: Int((asOf.timeIntervalSince1970 + Double(berlin.secondsFromGMT(for: asOf))) / 86_400))
        let created = asOf.addingTimeInterval(-400 * 86_400)
        let ct = Schema.caseStates
        let customerCount = cases / invoicesPerCustomer
        for start in stride(from: 0, to: customerCount, by: chunk) {
            var customers: [[Value]] = [], points: [[Value]] = [], invoices: [[Value]] = [], states: [[Value]] = [], messages: [[Value]] = []
            for c in start..<min(start + chunk, customerCount) {
                let id = String(format: "C%07d", c)
                customers.append(Schema.customers.row(Customer(id: id, locale: "de-DE", country: "DE", timeZone: "Europe/Berlin",
                                                               preferredChannel: nil, createdAt: created)))
                points.append(Schema.contactPoints.row(ContactPoint(
                    id: id + "-E", customerId: id, kind: .email, value: "payer\(c)@example.org", phoneType: nil, validation: .valid,
                    consent: true, source: "import", updatedAt: created)))
                points.append(Schema.contactPoints.row(ContactPoint(
                    id: id + "-M", customerId: id, kind: .phone, value: String(format: "+49151%08d", c), phoneType: .mobile,
                    validation: .unverified, consent: true, source: "import", updatedAt: created)))
                for k in 1...invoicesPerCustomer {
                    // The run's day is day `offset` of the case's flow.
                    let offset = Int(rng.next() % 66) - 5
                    let due = CalendarDate(daysSinceEpoch: today.daysSinceEpoch - offset)
                    let invoiceId = id + "-I\(k)"
                    invoices.append(Schema.invoices.row(Invoice(
                        id: invoiceId, customerId: id, amountMinor: 2_000 + Int64(rng.next() % 48_000), currency: "EUR",
                        issueDate: CalendarDate(daysSinceEpoch: due.daysSinceEpoch - 14), dueDate: due, status: .open, flowName: flow.name,
                        flowVersion: flow.version, step: nil)))
                    let schedule = DueSchedule(dueDate: noon(due, in: berlin), timeZone: berlin)
                    var records: [StepRecord] = []
                    var sent: [String: StepRef] = [:]
                    var latest: (id: String, at: Date)? = nil
                    for (i, process) in flow.processes.enumerated() where process.day < offset {
                        let at = schedule.startOfDay(process.day).addingTimeInterval(10 * 3600)
                        records.append(StepRecord(ref: StepRef(process: i), action: process.action, at: at, outcome: .done))
                        if process.action.hasPrefix("send_") || process.action == "optimise" {
                            let messageId = invoiceId + "/" + flow.name + "@\(flow.version)/processes[\(i)]"
                            sent[messageId] = StepRef(process: i)
                            latest = (messageId, at)
                        }
                    }
                    if let latest {
                        let local = berlin.secondsFromGMT(for: latest.at)
                        let localDay = CalendarDate(daysSinceEpoch: Int((latest.at.timeIntervalSince1970 + Double(local)) / 86_400))
                        messages.append(Schema.messages.row(Message(
                            id: latest.id, customerId: id, invoiceId: invoiceId, decisionId: nil, contactPointId: id + "-E", channel: .email,
                            template: "reminder", tone: .friendly, scheduledLocal: LocalDateTime(date: localDay, hour: 10),
                            scheduledAt: latest.at, status: .sent, providerId: "p-\(c)-\(k)", idempotencyKey: latest.id, costMinor: 0)))
                    }
                    let progress = StoredProgress(flow: CaseProgress(flow: flow.name, flowVersion: flow.version, records: records, events: [],
                                                                     end: nil, endedAt: nil, switchedTo: nil), messages: sent)
                    var state = [Value](repeating: .null, count: ct.columns.count)
                    state[ct.index("customer_id")] = .text(id)
                    state[ct.index("invoice_id")] = .text(invoiceId)
                    state[ct.index("flow_name")] = .text(flow.name)
                    state[ct.index("flow_version")] = .integer(Int64(flow.version))
                    state[ct.index("progress")] = .text(progress.compact())
                    state[ct.index("next_due_at")] = .integer(Int64(asOf.timeIntervalSince1970 * 1_000_000))
                    state[ct.index("updated_at")] = .integer(Int64(asOf.timeIntervalSince1970 * 1_000_000) - 86_400_000_000)
                    states.append(state)
                }
            }
            try await store.write([
                TableRows(table: Schema.customers, rows: customers), TableRows(table: Schema.contactPoints, rows: points),
                TableRows(table: Schema.invoices, rows: invoices), TableRows(table: Schema.messages, rows: messages),
                TableRows(table: Schema.caseStates, rows: states),
            ])
        }
    }

    /// Local noon of `date` in `zone` (the orchestrator's instant for "the due date").
    static func noon(_ date: CalendarDate, in zone: TimeZone) -> Date {
        let naive = Double(date.daysSinceEpoch) * 86_400 + 12 * 3600
        return Date(timeIntervalSince1970: naive - Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: naive))))
    }
}
