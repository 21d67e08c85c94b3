import Foundation
import FeatureStoreBackends
import Testing
import Vocabulary

/// The two store backends every orchestrator test runs against.
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

/// The URL of a fresh, empty store: a new SQLite file, or a new schema in the test server's database.
func freshStoreURL(_ backend: Backend) throws -> String {
    switch backend {
    case .sqlite:
        return "sqlite:" + (try temporaryDirectory("orchestrator")) + "/pom.sqlite"
    case .postgres:
        guard let url = ProcessInfo.processInfo.environment["POM_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw MissingTestServer()
        }
        let schema = "o_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        return url + (url.contains("?") ? "&" : "?") + "schema=\(schema)"
    }
}

/// A fresh, migrated store.
func freshStore(_ backend: Backend) async throws -> any CaseQueue {
    try await openStore(try freshStoreURL(backend))
}

/// 2026-03-02T09:00:00Z plus `hours`.
func instant(hours: Double = 0) -> Date { Date(timeIntervalSince1970: 1_772_442_000 + hours * 3600) }

/// One customer in Berlin with an e-mail address, a mobile number and a postal address, one open
/// invoice of 120.00 EUR due 2026-03-01 and one e-mail sent for it.
struct SmallCase {
    let customer = Customer(id: "C1", locale: "de-DE", country: "DE", timeZone: "Europe/Berlin", preferredChannel: nil,
                            createdAt: instant(hours: -2000))
    var points = [
        ContactPoint(id: "C1-E", customerId: "C1", kind: .email, value: "anna@example.org", phoneType: nil, validation: .valid,
                     consent: true, source: "import", updatedAt: instant(hours: -2000)),
        ContactPoint(id: "C1-M", customerId: "C1", kind: .phone, value: "+4915112345678", phoneType: .mobile, validation: .unverified,
                     consent: true, source: "import", updatedAt: instant(hours: -2000)),
        ContactPoint(id: "C1-P", customerId: "C1", kind: .postal, value: "Hauptstrasse 1, 10115 Berlin", phoneType: nil,
                     validation: .valid, consent: true, source: "import", updatedAt: instant(hours: -2000)),
    ]
    let invoice = Invoice(id: "I1", customerId: "C1", amountMinor: 12_000, currency: "EUR",
                          issueDate: CalendarDate(year: 2026, month: 2, day: 15), dueDate: CalendarDate(year: 2026, month: 3, day: 1),
                          status: .open, flowName: nil, flowVersion: nil, step: nil)
    let message = Message(id: "M1", customerId: "C1", invoiceId: "I1", decisionId: nil, contactPointId: "C1-E", channel: .email,
                          template: "reminder", tone: .friendly,
                          scheduledLocal: LocalDateTime(date: CalendarDate(year: 2026, month: 3, day: 2), hour: 10),
                          scheduledAt: instant(), status: .sent, providerId: "p-1", idempotencyKey: "I1/0/0", costMinor: 1)

    func write(to store: any CaseQueue) async throws {
        try await store.write([
            TableRows(table: Schema.customers, rows: [Schema.customers.row(customer)]),
            TableRows(table: Schema.contactPoints, rows: points.map(Schema.contactPoints.row)),
            TableRows(table: Schema.invoices, rows: [Schema.invoices.row(invoice)]),
            TableRows(table: Schema.messages, rows: [Schema.messages.row(message)]),
        ])
    }
}
