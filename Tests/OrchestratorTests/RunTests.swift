import Channels
import FeatureStoreBackends
import Flows
import Foundation
import Optimizer
import Testing
import Vocabulary
@testable import Orchestrator

/// The example flows of the repository.
func exampleFlows() throws -> [(path: String, text: String)] {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("flows")
    return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted().map { name in
        let path = dir.appendingPathComponent(name).path
        return (path, try String(contentsOfFile: path, encoding: .utf8))
    }
}

/// A uniform random policy over the allowed candidates: a real (if naive) model, logged with its
/// exact propensity 1/|candidates|.
struct UniformModel: DeliveryModel {
    var name: String { "uniform" }
    var version: String { "1" }

    func contexts(for cases: [CaseKey], asOf: Date, store: any CaseQueue) async throws -> [String: LiveContext] {
        Dictionary(uniqueKeysWithValues: cases.map { ($0.invoiceId, LiveContext(features: [], localWeekday: 1, localHour: 9)) })
    }

    var featureTables: [StoreTable] { [] }

    func context(of case: CaseKey, asOf: Date, tables: [String: [[Value]]]) throws -> LiveContext? {
        LiveContext(features: [], localWeekday: 1, localHour: 9)
    }

    func decide(context: LiveContext, candidates: CandidateSet, amountDue: Double, runKey: UInt64, customerId: String) throws -> ModelChoice {
        let all = Array(candidates).filter { $0 < DeliveryAction.count }
        var rng = Xoshiro256(seed: runKey, keys: UInt64(customerId.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        let pick = all[Int(rng.uniform() * Double(all.count))]
        return ModelChoice(action: DeliveryAction(index: pick), propensity: 1 / Double(all.count), propensityIsExact: true)
    }
}

/// A store with the small case, the example flows and an orchestrator over an in-memory dry-run channel.
func orchestrator(_ backend: Backend, points: [String]? = nil, experiment: Experiment? = nil, model: (any DeliveryModel)? = nil)
    async throws -> (Orchestrator, DryRunAdapter) {
    let store = try await freshStore(backend)
    var small = SmallCase()
    if let points { small.keep(points) }
    try await small.write(to: store)
    _ = try await FlowLibrary.store(files: try exampleFlows(), into: store, now: instant(hours: -100))
    let adapter = DryRunAdapter()
    let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }))
    var config = RunConfiguration()
    config.experiment = experiment
    let o = Orchestrator(store: store, flows: try await FlowLibrary.load(from: store), router: router, model: model,
                         templates: try TemplateCatalogue.bundled(), configuration: config)
    return (o, adapter)
}

/// A provider so fast that its delivery report is ingested (as the service would) while the run is
/// still sending, before the run has written that the message went out.
final class EagerWebhookAdapter: ChannelAdapter, @unchecked Sendable {
    let name = "eager"
    let store: any CaseQueue
    let kind: EventKind

    init(store: any CaseQueue, kind: EventKind) {
        self.store = store
        self.kind = kind
    }

    func send(_ message: OutgoingMessage) async throws -> SendReceipt {
        let report = Event(id: "report-" + message.messageId, kind: kind, customerId: message.customerId, invoiceId: message.invoiceId,
                           messageId: message.messageId, occurredAt: message.scheduledAt, payload: EventPayload())
        _ = try await EventIngest.apply([report], to: store)
        return SendReceipt(providerId: "eager:" + message.idempotencyKey, acceptedAt: message.scheduledAt, status: .accepted)
    }
}

extension SmallCase {
    /// Keeps only the contact points with these ids.
    mutating func keep(_ ids: [String]) { points = points.filter { ids.contains($0.id) } }
}

func messages(_ store: any CaseQueue) async throws -> [(id: String, channel: String, status: String, template: String)] {
    let t = Schema.messages
    return try await store.allRows(of: t).map {
        (t.value($0, "id").text!, t.value($0, "channel").text!, t.value($0, "status").text!, t.value($0, "template").text!)
    }
}

@Suite("Orchestrator runs", .serialized)
struct RunTests {
    // The invoice is due 2026-03-01 (Berlin); day -3 of the consumer flow is 2026-02-26.
    let preDue = Date(timeIntervalSince1970: 1_772_107_200)  // 2026-02-26T12:00:00Z

