import Foundation
import FeatureStoreBackends
import LinAlg
import Testing
import Vocabulary
@testable import FeatureStore

private func instant(_ s: String) -> Date { UTCTimestamp.parse(s)! }

/// One customer whose features at the decision time are worked out by hand below.
private func handHistory() -> SyntheticHistory {
    var h = SyntheticHistory(customers: 0, seed: 0)
    h.customers = [Customer(id: "C1", locale: "de-DE", country: "DE", timeZone: "Europe/Berlin", preferredChannel: .letter,
                            createdAt: instant("2025-11-01T00:00:00Z"))]
    h.contactPoints = [
        ContactPoint(id: "P-mail", customerId: "C1", kind: .email, value: "a@example.org", phoneType: nil, validation: .valid,
                     consent: true, source: "import", updatedAt: instant("2026-01-01T00:00:00Z")),
        // Changed after the decision: its final state (invalid) was not known then.
        ContactPoint(id: "P-phone", customerId: "C1", kind: .phone, value: "+4915112345678", phoneType: .mobile, validation: .invalid,
                     consent: true, source: "crm", updatedAt: instant("2026-02-05T00:00:00Z")),
        ContactPoint(id: "P-post", customerId: "C1", kind: .postal, value: "Hauptstraße 1, Berlin", phoneType: nil, validation: .valid,
                     consent: false, source: "import", updatedAt: instant("2026-01-01T00:00:00Z")),
        // Submitted on the payment page after the decision.
        ContactPoint(id: "P-wa", customerId: "C1", kind: .whatsapp, value: "+4915112345678", phoneType: nil, validation: .valid,
                     consent: true, source: "payment_page", updatedAt: instant("2026-02-02T00:00:00Z")),
    ]
    h.invoices = [
        Invoice(id: "I-old", customerId: "C1", amountMinor: 5000, currency: "EUR", issueDate: CalendarDate(parsing: "2025-12-01")!,
                dueDate: CalendarDate(parsing: "2025-12-15")!, status: .paid, flowName: nil, flowVersion: nil, step: nil),
        Invoice(id: "I-1", customerId: "C1", amountMinor: 10000, currency: "EUR", issueDate: CalendarDate(parsing: "2026-01-10")!,
                dueDate: CalendarDate(parsing: "2026-01-24")!, status: .paid, flowName: "consumer-dunning", flowVersion: 3, step: 2),
    ]
    let action = DeliveryAction(channel: .sms, tone: .friendly, weekday: .friday, hour: .h10)
    h.decisions = [Decision(id: "D1", customerId: "C1", invoiceId: "I-1", decidedAt: instant("2026-01-30T09:00:00Z"),
                            candidates: ActionSet([action, DeliveryAction(channel: .email, tone: .firm, weekday: .friday, hour: .h10)]),
                            action: action, propensity: 0.5, propensityIsExact: true, propensityDraws: nil, policy: "random",
                            policyVersion: "1", experiment: "ab-1", arm: "B", contextRef: nil)]
    func message(_ id: String, _ channel: Channel, _ at: String, decision: String?, point: String) -> Message {
        Message(id: id, customerId: "C1", invoiceId: "I-1", decisionId: decision, contactPointId: point, channel: channel,
                template: "reminder", tone: .neutral, scheduledLocal: LocalDateTime(parsing: "2026-01-27T11:00:00")!,
                scheduledAt: instant(at), status: .delivered, providerId: nil, idempotencyKey: "k-" + id, costMinor: channel == .sms ? 8 : 1)
    }
    h.messages = [
        message("M0", .sms, "2026-01-27T10:00:00Z", decision: nil, point: "P-phone"),
        message("M1", .email, "2026-01-28T08:00:00Z", decision: nil, point: "P-mail"),
        message("M2", .sms, "2026-01-30T10:00:00Z", decision: "D1", point: "P-phone"),
    ]
    func event(_ id: String, _ kind: EventKind, _ at: String, message: String? = nil, invoice: String = "I-1",
               _ payload: EventPayload = EventPayload()) -> Event {
        Event(id: id, kind: kind, customerId: "C1", invoiceId: invoice, messageId: message, occurredAt: instant(at), payload: payload)
    }
    h.events = [
        event("E1", .delivered, "2026-01-27T10:00:30Z", message: "M0", EventPayload(contactPointId: "P-phone")),
        event("E2", .clicked, "2026-01-27T10:10:00Z", message: "M0", EventPayload(contactPointId: "P-phone")),
        event("E3", .pageVisit, "2026-01-27T10:11:00Z", message: "M0", EventPayload(via: "link")),
        event("E4", .preferredChannelSet, "2026-01-27T10:12:00Z", EventPayload(channel: .sms)),
        event("E5", .bouncedSoft, "2026-01-28T08:01:00Z", message: "M1", EventPayload(contactPointId: "P-mail", reason: "mailbox_full")),
        event("E6", .payment, "2026-01-29T12:00:00Z", EventPayload(amountMinor: 2000, currency: "EUR", paymentId: "Y1")),
        event("E7", .contactSubmitted, "2026-02-02T00:00:00Z", EventPayload(contactPointId: "P-wa")),
        event("E8", .payment, "2026-02-01T10:00:00Z", message: "M2", EventPayload(amountMinor: 8000, currency: "EUR", paymentId: "Y2")),
        event("E9", .payment, "2025-12-20T12:00:00Z", invoice: "I-old", EventPayload(amountMinor: 5000, currency: "EUR", paymentId: "Y0")),
    ]
    h.payments = [
        Payment(id: "Y0", customerId: "C1", invoiceId: "I-old", amountMinor: 5000, currency: "EUR", paidAt: instant("2025-12-20T12:00:00Z")),
        Payment(id: "Y1", customerId: "C1", invoiceId: "I-1", amountMinor: 2000, currency: "EUR", paidAt: instant("2026-01-29T12:00:00Z")),
        Payment(id: "Y2", customerId: "C1", invoiceId: "I-1", amountMinor: 8000, currency: "EUR", paidAt: instant("2026-02-01T10:00:00Z")),
    ]
    return h
}

