import Foundation
import Testing
import Vocabulary
import FeatureStore
import Simulator
@testable import Channels

@Suite("Simulated channel")
struct SimulatedChannelTests {
    /// Sends an e-mail (or SMS, or letter) for each of the first `count` invoices due in the
    /// period, the day after the due date at 09:00 UTC, then runs the world to its end.
    func run(seed: UInt64, count: Int = 40) async throws -> (receipts: [SendReceipt], events: [Event], failures: [ChannelError]) {
        let world = World(config: SimulationConfig(customers: 60, days: 45, seed: seed))
        let channel = SimulatedChannel(world: world)
        let points = await channel.contactPoints
        let invoices = await channel.invoices.filter { $0.dueDate.daysSinceEpoch < world.config.start.daysSinceEpoch + 30 }
            .sorted { ($0.dueDate, $0.id) < ($1.dueDate, $1.id) }
            .prefix(count)
        var receipts: [SendReceipt] = [], failures: [ChannelError] = []
        var events: [Event] = []
        for (n, inv) in invoices.enumerated() {
            let sendAt = Date(timeIntervalSince1970: Double(inv.dueDate.daysSinceEpoch + 1) * 86400 + 9 * 3600)
            events += await channel.advance(to: sendAt)
            let mine = points.filter { $0.customerId == inv.customerId }
            let channelChoice: Channel = mine.contains { $0.kind == .email } ? .email : mine.contains { $0.phoneType == .mobile } ? .sms : .letter
            let point = mine.first { $0.kind == channelChoice.contactKind }!
            let recipient: Recipient = switch channelChoice {
            case .email: .email(point.value)
            case .sms: .phone(point.value)
            default: .postal([point.value])
            }
            let m = OutgoingMessage(messageId: "OM\(n)", idempotencyKey: "\(inv.id)/reminder", customerId: inv.customerId, invoiceId: inv.id,
                                    channel: channelChoice, contactPointId: point.id, recipient: recipient, template: "reminder",
                                    tone: .neutral, locale: "de", subject: nil, bodyText: "x", bodyHTML: nil, scheduledAt: sendAt,
                                    metadata: MessageMetadata(amountMinor: inv.amountMinor, currency: inv.currency, dueDate: inv.dueDate,
                                                              paymentLink: nil))
            do {
                receipts.append(try await channel.send(m))
            } catch let e as ChannelError {
                failures.append(e)
            }
        }
        events += await channel.advance(to: world.config.endInstant)
        return (receipts, events, failures)
    }

    @Test("the same seed gives the same receipts and events; another seed does not")
    func deterministic() async throws {
        let a = try await run(seed: 11)
        let b = try await run(seed: 11)
        let c = try await run(seed: 12)
        #expect(a.receipts == b.receipts)
        #expect(a.events == b.events)
        #expect(a.failures == b.failures)
        #expect(a.events != c.events)
        #expect(a.receipts.count >= 20)
        // Deliveries (or bounces) of our messages carry our message ids.
        let ours = a.events.filter { [.delivered, .bouncedHard, .bouncedSoft].contains($0.kind) && ($0.messageId?.hasPrefix("OM") ?? false) }
        #expect(ours.count >= 10)
        #expect(a.events.contains { $0.kind == .payment })
        #expect(zip(a.events, a.events.dropFirst()).allSatisfy { $0.occurredAt <= $1.occurredAt })
        // Some of the failures, if any, are for missing or unconsented points.
        #expect(a.failures.allSatisfy { $0.condition == .noContactPoint || $0.condition == .noConsent })
    }

    @Test("a repeated key is not sent twice; a channel without a usable point fails permanently")
    func idempotencyAndNoPoint() async throws {
        let world = World(config: SimulationConfig(customers: 30, days: 30, seed: 5))
        let channel = SimulatedChannel(world: world)
        let points = await channel.contactPoints
        let invoices = await channel.invoices
        let customers = Set(points.filter { $0.kind == .email && $0.consent && $0.validation.isUsable }.map(\.customerId))
        let withEmail = try #require(invoices.first { customers.contains($0.customerId) })
        var m = OutgoingMessage(messageId: "X1", idempotencyKey: "k-1", customerId: withEmail.customerId, invoiceId: withEmail.id,
                                channel: .email, recipient: .email("x@example.org"), template: "reminder", tone: .friendly, locale: "en",
                                subject: "s", bodyText: "b", bodyHTML: nil, scheduledAt: world.config.startInstant.addingTimeInterval(86400),
                                metadata: MessageMetadata(amountMinor: 1, currency: "EUR", dueDate: withEmail.dueDate, paymentLink: nil))
        let first = try await channel.send(m)
        let second = try await channel.send(m)
        #expect(!first.replayed && second.replayed && second.providerId == first.providerId)
        #expect(first.providerId.hasPrefix("sim:\(withEmail.id)-M"))
        let queued = await channel.withWorld { live in live.timeline(customerId: withEmail.customerId).messages.count }
        #expect(queued == 1)

        let noPush = Set(points.filter { $0.kind == .push }.map(\.customerId))
        let pushless = try #require(invoices.first { !noPush.contains($0.customerId) })
        m = OutgoingMessage(messageId: "X2", idempotencyKey: "k-2", customerId: pushless.customerId, invoiceId: pushless.id, channel: .push,
                            recipient: .pushToken("t"), template: "reminder", tone: .friendly, locale: "en", subject: "s", bodyText: "b",
                            bodyHTML: nil, scheduledAt: world.config.startInstant,
                            metadata: MessageMetadata(amountMinor: 1, currency: "EUR", dueDate: pushless.dueDate, paymentLink: nil))
        let e = await #expect(throws: ChannelError.self) { try await channel.send(m) }
        #expect(e?.condition == .noContactPoint)

        m.invoiceId = "NOPE"
        let unknown = await #expect(throws: ChannelError.self) { try await channel.send(m) }
        #expect(unknown?.condition == .providerError)
    }
}
