import FeatureStore
import Foundation
import Optimizer
import Vocabulary

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

    /// The feature vectors of `cases` as known at `asOf`, by invoice id (a case the model cannot
    /// describe is left out: the flow's default is used for it).
    func contexts(for cases: [CaseKey], asOf: Date, store: any CaseQueue) async throws -> [String: [Double]]

    /// Chooses within `candidates`, reproducibly for (`runKey`, `customerKey`).
    func decide(context: [Double], candidates: CandidateSet, amountDue: Double, runKey: UInt64, customerKey: UInt64) -> ModelChoice
}