/// Rows dated after `after` of every kind a feature reads: responses, bounces, visits, disputes,
/// plans, preferences, payments, new and changed contact points.
private func laterRows(_ base: SyntheticHistory, after: (String) -> Int?) -> SyntheticHistory {
    var add = SyntheticHistory(customers: 0, seed: 0)
    var n = 0
    for customer in base.customers {
        guard let t = after(customer.id) else { continue }
        let at = { (k: Int) in Date(timeIntervalSince1970: Double(t + k)) }
        let invoice = base.invoices.first { $0.customerId == customer.id }!
        let message = base.messages.first { $0.customerId == customer.id && $0.invoiceId == invoice.id }
        func event(_ kind: EventKind, _ k: Int, _ payload: EventPayload = EventPayload(), message: String? = nil) {
            n += 1
            add.events.append(Event(id: "L\(n)", kind: kind, customerId: customer.id, invoiceId: invoice.id, messageId: message,
                                    occurredAt: at(k), payload: payload))
        }
        if let message {
            event(.bouncedHard, 1, EventPayload(contactPointId: message.contactPointId, reason: "unknown_user"), message: message.id)
            event(.opened, 2, message: message.id)
            event(.clicked, 3, message: message.id)
        }
        event(.pageVisit, 4, EventPayload(via: "qr"))
        event(.preferredChannelSet, 5, EventPayload(channel: .whatsapp))
        event(.dispute, 6, EventPayload(reason: "amount"))
        event(.paymentPlanAgreed, 7, EventPayload(amountMinor: 100, currency: "EUR", installments: 3))
        add.payments.append(Payment(id: "LP\(n)", customerId: customer.id, invoiceId: invoice.id, amountMinor: invoice.amountMinor,
                                    currency: "EUR", paidAt: at(8)))
        add.contactPoints.append(ContactPoint(id: "\(customer.id)-LATE", customerId: customer.id, kind: .push, value: "token",
                                              phoneType: nil, validation: .valid, consent: true, source: "app", updatedAt: at(9)))
        event(.contactSubmitted, 9, EventPayload(contactPointId: "\(customer.id)-LATE"))
        for var point in base.contactPoints where point.customerId == customer.id {
            point.validation = .invalid
            point.consent = false
            point.updatedAt = at(10)
            add.contactPoints.append(point)
        }
        n += 1
        add.messages.append(Message(id: "LM\(n)", customerId: customer.id, invoiceId: invoice.id, decisionId: nil, contactPointId: nil,
                                    channel: .letter, template: "dunning_1", tone: .firm, scheduledLocal: LocalDateTime(parsing: "2026-01-05T10:00:00")!,
                                    scheduledAt: at(11), status: .failed, providerId: nil, idempotencyKey: "late-\(n)", costMinor: 95))
    }
    return add
}

