import Channels
import FeatureStoreBackends
import Flows
import Foundation
import Orchestrator
import PaymentPage
import Testing
import Vocabulary

/// 2026-02-26T12:00:00Z: day -3 of an invoice due 2026-03-01 in Berlin.
let preDue = Date(timeIntervalSince1970: 1_772_107_200)

/// Two customers in Berlin reachable by letter only (a postal address): C7 with invoice I7 of
/// 120.00 EUR and C8 with invoice I8 of 75.50 EUR, both due 2026-03-01.
struct LetterCases {
    static let customers = [
        Customer(id: "C7", locale: "de-DE", country: "DE", timeZone: "Europe/Berlin", preferredChannel: nil, createdAt: preDue.addingTimeInterval(-90 * 86_400)),
        Customer(id: "C8", locale: "en-GB", country: "DE", timeZone: "Europe/Berlin", preferredChannel: nil, createdAt: preDue.addingTimeInterval(-90 * 86_400)),
    ]
    static let points = [
        ContactPoint(id: "C7-P", customerId: "C7", kind: .postal, value: "Erika Mustermann, Hauptstrasse 1, 10115 Berlin", phoneType: nil,
                     validation: .valid, consent: true, source: "import", updatedAt: preDue.addingTimeInterval(-90 * 86_400)),
        ContactPoint(id: "C8-P", customerId: "C8", kind: .postal, value: "John Smith, Lindenweg 4, 04109 Leipzig", phoneType: nil,
                     validation: .valid, consent: true, source: "import", updatedAt: preDue.addingTimeInterval(-90 * 86_400)),
    ]
    static let invoices = [
        Invoice(id: "I7", customerId: "C7", amountMinor: 12_000, currency: "EUR", issueDate: CalendarDate(year: 2026, month: 2, day: 1),
                dueDate: CalendarDate(year: 2026, month: 3, day: 1), status: .open, flowName: nil, flowVersion: nil, step: nil),
        Invoice(id: "I8", customerId: "C8", amountMinor: 7_550, currency: "EUR", issueDate: CalendarDate(year: 2026, month: 2, day: 1),
                dueDate: CalendarDate(year: 2026, month: 3, day: 1), status: .open, flowName: nil, flowVersion: nil, step: nil),
    ]

    static func write(to store: any CaseQueue) async throws {
        try await store.write([
            TableRows(table: Schema.customers, rows: customers.map(Schema.customers.row)),
            TableRows(table: Schema.contactPoints, rows: points.map(Schema.contactPoints.row)),
            TableRows(table: Schema.invoices, rows: invoices.map(Schema.invoices.row)),
        ])
    }
}

/// A clock the test moves.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date) { current = start }
    var now: Date {
        lock.lock()
        defer { lock.unlock() }
        return current
    }
    func set(_ d: Date) {
        lock.lock()
        current = d
        lock.unlock()
    }
}

/// A store with the letter cases and the example flows, an orchestrator over an in-memory
/// dry-run channel and the payment page on top.
struct PageFixture {
    let store: any CaseQueue
    let orchestrator: Orchestrator
    let adapter: DryRunAdapter
    let pages: PaymentPages
    let clock: TestClock
    static let secret = "test-link-secret"

    init(_ backend: Backend, provider: any PaymentProvider = TestPaymentProvider()) async throws {
        store = try await freshStore(backend)
        try await LetterCases.write(to: store)
        _ = try await FlowLibrary.store(files: try exampleFlows(), into: store, now: preDue.addingTimeInterval(-100 * 3600))
        let adapter = DryRunAdapter()
        self.adapter = adapter
        let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }))
        var config = RunConfiguration()
        config.linkSecret = Self.secret
        config.paymentLinkBase = "https://pay.example.com"
        let templates = try TemplateCatalogue.bundled()
        orchestrator = Orchestrator(store: store, flows: try await FlowLibrary.load(from: store), router: router, model: nil,
                                    templates: templates, configuration: config)
        let clock = TestClock(preDue.addingTimeInterval(3600))
        self.clock = clock
        pages = PaymentPages(store: store, configuration: PaymentPageConfiguration(run: config), provider: provider, events: orchestrator,
                             templates: templates, clock: { clock.now })
    }

    /// A link token for an invoice, valid for 30 days from the fixture's start.
    func token(_ customer: String, _ invoice: String, expires: Date = preDue.addingTimeInterval(30 * 86_400)) -> String {
        PaymentLink.token(customerId: customer, invoiceId: invoice, secret: Self.secret, expires: expires)
    }

    /// The form token in a rendered page.
    static func formToken(in html: String) throws -> String {
        let marker = "name=\"form_token\" value=\""
        let start = try #require(html.range(of: marker)).upperBound
        return String(html[start...].prefix { $0 != "\"" })
    }

    func rows(_ table: StoreTable) async throws -> [[Value]] { try await store.allRows(of: table) }

    func events(_ kind: EventKind) async throws -> [[Value]] {
        try await rows(Schema.events).filter { Schema.events.value($0, "kind").text == kind.rawValue }
    }
}

/// A form body as the browser sends it.
func form(_ fields: [String: String]) -> [UInt8] { Array(FormData.encode(fields).utf8) }
