import Foundation
import FeatureStoreBackends
import Testing
import Vocabulary
@testable import Orchestrator

@Suite("A/B assignment")
struct ExperimentTests {
    @Test("The salted hash matches SHA-256 computed independently (Python hashlib)")
    func hashReference() {
        // hashlib.sha256(b"s1:C0000001").digest()[:8] as a big-endian integer >> 11, / 2**53.
        #expect(Experiment.unit(salt: "s1", key: "C0000001") == 0.7224279104354437)
        #expect(Experiment.unit(salt: "abc", key: "C0000042") == 0.05903805815118057)
        let e = Experiment(name: "x", salt: "abc", treatmentShare: 0.5, model: nil)
        #expect(e.arm(of: "C0000042") == .treatment)
        #expect(Experiment(name: "x", salt: "s1", treatmentShare: 0.5, model: nil).arm(of: "C0000001") == .control)
    }

    @Test("Shares hold over many customers and another salt gives another assignment")
    func shares() {
        let ids = (0..<20_000).map { "C\($0)" }
        for share in [0.1, 0.5, 0.8] {
            let e = Experiment(name: "x", salt: "salt-a", treatmentShare: share, model: nil)
            let n = ids.filter { e.arm(of: $0) == .treatment }.count
            let sd = (Double(ids.count) * share * (1 - share)).squareRoot()
            #expect(abs(Double(n) - share * Double(ids.count)) < 4 * sd, "share \(share): \(n)")
        }
        let a = Experiment(name: "x", salt: "salt-a", treatmentShare: 0.5, model: nil)
        let b = Experiment(name: "x", salt: "salt-b", treatmentShare: 0.5, model: nil)
        let agree = ids.filter { a.arm(of: $0) == b.arm(of: $0) }.count
        #expect(abs(Double(agree) / Double(ids.count) - 0.5) < 0.02)
    }

    @Test("The first run fixes an experiment's salt and share; a changed share is refused", arguments: Backend.allCases)
    func resolve(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        let first = try await Experiment.resolve(Experiment(name: "spring", salt: "s-1", treatmentShare: 0.5, model: "channel"),
                                                 in: store, now: instant())
        #expect(first.salt == "s-1")
        let again = try await Experiment.resolve(Experiment(name: "spring", salt: "other", treatmentShare: 0.5, model: "channel"),
                                                 in: store, now: instant(hours: 24))
        #expect(again == first)
        await #expect(throws: OrchestratorError.experimentChanged(name: "spring", stored: 0.5, requested: 0.3)) {
            try await Experiment.resolve(Experiment(name: "spring", salt: "s-1", treatmentShare: 0.3, model: nil), in: store, now: instant())
        }
        try await store.close()
    }
}

@Suite("Event ingest")
struct IngestTests {
    func event(_ id: String, _ kind: EventKind, hours: Double, message: String? = nil, payload: EventPayload = EventPayload()) -> Event {
        Event(id: id, kind: kind, customerId: "C1", invoiceId: "I1", messageId: message, occurredAt: instant(hours: hours), payload: payload)
    }

    @Test("A hard bounce marks the message and its contact point bounced and signals the case", arguments: Backend.allCases)
    func bounce(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        try await SmallCase().write(to: store)
        let result = try await EventIngest.apply([event("E1", .bouncedHard, hours: 0.1, message: "M1", payload: EventPayload(reason: "550 no such user"))],
                                                 to: store)
        #expect(result.new == 1 && result.newKeys == [["C1", "E1"]])
        #expect(result.signals == [CaseSignal(customerId: "C1", invoiceId: "I1", kind: .bouncedHard, messageId: "M1", at: instant(hours: 0.1))])
        let m = try await store.rows(of: Schema.messages, keys: [["C1", "M1"]])[0]
        #expect(Schema.messages.value(m, "status").text == "bounced")
        let p = try await store.rows(of: Schema.contactPoints, keys: [["C1", "C1-E"]])[0]
        #expect(Schema.contactPoints.value(p, "validation").text == "bounced")
        #expect(try await store.count(Schema.contactPointVersions) == 1)
        // A late `delivered` for the same message does not undo the bounce; the same event again changes nothing.
        let late = try await EventIngest.apply([event("E1", .bouncedHard, hours: 0.1, message: "M1"),
                                                event("E2", .delivered, hours: 0.2, message: "M1")], to: store)
        #expect(late.new == 1 && late.newKeys == [["C1", "E2"]])
        #expect(Schema.messages.value(try await store.rows(of: Schema.messages, keys: [["C1", "M1"]])[0], "status").text == "bounced")
        #expect(try await store.count(Schema.events) == 2)
        try await store.close()
    }