/// Writes only the non-empty record files of `h`.
private func writeAddendum(_ h: SyntheticHistory) throws -> String {
    let dir = try temporaryDirectory("addendum")
    if !h.contactPoints.isEmpty { try CSVRecordWriter.write(h.contactPoints, directory: dir) }
    if !h.messages.isEmpty { try CSVRecordWriter.write(h.messages, directory: dir) }
    if !h.events.isEmpty { try EventLogWriter.write(h.events, directory: dir) }
    if !h.payments.isEmpty { try CSVRecordWriter.write(h.payments, directory: dir) }
    return dir
}

@Suite("Point-in-time training sets")
struct TrainingSetTests {
    @Test("Features, action, propensity and outcomes of a hand-worked history", arguments: Backend.allCases)
    func handWorked(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        try await RecordImport.run(directory: try handHistory().directory(), into: store)
        let set = try await TrainingSetBuilder.build(from: store, options: TrainingSetOptions(horizonDays: 7))
        try #require(set.count == 1)
        var f: [String: Double] = [:]
        for (j, name) in set.featureNames.enumerated() { f[name] = set.features[0, j] }
        let expected: [String: Double] = [
            "log_amount": log1p(100), "open_share": 0.8, "days_overdue": 6.375, "days_since_issue": 20.375,
            "dunning_level": 2, "prior_invoices": 1, "prior_paid_share": 1, "has_payment_history": 1, "prior_mean_days_late": 5.5,
            "page_visits": 1, "visited_not_paid": 0, "disputed": 0, "payment_plan": 0, "local_hour": 10, "local_weekend": 0,
            "reachable_email": 0, "reachable_sms": 1, "reachable_letter": 0, "reachable_push": 0, "reachable_robocall": 1,
            "reachable_whatsapp": 0,
            "sent_email": 1, "sent_sms": 1, "sent_letter": 0, "sent_push": 0, "sent_robocall": 0, "sent_whatsapp": 0,
            "bounces_email": 1, "bounces_sms": 0, "responses_sms": 2, "responses_email": 0,
            "preferred_sms": 1, "preferred_letter": 0, "preferred_email": 0,
        ]
        for (name, value) in expected { #expect(f[name] == value, "\(name)") }
        #expect(f.values.allSatisfy { $0.isFinite })
        #expect(set.actions == [DeliveryAction(channel: .sms, tone: .friendly, weekday: .friday, hour: .h10)])
        #expect(set.propensities == [0.5] && set.propensityIsExact == [true])
        #expect(set.experiments == ["ab-1"] && set.arms == ["B"] && set.policies == ["random"])
        #expect(set.candidates[0].count == 2)
        #expect(set.paidWithinHorizon == [true] && set.paid == [true])
        #expect(set.timeToPayDays == [2.0])
        #expect(set.amountPaidMinor == [8000] && set.channelCostMinor == [8])
        // With a horizon of one day the payment two days later is outside; censoring earlier hides it.
        let short = try await TrainingSetBuilder.build(from: store, options: TrainingSetOptions(horizonDays: 1))
        #expect(short.paidWithinHorizon == [false] && short.paid == [true] && short.amountPaidMinor == [0])
        let censored = try await TrainingSetBuilder.build(
            from: store, options: TrainingSetOptions(observedUntil: CivilTime.parseInstant(Array("2026-01-31T10:00:00Z".utf8))))
        #expect(censored.paid == [false] && censored.timeToPayDays == [1.0] && censored.paidWithinHorizon == [false])
        #expect(censored.features == set.features)
        try await store.close()
    }

    @Test("No leakage: rows dated after a decision never change its features; rows before it do", arguments: Backend.allCases)
    func noLeakage(_ backend: Backend) async throws {
        let base = SyntheticHistory(customers: 30, seed: 7)
        let dir = try base.directory()
        let store = try await freshStore(backend)
        try await RecordImport.run(directory: dir, into: store)
        let before = try await TrainingSetBuilder.build(from: store)
        try #require(before.count > 30)

        // Later rows: one second after each customer's last decision.
        let last = Dictionary(base.decisions.map { ($0.customerId, Int($0.decidedAt.timeIntervalSince1970)) }, uniquingKeysWith: max)
        try await RecordImport.run(directory: try writeAddendum(laterRows(base, after: { last[$0] })), into: store)
        let after = try await TrainingSetBuilder.build(from: store)
        #expect(after.decisionIDs == before.decisionIDs)
        #expect(after.features == before.features)
        #expect(after.actions == before.actions && after.propensities == before.propensities)

        // The same rows one minute before each customer's last decision do change its features.
        let early = try await freshStore(backend)
        try await RecordImport.run(directory: dir, into: early)
        try await RecordImport.run(directory: try writeAddendum(laterRows(base, after: { last[$0].map { $0 - 60 } })), into: early)
        let changed = try await TrainingSetBuilder.build(from: early)
        let lastRows = before.decisionIDs.indices.filter { i in
            Int(before.decidedAt[i] / 1_000_000) == last[before.customerIDs[i]]
        }
        for i in lastRows {
            #expect((0..<before.features.columns).contains { before.features[i, $0] != changed.features[i, $0] }, "\(before.decisionIDs[i])")
        }
        try await store.close()
        try await early.close()
    }

    @Test("The block stream concatenates to the whole set", arguments: Backend.allCases)
    func blocks(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        try await RecordImport.run(directory: try SyntheticHistory(customers: 25, seed: 8).directory(), into: store)
        let whole = try await TrainingSetBuilder.build(from: store, options: TrainingSetOptions(customersPerBlock: 10_000))
        var blocks: [TrainingSet] = []
        try await TrainingSetBuilder.forEachBlock(from: store, options: TrainingSetOptions(customersPerBlock: 4)) { blocks.append($0) }
        #expect(blocks.count == 7)
        var joined = TrainingSet()
        for b in blocks { joined.append(b) }
        #expect(joined == whole)
        #expect(whole.features.rows == whole.count && whole.features.columns == FeatureSchema.features.count)
        try await store.close()
    }

    @Test("SQLite and PostgreSQL give the same training set for the same files")
    func sameOnBothBackends() async throws {
        let dir = try SyntheticHistory(customers: 30, seed: 9).directory()
        var sets: [TrainingSet] = []
        for backend in Backend.allCases {
            let store = try await freshStore(backend)
            try await RecordImport.run(directory: dir, into: store)
            sets.append(try await TrainingSetBuilder.build(from: store, options: TrainingSetOptions(customersPerBlock: 7)))
            try await store.close()
        }
        #expect(sets[0].count > 30)
        #expect(sets[0] == sets[1])
    }

    @Test("The feature schema hash is the SHA-256 of its canonical definition and is pinned")
    func schemaHash() {
        #expect(FeatureSchema.hash == sha256Hex(Array(FeatureSchema.canonicalDefinition.utf8)))
        #expect(Set(FeatureSchema.names).count == FeatureSchema.features.count)
        #expect(FeatureSchema.features.count == 45)
        #expect(FeatureSchema.hash == "5f876e2fc9fdb0a94c906bc7813086a3815b982ecf4dade97dfc5f99ae1eb167")
    }
}

@Suite("The shipped sample history")
struct SampleHistoryTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("datasets/sample").path

