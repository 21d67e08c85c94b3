import FeatureStore
import Foundation
import LinAlg
import Vocabulary

/// The customer-local time of a decision: ISO weekday (1 = Monday ... 7 = Sunday) and hour (0-23).
public struct DecisionClock: Hashable, Codable, Sendable {
    public var weekday: Int
    public var hour: Int

    public init(weekday: Int, hour: Int) {
        precondition((1...7).contains(weekday) && (0..<24).contains(hour), "DecisionClock: weekday \(weekday), hour \(hour)")
        self.weekday = weekday
        self.hour = hour
    }

    /// Days from the decision to the start of `action`'s send window: the next local occurrence of
    /// its weekday and window start strictly after the decision hour (as the orchestrator and the
    /// simulator schedule), in `(0, 7]`.
    public func sendDelayDays(_ action: DeliveryAction) -> Double {
        let ahead = (action.weekday.index + 1 - weekday + 7) % 7
        var days = Double(ahead) + Double(action.hour.startHour - hour) / 24
        if days <= 0 { days += 7 }
        return days
    }
}

/// The reward model's design: `φ(x, a) = [1, x̃, e_c(a)⊗[1, s̃], e_t(a)⊗[1, s̃], e_d(a)⊗[1, s̃], e_h(a)⊗[1, s̃], δ(a)·[1, s̃]]`.
///
/// `x̃` are the `FeatureSchema` context features standardised with the training means and standard
/// deviations; `s̃ ⊂ x̃` the interaction features; `e_c, e_t, e_d, e_h` the indicators of the
/// action's channel, tone, send weekday and send window (first level the reference); `δ(a)` the
/// send delay in days (`DecisionClock.sendDelayDays`). Every action attribute thus has a main effect
/// and an effect that varies with the customer (a channel that works for one persona fails for
/// another; reminder fatigue changes the best tone; waiting lets spontaneous payers pay first).
///
/// Scoring all actions of one decision factorises: with `u_g = B_g·[1, s̃]` per indicator level
/// and `u_δ`, `η(a) = β₀ + βᵀx̃ + u_c + u_t + u_d + u_h + δ(a)·u_δ` — `O(L·|s|)` for the `L = 19`
/// level vectors, then `O(1)` per action.
public struct ActionDesign: Hashable, Codable, Sendable {
    /// Names of the context features (`FeatureSchema.names` order).
    public var contextFeatures: [String]
    /// Training means and standard deviations of the context features (deviation 1 for constant columns).
    public var means: [Double]
    public var scales: [Double]
    /// Indices into `contextFeatures` of the interaction features `s`.
    public var interactions: [Int]
    /// Channel-matched features: per family (`preferred`, `responses`, ...), the indices into
    /// `contextFeatures` of its six per-channel features in `Channel` order. Family `f` adds one
    /// column `x_{f, channel(a)}` (the raw value for the action's own channel) with one coefficient
    /// shared by all channels: "the customer prefers / answered / bounced on *this* channel".
    public var channelFamilies: [[Int]]
    /// The families' names (`preferred` for `preferred_<channel>`).
    public var channelFamilyNames: [String]

    /// The interaction features pom uses by default: reachability, preference, bounces and responses
    /// per channel, dunning level, amount, payment history and days overdue.
    public static let defaultInteractionNames: [String] = {
        var names = ["dunning_level", "log_amount", "days_overdue", "has_payment_history", "prior_paid_share", "visited_not_paid"]
        for c in Channel.allCases {
            names += ["reachable_\(c.rawValue)", "preferred_\(c.rawValue)", "bounces_\(c.rawValue)", "responses_\(c.rawValue)"]
        }
        return names
    }()

    /// The channel families pom can match: every `<family>_<channel>` group of `FeatureSchema`
    /// except reachability (constant over the allowed actions).
    public static let channelFamilyCandidates = ["preferred", "responses", "bounces", "sent"]

    public init(contextFeatures: [String], means: [Double], scales: [Double], interactions: [Int],
                channelFamilies: [[Int]] = [], channelFamilyNames: [String] = []) {
        precondition(means.count == contextFeatures.count && scales.count == contextFeatures.count, "ActionDesign: sizes")
        precondition(interactions.allSatisfy { $0 >= 0 && $0 < contextFeatures.count }, "ActionDesign: interaction index out of range")
        precondition(channelFamilies.count == channelFamilyNames.count
                     && channelFamilies.allSatisfy { $0.count == Channel.allCases.count && $0.allSatisfy { $0 >= 0 && $0 < contextFeatures.count } },
                     "ActionDesign: a channel family needs one feature per channel")
        self.contextFeatures = contextFeatures
        self.means = means
        self.scales = scales
        self.interactions = interactions
        self.channelFamilies = channelFamilies
        self.channelFamilyNames = channelFamilyNames
    }

