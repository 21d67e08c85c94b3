import FeatureStore
import Foundation
import LinAlg
import Optimizer
import Vocabulary

/// A fitted reward model `P(paid within H days | x, a) = σ(β₀ + βᵀφ(x, a))` over `ActionDesign`.
public struct ActionRewardModel: Codable, Sendable, Equatable {
    public var design: ActionDesign
    public var intercept: Double
    /// Coefficients of `φ` after the intercept (`design.width − 1`).
    public var coefficients: [Double]
    public var horizonDays: Double

    public init(design: ActionDesign, intercept: Double, coefficients: [Double], horizonDays: Double) {
        precondition(coefficients.count == design.width - 1, "ActionRewardModel: \(coefficients.count) coefficients, the design has \(design.width - 1)")
        self.design = design
        self.intercept = intercept
        self.coefficients = coefficients
        self.horizonDays = horizonDays
    }

    /// `η(x, a)` by the explicit design (the slow, obviously-right path; `ActionScorer` is the fast one).
    public func linearPredictor(context x: [Double], clock: DecisionClock, action: DeliveryAction) -> Double {
        var phi = [Double](repeating: 0, count: design.width - 1)
        design.write(context: x, clock: clock, action: action, into: &phi)
        var eta = intercept
        for k in 0..<phi.count { eta += coefficients[k] * phi[k] }
        return eta
    }
}

/// Weighted, L2-penalised logistic regression of "paid within H days" on `φ(x, a)`
/// (`LogisticRegression`: `Σ wᵢ·loglossᵢ + (λ/2)·‖β‖²`, intercept unpenalised), with the
/// importance weights of `PolicyData.uniformImportanceWeights` so that a reward model fitted on
/// one logging policy's choices estimates every action's reward, not the logged mix.
///
/// ```swift
/// let data = try await PolicyData.load(store: store, horizonDays: 7)
/// let fit = try ActionRewardRegression(l2: 1).fit(data)
/// let p = sigmoid(fit.model.linearPredictor(context: x, clock: clock, action: action))
/// ```
/// Complexity: building the design `O(n·p)` memory (`p = design.width`, 600-odd columns by
/// default) and the solver's `O(n·p)` per L-BFGS step or `O(n·p²)` per Newton step.
public struct ActionRewardRegression: Sendable {
    public var l2: Double
    /// Clip of the importance weights; nil fits unweighted.
    public var maxWeight: Double?
    public var interactionNames: [String]
    /// Channel families matched to the action's channel (`ActionDesign.channelFamilies`).
    public var channelFamilies: [String] = []
    public var tolerance: Double
    public var maxIterations: Int
    /// Fit by Newton/IRLS whatever the width (else `LogisticRegression`'s automatic choice).
    public var newton: Bool = false

    public init(l2: Double = 1, maxWeight: Double? = 20, interactionNames: [String] = ActionDesign.defaultInteractionNames,
                tolerance: Double = 1e-7, maxIterations: Int = 200) {
        precondition(l2 > 0 && l2.isFinite, "ActionRewardRegression: l2 must be positive and finite")
        self.l2 = l2
        self.maxWeight = maxWeight
        self.interactionNames = interactionNames
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }

    /// The design matrix `[1, φ(xᵢ, aᵢ)]` of the logged rows (column-major, `n × width`).
    public static func designMatrix(_ data: PolicyData, design: ActionDesign) -> Matrix {
        let n = data.count, w = design.width
        var storage = [Double](repeating: 0, count: n * w)
        for i in 0..<n { storage[i] = 1 }
        for i in 0..<n {
            let x = (0..<data.contexts.columns).map { data.contexts[i, $0] }
            design.write(context: x, clock: data.clocks[i], action: data.actions[i],
                         into: &storage, offset: i + n, stride: n)
        }
        return Matrix(rows: n, columns: w, columnMajor: storage)
    }

    /// Fits the model on every row of `data`.
    /// - Throws: `LogisticRegression.FitError` when no usable fit exists; `DecisioningError` for an
    ///   unknown interaction feature.
    public func fit(_ data: PolicyData) throws -> (model: ActionRewardModel, report: LogisticRegression.FitReport) {
        let design = try ActionDesign.fitted(contexts: data.contexts, names: data.featureNames, interactionNames: interactionNames,
                                             channelFamilies: channelFamilies)
        let x = ActionRewardRegression.designMatrix(data, design: design)
        let regression = LogisticRegression(l2: l2, solver: newton ? .newton : .auto, tolerance: tolerance, maxIterations: maxIterations,
                                            standardErrors: false)
        let fitted = try regression.fit(design: x, labels: data.labels, weights: data.uniformImportanceWeights(maxWeight: maxWeight),
                                        featureNames: design.featureNames)
        return (ActionRewardModel(design: design, intercept: fitted.intercept, coefficients: fitted.coefficients,
                                  horizonDays: data.horizonDays), fitted.report)
    }
}

/// The fast scorer of an `ActionRewardModel`: per decision, 19 level scores `u_g = B_g·[1, s̃]`
/// and the base `β₀ + βᵀx̃`, then four table look-ups and one multiply-add per action.
public struct ActionScorer: Sendable {
    public let model: ActionRewardModel
    let d: Int
    let blockSize: Int
    /// `L × (1+|s|)`, row-major.
    let blocks: [Double]
    let interactions: [Int32]
    /// Per action: 4 level slots (the zero slot `L` for reference levels) and the (weekday, window) cell.
    let actionSlots: [Int32]
    let actionCell: [Int32]
    /// Channel families: per family the six feature indices, its coefficient, and each action's channel.
    let families: [Int32]
    let familyCoefficients: [Double]
    let actionChannel: [Int32]

