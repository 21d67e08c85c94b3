import FeatureStore
import Foundation
import LinAlg
import Vocabulary

/// Logged decisions ready for policy learning: the point-in-time context features of a
/// `TrainingSet`, the customer-local decision clock, the chosen action, the allowed actions, the
/// logging propensity and the label "paid within H days of the send".
public struct PolicyData: Sendable {
    /// `n × d` context features (`FeatureSchema` columns).
    public var contexts: Matrix
    public var featureNames: [String]
    public var featureSchemaHash: String
    public var clocks: [DecisionClock]
    public var actions: [DeliveryAction]
    public var candidates: [ActionSet]
    public var propensities: [Double]
    /// 1 when paid within the horizon, else 0.
    public var labels: [Double]
    public var customerIDs: [String]
    public var invoiceIDs: [String]
    public var decisionIDs: [String]
    /// Decision instants, microseconds since the epoch.
    public var decidedAt: [Int64]
    public var horizonDays: Double

    public var count: Int { labels.count }

    /// Streams the store's training set (`TrainingSetBuilder.forEachBlock`) and keeps the decisions
    /// with `from ≤ decided_at < to` (microseconds; either bound optional).
    /// - Throws: `DecisioningError.noTrainingRows` when nothing is left; `StoreError`.
    public static func load(store: any Store, horizonDays: Double, from: Int64? = nil, to: Int64? = nil,
                            customersPerBlock: Int = 2_000) async throws -> PolicyData {
        var rows: [Double] = []
        var data = PolicyData(contexts: Matrix(rows: 0, columns: FeatureSchema.features.count), featureNames: FeatureSchema.names,
                              featureSchemaHash: FeatureSchema.hash, clocks: [], actions: [], candidates: [], propensities: [],
                              labels: [], customerIDs: [], invoiceIDs: [], decisionIDs: [], decidedAt: [], horizonDays: horizonDays)
        let d = FeatureSchema.features.count
        let options = TrainingSetOptions(horizonDays: horizonDays, customersPerBlock: customersPerBlock)
        try await TrainingSetBuilder.forEachBlock(from: store, options: options) { set in
            guard set.count > 0 else { return }
            let range = set.customerIDs.min()!...set.customerIDs.max()!
            var zones: [String: String] = [:]
            let c = Schema.customers
            for row in try await store.rows(of: c, customers: range) {
                zones[row[c.index("id")].text!] = row[c.index("time_zone")].text!
            }
            for i in 0..<set.count {
                let t = set.decidedAt[i]
                if let from, t < from { continue }
                if let to, t >= to { continue }
                for j in 0..<d { rows.append(set.features[i, j]) }
                let clock = LiveFeatures.localClock(at: t, timeZone: zones[set.customerIDs[i]] ?? "UTC")
                data.clocks.append(DecisionClock(weekday: clock.weekday, hour: clock.hour))
                data.actions.append(set.actions[i])
                data.candidates.append(set.candidates[i])
                data.propensities.append(set.propensities[i])
                data.labels.append(set.paidWithinHorizon[i] ? 1 : 0)
                data.customerIDs.append(set.customerIDs[i])
                data.invoiceIDs.append(set.invoiceIDs[i])
                data.decisionIDs.append(set.decisionIDs[i])
                data.decidedAt.append(t)
            }
        }
        guard !data.labels.isEmpty else {
            throw DecisioningError.noTrainingRows("the store at \(store.location) has no logged decisions"
                + (from != nil || to != nil ? " in the requested window" : "") + "; import a history with decisions.csv first")
        }
        data.contexts = Matrix(rows: data.labels.count, columns: d, rowMajor: rows)
        return data
    }

    /// The rows `indices`, in that order.
    public func subset(_ indices: [Int]) -> PolicyData {
        var out = self
        let d = contexts.columns
        out.contexts = Matrix(rows: indices.count, columns: d) { i, j in contexts[indices[i], j] }
        out.clocks = indices.map { clocks[$0] }
        out.actions = indices.map { actions[$0] }
        out.candidates = indices.map { candidates[$0] }
        out.propensities = indices.map { propensities[$0] }
        out.labels = indices.map { labels[$0] }
        out.customerIDs = indices.map { customerIDs[$0] }
        out.invoiceIDs = indices.map { invoiceIDs[$0] }
        out.decisionIDs = indices.map { decisionIDs[$0] }
        out.decidedAt = indices.map { decidedAt[$0] }
        return out
    }