    @Test("The simulator's sample imports into SQLite and PostgreSQL with the same row counts, exports back to the same rows and gives the same training set")
    func sampleOnBothBackends() async throws {
        var counts: [[String: Int]] = []
        var sets: [TrainingSet] = []
        for backend in Backend.allCases {
            let store = try await freshStore(backend)
            let summary = try await RecordImport.run(directory: Self.sample, into: store)
            counts.append(try await store.counts())
            #expect(counts.last! == summary.rows)
            let out = try temporaryDirectory("sample-export")
            try await RecordExport.run(from: store, to: out)
            for table in Schema.tables {
                let a = try lines(Self.sample + "/" + table.file), b = try lines(out + "/" + table.file)
                #expect(a.sorted() == b.sorted(), "\(backend) \(table.file)")
            }
            sets.append(try await TrainingSetBuilder.build(from: store, options: TrainingSetOptions(customersPerBlock: 50)))
            try await store.close()
        }
        #expect(counts[0] == counts[1])
        #expect(counts[0]["events"]! > 500)
        #expect(sets[0].count == counts[0]["decisions"]!)
        #expect(sets[0] == sets[1])
        #expect(sets[0].propensities.allSatisfy { $0 > 0 && $0 <= 1 })
        #expect(sets[0].features.elements.allSatisfy { $0.isFinite })
    }
}