    @Test("Payments are recorded; the invoice is partially paid, then paid; re-ingest is idempotent", arguments: Backend.allCases)
    func payments(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        try await SmallCase().write(to: store)
        let first = try await EventIngest.apply([event("E1", .payment, hours: 5, payload: EventPayload(amountMinor: 5_000, currency: "EUR", paymentId: "P1"))],
                                                to: store)
        #expect(first.signals.map(\.paidInFull) == [false])
        func status() async throws -> String? {
            Schema.invoices.value(try await store.rows(of: Schema.invoices, keys: [["C1", "I1"]])[0], "status").text
        }
        #expect(try await status() == "partially_paid")
        let second = try await EventIngest.apply([
            event("E1", .payment, hours: 5, payload: EventPayload(amountMinor: 5_000, currency: "EUR", paymentId: "P1")),
            event("E2", .payment, hours: 30, payload: EventPayload(amountMinor: 7_000, currency: "EUR", paymentId: "P2")),
        ], to: store)
        #expect(second.new == 1 && second.signals.map(\.paidInFull) == [true])
        #expect(try await status() == "paid")
        #expect(try await store.count(Schema.payments) == 2)
        // A dispute after full payment leaves the closed invoice alone.
        _ = try await EventIngest.apply([event("E3", .dispute, hours: 40, payload: EventPayload(reason: "wrong amount"))], to: store)
        #expect(try await status() == "paid")
        try await store.close()
    }

    @Test("A preferred channel set on the payment page is stored with the customer", arguments: Backend.allCases)
    func preferredChannel(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        try await SmallCase().write(to: store)
        let r = try await EventIngest.apply([event("E1", .preferredChannelSet, hours: 1, payload: EventPayload(channel: .sms)),
                                             event("E2", .pageVisit, hours: 0.9, payload: EventPayload(via: "qr"))], to: store)
        #expect(r.signals.map(\.kind) == [.visited, .contactData])
        let c = try await store.rows(of: Schema.customers, customerIds: ["C1"])[0]
        #expect(Schema.customers.value(c, "preferred_channel").text == "sms")
        try await store.close()
    }
}

@Suite("Event files and store copies")
struct EventFileTests {
    @Test("An events file reads into events that round-trip through store rows")
    func roundTrip() throws {
        let dir = try temporaryDirectory("events")
        let path = dir + "/events.jsonl"
        try """
            {"id":"E1","kind":"bounced_hard","customer_id":"C1","invoice_id":"I1","message_id":"M1","occurred_at":"2026-03-02T09:06:00Z","payload":{"contact_point_id":"C1-E","reason":"550"}}
            {"id":"E2","kind":"payment","customer_id":"C1","invoice_id":"I1","occurred_at":"2026-03-03T10:00:00Z","payload":{"payment_id":"P1","amount_minor":12000,"currency":"EUR"}}

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let events = try EventFile.read(path: path)
        #expect(events.map(\.id) == ["E1", "E2"])
        #expect(events[0].kind == .bouncedHard && events[0].messageId == "M1" && events[0].payload.reason == "550")
        #expect(events[0].occurredAt == instant(hours: 0.1))
        #expect(events[1].payload.amountMinor == 12_000 && events[1].payload.paymentId == "P1")
        #expect(events.map { Schema.event(Schema.row($0)) } == events)
    }

    @Test("A bad event names its line and field")
    func badLine() throws {
        let dir = try temporaryDirectory("events")
        let path = dir + "/events.jsonl"
        try """
            {"id":"E1","kind":"delivered","customer_id":"C1","invoice_id":"I1","occurred_at":"2026-03-02T09:06:00Z","payload":{}}
            {"id":"E2","kind":"teleported","customer_id":"C1","invoice_id":"I1","occurred_at":"2026-03-02T09:06:00Z","payload":{}}

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: CSVError.self) { try EventFile.read(path: path) }
        #expect(error.line == 2 && error.column == "kind" && error.value == "teleported")
    }

    @Test("A SQLite store copy holds the same rows and leaves the original alone")
    func snapshot() async throws {
        let url = try freshStoreURL(.sqlite)
        let store = try await openStore(url)
        try await SmallCase().write(to: store)
        try await store.close()
        let copy = try temporaryDirectory("copy") + "/copy.sqlite"
        try copySQLiteStore(from: String(url.dropFirst("sqlite:".count)), to: copy)
        let copied = try await openStore("sqlite:" + copy)
        #expect(try await copied.count(Schema.messages) == 1)
        try await copied.apply([.upsert(TableRows(table: Schema.customers, rows: [[.text("C2"), .text("en"), .text("GB"), .text("Europe/London"), .null, .integer(0)]]))])
        try await copied.close()
        let original = try await openStore(url)
        #expect(try await original.count(Schema.customers) == 1)
        try await original.close()
    }
}
