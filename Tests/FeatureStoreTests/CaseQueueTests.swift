import Foundation
import FeatureStoreBackends
import Testing
import Vocabulary
@testable import FeatureStore

/// The orchestrator's work queue on both backends: enrolment, leases, transactional apply.
@Suite("Case queue")
struct CaseQueueTests {
    /// A store holding the synthetic history's customers, contact points and invoices.
    func seeded(_ backend: Backend) async throws -> (any CaseQueue, SyntheticHistory) {
        let store = try await freshStore(backend)
        let h = SyntheticHistory(customers: 12, seed: 5)
        try await store.write([
            TableRows(table: Schema.customers, rows: h.customers.map(Schema.customers.row)),
            TableRows(table: Schema.contactPoints, rows: h.contactPoints.map(Schema.contactPoints.row)),
            TableRows(table: Schema.invoices, rows: h.invoices.map(Schema.invoices.row)),
        ])
        return (store, h)
    }

    func caseRow(_ invoice: Invoice, due: Int64?) -> [Value] {
        [.text(invoice.customerId), .text(invoice.id), .text("consumer-dunning"), .integer(1), .text("exp"), .text("control"),
         .text("{}"), due.map(Value.integer) ?? .null, .null, .null, .integer(0)]
    }

    @Test("Unenrolled open invoices are listed in key order until they have a case state", arguments: Backend.allCases)
    func enrolment(_ backend: Backend) async throws {
        let (store, h) = try await seeded(backend)
        let open = h.invoices.filter { !$0.status.isClosed }.sorted { ($0.customerId, $0.id) < ($1.customerId, $1.id) }
        let issuedBy = "2099-12-31"
        var listed: [[Value]] = []
        var after: [Value]? = nil
        while true {
            let page = try await store.unenrolledInvoices(issuedFrom: "1900-01-01", issuedBy: issuedBy, after: after, limit: 5)
            listed += page
            guard page.count == 5, let last = page.last else { break }
            after = [last[Schema.invoices.index("customer_id")], last[Schema.invoices.index("id")]]
        }
        #expect(listed.map { $0[Schema.invoices.index("id")].text! } == open.map(\.id))
        try await store.apply([.upsert(TableRows(table: Schema.caseStates, rows: open.prefix(3).map { caseRow($0, due: 10) }))])
        let rest = try await store.unenrolledInvoices(issuedFrom: "1900-01-01", issuedBy: issuedBy, after: nil, limit: 1000)
        #expect(rest.map { $0[Schema.invoices.index("id")].text! } == open.dropFirst(3).map(\.id))
        #expect(try await store.unenrolledInvoices(issuedFrom: "1900-01-01", issuedBy: "2000-01-01", after: nil, limit: 1000).isEmpty)
        try await store.close()
    }

    @Test("Claims lease due rows once, earliest first; expired and released leases are claimable again",
          arguments: Backend.allCases)
    func leases(_ backend: Backend) async throws {
        let (store, h) = try await seeded(backend)
        let open = Array(h.invoices.filter { !$0.status.isClosed }.prefix(6))
        let rows = open.enumerated().map { i, inv in caseRow(inv, due: i == 5 ? nil : Int64(100 * (5 - i))) }
        try await store.apply([.upsert(TableRows(table: Schema.caseStates, rows: rows))])
        let t = Schema.caseStates
        let first = try await store.claim(t, dueColumn: "next_due_at", dueBy: 300, owner: "a", leaseUntil: 1_000, now: 50, limit: 2)
        #expect(first.map { $0[t.index("next_due_at")].integer! } == [100, 200])
        #expect(first.allSatisfy { $0[t.index("lease_owner")].text == "a" && $0[t.index("lease_until")].integer == 1_000 })
        let second = try await store.claim(t, dueColumn: "next_due_at", dueBy: 300, owner: "b", leaseUntil: 1_000, now: 50, limit: 10)
        #expect(second.map { $0[t.index("next_due_at")].integer! } == [300])
        #expect(try await store.claim(t, dueColumn: "next_due_at", dueBy: 300, owner: "b", leaseUntil: 1_000, now: 50, limit: 10).isEmpty)
        // After a's lease ends, b may take a's rows.
        let stolen = try await store.claim(t, dueColumn: "next_due_at", dueBy: 300, owner: "b", leaseUntil: 3_000, now: 2_000, limit: 10)
        #expect(Set(stolen.map { $0[t.index("invoice_id")].text! }) == Set(open.prefix(5).suffix(3).map(\.id)))
        try await store.releaseLeases(owner: "b")
        let again = try await store.claim(t, dueColumn: "next_due_at", dueBy: 10_000, owner: "c", leaseUntil: 9_000, now: 2_000, limit: 10)
        #expect(again.count == 5)
        try await store.close()
    }

