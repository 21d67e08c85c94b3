import Channels
import FeatureStoreBackends
import Foundation
import Optimizer
import Testing
import Vocabulary
@testable import Orchestrator

@Suite("Preferred channel", .serialized)
struct PreferredChannelTests {
    let preDue = Date(timeIntervalSince1970: 1_772_107_200)  // 2026-02-26T12:00:00Z, day -3

    /// Sets the customer's preferred channel as the payment page does (a `preferred_channel_set` event).
    func prefer(_ channel: Channel, _ o: Orchestrator, at t: Date) async throws {
        let e = Event(id: "PC-\(channel.rawValue)", kind: .preferredChannelSet, customerId: "C1", invoiceId: "I1", messageId: nil,
                      occurredAt: t, payload: EventPayload(channel: channel))
        _ = try await o.ingest([e], asOf: t, react: false)
    }

    @Test("An optimise step sends over the preferred channel when it lists it and a consented point carries it",
          arguments: Backend.allCases)
    func preferenceWins(_ backend: Backend) async throws {
        let (o, adapter) = try await orchestrator(backend)
        _ = try await o.run(asOf: preDue)
        try await prefer(.sms, o, at: preDue.addingTimeInterval(3600))
        // Day 3: the step's default is e-mail; the customer asked for SMS, which the step allows.
        _ = try await o.run(asOf: preDue.addingTimeInterval(6 * 86_400))
        let sent = await adapter.records.map(\.message)
        #expect(sent.map(\.channel) == [.email, .sms])
        #expect(sent[1].recipient == .phone("+4915112345678") && sent[1].template == "reminder")
        try await o.store.close()
    }

    @Test("A preference the step does not allow, or no usable point for it, leaves the step's default", arguments: Backend.allCases)
    func preferenceIgnored(_ backend: Backend) async throws {
        // Letter is not among the day-3 step's channels.
        let (o, adapter) = try await orchestrator(backend)
        _ = try await o.run(asOf: preDue)
        try await prefer(.letter, o, at: preDue.addingTimeInterval(3600))
        _ = try await o.run(asOf: preDue.addingTimeInterval(6 * 86_400))
        #expect(await adapter.records.map(\.message.channel) == [.email, .email])
        try await o.store.close()
        // SMS is allowed but there is no mobile number.
        let (o2, adapter2) = try await orchestrator(backend, points: ["C1-E", "C1-P"])
        _ = try await o2.run(asOf: preDue)
        try await prefer(.sms, o2, at: preDue.addingTimeInterval(3600))
        _ = try await o2.run(asOf: preDue.addingTimeInterval(6 * 86_400))
        #expect(await adapter2.records.map(\.message.channel) == [.email, .email])
        try await o2.store.close()
    }

    @Test("In the treatment arm the model chooses tone and time within the preferred channel", arguments: Backend.allCases)
    func treatmentKeepsPreference(_ backend: Backend) async throws {
        let e = Experiment(name: "spring", salt: "t", treatmentShare: 0.5, model: "uniform")
        try #require(e.arm(of: "C1") == .treatment)
        let (o, _) = try await orchestrator(backend, experiment: e, model: UniformModel())
        _ = try await o.run(asOf: preDue)
        try await prefer(.sms, o, at: preDue.addingTimeInterval(3600))
        _ = try await o.run(asOf: preDue.addingTimeInterval(6 * 86_400))
        let d = Schema.decisions
        let model = try await o.store.allRows(of: d).filter { d.value($0, "policy").text == "uniform" }
        #expect(model.count == 1)
        let candidates = Array(try #require(ActionSet(hex: d.value(model[0], "candidates").text!)))
        #expect(!candidates.isEmpty && candidates.allSatisfy { $0.channel == .sms })
        #expect(d.value(model[0], "channel").text == "sms")
        try await o.store.close()
    }
}
