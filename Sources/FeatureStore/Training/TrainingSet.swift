import Foundation
import LinAlg
import Vocabulary

/// A point-in-time training set: one row per logged decision, with the context features as known
/// at decision time (`FeatureSchema`), the chosen action and its propensity, and the outcomes.
///
/// Outcomes look at the invoice's payments from the decision time `t` on, against the send time
/// `t0` of the decision's message (its `scheduled_at`; `t` when no message carries the decision
/// id), as the simulator's oracle does ("paid by `t0 + H`", payments before the send count):
/// - `paidWithinHorizon`: a payment with `t ≤ paid_at ≤ t0 + H days`;
/// - `timeToPayDays`/`paid`: days from `t0` to the first payment at or after `t` (0 when it came
///   before the send; `paid` = 1), or to the end of observation (`paid` = 0, right-censored);
/// - `amountPaidMinor`: sum of the payments in `[t, t0 + H]`; `channelCostMinor`: the cost of the
///   decision's messages.
///
/// Rows are ordered by customer id, then decision time, then decision id.
public struct TrainingSet: Sendable, Equatable {
    /// `rows × FeatureSchema.features.count`, column-major, in `featureNames` order.
    public var features: Matrix
    public var featureNames: [String]
    /// `FeatureSchema.hash` of the features.
    public var featureSchemaHash: String
    public var decisionIDs: [String]
    public var customerIDs: [String]
    public var invoiceIDs: [String]
    /// Decision times, microseconds since the epoch (UTC).
    public var decidedAt: [Int64]
    /// The chosen actions.
    public var actions: [DeliveryAction]
    /// The allowed actions of each decision.
    public var candidates: [ActionSet]
    /// The probability with which each action was chosen.
    public var propensities: [Double]
    public var propensityIsExact: [Bool]
    public var policies: [String]
    public var policyVersions: [String]
    public var experiments: [String?]
    public var arms: [String?]
    public var paidWithinHorizon: [Bool]
    public var timeToPayDays: [Double]
    /// Whether the payment was observed (`false`: censored at `timeToPayDays`).
    public var paid: [Bool]
    public var amountPaidMinor: [Int64]
    public var channelCostMinor: [Int64]

    /// An empty set.
    public init() {
        features = Matrix(rows: 0, columns: FeatureSchema.features.count)
        featureNames = FeatureSchema.names
        featureSchemaHash = FeatureSchema.hash
        decisionIDs = []; customerIDs = []; invoiceIDs = []; decidedAt = []; actions = []; candidates = []
        propensities = []; propensityIsExact = []; policies = []; policyVersions = []; experiments = []; arms = []
        paidWithinHorizon = []; timeToPayDays = []; paid = []; amountPaidMinor = []; channelCostMinor = []
    }

    /// Number of rows (decisions).
    public var count: Int { decisionIDs.count }

    /// Appends the rows of `other` (same feature schema).
    public mutating func append(_ other: TrainingSet) {
        precondition(other.featureSchemaHash == featureSchemaHash, "TrainingSet.append: different feature schemas")
        let p = features.columns
        var columns: [[Double]] = (0..<p).map { j in Array(features.elements[(j * features.rows)..<((j + 1) * features.rows)]) }
        for j in 0..<p { columns[j] += other.features.elements[(j * other.features.rows)..<((j + 1) * other.features.rows)] }
        features = Matrix(rows: features.rows + other.features.rows, columns: p, columnMajor: columns.flatMap { $0 })
        decisionIDs += other.decisionIDs; customerIDs += other.customerIDs; invoiceIDs += other.invoiceIDs
        decidedAt += other.decidedAt; actions += other.actions; candidates += other.candidates
        propensities += other.propensities; propensityIsExact += other.propensityIsExact
        policies += other.policies; policyVersions += other.policyVersions; experiments += other.experiments; arms += other.arms
        paidWithinHorizon += other.paidWithinHorizon; timeToPayDays += other.timeToPayDays; paid += other.paid
        amountPaidMinor += other.amountPaidMinor; channelCostMinor += other.channelCostMinor
    }
}

/// How to build a training set.
public struct TrainingSetOptions: Sendable {
    /// H in "paid within H days of the message".
    public var horizonDays: Double
    /// End of observation (microseconds since the epoch) for censoring; by default the latest
    /// instant in the store (decisions, messages, events, payments).
    public var observedUntil: Int64?
    /// Customers read per block; a block's rows are built from their histories only.
    public var customersPerBlock: Int

