import FeatureStore
import Foundation
import Optimizer
import Vocabulary
import Decisioning

/// A case the orchestrator handles: an invoice of a customer.
public struct CaseKey: Hashable, Sendable, Comparable {
    public var customerId: String
    public var invoiceId: String

    public init(customerId: String, invoiceId: String) {
        self.customerId = customerId
        self.invoiceId = invoiceId
    }

    public static func < (a: CaseKey, b: CaseKey) -> Bool { (a.customerId, a.invoiceId) < (b.customerId, b.invoiceId) }
}

/// What a model chose for one case.
public struct ModelChoice: Sendable, Hashable {
    /// The chosen delivery action; nil when the model chose "no contact now".
    public var action: DeliveryAction?
    /// The probability with which the policy chose it.
    public var propensity: Double
    public var propensityIsExact: Bool
    /// Monte-Carlo draws behind an estimated propensity.
    public var propensityDraws: Int?
    /// A short explanation (top feature contributions) for the decision log.
    public var explanation: String?

    public init(action: DeliveryAction?, propensity: Double, propensityIsExact: Bool, propensityDraws: Int? = nil,
                explanation: String? = nil) {
        self.action = action
        self.propensity = propensity
        self.propensityIsExact = propensityIsExact
        self.propensityDraws = propensityDraws
        self.explanation = explanation
    }
}

/// The promoted model as the orchestrator sees it: features for a batch of cases, then one
/// decision per case within its allowed candidates.
public protocol DeliveryModel: Sendable {
    /// The model's registry name and version (logged with every decision).
    var name: String { get }
    var version: String { get }

    /// The decision contexts (point-in-time features and local clock) of `cases` at `asOf`, by
    /// invoice id (a case the model cannot describe is left out: the flow's default is used for it).
    func contexts(for cases: [CaseKey], asOf: Date, store: any CaseQueue) async throws -> [String: LiveContext]

    /// The tables whose rows of one customer `context(of:asOf:tables:)` needs.
    var featureTables: [StoreTable] { get }

    /// The decision context of one case from its customer's rows of `featureTables` (by table name,
    /// read in one snapshot); nil when the model cannot describe the case.
    func context(of case: CaseKey, asOf: Date, tables: [String: [[Value]]]) throws -> LiveContext?

    /// Chooses within `candidates`, reproducibly for (`runKey`, customer).
    func decide(context: LiveContext, candidates: CandidateSet, amountDue: Double, runKey: UInt64, customerId: String) throws -> ModelChoice
}

/// The promoted model of the registry (`PolicyRuntime`) as the orchestrator's model: features from
/// the store with the training set's own code (`LiveFeatures`), one decision per case.
public struct PromotedModel: DeliveryModel {
    public let runtime: PolicyRuntime
    /// The registry name (`channel` of `channel@3`).
    public var name: String { String(runtime.model.split(separator: "@").first ?? Substring(runtime.model)) }
    /// The registry version (`3` of `channel@3`).
    public var version: String { runtime.model.split(separator: "@").dropFirst().first.map(String.init) ?? runtime.version }

    public init(runtime: PolicyRuntime) { self.runtime = runtime }

    /// The promoted version of `model` in the store; nil when none is promoted.
    public static func load(store: any CaseQueue, model: String) async throws -> PromotedModel? {
        do {
            return PromotedModel(runtime: try await PolicyRuntime.promoted(store: store, model: model))
        } catch ModelRegistryError.notFound {
            return nil
        }
    }

    public func contexts(for cases: [CaseKey], asOf: Date, store: any CaseQueue) async throws -> [String: LiveContext] {
        var out: [String: LiveContext] = [:]
        let t = LiveFeatures.micros(asOf)
        for c in cases {
            out[c.invoiceId] = try await LiveFeatures.context(store: store, customerID: c.customerId, invoiceID: c.invoiceId, at: t)
        }
        return out
    }

    public var featureTables: [StoreTable] { LiveFeatures.tables }

    public func context(of case: CaseKey, asOf: Date, tables: [String: [[Value]]]) throws -> LiveContext? {
        try LiveFeatures.context(tables: tables, customerID: `case`.customerId, invoiceID: `case`.invoiceId, at: LiveFeatures.micros(asOf))
    }

    public func decide(context: LiveContext, candidates: CandidateSet, amountDue: Double, runKey: UInt64, customerId: String) throws -> ModelChoice {
        let d = try runtime.decide(features: context.features, clock: DecisionClock(weekday: context.localWeekday, hour: context.localHour),
                                   candidates: candidates, runID: runKey, customerKey: PolicyRuntime.key(customerId), customerID: customerId)
        let draws: Int?
        if case .monteCarlo(let n) = d.propensityMethod { draws = n } else { draws = nil }
        let explanation = d.explanation.contributions.map { "\($0.feature) \(String(format: "%+.3f", $0.value))" }.joined(separator: ", ")
        return ModelChoice(action: d.action, propensity: d.propensity, propensityIsExact: draws == nil, propensityDraws: draws,
                           explanation: explanation)
    }
}