    @Test("Scenario 1: a hard e-mail bounce sends an SMS at once; the bounced address is never used again",
          arguments: Backend.allCases)
    func bounceToSMS(_ backend: Backend) async throws {
        let (o, adapter) = try await orchestrator(backend)
        let first = try await o.run(asOf: preDue)
        #expect(first.enrolled == 1 && first.decisions == 1 && first.sent == 1)
        var sent = await adapter.records
        #expect(sent.map(\.message.channel) == [.email])
        #expect(sent[0].message.bodyText.contains("/p/"), "the message carries the payment link")
        let emailId = sent[0].message.messageId
        let bounce = Event(id: "B1", kind: .bouncedHard, customerId: "C1", invoiceId: "I1", messageId: emailId,
                           occurredAt: preDue.addingTimeInterval(300), payload: EventPayload(reason: "550 unknown user"))
        let (result, reaction) = try await o.ingest([bounce], asOf: preDue.addingTimeInterval(600))
        #expect(result.new == 1)
        #expect(reaction?.sent == 1)
        sent = await adapter.records
        #expect(sent.map(\.message.channel) == [.email, .sms])
        #expect(sent[1].message.recipient == .phone("+4915112345678"))
        let rows = try await messages(o.store)
        #expect(rows.first { $0.id == emailId }?.status == "bounced")
        let point = try await o.store.rows(of: Schema.contactPoints, keys: [["C1", "C1-E"]])[0]
        #expect(Schema.contactPoints.value(point, "validation").text == "bounced")
        // The same bounce again changes nothing and sends nothing.
        let (again, none) = try await o.ingest([bounce], asOf: preDue.addingTimeInterval(900))
        #expect(again.new == 0 && none == nil)
        try await o.store.close()
    }

    @Test("Scenario 1 without a mobile number: the bounce sends a letter", arguments: Backend.allCases)
    func bounceToLetter(_ backend: Backend) async throws {
        let (o, adapter) = try await orchestrator(backend, points: ["C1-E", "C1-P"])
        _ = try await o.run(asOf: preDue)
        let emailId = try #require(await adapter.records.first?.message.messageId)
        let bounce = Event(id: "B1", kind: .bouncedHard, customerId: "C1", invoiceId: "I1", messageId: emailId,
                           occurredAt: preDue.addingTimeInterval(300), payload: EventPayload())
        _ = try await o.ingest([bounce], asOf: preDue.addingTimeInterval(600))
        let channels = await adapter.records.map(\.message.channel)
        #expect(channels == [.email, .letter])
        try await o.store.close()
    }

