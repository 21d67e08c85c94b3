import Decisioning
import FeatureStore
import Foundation
import Optimizer
import Vocabulary

/// One case's delivery decision asked for by a system that sends itself (the service's decision API).
public struct DecisionQuery: Sendable, Hashable {
    public var customerId: String
    public var invoiceId: String
    /// The decision's clock (the wall clock in production).
    public var asOf: Date
    /// The decision's id in the decision log (`API/<id>`); the same id gives the same choice.
    public var requestId: String
    /// Only these channels / tones (nil: all).
    public var channels: Set<Channel>?
    public var tones: Set<Tone>?
    /// The message goes out within this many hours (nil: the run configuration's `sendWindowHours`).
    public var windowHours: Double?
    /// What the control arm (and a case the model cannot describe) gets: this channel when it can be
    /// reached, else the first allowed one that can; in this tone, at once (out of quiet hours).
    public var defaultChannel: Channel
    public var defaultTone: Tone

    public init(customerId: String, invoiceId: String, asOf: Date, requestId: String, channels: Set<Channel>? = nil,
                tones: Set<Tone>? = nil, windowHours: Double? = nil, defaultChannel: Channel = .email, defaultTone: Tone = .neutral) {
        self.customerId = customerId
        self.invoiceId = invoiceId
        self.asOf = asOf
        self.requestId = requestId
        self.channels = channels
        self.tones = tones
        self.windowHours = windowHours
        self.defaultChannel = defaultChannel
        self.defaultTone = defaultTone
    }
}

/// The answer to a `DecisionQuery`, with the decision-log row to write.
public struct DecisionAnswer: Sendable {
    /// `API/<requestId>`.
    public var decisionId: String
    public var action: DeliveryAction
    /// When the message should go out (UTC) and the same instant on the customer's wall clock.
    public var sendAt: Date
    public var sendLocal: String
    public var timeZone: String
    /// The probability with which the policy chose `action` (1 for the control arm's default).
    public var propensity: Double
    public var propensityIsExact: Bool
    public var propensityDraws: Int?
    /// The registry model name and version, or `default` / `1` for the control arm.
    public var policy: String
    public var policyVersion: String
    public var experiment: String?
    public var arm: Experiment.Arm?
    /// The top feature contributions (model decisions only).
    public var explanation: String?
    /// How many delivery actions were allowed.
    public var candidateCount: Int
    /// The `decisions` row, as the orchestrator's runs write it (`context_ref` = `api`).
    public var row: [Value]
}

/// Why a decision could not be made, said so the caller can act on it.
public enum DecisionQueryError: Error, CustomStringConvertible, Equatable {
    case unknownCase(customerId: String, invoiceId: String)
    case closedInvoice(invoiceId: String, status: String)
    case noReachableChannel(customerId: String)

    public var description: String {
        switch self {
        case .unknownCase(let c, let i): return "no invoice '\(i)' of customer '\(c)' in the store"
        case .closedInvoice(let i, let s): return "invoice '\(i)' is \(s): nothing to send"
        case .noReachableChannel(let c):
            return "customer '\(c)' has no usable, consented contact point for the allowed channels and hours"
        }
    }
}

