import Foundation
import LinAlg

/// Holdout metrics of predicted probabilities against 0/1 labels.
public struct PredictionMetrics: Codable, Sendable, Equatable {
    public struct CalibrationBin: Codable, Sendable, Equatable {
        /// Bin number 1...10 (deciles of the predictions).
        public var bin: Int
        public var rows: Int
        public var meanPredicted: Double
        public var observedRate: Double
        public var lowestPrediction: Double
        public var highestPrediction: Double
    }

    public var rows: Int
    /// `−(1/n) Σ [yᵢ log pᵢ + (1−yᵢ) log(1−pᵢ)]` with `p` clipped to `[1e-15, 1 − 1e-15]` (scikit-learn's `log_loss`).
    public var logLoss: Double
    /// Area under the ROC curve: the Mann–Whitney statistic with ties counted ½ (scikit-learn's
    /// `roc_auc_score`); nil when only one class is present.
    public var auc: Double?
    /// `(1/n) Σ (pᵢ − yᵢ)²` (scikit-learn's `brier_score_loss`).
    public var brier: Double
    public var baseRate: Double
    /// Deciles of the predictions (rows sorted by prediction, split into 10 near-equal groups).
    public var calibration: [CalibrationBin]

    /// Computes the metrics. O(n log n).
    public init(predictions p: [Double], labels y: [Double]) {
        precondition(p.count == y.count, "PredictionMetrics: \(p.count) predictions, \(y.count) labels")
        let n = p.count
        rows = n
        var ll = 0.0, br = 0.0
        for i in 0..<n {
            let q = min(max(p[i], 1e-15), 1 - 1e-15)
            ll -= y[i] * log(q) + (1 - y[i]) * log(1 - q)
            br += (p[i] - y[i]) * (p[i] - y[i])
        }
        logLoss = n > 0 ? ll / Double(n) : .nan
        brier = n > 0 ? br / Double(n) : .nan
        let positives = y.reduce(0, +)
        baseRate = n > 0 ? positives / Double(n) : .nan
        let order = (0..<n).sorted { p[$0] < p[$1] }
        // Mann–Whitney: average ranks over ties.
        var rankSumPositive = 0.0
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && p[order[j + 1]] == p[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j where y[order[k]] > 0.5 { rankSumPositive += rank }
            i = j + 1
        }
        let nPos = Double(y.filter { $0 > 0.5 }.count), nNeg = Double(n) - nPos
        auc = nPos > 0 && nNeg > 0 ? (rankSumPositive - nPos * (nPos + 1) / 2) / (nPos * nNeg) : nil
        var bins: [CalibrationBin] = []
        if n > 0 {
            for b in 0..<10 {
                let lo = b * n / 10, hi = (b + 1) * n / 10
                guard hi > lo else { continue }
                let rowsInBin = order[lo..<hi]
                let mp = rowsInBin.reduce(0) { $0 + p[$1] } / Double(hi - lo)
                let oy = rowsInBin.reduce(0) { $0 + y[$1] } / Double(hi - lo)
                bins.append(CalibrationBin(bin: b + 1, rows: hi - lo, meanPredicted: mp, observedRate: oy,
                                           lowestPrediction: p[order[lo]], highestPrediction: p[order[hi - 1]]))
            }
        }
        calibration = bins
    }

    /// The scalar metrics by name (for artifacts and the registry).
    public var summary: [String: Double] {
        var m = ["holdout_rows": Double(rows), "holdout_log_loss": logLoss, "holdout_brier": brier, "holdout_base_rate": baseRate]
        if let auc { m["holdout_auc"] = auc }
        return m
    }
}
