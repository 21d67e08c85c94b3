import Channels
import FeatureStoreBackends
import Flows
import Foundation
import Testing
import Vocabulary
@testable import Orchestrator

/// Takes every message and gives a receipt; counts the messages per channel.
final class CountingAdapter: ChannelAdapter, @unchecked Sendable {
    let name = "counting"
    let lock = NSLock()
    var counts: [Channel: Int] = [:]

    func send(_ message: OutgoingMessage) async throws -> SendReceipt {
        lock.withLock { counts[message.channel, default: 0] += 1 }
        return SendReceipt(providerId: "count:" + message.idempotencyKey, acceptedAt: Date(timeIntervalSince1970: 0), status: .accepted)
    }
}

@Suite("A run over a synthetic book of cases", .serialized)
struct SyntheticRunTests {
    // 2026-03-02T09:00:00Z: 10:00 in Berlin, the flows' send hour.
    let asOf = Date(timeIntervalSince1970: 1_772_442_000)

    @Test("Every case of the book is planned once, what is queued is sent, and a second run of the day finds nothing due",
          arguments: Backend.allCases)
    func bookRun(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        _ = try await FlowLibrary.store(files: try exampleFlows(), into: store, now: asOf.addingTimeInterval(-500 * 86_400))
        let library = try await FlowLibrary.load(from: store)
        let flow = try library.newest("b2c-consumer-dunning")
        let n = 1_200
        try await SyntheticCases.write(into: store, cases: n, chunk: 500, flow: flow, asOf: asOf, seed: 5)
        #expect(try await store.count(Schema.caseStates) == n)
        let adapter = CountingAdapter()
        let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }))
        let phases = PhaseLog()
        var configuration = RunConfiguration()
        configuration.batchSize = 250
        configuration.phaseObserver = { phase, seconds in phases.add(phase, seconds) }
        let orchestrator = Orchestrator(store: store, flows: library, router: router, model: nil,
                                        templates: try TemplateCatalogue.bundled(), configuration: configuration)
        let summary = try await orchestrator.run(asOf: asOf, runId: "book")
        #expect(summary.cases == n)
        #expect(summary.enrolled == 0)
        // The run's day falls on one of the flow's 10 process days for about 10 cases in 66, plus
        // the backups that come due; every queued message goes out in the same run.
        #expect(summary.queued > n / 12 && summary.queued < n / 2, "queued \(summary.queued)")
        #expect(summary.sent == summary.queued && summary.decisions == summary.queued)
        #expect(adapter.counts.values.reduce(0, +) == summary.sent)
        #expect(try await store.count(Schema.outbox) == 0)
        // Messages due now go out as their batch commits: dispatch finds none left.
        #expect(Set(phases.names) == ["enrol", "claim", "plan.read", "plan.compute", "plan.write", "plan.wait", "plan.send", "dispatch.claim"])
        // Every case's progress is stored in the compact form and nothing is due any more today.
        for row in try await store.allRows(of: Schema.caseStates) {
            let progress = Schema.caseStates.value(row, "progress").text!
            #expect(progress.hasPrefix("~1|"))
            #expect((Schema.caseStates.value(row, "next_due_at").integer ?? .max) > micros(asOf))
        }
        let again = try await orchestrator.run(asOf: asOf, runId: "book-2")
        #expect(again.cases == 0 && again.sent == 0)
        try await store.close()
    }

    @Test("A run for some customers plans and sends only their due cases; the rest of the book stays due", arguments: Backend.allCases)
    func customerRun(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        _ = try await FlowLibrary.store(files: try exampleFlows(), into: store, now: asOf.addingTimeInterval(-500 * 86_400))
        let library = try await FlowLibrary.load(from: store)
        try await SyntheticCases.write(into: store, cases: 300, chunk: 500, flow: try library.newest("b2c-consumer-dunning"), asOf: asOf,
                                       seed: 5, invoicesPerCustomer: 3)
        let adapter = CountingAdapter()
        let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }))
        let orchestrator = Orchestrator(store: store, flows: library, router: router, model: nil,
                                        templates: try TemplateCatalogue.bundled(), configuration: RunConfiguration())
        let chosen: Set<String> = ["C0000003", "C0000042", "C0000077"]
        let scoped = try await orchestrator.run(asOf: asOf, runId: "some", customers: chosen)
        #expect(scoped.cases == 9 && scoped.enrolled == 0)
        let ct = Schema.caseStates
        for row in try await store.allRows(of: ct) {
            let due = (ct.value(row, "next_due_at").integer ?? .max) <= micros(asOf)
            #expect(due == !chosen.contains(ct.value(row, "customer_id").text!), "\(row)")
        }
        let messages = try await store.allRows(of: Schema.messages).filter { Schema.messages.value($0, "status").text == "sent"
            && Schema.messages.value($0, "scheduled_at").integer == micros(asOf) }
        #expect(messages.allSatisfy { chosen.contains(Schema.messages.value($0, "customer_id").text!) })
        #expect(messages.count == scoped.sent && adapter.counts.values.reduce(0, +) == scoped.sent)
        // The full run takes the other 291 cases.
        let full = try await orchestrator.run(asOf: asOf, runId: "all")
        #expect(full.cases == 291)
        try await store.close()
    }

    @Test("""
          Planning and rendering on two cores, writing a batch while the next is planned, and sending a batch's messages \
          as it commits store exactly what one core planning one batch after the other and then dispatching stores, with \
          customers' cases sharing the contact cap
          """, arguments: Backend.allCases)
    func twoCoresEqualOne(_ backend: Backend) async throws {
        var stored: [[String: [[Value]]]] = []
        var summaries: [RunSummary] = []
        for (threads, overlap, onCommit) in [(1, false, false), (2, false, false), (1, true, false), (2, true, false),
                                             (1, false, true), (2, true, true)] {
            let store = try await freshStore(backend)
            _ = try await FlowLibrary.store(files: try exampleFlows(), into: store, now: asOf.addingTimeInterval(-500 * 86_400))
            let library = try await FlowLibrary.load(from: store)
            // 200 customers with three open invoices each, each at its own stage of the flow.
            try await SyntheticCases.write(into: store, cases: 600, chunk: 500, flow: try library.newest("b2c-consumer-dunning"),
                                           asOf: asOf, seed: 9, invoicesPerCustomer: 3)
            let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, CountingAdapter() as any ChannelAdapter) }))
            var configuration = RunConfiguration()
            configuration.batchSize = 250
            configuration.threads = threads
            configuration.overlapPlanWrites = overlap
            configuration.sendOnCommit = onCommit
            // Two messages per customer a week: a customer's further due sends wait.
            configuration.contactCap = 2
            let orchestrator = Orchestrator(store: store, flows: library, router: router, model: nil,
                                            templates: try TemplateCatalogue.bundled(), configuration: configuration)
            summaries.append(try await orchestrator.run(asOf: asOf, runId: "cores"))
            var tables: [String: [[Value]]] = [:]
            for table in [Schema.caseStates, Schema.invoices, Schema.decisions, Schema.messages, Schema.outbox, Schema.contactPoints] {
                tables[table.name] = try await store.allRows(of: table)
            }
            stored.append(tables)
            try await store.close()
        }
        #expect(summaries[0].cases == 600 && summaries[0].sent > 20, "\(summaries[0])")
        #expect(summaries[0].postponed > 0, "the contact cap never bound: \(summaries[0])")
        for k in 1..<stored.count {
            #expect(summaries[k] == summaries[0], "variant \(k)")
            for name in stored[0].keys.sorted() {
                let (one, other) = (stored[0][name]!, stored[k][name]!)
                let same = one == other
                #expect(same, "variant \(k), \(name): \(one.count) rows one batch after the other on one core, \(other.count) here, \(Set(one.map(\.description)).symmetricDifference(other.map(\.description)).count) differ")
            }
        }
    }
}

