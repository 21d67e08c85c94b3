import Foundation
import Vocabulary
import FeatureStore

/// The simulated world answering an orchestrator's actions one at a time — the simulated
/// channel of a closed-loop run. Holds every customer's timeline in memory (O(customers)).
///
/// ```swift
/// let live = LiveWorld(world: World(config: SimulationConfig(customers: 1000, days: 90, seed: 7)))
/// var t = live.world.config.startInstant
/// while t < live.world.config.endInstant {
///     t += 3600
///     let events = live.advance(to: t)                 // deliveries, bounces, visits, payments
///     for invoiceId in live.dueCases(at: t) {          // reminders due in the last hour
///         let context = live.context(invoiceId: invoiceId, at: t)
///         guard let action = context.candidates.first else { continue }   // the orchestrator's choice
///         live.decide(context, action: action, propensity: 1, policy: "mine", version: "1")
///     }
/// }
/// ```
/// Message outcomes come from per-message random streams, so driving the world with the same
/// actions at the same times gives the same events, whatever else happens.
public final class LiveWorld {
    public let world: World
    /// One timeline per customer, by index.
    public let timelines: [CustomerTimeline]
    var byInvoice: [String: (customer: Int, invoice: Int)] = [:]
    var byCustomer: [String: Int] = [:]
    /// Time up to which the world has run.
    public private(set) var now: Date

    /// Generates every customer of `world` at the start of its period.
    public init(world: World) {
        self.world = world
        timelines = (0..<world.config.customers).map { CustomerTimeline(world: world, customer: world.customer($0)) }
        now = world.config.startInstant
        for (c, t) in timelines.enumerated() {
            byCustomer[t.customer.id] = c
            for (i, inv) in t.invoices.enumerated() { byInvoice[inv.id] = (c, i) }
        }
    }

    /// The customers, contact points and invoices as they stand now.
    public var customers: [Customer] { timelines.map(\.customer) }
    public var contactPoints: [ContactPoint] { timelines.flatMap(\.contactPoints) }
    public var invoices: [Invoice] { timelines.flatMap(\.invoices) }

    func locate(_ invoiceId: String) -> (CustomerTimeline, Int) {
        guard let (c, i) = byInvoice[invoiceId] else { preconditionFailure("LiveWorld: unknown invoice '\(invoiceId)'") }
        return (timelines[c], i)
    }

    /// The timeline of customer `customerId`.
    public func timeline(customerId: String) -> CustomerTimeline {
        guard let c = byCustomer[customerId] else { preconditionFailure("LiveWorld: unknown customer '\(customerId)'") }
        return timelines[c]
    }

    /// Lets time run to `t` for everyone.
    /// - Returns: the events that happened since the last call, ordered by time, then customer.
    @discardableResult
    public func advance(to t: Date) -> [Event] {
        var out: [Event] = []
        for tl in timelines { out.append(contentsOf: tl.advance(to: t)) }
        if t > now { now = t }
        return out.enumerated().sorted { ($0.element.occurredAt, $0.offset) < ($1.element.occurredAt, $1.offset) }.map(\.element)
    }

    /// Invoices that are issued (issue date ≤ `t`), still open, and whose reminder `k` falls in
    /// `(t − window, t]` for some k — the cases a daily or hourly orchestrator run handles now.
    public func dueCases(at t: Date, window: TimeInterval = 3600) -> [String] {
        var out: [String] = []
        for tl in timelines {
            for i in tl.invoices.indices where tl.isOpen(i) {
                for k in world.parameters.reminderDays.indices {
                    let r = tl.reminderInstant(invoice: i, reminder: k)
                    if r <= t && r > t.addingTimeInterval(-window) { out.append(tl.invoices[i].id) }
                }
            }
        }
        return out
    }

    /// What a policy sees for the case `invoiceId` at `t` (the world must have run to `t`).
    public func context(invoiceId: String, at t: Date) -> DecisionContext {
        let (tl, i) = locate(invoiceId)
        tl.advance(to: t)
        return tl.context(invoice: i, at: t)
    }

    /// Logs a decision for the context's case and queues its message at the action's next
    /// weekday/window.
    /// - Returns: the decision record and the queued message.
    @discardableResult
    public func decide(_ context: DecisionContext, action: DeliveryAction, propensity: Double, propensityIsExact: Bool = true,
                       propensityDraws: Int? = nil, policy: String, version: String, experiment: String? = nil,
                       arm: String? = nil) -> (decision: Decision, message: Message) {
        let (tl, i) = locate(context.invoice.id)
        precondition(context.candidates.contains(action), "LiveWorld: action \(action) is not among the candidates")
        var d = tl.decide(context, action: action, propensity: propensity, policy: policy, version: version, invoice: i,
                          experiment: experiment, arm: arm)
        if !propensityIsExact {
            d.propensityIsExact = false
            d.propensityDraws = propensityDraws
            tl.replaceLastDecision(d)
        }
        return (d, tl.messages[tl.messages.count - 1])
    }

    /// Sends a message outside the optimiser (a flow's backup action, e.g. an SMS right after an
    /// e-mail bounced) at instant `at` (≥ now).
    /// - Returns: the queued message; its outcome arrives through `advance(to:)`.
    @discardableResult
    public func send(invoiceId: String, channel: Channel, tone: Tone, template: String, at: Date,
                     idempotencyKey: String? = nil) -> Message {
        let (tl, i) = locate(invoiceId)
        let m = tl.send(invoice: i, channel: channel, tone: tone, template: template, at: at, decisionId: nil, idempotencyKey: idempotencyKey)
        return tl.messages[m]
    }

    /// The current state of a message.
    public func message(id: String, invoiceId: String) -> Message? {
        locate(invoiceId).0.messages.first { $0.id == id }
    }

    /// The oracle: the true probability of payment within `horizonDays` of the send for every
    /// candidate of the case at `t` (see `CustomerTimeline.actionValues`).
    public func actionValues(invoiceId: String, at t: Date, horizonDays: Double) -> [ActionValue] {
        let (tl, i) = locate(invoiceId)
        return tl.actionValues(invoice: i, at: t, horizonDays: horizonDays, actions: tl.candidates())
    }

    /// The oracle's action for the case at `t` (nil when nothing can be sent).
    public func oracleAction(invoiceId: String, at t: Date, horizonDays: Double) -> ActionValue? {
        let values = actionValues(invoiceId: invoiceId, at: t, horizonDays: horizonDays)
        return values.isEmpty ? nil : OracleChoice.best(values)
    }

    /// Restricted mean time to pay (days, from the send, truncated at `tau`) of `action` for the case at `t`.
    public func expectedDaysToPay(invoiceId: String, at t: Date, action: DeliveryAction, truncatedAtDays tau: Double) -> Double {
        let (tl, i) = locate(invoiceId)
        return tl.expectedDaysToPay(invoice: i, at: t, action: action, truncatedAtDays: tau)
    }
}

extension CustomerTimeline {
    func replaceLastDecision(_ d: Decision) {
        decisions[decisions.count - 1] = d
    }
}