    @Test("A claim for some customers leases only their due rows, earliest first", arguments: Backend.allCases)
    func customerClaims(_ backend: Backend) async throws {
        let (store, h) = try await seeded(backend)
        let open = Array(h.invoices.filter { !$0.status.isClosed })
        let rows = open.enumerated().map { i, inv in caseRow(inv, due: Int64(10 * (open.count - i))) }
        try await store.apply([.upsert(TableRows(table: Schema.caseStates, rows: rows))])
        let t = Schema.caseStates
        let customers = Array(Set(open.map(\.customerId))).sorted()
        #expect(customers.count >= 3)
        // Two customers, one of them with a quote in its id that must not break the parameter.
        let chosen = [customers[0], customers[2], "no such \"customer\""]
        let expected = open.enumerated().filter { chosen.contains($0.element.customerId) }
            .sorted { ($0.offset, $0.element.id) > ($1.offset, $1.element.id) }.map(\.element.id)
        let claimed = try await store.claim(t, dueColumn: "next_due_at", dueBy: 1_000_000, owner: "r", leaseUntil: 1_000, now: 50,
                                            limit: 100, customers: chosen)
        #expect(claimed.map { $0[t.index("invoice_id")].text! } == expected)
        #expect(claimed.allSatisfy { $0[t.index("lease_owner")].text == "r" })
        // The other customers' rows are still free; an empty list claims nothing.
        #expect(try await store.claim(t, dueColumn: "next_due_at", dueBy: 1_000_000, owner: "r", leaseUntil: 1_000, now: 50, limit: 100,
                                      customers: []).isEmpty)
        let rest = try await store.claim(t, dueColumn: "next_due_at", dueBy: 1_000_000, owner: "s", leaseUntil: 1_000, now: 50, limit: 1_000)
        #expect(rest.count == open.count - expected.count)
        try await store.close()
    }

    @Test("apply writes and deletes in one transaction: a failing change leaves nothing behind", arguments: Backend.allCases)
    func transactional(_ backend: Backend) async throws {
        let (store, h) = try await seeded(backend)
        let inv = h.invoices.filter { !$0.status.isClosed }.prefix(2)
        try await store.apply([.upsert(TableRows(table: Schema.caseStates, rows: inv.map { caseRow($0, due: 5) }))])
        // Deleting one case and writing an outbox row for a message that does not exist fails whole.
        let orphan: [Value] = [.text(inv.first!.customerId), .text("no-such-message"), .integer(1), .integer(0), .null, .null, .null]
        await #expect(throws: StoreError.self) {
            try await store.apply([.delete(Schema.caseStates, keys: [[inv.first!.customerId, inv.first!.id]]),
                                   .upsert(TableRows(table: Schema.outbox, rows: [orphan]))])
        }
        #expect(try await store.count(Schema.caseStates) == 2)
        try await store.apply([.delete(Schema.caseStates, keys: [[inv.first!.customerId, inv.first!.id]])])
        #expect(try await store.count(Schema.caseStates) == 1)
        let byKey = try await store.rows(of: Schema.invoices, keys: inv.map { [$0.customerId, $0.id] })
        #expect(byKey.count == 2)
        let byCustomer = try await store.rows(of: Schema.contactPoints, customerIds: [inv.first!.customerId])
        #expect(byCustomer.count == h.contactPoints.filter { $0.customerId == inv.first!.customerId }.count)
        #expect(try await store.rows(of: Schema.customers, customerIds: [inv.first!.customerId]).count == 1)
        try await store.close()
    }

    /// A seeded store and the keys of `count` of its open invoices, the one at `paid` paid since.
    func openInvoices(_ backend: Backend, count: Int, paid: Int) async throws -> (any CaseQueue, [[String]]) {
        let (store, h) = try await seeded(backend)
        let open = h.invoices.filter { $0.status == .open }.prefix(count).map { [$0.customerId, $0.id] }
        try #require(open.count == count)
        try await store.apply([.update(Schema.invoices, key: open[paid], set: ["status": .text("paid")])])
        return (store, open)
    }

    @Test("A guarded update changes only rows whose column still holds one of the guard's values; runs of them batch",
          arguments: Backend.allCases)
    func guardedUpdate(_ backend: Backend) async throws {
        // The first invoice is paid by someone else before the guarded changes are written.
        let (store, open) = try await openInvoices(backend, count: 3, paid: 0)
        let it = Schema.invoices
        let stillOpen = RowGuard("status", in: ["open", "partially_paid"])
        try await store.apply(open.map { .update(it, key: $0, set: ["status": .text("disputed")], onlyIf: stillOpen) }
                              + [.update(it, key: open[2], set: ["flow_name": .text("b2b")], onlyIf: RowGuard("status", in: ["open"]))])
        let rows = try await store.rows(of: it, keys: open)
        let status = Dictionary(uniqueKeysWithValues: rows.map { (it.value($0, "id").text!, it.value($0, "status").text!) })
        #expect(status == [open[0][1]: "paid", open[1][1]: "disputed", open[2][1]: "disputed"])
        // The last change's guard no longer held (the invoice was disputed by then): its flow is unchanged.
        #expect(rows.first { it.value($0, "id").text == open[2][1] }.map { it.value($0, "flow_name") } != .text("b2b"))
        try await store.close()
    }

    @Test("A guarded update with unguarded columns sets those on every row and the guarded ones where the guard holds, in one statement",
          arguments: Backend.allCases)
    func partlyGuardedUpdate(_ backend: Backend) async throws {
        let (store, open) = try await openInvoices(backend, count: 4, paid: 1)
        let it = Schema.invoices
        let stepBefore = it.value(try await store.rows(of: it, keys: [open[3]])[0], "step")
        let stillOpen = RowGuard("status", in: ["open"])
        // A run of one shape (shared statement on SQLite, one statement on PostgreSQL), then one of another.
        try await store.apply(open.prefix(3).enumerated().map { i, key in
            .update(it, key: key, set: ["status": .text("disputed")], onlyIf: stillOpen, unguarded: ["flow_name": .text("flow\(i)")])
        } + [.update(it, key: open[3], set: ["status": .text("disputed"), "step": .integer(7)], onlyIf: RowGuard("status", in: ["paid"]),
                     unguarded: ["flow_name": .text("flow3"), "flow_version": .integer(9)])])
        let rows = Dictionary(uniqueKeysWithValues: try await store.rows(of: it, keys: open).map { (it.value($0, "id").text!, $0) })
        func column(_ k: Int, _ name: String) -> Value { it.value(rows[open[k][1]]!, name) }
        #expect((0..<4).map { column($0, "flow_name") } == [.text("flow0"), .text("flow1"), .text("flow2"), .text("flow3")])
        #expect((0..<4).map { column($0, "status") } == [.text("disputed"), .text("paid"), .text("disputed"), .text("open")])
        // The last row's guard did not hold: its guarded step kept its value, its unguarded version changed.
        #expect(column(3, "step") == stepBefore && stepBefore != .integer(7))
        #expect(column(3, "flow_version") == .integer(9))
        try await store.close()
    }

    @Test("Send times are the window's messages that did not fail, by customer, to the microsecond", arguments: Backend.allCases)
    func sendTimes(_ backend: Backend) async throws {
        let (store, h) = try await seeded(backend)
        let since: Int64 = 1_772_442_000_123_457
        let statuses = MessageStatus.allCases
        var messages: [[Value]] = []
        var expected: [String: [Int64]] = [:]
        for (k, invoice) in h.invoices.prefix(8).enumerated() {
            // Instants on both sides of `since`, one microsecond apart at the edge.
            for (j, offset) in [Int64(-1), 0, 1, 86_400_000_000, -86_400_000_000].enumerated() {
                let at = since + offset
                let status = statuses[(k + j) % statuses.count]
                var row = Schema.messages.row(Message(
                    id: "\(invoice.id)/m\(j)", customerId: invoice.customerId, invoiceId: invoice.id, decisionId: nil, contactPointId: nil,
                    channel: .email, template: "reminder", tone: .neutral, scheduledLocal: LocalDateTime(date: CalendarDate(parsing: "2026-03-02")!, hour: 10),
                    scheduledAt: Date(timeIntervalSince1970: Double(at) / 1e6), status: status, providerId: nil,
                    idempotencyKey: "\(invoice.id)/m\(j)", costMinor: 0))
                row[Schema.messages.index("scheduled_at")] = .integer(at)
                messages.append(row)
                if at >= since && status != .failed { expected[invoice.customerId, default: []].append(at) }
            }
        }
        try await store.write([TableRows(table: Schema.messages, rows: messages)])
        let stored = Dictionary(uniqueKeysWithValues: try await store.allRows(of: Schema.messages).map {
            (Schema.messages.value($0, "id").text!, Schema.messages.value($0, "scheduled_at").integer!)
        })
        try #require(stored.values.contains(since - 1) && stored.values.contains(since), "instants stored to the microsecond")
        let customers = Array(Set(h.invoices.prefix(8).map(\.customerId))) + ["nobody"]
        let times = try await store.sendTimes(customerIds: customers, since: since)
        #expect(times.mapValues { $0.sorted() } == expected.mapValues { $0.sorted() })
        #expect(!expected.isEmpty && expected.values.allSatisfy { !$0.isEmpty })
        try await store.close()
    }
}

@Suite("Case queue go-live date")
struct CaseQueueGoLiveTests {
    @Test("Invoices issued before the go-live date are not enrolled", arguments: Backend.allCases)
    func goLive(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        let h = SyntheticHistory(customers: 12, seed: 5)
        try await store.write([
            TableRows(table: Schema.customers, rows: h.customers.map(Schema.customers.row)),
            TableRows(table: Schema.invoices, rows: h.invoices.map(Schema.invoices.row)),
        ])
        let open = h.invoices.filter { !$0.status.isClosed }
        let cut = open.map(\.issueDate).sorted()[open.count / 2]
        let listed = try await store.unenrolledInvoices(issuedFrom: cut.description, issuedBy: "2099-12-31", after: nil, limit: 1000)
        #expect(Set(listed.map { Schema.invoices.value($0, "id").text! }) == Set(open.filter { $0.issueDate >= cut }.map(\.id)))
        try await store.close()
    }
}