    public init(_ model: ActionRewardModel) {
        self.model = model
        let design = model.design
        d = design.contextCount
        blockSize = design.blockSize
        blocks = Array(model.coefficients[d..<design.familyColumn])
        families = design.channelFamilies.flatMap { $0.map(Int32.init) }
        familyCoefficients = Array(model.coefficients[design.familyColumn...])
        actionChannel = DeliveryAction.all.map { Int32($0.channel.index) }
        interactions = design.interactions.map(Int32.init)
        var slots = [Int32](repeating: Int32(ActionDesign.levelCount), count: DeliveryAction.count * 4)
        var cells = [Int32](repeating: 0, count: DeliveryAction.count)
        for a in DeliveryAction.all {
            let (c, t, w, h) = design.levels(a)
            for (k, l) in [c, t, w, h].enumerated() where l >= 0 { slots[a.index * 4 + k] = Int32(l) }
            cells[a.index] = Int32(a.weekday.index * HourBucket.allCases.count + a.hour.index)
        }
        actionSlots = slots
        actionCell = cells
    }

    /// Fills `eta` (length ≥ 756) with `η(x, a)` for every action in `candidates` (others untouched)
    /// and returns the base `β₀ + βᵀx̃` and level scores for explanations.
    /// Complexity: `O(d + L·|s| + |candidates|)`.
    public func linearPredictors(context x: [Double], clock: DecisionClock, candidates: CandidateSet, into eta: inout [Double]) {
        linearPredictorsImpl(context: x, clock: clock, candidates: candidates, into: &eta)
    }

    func linearPredictorsImpl(context x: [Double], clock: DecisionClock, candidates: CandidateSet, into eta: inout [Double]) {
        precondition(x.count == d, "ActionScorer: \(x.count) context features, the model has \(d)")
        precondition(eta.count >= DeliveryAction.count, "ActionScorer: output needs \(DeliveryAction.count) entries")
        let design = model.design
        let levelCount = ActionDesign.levelCount
        let channels = Channel.allCases.count
        withUnsafeTemporaryAllocation(of: Double.self, capacity: d + blockSize + levelCount + 1 + 42 + channels) { tmp in
            let xs = tmp.baseAddress!, sv = xs + d, u = sv + blockSize, delay = u + levelCount + 1, matched = delay + 42
            // Channel families: Σ_f γ_f·x_{f,c} per channel c.
            let familyCount = familyCoefficients.count
            for c in 0..<channels {
                var v = 0.0
                for f in 0..<familyCount { v += familyCoefficients[f] * x[Int(families[f * channels + c])] }
                matched[c] = v
            }
            var base = model.intercept
            model.coefficients.withUnsafeBufferPointer { beta in
                design.means.withUnsafeBufferPointer { m in
                    design.scales.withUnsafeBufferPointer { s in
                        for j in 0..<d {
                            let v = (x[j] - m[j]) / s[j]
                            xs[j] = v
                            base += beta[j] * v
                        }
                    }
                }
            }
            sv[0] = 1
            interactions.withUnsafeBufferPointer { ip in
                for k in 0..<ip.count { sv[k + 1] = xs[Int(ip[k])] }
            }
            blocks.withUnsafeBufferPointer { b in
                for g in 0..<levelCount {
                    let row = b.baseAddress! + g * blockSize
                    var s0 = 0.0, s1 = 0.0
                    var k = 0
                    while k + 1 < blockSize { s0 += row[k] * sv[k]; s1 += row[k + 1] * sv[k + 1]; k += 2 }
                    if k < blockSize { s0 += row[k] * sv[k] }
                    u[g] = s0 + s1
                }
            }
            u[levelCount] = 0
            let uDelay = u[ActionDesign.delayLevel]
            let nh = HourBucket.allCases.count
            for w in 0..<7 {
                for h in 0..<nh {
                    let ahead = (w + 1 - clock.weekday + 7) % 7
                    var days = Double(ahead) + Double(HourBucket.allCases[h].startHour - clock.hour) / 24
                    if days <= 0 { days += 7 }
                    delay[w * nh + h] = days * uDelay
                }
            }
            eta.withUnsafeMutableBufferPointer { out in
                actionSlots.withUnsafeBufferPointer { sl in
                    actionCell.withUnsafeBufferPointer { cell in
                        for wIndex in 0..<candidates.words.count {
                            var bits = candidates.words[wIndex]
                            while bits != 0 {
                                let a = wIndex << 6 | bits.trailingZeroBitCount
                                bits &= bits &- 1
                                if a >= DeliveryAction.count { continue }
                                let o = a * 4
                                out[a] = base + u[Int(sl[o])] + u[Int(sl[o + 1])] + u[Int(sl[o + 2])] + u[Int(sl[o + 3])]
                                    + delay[Int(cell[a])]
                                if familyCount > 0 { out[a] += matched[Int(actionChannel[a])] }
                            }
                        }
                    }
                }
            }
        }
    }
}
