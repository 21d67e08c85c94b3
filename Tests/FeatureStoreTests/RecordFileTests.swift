import Foundation
import Testing
import Vocabulary
@testable import FeatureStore

@Suite("Record values and files")
struct RecordFileTests {
    @Test("Calendar dates agree with Foundation's Gregorian calendar over four centuries")
    func calendarDates() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var rng = Xoshiro256(seed: 7)
        for _ in 0..<2000 {
            let days = Int.random(in: -80_000...80_000, using: &rng)
            let date = CalendarDate(daysSinceEpoch: days)
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: Date(timeIntervalSince1970: Double(days) * 86400))
            #expect(date.components.year == c.year && date.components.month == c.month && date.components.day == c.day)
            // Foundation: Sunday = 1 ... Saturday = 7; ISO: Monday = 1 ... Sunday = 7.
            #expect(date.weekday.rawValue == (c.weekday! + 5) % 7 + 1)
            #expect(CalendarDate(parsing: date.description) == date)
        }
        #expect(CalendarDate(year: 2026, month: 3, day: 2).description == "2026-03-02")
        #expect(CalendarDate(year: 2026, month: 3, day: 2).weekday == .monday)
        #expect(CalendarDate(parsing: "2026-02-29") == nil)
        #expect(CalendarDate(parsing: "2024-02-29") != nil)
        #expect(CalendarDate(parsing: "2026-3-02") == nil)
    }

    @Test("UTC timestamps format and parse whole seconds")
    func timestamps() throws {
        let t = Date(timeIntervalSince1970: 1_772_439_300)  // 2026-03-02T08:15:00Z
        #expect(UTCTimestamp.format(t) == "2026-03-02T08:15:00Z")
        #expect(UTCTimestamp.parse("2026-03-02T08:15:00Z") == t)
        #expect(UTCTimestamp.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
        #expect(UTCTimestamp.parse("2026-03-02T08:15:00") == nil)
        #expect(UTCTimestamp.parse("2026-03-02T24:15:00Z") == nil)
        #expect(LocalDateTime(parsing: "2026-03-02T10:00:00")?.hour == 10)
    }

    @Test("Action sets round-trip through their hexadecimal form")
    func actionSets() throws {
        var rng = Xoshiro256(seed: 11)
        for _ in 0..<200 {
            let actions = DeliveryAction.all.filter { _ in rng.uniform() < 0.3 }
            let set = ActionSet(actions)
            #expect(set.count == actions.count)
            #expect(Array(set) == actions)
            let hex = set.description
            #expect(hex.count == 189)
            #expect(ActionSet(hex: hex) == set)
        }
        let one = ActionSet([DeliveryAction(index: 0), DeliveryAction(index: 755)])
        #expect(one.description.hasSuffix("1"))
        #expect(one.description.hasPrefix("8"))
        #expect(ActionSet(hex: String(repeating: "f", count: 189))?.count == 756)
        #expect(ActionSet(hex: String(repeating: "g", count: 189)) == nil)
        #expect(ActionSet(hex: "abc") == nil)
    }

    @Test("CSV fields are quoted only where RFC 4180 needs it")
    func quoting() {
        #expect(csvField("plain") == "plain")
        #expect(csvField("a,b") == "\"a,b\"")
        #expect(csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(csvField("two\nlines") == "\"two\nlines\"")
        #expect(csvField(" padded") == "\" padded\"")
        #expect(csvField("") == "")
    }

    @Test("Record files appear whole on commit and never half-written")
    func atomicWrites() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-records-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let created = Date(timeIntervalSince1970: 1_767_225_600)
        let customers = [
            Customer(id: "C1", locale: "de-DE", country: "DE", timeZone: "Europe/Berlin", preferredChannel: .sms, createdAt: created),
            Customer(id: "C2", locale: "en-GB", country: "GB", timeZone: "Europe/London", preferredChannel: nil, createdAt: created),
        ]
        let points = [ContactPoint(id: "K1", customerId: "C1", kind: .postal, value: "Hauptstr. 1, 10115 Berlin", phoneType: nil,
                                   validation: .valid, consent: true, source: "import", updatedAt: created)]
        do {
            let w = try CSVRecordWriter<Customer>(directory: dir)
            try w.append(customers[0])
            #expect(!FileManager.default.fileExists(atPath: dir + "/customers.csv"))
            // Dropped without commit: nothing appears, no temporary file is left behind.
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        try CSVRecordWriter.write(customers, directory: dir)
        try CSVRecordWriter.write(points, directory: dir)
        let text = try String(contentsOfFile: dir + "/customers.csv", encoding: .utf8)
        #expect(text == """
            id,locale,country,time_zone,preferred_channel,created_at
            C1,de-DE,DE,Europe/Berlin,sms,2026-01-01T00:00:00Z
            C2,en-GB,GB,Europe/London,,2026-01-01T00:00:00Z

            """)
        let csv = try CSVFile(path: dir + "/contact_points.csv")
        #expect(csv.header == ContactPoint.columns)
        let cols = try csv.read(numeric: [], text: ["value", "validation"])
        #expect(cols.string("value") == ["Hauptstr. 1, 10115 Berlin"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["contact_points.csv", "customers.csv"])
    }

    @Test("Events are JSON Lines with sorted keys that decode to the same events")
    func eventLog() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-events-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let at = Date(timeIntervalSince1970: 1_768_417_331)
        let events = [
            Event(id: "E1", kind: .payment, customerId: "C1", invoiceId: "I1", messageId: "M1", occurredAt: at,
                  payload: EventPayload(amountMinor: 12950, currency: "EUR", paymentId: "P1")),
            Event(id: "E2", kind: .delivered, customerId: "C1", invoiceId: "I1", messageId: nil, occurredAt: at),
        ]
        try EventLogWriter.write(events, directory: dir)
        let lines = try String(contentsOfFile: dir + "/events.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines[0] == #"{"customer_id":"C1","id":"E1","invoice_id":"I1","kind":"payment","message_id":"M1","occurred_at":"2026-01-14T19:02:11Z","payload":{"amount_minor":12950,"currency":"EUR","payment_id":"P1"}}"#)
        #expect(lines[1] == #"{"customer_id":"C1","id":"E2","invoice_id":"I1","kind":"delivered","occurred_at":"2026-01-14T19:02:11Z","payload":{}}"#)
        let decoder = UTCTimestamp.jsonDecoder()
        #expect(try lines.map { try decoder.decode(Event.self, from: Data($0.utf8)) } == events)
    }

    @Test("Hand-written event lines equal the JSON encoder's output, also for awkward strings")
    func eventLinesMatchEncoder() throws {
        let encoder = UTCTimestamp.jsonEncoder()
        let awkward = ["plain", "quote \" and backslash \\", "line\nbreak\ttab\r", "bell\u{07}\u{08}\u{0C}\u{1F}", "päyment/é 💶", ""]
        var rng = Xoshiro256(seed: 3)
        for (k, text) in awkward.enumerated() {
            for kind in EventKind.allCases {
                let payload = EventPayload(amountMinor: rng.uniform() < 0.5 ? Int64(k * 1000) : nil, currency: rng.uniform() < 0.5 ? text : nil,
                                           paymentId: rng.uniform() < 0.5 ? text : nil, channel: rng.uniform() < 0.5 ? .sms : nil,
                                           contactPointId: rng.uniform() < 0.5 ? text : nil, reason: rng.uniform() < 0.5 ? text : nil,
                                           installments: rng.uniform() < 0.5 ? 3 : nil, via: rng.uniform() < 0.5 ? text : nil)
                let e = Event(id: "E\(k)" + text, kind: kind, customerId: text, invoiceId: "I/" + text,
                              messageId: rng.uniform() < 0.5 ? text : nil, occurredAt: Date(timeIntervalSince1970: Double(k) * 1e8), payload: payload)
                let expected = String(decoding: try encoder.encode(e), as: UTF8.self) + "\n"
                #expect(e.jsonLine == expected)
            }
        }
    }

    @Test("Every record's columns are its coding keys")
    func columns() {
        #expect(Customer.columns == ["id", "locale", "country", "time_zone", "preferred_channel", "created_at"])
        #expect(Decision.columns.count == 17)
        #expect(Message.columns.contains("idempotency_key"))
        #expect(Invoice.columns.contains("amount_minor"))
        #expect(Payment.columns == ["id", "customer_id", "invoice_id", "amount_minor", "currency", "paid_at"])
    }
}
