import Foundation
import Vocabulary

/// One choice the optimiser (or a logging policy) made for a case, with the probability it was
/// made with (SPEC §3: without propensities there is no off-policy evaluation). One row of
/// `decisions.csv`.
public struct Decision: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var customerId: String
    public var invoiceId: String
    /// When the decision was made (UTC).
    public var decidedAt: Date
    /// The allowed actions after the constraints (contact points, consent, quiet hours, channel
    /// rules, flow restrictions). The chosen action is one of them.
    public var candidates: ActionSet
    public var channel: Channel
    public var tone: Tone
    /// The send weekday in the customer's time zone.
    public var weekday: Weekday
    /// The send-hour window in the customer's time zone.
    public var hour: HourBucket
    /// The probability with which the chosen action was chosen, in (0, 1].
    public var propensity: Double
    /// Whether `propensity` is exact (`false`: a Monte-Carlo estimate from `propensityDraws` draws).
    public var propensityIsExact: Bool
    /// Number of Monte-Carlo draws behind an estimated propensity; `nil` when exact.
    public var propensityDraws: Int?
    /// The policy's name (`random`, `rules`, `linucb` ...).
    public var policy: String
    /// The policy's or model artifact's version.
    public var policyVersion: String
    public var experiment: String?
    public var arm: String?
    /// A reference to the context the policy saw (a feature snapshot id), if kept outside the store.
    public var contextRef: String?

    public init(id: String, customerId: String, invoiceId: String, decidedAt: Date, candidates: ActionSet, action: DeliveryAction,
                propensity: Double, propensityIsExact: Bool, propensityDraws: Int?, policy: String, policyVersion: String,
                experiment: String?, arm: String?, contextRef: String?) {
        precondition(candidates.contains(action), "Decision: the chosen action \(action) is not among the candidates")
        precondition(propensity > 0 && propensity <= 1, "Decision: propensity \(propensity) outside (0, 1]")
        self.id = id
        self.customerId = customerId
        self.invoiceId = invoiceId
        self.decidedAt = decidedAt
        self.candidates = candidates
        self.channel = action.channel
        self.tone = action.tone
        self.weekday = action.weekday
        self.hour = action.hour
        self.propensity = propensity
        self.propensityIsExact = propensityIsExact
        self.propensityDraws = propensityDraws
        self.policy = policy
        self.policyVersion = policyVersion
        self.experiment = experiment
        self.arm = arm
        self.contextRef = contextRef
    }

    /// The chosen action.
    public var action: DeliveryAction { DeliveryAction(channel: channel, tone: tone, weekday: weekday, hour: hour) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case customerId = "customer_id"
        case invoiceId = "invoice_id"
        case decidedAt = "decided_at"
        case candidates
        case channel, tone, weekday, hour, propensity
        case propensityIsExact = "propensity_is_exact"
        case propensityDraws = "propensity_draws"
        case policy
        case policyVersion = "policy_version"
        case experiment, arm
        case contextRef = "context_ref"
    }
}

extension Decision: CSVRecord {
    public static let fileName = "decisions.csv"
    public static let columns = CodingKeys.allCases.map(\.stringValue)
    public var csvFields: [String] {
        [id, customerId, invoiceId, UTCTimestamp.format(decidedAt), candidates.description, channel.rawValue, tone.rawValue,
         String(weekday.rawValue), String(hour.rawValue), formatProbability(propensity), propensityIsExact ? "true" : "false",
         propensityDraws.map(String.init) ?? "", policy, policyVersion, experiment ?? "", arm ?? "", contextRef ?? ""]
    }
}

/// A probability written with enough digits to read back the same `Double` (Swift's shortest
/// round-trip form).
func formatProbability(_ p: Double) -> String { "\(p)" }