    @Test("A delivery report that lands before the run records the send keeps its status; the provider id is recorded",
          arguments: Backend.allCases, [EventKind.delivered, .bouncedHard])
    func webhookBeforeSendIsRecorded(_ backend: Backend, kind: EventKind) async throws {
        let store = try await freshStore(backend)
        try await SmallCase().write(to: store)
        _ = try await FlowLibrary.store(files: try exampleFlows(), into: store, now: instant(hours: -100))
        let adapter = EagerWebhookAdapter(store: store, kind: kind)
        let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }))
        let o = Orchestrator(store: store, flows: try await FlowLibrary.load(from: store), router: router, model: nil,
                             templates: try TemplateCatalogue.bundled(), configuration: RunConfiguration())
        let summary = try await o.run(asOf: preDue)
        #expect(summary.sent == 1)
        let t = Schema.messages
        let row = try #require(try await store.allRows(of: t).first)
        #expect(t.value(row, "status").text == (kind == .delivered ? "delivered" : "bounced"))
        #expect(t.value(row, "provider_id").text == "eager:" + t.value(row, "idempotency_key").text!)
        try await store.close()
    }

    @Test("Scenario 2: a payment-page visit without payment gets a follow-up 24 hours later; a payment ends the flow",
          arguments: Backend.allCases)
    func visitFollowUp(_ backend: Backend) async throws {
        let (o, adapter) = try await orchestrator(backend)
        _ = try await o.run(asOf: preDue)
        let day3 = preDue.addingTimeInterval(6 * 86_400)  // 2026-03-04T12:00Z: the reminder (optimise, email default)
        let reminder = try await o.run(asOf: day3)
        #expect(reminder.sent == 1)
        let visit = Event(id: "V1", kind: .pageVisit, customerId: "C1", invoiceId: "I1", messageId: nil,
                          occurredAt: day3.addingTimeInterval(3600), payload: EventPayload(via: "link"))
        _ = try await o.ingest([visit], asOf: day3.addingTimeInterval(3700))
        let early = try await o.run(asOf: day3.addingTimeInterval(20 * 3600))
        #expect(early.sent == 0, "not before 24 hours")
        let late = try await o.run(asOf: day3.addingTimeInterval(26 * 3600))
        #expect(late.sent == 1)
        let templates = try await messages(o.store).map(\.template)
        #expect(templates.contains("visit_follow_up"))
        // Paid in full: nothing more goes out, the case's flow ends.
        let paid = Event(id: "P1", kind: .payment, customerId: "C1", invoiceId: "I1", messageId: nil,
                         occurredAt: day3.addingTimeInterval(27 * 3600), payload: EventPayload(amountMinor: 12_000, currency: "EUR", paymentId: "P1"))
        _ = try await o.ingest([paid], asOf: day3.addingTimeInterval(27 * 3600))
        let count = await adapter.records.count
        _ = try await o.run(asOf: day3.addingTimeInterval(30 * 86_400))
        #expect(await adapter.records.count == count)
        let state = try await o.store.rows(of: Schema.caseStates, keys: [["C1", "I1"]])[0]
        #expect(Schema.caseStates.value(state, "next_due_at") == .null)
        try await o.store.close()
    }

    @Test("A/B: both arms' decisions are logged with propensity, policy version, experiment and arm", arguments: Backend.allCases)
    func abLogging(_ backend: Backend) async throws {
        // Salt "t" puts C1 in treatment at a 50 % split (hash 0.052), "b" in control (0.565).
        for (salt, arm) in [("t", Experiment.Arm.treatment), ("b", .control)] {
            let e = Experiment(name: "spring", salt: salt, treatmentShare: 0.5, model: "uniform")
            try #require(e.arm(of: "C1") == arm, "pick another salt for \(arm)")
            let (o, _) = try await orchestrator(backend, experiment: e, model: UniformModel())
            _ = try await o.run(asOf: preDue)
            _ = try await o.run(asOf: preDue.addingTimeInterval(6 * 86_400))
            let d = Schema.decisions
            let rows = try await o.store.allRows(of: d)
            #expect(rows.count == 2)
            for row in rows {
                #expect(d.value(row, "experiment").text == "spring" && d.value(row, "arm").text == arm.rawValue)
                let candidates = try #require(ActionSet(hex: d.value(row, "candidates").text!))
                #expect(candidates.contains(try #require(Decision.action(row))))
            }
            // The pre-due e-mail is the flow's own step in both arms; the day-3 optimise step is the model's in treatment.
            let optimise = try #require(rows.first { d.value($0, "policy").text != "flow:b2c-consumer-dunning" || d.value($0, "decided_at").integer! > micros(preDue) })
            if arm == .treatment {
                #expect(d.value(optimise, "policy").text == "uniform" && d.value(optimise, "policy_version").text == "1")
                let n = Array(try #require(ActionSet(hex: d.value(optimise, "candidates").text!))).count
                #expect(abs(d.value(optimise, "propensity").real! - 1 / Double(n)) < 1e-12)
            } else {
                #expect(d.value(optimise, "policy").text == "flow:b2c-consumer-dunning" && d.value(optimise, "propensity").real == 1)
                #expect(d.value(optimise, "channel").text == "email")
            }
            try await o.store.close()
        }
    }

    @Test("A/B: an optimise step that falls due at night is the model's choice in the morning, not a fallback",
          arguments: Backend.allCases)
    func optimiseAtNight(_ backend: Backend) async throws {
        let e = Experiment(name: "spring", salt: "t", treatmentShare: 0.5, model: "uniform")
        try #require(e.arm(of: "C1") == .treatment)
        let (o, _) = try await orchestrator(backend, experiment: e, model: UniformModel())
        _ = try await o.run(asOf: preDue)
        // Day 3 of the flow is 2026-03-04; its run at 00:30 Berlin (23:30 UTC) has no hour window
        // within six hours of now, only from 08:00 on.
        let night = Date(timeIntervalSince1970: 1_772_580_600)  // 2026-03-03T23:30:00Z
        _ = try await o.run(asOf: night)
        let d = Schema.decisions
        let rows = try await o.store.allRows(of: d).filter { d.value($0, "decided_at").integer! == micros(night) }
        let row = try #require(rows.first)
        #expect(rows.count == 1)
        #expect(d.value(row, "policy").text == "uniform")
        let m = Schema.messages
        let message = try #require(try await o.store.allRows(of: m).first { m.value($0, "decision_id").text == d.value(row, "id").text })
        let at = Double(m.value(message, "scheduled_at").integer!) / 1e6
        // Berlin is UTC+1 in March: 08:00-14:00 local is 07:00-13:00 UTC on 2026-03-04.
        #expect(at >= 1_772_607_600 && at <= 1_772_629_200, "scheduled at \(Date(timeIntervalSince1970: at))")
        #expect(m.value(message, "channel").text == d.value(row, "channel").text)
        #expect(try await messages(o.store).allSatisfy { !$0.id.contains("backup") })
        try await o.store.close()
    }
}

extension Decision {
    /// The delivery action of a decisions row.
    static func action(_ row: [Value]) -> DeliveryAction? {
        let d = Schema.decisions
        guard let c = Channel(rawValue: d.value(row, "channel").text!), let t = Tone(rawValue: d.value(row, "tone").text!),
              let w = Weekday(rawValue: Int(d.value(row, "weekday").integer!)), let h = HourBucket(rawValue: Int(d.value(row, "hour").integer!))
        else { return nil }
        return DeliveryAction(channel: c, tone: t, weekday: w, hour: h)
    }
}