extension Orchestrator {
    /// Decides channel, tone and send time for one case the way an `optimise` step does: the
    /// customer's usable contact points, quiet hours and channel rules give the candidates, cut to
    /// those that go out within the send window; in the treatment arm (or for everyone when no
    /// experiment runs) the promoted model chooses with its propensity, in the control arm the
    /// default channel and tone go out at once. Nothing is written: the caller logs `row`.
    public func decide(_ q: DecisionQuery) async throws -> DecisionAnswer {
        let it = Schema.invoices, cu = Schema.customers, cs = Schema.caseStates, cp = Schema.contactPoints
        // The customer's rows of every table the decision and the model's features need, in one read
        // (one snapshot, one transaction on SQLite).
        var needed = [it, cu, cs, cp]
        if configuration.experiment?.arm(of: q.customerId) != .control, let model { needed += model.featureTables.filter { t in !needed.contains { $0.name == t.name } } }
        let tables = try await store.rows(of: needed, customers: q.customerId...q.customerId)
        guard let invoice = tables[it.name]?.first(where: { it.value($0, "id").text == q.invoiceId }),
              let customer = tables[cu.name]?.first else {
            throw DecisionQueryError.unknownCase(customerId: q.customerId, invoiceId: q.invoiceId)
        }
        if let status = InvoiceStatus(rawValue: it.value(invoice, "status").text ?? ""), status.isClosed {
            throw DecisionQueryError.closedInvoice(invoiceId: q.invoiceId, status: status.rawValue)
        }
        let points = tables[cp.name] ?? []
        let zoneName = cu.value(customer, "time_zone").text ?? "UTC"
        let zone = LocalClock.zone(zoneName)
        let state = tables[cs.name]?.first { cs.value($0, "invoice_id").text == q.invoiceId }
        let experiment = configuration.experiment
        let arm = state.flatMap { cs.value($0, "arm").text.flatMap(Experiment.Arm.init(rawValue:)) } ?? experiment?.arm(of: q.customerId)
        let decisionId = "API/" + q.requestId

        var set = ActionConstraints(contactPoints: banditContactPoints(points), quietHours: configuration.quietHours,
                                    channelRules: configuration.channelRules,
                                    flow: FlowRestrictions(channels: q.channels, tones: q.tones)).candidates
        let latest = q.asOf.addingTimeInterval((q.windowHours ?? configuration.sendWindowHours) * 3600)
        let slots = SendSlots(asOf: q.asOf, zone: zone)
        for index in Array(set) where index < DeliveryAction.count {
            if slots.start(of: DeliveryAction(index: index)) > latest { set.remove(index) }
        }

        var chosen: DeliveryAction
        var at: Date
        var policy = (name: "default", version: "1", propensity: 1.0, exact: true, draws: Int?.none)
        var explanation: String?
        var context: LiveContext?
        if arm != .control, let model {
            if model.featureTables.allSatisfy({ t in needed.contains { $0.name == t.name } }) {
                context = try model.context(of: CaseKey(customerId: q.customerId, invoiceId: q.invoiceId), asOf: q.asOf, tables: tables)
            } else {
                // The case's stored arm is the treatment although the customer's hash says control (an
                // experiment whose split changed): the model's tables were not read above.
                context = try await model.contexts(for: [CaseKey(customerId: q.customerId, invoiceId: q.invoiceId)], asOf: q.asOf,
                                                   store: store)[q.invoiceId]
            }
        }
        if let model, let context, arm != .control, set.contains(where: { $0 < DeliveryAction.count }) {
            let amount = Double(it.value(invoice, "amount_minor").integer ?? 0) / 100
            let choice = try model.decide(context: context, candidates: set, amountDue: amount, runKey: PolicyRuntime.key(decisionId),
                                          customerId: q.customerId)
            guard let a = choice.action else { throw DecisionQueryError.noReachableChannel(customerId: q.customerId) }
            chosen = a
            at = slots.start(of: a)
            policy = (model.name, model.version, choice.propensity, choice.propensityIsExact, choice.propensityDraws)
            explanation = choice.explanation
        } else {
            let allowed = q.channels ?? Set(Channel.allCases)
            let order = [q.defaultChannel] + Channel.allCases.filter { $0 != q.defaultChannel }
            guard let channel = order.first(where: { allowed.contains($0) && (try? contactPoint(for: $0, in: points).get()) != nil }) else {
                throw DecisionQueryError.noReachableChannel(customerId: q.customerId)
            }
            var tone = q.defaultTone
            if let tones = q.tones, !tones.contains(tone) { tone = Tone.allCases.first { tones.contains($0) } ?? tone }
            at = outOfQuietHours(q.asOf, zone: zone)
            chosen = action(channel: channel, tone: tone, at: at, zone: zone)
        }
        set.insert(chosen.index)
        let actionSet = ActionSet(set.compactMap { i in i < DeliveryAction.count ? DeliveryAction(index: i) : nil })
        let row: [Value] = [
            .text(decisionId), .text(q.customerId), .text(q.invoiceId), .integer(micros(q.asOf)), .text(actionSet.description),
            .text(chosen.channel.rawValue), .text(chosen.tone.rawValue), .integer(Int64(chosen.weekday.rawValue)),
            .integer(Int64(chosen.hour.rawValue)), .real(policy.propensity), .integer(policy.exact ? 1 : 0),
            policy.draws.map { .integer(Int64($0)) } ?? .null, .text(policy.name), .text(policy.version),
            experiment.map { .text($0.name) } ?? .null, arm.map { .text($0.rawValue) } ?? .null, .text("api"),
        ]
        let local = LocalClock.local(at, in: zone)
        let sendLocal = LocalDateTime(date: local.date, hour: local.hour, minute: local.minute).description
        return DecisionAnswer(decisionId: decisionId, action: chosen, sendAt: at, sendLocal: sendLocal, timeZone: zoneName,
                              propensity: policy.propensity, propensityIsExact: policy.exact, propensityDraws: policy.draws,
                              policy: policy.name, policyVersion: policy.version, experiment: experiment?.name, arm: arm,
                              explanation: explanation, candidateCount: set.filter { $0 < DeliveryAction.count }.count, row: row)
    }
}