    enum CodingKeys: String, CodingKey { case contextFeatures, means, scales, interactions, channelFamilies, channelFamilyNames }

    /// Decodes a design; artifacts written before channel families existed decode with none.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(contextFeatures: try c.decode([String].self, forKey: .contextFeatures), means: try c.decode([Double].self, forKey: .means),
                  scales: try c.decode([Double].self, forKey: .scales), interactions: try c.decode([Int].self, forKey: .interactions),
                  channelFamilies: try c.decodeIfPresent([[Int]].self, forKey: .channelFamilies) ?? [],
                  channelFamilyNames: try c.decodeIfPresent([String].self, forKey: .channelFamilyNames) ?? [])
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(contextFeatures, forKey: .contextFeatures)
        try c.encode(means, forKey: .means)
        try c.encode(scales, forKey: .scales)
        try c.encode(interactions, forKey: .interactions)
        if !channelFamilies.isEmpty {
            try c.encode(channelFamilies, forKey: .channelFamilies)
            try c.encode(channelFamilyNames, forKey: .channelFamilyNames)
        }
    }

    /// Standardisation fitted on `contexts` (`n × d`, `FeatureSchema` columns).
    /// - Parameters:
    ///   - interactionNames: the features `s` every action level interacts with.
    ///   - channelFamilies: family prefixes (`preferred`, `responses`, ...) matched to the action's channel.
    /// - Throws: `DecisioningError.unknownFeature` for a name (or a `<family>_<channel>`) not in `names`.
    public static func fitted(contexts: Matrix, names: [String], interactionNames: [String] = defaultInteractionNames,
                              channelFamilies familyNames: [String] = []) throws -> ActionDesign {
        let n = contexts.rows, d = contexts.columns
        var means = [Double](repeating: 0, count: d), scales = [Double](repeating: 1, count: d)
        for j in 0..<d {
            var s = 0.0
            for i in 0..<n { s += contexts[i, j] }
            let m = n > 0 ? s / Double(n) : 0
            var v = 0.0
            for i in 0..<n { let e = contexts[i, j] - m; v += e * e }
            let sd = n > 1 ? (v / Double(n - 1)).squareRoot() : 0
            means[j] = m
            scales[j] = sd > 1e-12 ? sd : 1
        }
        var interactions: [Int] = []
        for name in interactionNames {
            guard let j = names.firstIndex(of: name) else { throw DecisioningError.unknownFeature(name, known: names) }
            interactions.append(j)
        }
        var families: [[Int]] = []
        for family in familyNames {
            families.append(try Channel.allCases.map { c in
                let name = "\(family)_\(c.rawValue)"
                guard let j = names.firstIndex(of: name) else { throw DecisioningError.unknownFeature(name, known: names) }
                return j
            })
        }
        return ActionDesign(contextFeatures: names, means: means, scales: scales, interactions: interactions,
                            channelFamilies: families, channelFamilyNames: familyNames)
    }

    /// `d`.
    public var contextCount: Int { contextFeatures.count }
    /// `1 + |s|`: length of each level's block.
    public var blockSize: Int { 1 + interactions.count }
    /// The indicator levels with a block: 5 channels, 2 tones, 6 weekdays, 5 windows (references dropped), then the delay.
    public static let levelCount = (Channel.allCases.count - 1) + (Tone.allCases.count - 1) + (Weekday.allCases.count - 1)
        + (HourBucket.allCases.count - 1) + 1
    static let channelBase = 0
    static let toneBase = Channel.allCases.count - 1
    static let weekdayBase = toneBase + Tone.allCases.count - 1
    static let hourBase = weekdayBase + Weekday.allCases.count - 1
    static let delayLevel = hourBase + HourBucket.allCases.count - 1

    /// Columns of `φ` including the intercept: `1 + d + L·(1 + |s|) + F` (`F` channel families).
    public var width: Int { 1 + contextCount + ActionDesign.levelCount * blockSize + channelFamilies.count }
    /// Column of `φ` (after the intercept) of the first channel family.
    public var familyColumn: Int { contextCount + ActionDesign.levelCount * blockSize }

    /// Column names of `φ` after the intercept.
    public var featureNames: [String] {
        var names = contextFeatures
        let s = ["1"] + interactions.map { contextFeatures[$0] }
        func block(_ prefix: String) { for n in s { names.append(n == "1" ? prefix : "\(prefix)×\(n)") } }
        for c in Channel.allCases.dropFirst() { block("channel=\(c.rawValue)") }
        for t in Tone.allCases.dropFirst() { block("tone=\(t.rawValue)") }
        for w in Weekday.allCases.dropFirst() { block("weekday=\(w.name)") }
        for h in HourBucket.allCases.dropFirst() { block("hour=\(h.label)") }
        block("send_delay_days")
        for f in channelFamilyNames { names.append("\(f)_<channel>") }
        return names
    }

    /// Name of column `k` of `φ` after the intercept (`featureNames[k]`, without building the list).
    public func featureName(_ k: Int) -> String {
        precondition(k >= 0 && k < width - 1, "ActionDesign: column \(k) outside 0..<\(width - 1)")
        if k < contextCount { return contextFeatures[k] }
        if k >= familyColumn { return "\(channelFamilyNames[k - familyColumn])_<channel>" }
        let level = (k - contextCount) / blockSize, inner = (k - contextCount) % blockSize
        let prefix: String
        switch level {
        case ..<ActionDesign.toneBase: prefix = "channel=\(Channel.allCases[level - ActionDesign.channelBase + 1].rawValue)"
        case ..<ActionDesign.weekdayBase: prefix = "tone=\(Tone.allCases[level - ActionDesign.toneBase + 1].rawValue)"
        case ..<ActionDesign.hourBase: prefix = "weekday=\(Weekday.allCases[level - ActionDesign.weekdayBase + 1].name)"
        case ..<ActionDesign.delayLevel: prefix = "hour=\(HourBucket.allCases[level - ActionDesign.hourBase + 1].label)"
        default: prefix = "send_delay_days"
        }
        return inner == 0 ? prefix : "\(prefix)×\(contextFeatures[interactions[inner - 1]])"
    }

    /// `x̃`.
    public func standardised(_ x: [Double]) -> [Double] {
        precondition(x.count == contextCount, "ActionDesign: \(x.count) context features, the model has \(contextCount)")
        var out = [Double](repeating: 0, count: x.count)
        for j in 0..<x.count { out[j] = (x[j] - means[j]) / scales[j] }
        return out
    }

    /// The indicator levels of `action` (block indices; -1 for a reference level).
    public func levels(_ action: DeliveryAction) -> (Int, Int, Int, Int) {
        let c = action.channel.index, t = action.tone.index, d = action.weekday.index, h = action.hour.index
        return (c == 0 ? -1 : ActionDesign.channelBase + c - 1, t == 0 ? -1 : ActionDesign.toneBase + t - 1,
                d == 0 ? -1 : ActionDesign.weekdayBase + d - 1, h == 0 ? -1 : ActionDesign.hourBase + h - 1)
    }

    /// Writes `φ(x, a)` (without the intercept) into `out` (length `width − 1`) for the raw
    /// context `x` (`FeatureSchema` order).
    public func write(context x: [Double], clock: DecisionClock, action: DeliveryAction, into out: inout [Double], offset: Int = 0, stride: Int = 1) {
        let xs = standardised(x)
        let d = contextCount, b = blockSize
        for k in 0..<(width - 1) { out[offset + k * stride] = 0 }
        for (f, family) in channelFamilies.enumerated() { out[offset + (familyColumn + f) * stride] = x[family[action.channel.index]] }
        for j in 0..<d { out[offset + j * stride] = xs[j] }
        func block(_ level: Int, _ scale: Double) {
            let base = d + level * b
            out[offset + base * stride] = scale
            for (k, j) in interactions.enumerated() { out[offset + (base + 1 + k) * stride] = scale * xs[j] }
        }
        let (c, t, w, h) = levels(action)
        for level in [c, t, w, h] where level >= 0 { block(level, 1) }
        block(ActionDesign.delayLevel, clock.sendDelayDays(action))
    }
}

