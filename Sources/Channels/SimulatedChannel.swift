import Foundation
import Vocabulary
import FeatureStore
import Simulator

/// The simulator's online world (`LiveWorld`) as a channel, so an orchestrator run can be closed
/// loop: messages sent here are answered by the simulated payers with deliveries, bounces, page
/// visits and payments, which `advance(to:)` hands back as events for ingest.
///
/// `LiveWorld` is a non-`Sendable` class; this actor owns it and never lets it escape, so every
/// use is serialised. Outcomes come from per-message random streams of the world's seed, so
/// sending the same messages at the same instants gives the same events.
///
/// Idempotency: the actor remembers every key it took (in memory; the world itself lives in
/// memory too), and a repeated key gets its first receipt back with `replayed == true`.
///
/// Events refer to messages by the orchestrator's `messageId` (the world's own ids are mapped
/// back); events of messages the world queued itself keep the world's ids.
///
/// ```swift
/// let channel = SimulatedChannel(world: World(config: SimulationConfig(customers: 100, days: 60, seed: 7)))
/// let receipt = try await channel.send(message)
/// let events = await channel.advance(to: message.scheduledAt.addingTimeInterval(86_400))
/// ```
public actor SimulatedChannel: ChannelAdapter {
    public nonisolated let name = "simulated"
    private let live: LiveWorld
    private var receipts: [String: SendReceipt] = [:]
    /// World message id -> orchestrator message id.
    private var messageIds: [String: String] = [:]
    /// Invoice id -> customer id, for every invoice of the world.
    private let invoiceCustomer: [String: String]

    /// A channel over a new `LiveWorld` of `world` (every customer generated at the start of its period).
    public init(world: World) {
        let live = LiveWorld(world: world)
        var index: [String: String] = [:]
        for inv in live.invoices { index[inv.id] = inv.customerId }
        self.live = live
        self.invoiceCustomer = index
    }

    /// The time up to which the world has run.
    public var now: Date { live.now }

    /// The customers, contact points and invoices of the world as they stand now.
    public var customers: [Customer] { live.customers }
    public var contactPoints: [ContactPoint] { live.contactPoints }
    public var invoices: [Invoice] { live.invoices }

    /// Runs `body` with the world (for oracle queries, decisions and inspection); the world must
    /// not escape `body`.
    public func withWorld<T: Sendable>(_ body: (LiveWorld) throws -> T) rethrows -> T {
        try body(live)
    }

    /// Queues `message` in the world at `max(message.scheduledAt, now)`.
    /// - Throws: `ChannelError.permanent(_, .noContactPoint)` when the customer has no usable
    ///   contact point for the channel (none, bounced, invalid, or without consent), and when the
    ///   invoice or customer is unknown to the world.
    public func send(_ message: OutgoingMessage) async throws -> SendReceipt {
        if var first = receipts[message.idempotencyKey] {
            first.replayed = true
            return first
        }
        guard invoiceCustomer[message.invoiceId] == message.customerId else {
            throw ChannelError.permanent("the simulated world has no invoice \(message.invoiceId) of customer \(message.customerId)",
                                         .providerError)
        }
        let timeline = live.timeline(customerId: message.customerId)
        guard timeline.contactPoint(for: message.channel) != nil else {
            let points = timeline.contactPoints.filter { $0.kind == message.channel.contactKind }
            let condition: FailureCondition = points.contains { $0.validation.isUsable && !$0.consent } ? .noConsent : .noContactPoint
            throw ChannelError.permanent("customer \(message.customerId) has no usable \(message.channel.rawValue) contact point", condition)
        }
        let at = max(message.scheduledAt, live.now)
        let queued = live.send(invoiceId: message.invoiceId, channel: message.channel, tone: message.tone,
                               template: message.template, at: at, idempotencyKey: message.idempotencyKey)
        messageIds[queued.id] = message.messageId
        let receipt = SendReceipt(providerId: "sim:" + queued.id, acceptedAt: at, status: .accepted)
        receipts[message.idempotencyKey] = receipt
        return receipt
    }

    /// Lets the world run to `t`.
    /// - Returns: the events since the last call (deliveries, bounces, opens, clicks, visits, QR
    ///   scans, contact submissions, preferred channels, payments), ordered by time, with message
    ///   ids mapped to the orchestrator's.
    public func advance(to t: Date) -> [Event] {
        live.advance(to: t).map { e in
            var e = e
            if let m = e.messageId, let mine = messageIds[m] { e.messageId = mine }
            return e
        }
    }
}
