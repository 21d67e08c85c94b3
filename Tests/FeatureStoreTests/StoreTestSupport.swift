import Foundation
import FeatureStoreBackends
import LinAlg
import Testing
import Vocabulary

/// The two store backends every store test runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

struct MissingTestServer: Error, CustomStringConvertible {
    var description: String {
        "POM_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts a PostgreSQL server"
    }
}

/// A new temporary directory.
func temporaryDirectory(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pom-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A fresh, empty, migrated store: a new SQLite file, or a new schema in the test server's database.
func freshStore(_ backend: Backend) async throws -> any CaseQueue {
    switch backend {
    case .sqlite:
        return try await openStore("sqlite:" + temporaryDirectory("store") + "/pom.sqlite")
    case .postgres:
        guard let url = ProcessInfo.processInfo.environment["POM_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw MissingTestServer()
        }
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        return try await openStore(url + (url.contains("?") ? "&" : "?") + "schema=\(schema)")
    }
}

/// A small synthetic history in pom's record-file format, made with a seeded generator: customers
/// with contact points in several time zones, invoices, decisions with messages, delivery/response
/// events and payments.
struct SyntheticHistory {
    var customers: [Customer] = []
    var contactPoints: [ContactPoint] = []
    var invoices: [Invoice] = []
    var decisions: [Decision] = []
    var messages: [Message] = []
    var events: [Event] = []
    var payments: [Payment] = []

    static let start = 1_767_571_200  // 2026-01-05T00:00:00Z

    init(customers count: Int, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        let zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"]
        var eventNumber = 0
        func nextEventID() -> String { eventNumber += 1; return String(format: "E%07d", eventNumber) }
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        for c in 0..<count {
            let customerID = String(format: "C%05d", c)
            let created = SyntheticHistory.start + Int(rng.next() % 86_400)
            customers.append(Customer(id: customerID, locale: "de-DE", country: "DE", timeZone: pick(zones),
                                      preferredChannel: rng.uniform() < 0.2 ? pick(Channel.allCases) : nil,
                                      createdAt: Date(timeIntervalSince1970: Double(created))))
            var points: [ContactPoint] = []
            let email = ContactPoint(id: "\(customerID)-P1", customerId: customerID, kind: .email, value: "c\(c)@example.org",
                                     phoneType: nil, validation: rng.uniform() < 0.15 ? .bounced : .valid, consent: true,
                                     source: "import", updatedAt: Date(timeIntervalSince1970: Double(created + Int(rng.next() % (40 * 86_400)))))
            points.append(email)
            if rng.uniform() < 0.7 {
                points.append(ContactPoint(id: "\(customerID)-P2", customerId: customerID, kind: .phone, value: "+49151\(1_000_000 + c)",
                                           phoneType: rng.uniform() < 0.8 ? .mobile : .landline, validation: .unverified,
                                           consent: rng.uniform() < 0.9, source: "crm",
                                           updatedAt: Date(timeIntervalSince1970: Double(created))))
            }
            points.append(ContactPoint(id: "\(customerID)-P3", customerId: customerID, kind: .postal,
                                       value: "Hauptstraße \(c), 10115 Berlin", phoneType: nil, validation: .valid, consent: true,
                                       source: "import", updatedAt: Date(timeIntervalSince1970: Double(created))))
            contactPoints += points
            let invoiceCount = 1 + Int(rng.next() % 3)
            for k in 0..<invoiceCount {
                let invoiceID = "\(customerID)-I\(k)"
                let issueDay = created / 86_400 + k * 10
                let amount = Int64(1_000 + rng.next() % 50_000)
                invoices.append(Invoice(id: invoiceID, customerId: customerID, amountMinor: amount, currency: "EUR",
                                        issueDate: CalendarDate(daysSinceEpoch: issueDay), dueDate: CalendarDate(daysSinceEpoch: issueDay + 14),
                                        status: .open, flowName: rng.uniform() < 0.5 ? "consumer-dunning" : nil, flowVersion: nil, step: nil))
                var t = (issueDay + 10) * 86_400 + Int(rng.next() % 86_400)
                var paid = false
                for n in 0..<(1 + Int(rng.next() % 3)) where !paid {
                    let decisionID = "\(invoiceID)-D\(n)"
                    let action = DeliveryAction(index: Int(rng.next() % UInt64(DeliveryAction.count)))
                    var candidates = ActionSet(DeliveryAction.all.filter { _ in rng.uniform() < 0.2 })
                    candidates.insert(action)
                    let exact = rng.uniform() < 0.8
                    decisions.append(Decision(id: decisionID, customerId: customerID, invoiceId: invoiceID,
                                              decidedAt: Date(timeIntervalSince1970: Double(t)), candidates: candidates, action: action,
                                              propensity: 1.0 / Double(candidates.count), propensityIsExact: exact,
                                              propensityDraws: exact ? nil : 1000, policy: "random", policyVersion: "1",
                                              experiment: rng.uniform() < 0.5 ? "ab-1" : nil, arm: rng.uniform() < 0.5 ? "B" : nil, contextRef: nil))
                    let sendAt = t + 3600 + Int(rng.next() % 7200)
                    let messageID = "\(decisionID)-M"
                    let bounced = action.channel == .email && email.validation == .bounced
                    let point = points.first { $0.canCarry(action.channel) || ($0.kind == action.channel.contactKind) }
                    messages.append(Message(id: messageID, customerId: customerID, invoiceId: invoiceID, decisionId: decisionID,
                                            contactPointId: point?.id, channel: action.channel, template: "reminder, \"kind\"",
                                            tone: action.tone, scheduledLocal: LocalDateTime(date: CalendarDate(daysSinceEpoch: sendAt / 86_400), hour: 10),
                                            scheduledAt: Date(timeIntervalSince1970: Double(sendAt)),
                                            status: point == nil ? .failed : bounced ? .bounced : .delivered,
                                            providerId: point == nil ? nil : "prov-\(messageID)", idempotencyKey: "key-\(messageID)",
                                            costMinor: Int64(action.channel == .letter ? 95 : action.channel == .sms ? 8 : 1)))
                    guard point != nil else { t = sendAt + 86_400; continue }
                    if bounced {
                        events.append(Event(id: nextEventID(), kind: .bouncedHard, customerId: customerID, invoiceId: invoiceID,
                                            messageId: messageID, occurredAt: Date(timeIntervalSince1970: Double(sendAt + 60)),
                                            payload: EventPayload(contactPointId: email.id, reason: "unknown_user")))
                    } else {
                        events.append(Event(id: nextEventID(), kind: .delivered, customerId: customerID, invoiceId: invoiceID,
                                            messageId: messageID, occurredAt: Date(timeIntervalSince1970: Double(sendAt + 30)),
                                            payload: EventPayload(contactPointId: point!.id)))
                        if rng.uniform() < 0.5 {
                            events.append(Event(id: nextEventID(), kind: .clicked, customerId: customerID, invoiceId: invoiceID,
                                                messageId: messageID, occurredAt: Date(timeIntervalSince1970: Double(sendAt + 600)),
                                                payload: EventPayload(contactPointId: point!.id)))
                            events.append(Event(id: nextEventID(), kind: .pageVisit, customerId: customerID, invoiceId: invoiceID,
                                                messageId: messageID, occurredAt: Date(timeIntervalSince1970: Double(sendAt + 660)),
                                                payload: EventPayload(via: "link")))
                        }
                        if rng.uniform() < 0.1 {
                            events.append(Event(id: nextEventID(), kind: .preferredChannelSet, customerId: customerID, invoiceId: invoiceID,
                                                messageId: nil, occurredAt: Date(timeIntervalSince1970: Double(sendAt + 700)),
                                                payload: EventPayload(channel: pick(Channel.allCases))))
                        }
                        if rng.uniform() < 0.4 {
                            let paidAt = sendAt + Int(rng.next() % (5 * 86_400))
                            let paymentID = "\(invoiceID)-P\(n)"
                            payments.append(Payment(id: paymentID, customerId: customerID, invoiceId: invoiceID, amountMinor: amount,
                                                    currency: "EUR", paidAt: Date(timeIntervalSince1970: Double(paidAt))))
                            events.append(Event(id: nextEventID(), kind: .payment, customerId: customerID, invoiceId: invoiceID,
                                                messageId: messageID, occurredAt: Date(timeIntervalSince1970: Double(paidAt)),
                                                payload: EventPayload(amountMinor: amount, currency: "EUR", paymentId: paymentID)))
                            paid = true
                        }
                    }
                    t = sendAt + 3 * 86_400
                }
            }
        }
    }

    /// Writes the record files into `directory` with the record writers.
    func write(to directory: String) throws {
        try CSVRecordWriter.write(customers, directory: directory)
        try CSVRecordWriter.write(contactPoints, directory: directory)
        try CSVRecordWriter.write(invoices, directory: directory)
        try CSVRecordWriter.write(decisions, directory: directory)
        try CSVRecordWriter.write(messages, directory: directory)
        try EventLogWriter.write(events, directory: directory)
        try CSVRecordWriter.write(payments, directory: directory)
    }

    /// Writes the history into a new temporary directory and returns its path.
    func directory() throws -> String {
        let dir = try temporaryDirectory("history")
        try write(to: dir)
        return dir
    }
}

/// The lines of a text file.
func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
}

/// Replaces line `line` (1-based) of `path` with `transform(line)`.
func editLine(_ path: String, _ line: Int, _ transform: (String) -> String) throws {
    var all = try lines(path)
    all[line - 1] = transform(all[line - 1])
    try all.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
}