/// A use error of the decisioning layer, saying what would be right.
public enum DecisioningError: Error, Equatable, CustomStringConvertible {
    case unknownFeature(String, known: [String])
    case schemaMismatch(model: String, modelHash: String, liveHash: String)
    case unsupportedKind(String)
    case noCandidates(customerID: String)
    case noTrainingRows(String)
    case missingFeatures(path: String, missing: [String])

    public var description: String {
        switch self {
        case .unknownFeature(let name, let known):
            return "unknown feature '\(name)'; the feature schema has: \(known.joined(separator: ", "))"
        case .schemaMismatch(let model, let modelHash, let liveHash):
            return "model \(model) was trained on feature schema \(modelHash.prefix(12))…, but this pom computes \(liveHash.prefix(12))…; "
                + "retrain it with this version (pom-train fit --store ...) instead of scoring it on different features"
        case .unsupportedKind(let kind):
            return "model kind '\(kind)' is not a live policy; use logistic, linucb, lints or logistic-ts"
        case .noCandidates(let customer):
            return "customer \(customer): no allowed action (no reachable channel survives the constraints)"
        case .noTrainingRows(let why):
            return "no training rows: \(why)"
        case .missingFeatures(let path, let missing):
            return "\(path): the log lacks the model's features \(missing.joined(separator: ", ")); add those columns (FeatureSchema names) or evaluate with --target-probs"
        }
    }
}