    /// Splits by customer: a customer is in the holdout when the FNV-1a hash of its id, as a
    /// fraction of 2⁶⁴, is below `fraction` — the same customers every time, whatever the order.
    public func split(holdoutFraction fraction: Double) -> (train: PolicyData, holdout: PolicyData) {
        precondition(fraction >= 0 && fraction < 1, "PolicyData.split: fraction \(fraction) outside [0, 1)")
        var train: [Int] = [], holdout: [Int] = []
        for i in 0..<count {
            if PolicyData.holdoutShare(customerIDs[i]) < fraction { holdout.append(i) } else { train.append(i) }
        }
        return (subset(train), subset(holdout))
    }

    /// The customer's position in `[0, 1)` for the holdout split.
    public static func holdoutShare(_ id: String) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Double(h >> 11) / Double(1 << 53)
    }

    /// Earliest and latest decision instants.
    public var window: (from: Int64, to: Int64) { (decidedAt.min() ?? 0, decidedAt.max() ?? 0) }

    /// Inverse-probability-of-censoring weights that make each row's label the outcome of its
    /// own message alone, as the simulator's oracle and a live policy value it.
    ///
    /// A decision's label counts payments up to `H` days after its send time `t₀ = t + δ(a)`. When
    /// the invoice is still open at the next decision `j` on it (a week later in the dunning
    /// flow) and `j`'s message goes out before `t₀ + H`, the label also carries that later
    /// message's effect — more often the longer `δ(a)` is, which would credit waiting with the next
    /// reminder's payments. Such rows get weight 0; rows whose next message went out after the
    /// window get `1/P(send_j ≥ t₀ + H)`, the probability that the next decision's logging policy
    /// left the window alone, here over `j`'s allowed actions at equal probability (exact for
    /// uniform-random exploration; otherwise an approximation); rows without a later decision keep 1.
    /// Conditionally on reaching decision `j` its choice is independent of the first message's own
    /// outcome, so the weighted rows estimate `E[paid by t₀ + H | no later message]` without bias
    /// (Robins & Rotnitzky 1992, IPCW). Weights are clipped at `maxWeight`.
    /// Complexity: `O(n + Σ|A_j|)`.
    public func ownMessageWeights(maxWeight: Double = 50) -> [Double] {
        precondition(maxWeight >= 1, "PolicyData.ownMessageWeights: maxWeight \(maxWeight) must be ≥ 1")
        let day = 86_400_000_000.0
        var weights = [Double](repeating: 1, count: count)
        // Rows in time order per invoice.
        var byInvoice: [String: [Int]] = [:]
        for i in 0..<count { byInvoice[invoiceIDs[i], default: []].append(i) }
        for (_, rows) in byInvoice {
            let ordered = rows.sorted { (decidedAt[$0], $0) < (decidedAt[$1], $1) }
            for (k, i) in ordered.enumerated() where k + 1 < ordered.count {
                let j = ordered[k + 1]
                let end = Double(decidedAt[i]) / day + clocks[i].sendDelayDays(actions[i]) + horizonDays
                let tj = Double(decidedAt[j]) / day
                if tj + clocks[j].sendDelayDays(actions[j]) < end {
                    weights[i] = 0
                    continue
                }
                var kept = 0, all = 0
                for a in candidates[j] {
                    all += 1
                    if tj + clocks[j].sendDelayDays(a) >= end { kept += 1 }
                }
                weights[i] = Swift.min(Double(all) / Double(Swift.max(kept, 1)), maxWeight)
            }
        }
        return weights
    }

    /// Importance weights relative to the uniform policy over each decision's allowed actions,
    /// `wᵢ = min((1/|Aᵢ|)/πᵢ, maxWeight)`: 1 for uniform logging, and otherwise the Horvitz–Thompson
    /// correction that makes the weighted sample look as if actions had been chosen uniformly
    /// (clipped, Ionides 2008). `nil` when `maxWeight` is nil (no weighting).
    public func uniformImportanceWeights(maxWeight: Double?) -> [Double]? {
        guard let maxWeight else { return nil }
        return (0..<count).map { i in
            let n = Double(max(candidates[i].count, 1))
            return min(1 / (n * propensities[i]), maxWeight)
        }
    }
}