/// Refuses every e-mail (no usable address) and answers each other message's first attempt with a
/// retryable error; counts the attempts per idempotency key.
final class RefusingAdapter: ChannelAdapter, @unchecked Sendable {
    let name = "refusing"
    let lock = NSLock()
    var attempts: [String: Int] = [:]

    func send(_ message: OutgoingMessage) async throws -> SendReceipt {
        let n = lock.withLock { () -> Int in
            attempts[message.idempotencyKey, default: 0] += 1
            return attempts[message.idempotencyKey]!
        }
        if message.channel == .email { throw ChannelError.permanent("mailbox unknown", .noContactPoint) }
        if n == 1 { throw ChannelError.retryable("HTTP 503") }
        return SendReceipt(providerId: "ok:" + message.idempotencyKey, acceptedAt: Date(timeIntervalSince1970: 0), status: .accepted)
    }
}

@Suite("Failures at hand-over", .serialized)
struct HandOverFailureTests {
    let asOf = Date(timeIntervalSince1970: 1_772_442_000)

    @Test("""
          A message refused as its batch commits is marked failed and its backup goes out in the same run; a retryable \
          error keeps it in the outbox, attempted once per run; two runs leave what dispatching after planning leaves
          """, arguments: Backend.allCases)
    func refusedAtHandOver(_ backend: Backend) async throws {
        var results: [(summaries: [RunSummary], messages: [[Value]], outbox: [[Value]], attempts: [String: Int])] = []
        for onCommit in [true, false] {
            let store = try await freshStore(backend)
            _ = try await FlowLibrary.store(files: try exampleFlows(), into: store, now: asOf.addingTimeInterval(-500 * 86_400))
            let library = try await FlowLibrary.load(from: store)
            try await SyntheticCases.write(into: store, cases: 600, chunk: 500, flow: try library.newest("b2c-consumer-dunning"),
                                           asOf: asOf, seed: 11)
            let adapter = RefusingAdapter()
            let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }))
            var configuration = RunConfiguration()
            configuration.batchSize = 100
            configuration.sendOnCommit = onCommit
            let orchestrator = Orchestrator(store: store, flows: library, router: router, model: nil,
                                            templates: try TemplateCatalogue.bundled(), configuration: configuration)
            let first = try await orchestrator.run(asOf: asOf, runId: "one")
            let mt = Schema.messages
            // The messages this run planned (the book's history has one sent e-mail per case, without a decision).
            let planned = try await store.allRows(of: mt).filter { mt.value($0, "decision_id") != .null }
            let ids = Set(planned.map { mt.value($0, "id").text! })
            let emails = planned.filter { mt.value($0, "channel").text == "email" }
            // The e-mail steps whose backup runs on `no_contact_point`: the pre-due reminder and the first dunning.
            let withBackup = emails.map { mt.value($0, "id").text! }.filter { $0.hasSuffix("/processes[0]") || $0.hasSuffix("/processes[3]") }
            #expect(!emails.isEmpty && emails.allSatisfy { mt.value($0, "status").text == "failed" })
            #expect(withBackup.count >= 10, "\(withBackup.count) refused e-mails with a backup")
            #expect(first.failed == emails.count)
            if onCommit {
                // The refused e-mails' backups (SMS) were planned, attempted and kept for a retry in the same run.
                #expect(withBackup.allSatisfy { ids.contains($0 + ".backup") }, "backups missing: \(withBackup.filter { !ids.contains($0 + ".backup") }.prefix(3))")
                #expect(first.retried == planned.count - emails.count)
                #expect(planned.filter { mt.value($0, "channel").text != "email" }.allSatisfy { mt.value($0, "status").text == "queued" })
            } else {
                // Dispatch after planning: the conditions are raised for the next run.
                #expect(withBackup.allSatisfy { !ids.contains($0 + ".backup") })
            }
            // Nothing was attempted twice in one run, and what waits for a retry is in the outbox, unleased.
            #expect(adapter.attempts.values.allSatisfy { $0 == 1 })
            let ob = Schema.outbox
            let waiting = try await store.allRows(of: ob)
            #expect(waiting.allSatisfy { ob.value($0, "attempts").integer == 1 && ob.value($0, "lease_owner") == .null })
            #expect(waiting.count == first.retried)
            let second = try await orchestrator.run(asOf: asOf, runId: "two")
            results.append(([first, second], try await store.allRows(of: mt), try await store.allRows(of: ob), adapter.attempts))
            try await store.close()
        }
        // Dispatching after planning raises the conditions for the next run: after two runs both ways
        // hold the same messages and retries.
        #expect(results[0].messages == results[1].messages)
        #expect(results[0].outbox == results[1].outbox)
        #expect(results[0].attempts == results[1].attempts)
        #expect(results[0].summaries[0].failed + results[0].summaries[1].failed == results[1].summaries[0].failed + results[1].summaries[1].failed)
    }
}

/// The phases a run reported.
final class PhaseLog: @unchecked Sendable {
    let lock = NSLock()
    var names: [String] = []

    func add(_ phase: String, _ seconds: Double) {
        lock.lock()
        names.append(phase)
        lock.unlock()
    }
}