    public init(horizonDays: Double = 7, observedUntil: Int64? = nil, customersPerBlock: Int = 2_000) {
        precondition(horizonDays > 0, "TrainingSetOptions: horizonDays must be positive")
        precondition(customersPerBlock > 0, "TrainingSetOptions: customersPerBlock must be positive")
        self.horizonDays = horizonDays
        self.observedUntil = observedUntil
        self.customersPerBlock = customersPerBlock
    }
}

/// Builds point-in-time training sets from a store, streaming customer blocks so that only one
/// block's histories are in memory at a time.
public enum TrainingSetBuilder {
    /// The latest instant recorded in the store, or nil when it holds no history.
    public static func latestInstant(in store: any Store) async throws -> Int64? {
        var latest: Int64? = nil
        for (table, column) in [(Schema.decisions, "decided_at"), (Schema.messages, "scheduled_at"),
                                (Schema.events, "occurred_at"), (Schema.payments, "paid_at")] {
            if let v = try await store.maxInstant(of: column, in: table) { latest = max(latest ?? v, v) }
        }
        return latest
    }

    /// Calls `body` with the training rows of each block of `options.customersPerBlock` customers,
    /// in customer-id order. The concatenation of the blocks equals `build(from:options:)`.
    public static func forEachBlock(from store: any Store, options: TrainingSetOptions = .init(),
                                    _ body: (TrainingSet) async throws -> Void) async throws {
        var observedUntil: Int64 = 0
        if let given = options.observedUntil { observedUntil = given } else if let latest = try await latestInstant(in: store) { observedUntil = latest }
        var after: [Value]? = nil
        while true {
            let customers = try await store.rows(of: Schema.customers, after: after, limit: options.customersPerBlock)
            guard let first = customers.first, let last = customers.last else { return }
            let id = Schema.customers.index("id")
            let range = first[id].text!...last[id].text!
            var tables: [String: [[Value]]] = ["customers": customers]
            for table in [Schema.contactPointVersions, Schema.invoices, Schema.decisions, Schema.messages, Schema.events, Schema.payments] {
                tables[table.name] = try await store.rows(of: table, customers: range)
            }
            try await body(trainingSet(tables, horizonDays: options.horizonDays, observedUntil: observedUntil))
            guard customers.count == options.customersPerBlock else { return }
            after = [last[id]]
        }
    }

    /// The whole training set.
    public static func build(from store: any Store, options: TrainingSetOptions = .init()) async throws -> TrainingSet {
        var result = TrainingSet()
        try await forEachBlock(from: store, options: options) { result.append($0) }
        return result
    }

    /// The training rows of the customers in `tables` (rows by table name, `Schema` column order).
    static func trainingSet(_ tables: [String: [[Value]]], horizonDays: Double, observedUntil: Int64) -> TrainingSet {
        let histories = CustomerHistory.group(tables)
        var set = TrainingSet()
        var rowsOfFeatures: [[Double]] = []
        let horizon = Int64(horizonDays * 86_400_000_000)
        for history in histories {
            for d in history.decisions {
                let context = history.context(for: d)
                rowsOfFeatures.append(FeatureSchema.features.map { $0.compute(context) })
                let outcome = history.outcome(for: d, horizon: horizon, observedUntil: observedUntil)
                set.decisionIDs.append(d.id); set.customerIDs.append(history.customerID); set.invoiceIDs.append(d.invoiceID)
                set.decidedAt.append(d.t); set.actions.append(d.action); set.candidates.append(d.candidates)
                set.propensities.append(d.propensity); set.propensityIsExact.append(d.propensityIsExact)
                set.policies.append(d.policy); set.policyVersions.append(d.policyVersion)
                set.experiments.append(d.experiment); set.arms.append(d.arm)
                set.paidWithinHorizon.append(outcome.paidWithin); set.timeToPayDays.append(outcome.days)
                set.paid.append(outcome.paid); set.amountPaidMinor.append(outcome.amount); set.channelCostMinor.append(outcome.cost)
            }
        }
        set.features = Matrix(rows: rowsOfFeatures.count, columns: FeatureSchema.features.count, rowMajor: rowsOfFeatures.flatMap { $0 })
        return set
    }
}
