import Vocabulary

/// Which attributes of a delivery action define a bandit "arm" with its own linear model.
/// The attributes not in the grouping enter as additive effects (see `BanditFeatureMap`).
public enum ArmGrouping: String, Codable, Sendable, CaseIterable {
    /// 6 arms; tone, weekday and hour are additive effects.
    case channel
    /// 18 arms (the default); weekday and hour are additive effects.
    case channelTone
    /// 756 disjoint arms, one per delivery action, no effects (MABWiser's disjoint LinUCB over every action).
    case action

    /// Number of delivery arms.
    public var armCount: Int {
        switch self {
        case .channel: return Channel.allCases.count
        case .channelTone: return Channel.allCases.count * Tone.allCases.count
        case .action: return DeliveryAction.count
        }
    }

    /// The factors that enter as additive effects, in layout order.
    public var effectFactors: [ActionFactor] {
        switch self {
        case .channel: return [.tone, .weekday, .hour]
        case .channelTone: return [.weekday, .hour]
        case .action: return []
        }
    }

    /// The arm of a delivery action.
    public func arm(of action: DeliveryAction) -> Int {
        switch self {
        case .channel: return action.channel.index
        case .channelTone: return action.channel.index * Tone.allCases.count + action.tone.index
        case .action: return action.index
        }
    }

    /// A readable arm name: `sms`, `sms/firm`, `sms/firm/monday/08-10`.
    public func armName(_ arm: Int) -> String {
        switch self {
        case .channel: return Channel.allCases[arm].rawValue
        case .channelTone:
            return Channel.allCases[arm / Tone.allCases.count].rawValue + "/" + Tone.allCases[arm % Tone.allCases.count].rawValue
        case .action: return DeliveryAction(index: arm).description
        }
    }
}

/// An attribute of a delivery action that can carry an additive effect.
public enum ActionFactor: String, Codable, Sendable {
    case tone, weekday, hour

    /// Number of levels (3, 7, 6); the first level is the reference with effect zero.
    public var levelCount: Int {
        switch self {
        case .tone: return Tone.allCases.count
        case .weekday: return Weekday.allCases.count
        case .hour: return HourBucket.allCases.count
        }
    }

    func level(of action: DeliveryAction) -> Int {
        switch self {
        case .tone: return action.tone.index
        case .weekday: return action.weekday.index
        case .hour: return action.hour.index
        }
    }

    func levelName(_ level: Int) -> String {
        switch self {
        case .tone: return Tone.allCases[level].rawValue
        case .weekday: return Weekday.allCases[level].name
        case .hour: return HourBucket.allCases[level].label
        }
    }
}

/// The factored feature map of pom's bandits: per-arm linear models with additive effects.
///
/// For a context `x ∈ ℝᵈ` and a candidate whose arm is `g` (see `ArmGrouping`), the model is
///
///     η(x, a) = θ_g,0ᵀ x  +  Σ_f θ_g,f,ℓ_f(a)ᵀ x₁..ₖ
///
/// where `f` runs over the effect factors not in the grouping (weekday and hour for the default
/// `channelTone` grouping), `ℓ_f(a)` is the action's level of that factor, the first level of
/// each factor is the reference (its block is absent, which keeps the model identifiable), and
/// `x₁..ₖ` are the first `k = effectFeatureCount` context features (put the intercept first, so
/// `k = 1` gives constant send-day and send-hour shifts per arm, `k = d` fully context-dependent
/// ones). Each arm therefore is one linear model over its own feature vector
/// `ψ_g(x, a) = [x ; e_ℓ ⊗ x₁..ₖ for each effect factor]` of length `p = d + k·Σ_f (L_f − 1)`,
/// with `B = 1 + Σ_f (L_f − 1)` blocks of which at most `1 + |f|` are non-zero for any candidate.
/// Arms are disjoint (as MABWiser's and Li et al. 2010's disjoint LinUCB), so every posterior
/// quantity is per arm and exact.
///
/// Scoring all 756 candidates costs one pass over each arm's `p × p` covariance (the block
/// quadratic forms `Q_g = U_gᵀ Σ_g U_g`, `O(p²)` per arm) and then `O(1)` per candidate:
/// mean `= Σ_{b active} m_b`, variance `= Σ_{b,b' active} Q_bb'`. With the default
/// (`channelTone`, `d = 20`, `k = 1`): `p = 31`, about 18 × 1,000 multiply-adds per decision.
///
/// "No contact now" is an extra arm (index `deliveryArmCount`) with only the base block, present
/// when `modelsNoContact` is set.
public struct BanditFeatureMap: Hashable, Sendable, Codable {
    /// Names of the context features, in order (the caller supplies `x` in this order).
    public let contextFeatures: [String]
    public let grouping: ArmGrouping
    /// `k`: how many leading context features the additive effects depend on.
    public let effectFeatureCount: Int
    /// Whether "no contact now" has a model of its own and can be chosen.
    public let modelsNoContact: Bool

    /// Per candidate: its arm, or -1 when the map cannot score it (no-contact without a model).
    let candidateArm: [Int32]
    /// Per candidate: up to three active effect blocks (block ids ≥ 1), -1 where absent.
    let candidateBlocks: [Int16]
    /// Offset and size of every block within an arm's feature vector.
    let blockOffsets: [Int]
    let blockSizes: [Int]
    /// Human-readable name of every block (`""` for the base block, `weekday=tuesday`...).
    let blockNames: [String]

    enum CodingKeys: String, CodingKey { case contextFeatures, grouping, effectFeatureCount, modelsNoContact }

    /// A feature map.
    /// - Parameters:
    ///   - contextFeatures: names of the `d` context features.
    ///   - grouping: what defines an arm (default channel × tone, 18 arms).
    ///   - effectFeatureCount: `k ∈ 0...d`; ignored (0) for the `action` grouping.
    ///   - modelsNoContact: adds the "no contact now" arm.
    public init(contextFeatures: [String], grouping: ArmGrouping = .channelTone, effectFeatureCount: Int = 1,
                modelsNoContact: Bool = false) {
        precondition(!contextFeatures.isEmpty, "BanditFeatureMap: no context features")
        precondition(effectFeatureCount >= 0 && effectFeatureCount <= contextFeatures.count,
                     "BanditFeatureMap: effectFeatureCount \(effectFeatureCount) outside 0...\(contextFeatures.count)")
        self.contextFeatures = contextFeatures
        self.grouping = grouping
        let k = grouping.effectFactors.isEmpty ? 0 : effectFeatureCount
        self.effectFeatureCount = k
        self.modelsNoContact = modelsNoContact

        let d = contextFeatures.count
        var offsets = [0], sizes = [d], names = [""]
        var firstBlock = [Int]()   // per effect factor, block id of its level 1
        if k > 0 {
            for f in grouping.effectFactors {
                firstBlock.append(offsets.count)
                for level in 1..<f.levelCount {
                    offsets.append(offsets.last! + sizes.last!)
                    sizes.append(k)
                    names.append("\(f.rawValue)=\(f.levelName(level))")
                }
            }
        }
        blockOffsets = offsets
        blockSizes = sizes
        blockNames = names

        var arms = [Int32](repeating: -1, count: Candidate.count)
        var blocks = [Int16](repeating: -1, count: Candidate.count * 3)
        for action in DeliveryAction.all {
            arms[action.index] = Int32(grouping.arm(of: action))
            if k > 0 {
                for (slot, f) in grouping.effectFactors.enumerated() {
                    let level = f.level(of: action)
                    if level > 0 { blocks[action.index * 3 + slot] = Int16(firstBlock[slot] + level - 1) }
                }
            }
        }
        if modelsNoContact { arms[Candidate.noContactIndex] = Int32(grouping.armCount) }
        candidateArm = arms
        candidateBlocks = blocks
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(contextFeatures: try c.decode([String].self, forKey: .contextFeatures),
                  grouping: try c.decode(ArmGrouping.self, forKey: .grouping),
                  effectFeatureCount: try c.decode(Int.self, forKey: .effectFeatureCount),
                  modelsNoContact: try c.decode(Bool.self, forKey: .modelsNoContact))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(contextFeatures, forKey: .contextFeatures)
        try c.encode(grouping, forKey: .grouping)
        try c.encode(effectFeatureCount, forKey: .effectFeatureCount)
        try c.encode(modelsNoContact, forKey: .modelsNoContact)
    }

    public static func == (a: BanditFeatureMap, b: BanditFeatureMap) -> Bool {
        a.contextFeatures == b.contextFeatures && a.grouping == b.grouping
            && a.effectFeatureCount == b.effectFeatureCount && a.modelsNoContact == b.modelsNoContact
    }

    public func hash(into h: inout Hasher) {
        h.combine(contextFeatures); h.combine(grouping); h.combine(effectFeatureCount); h.combine(modelsNoContact)
    }

    /// `d`.
    public var contextDimension: Int { contextFeatures.count }
    /// Number of delivery arms.
    public var deliveryArmCount: Int { grouping.armCount }
    /// Number of arms including "no contact now" when modelled.
    public var armCount: Int { grouping.armCount + (modelsNoContact ? 1 : 0) }
    /// `p`: length of each arm's feature vector.
    public var armFeatureCount: Int { blockOffsets.last! + blockSizes.last! }
    /// `B`: number of blocks per arm (base plus one per non-reference effect level).
    public var blockCount: Int { blockOffsets.count }

    /// The arm of candidate `index`, or `nil` if the map cannot score it.
    public func arm(ofCandidate index: Int) -> Int? {
        let a = candidateArm[index]
        return a < 0 ? nil : Int(a)
    }

    /// The candidates this map can score (every delivery action, plus no-contact when modelled).
    public var scorableCandidates: CandidateSet { CandidateSet.all(includingNoContact: modelsNoContact) }

    /// Name of arm `arm`.
    public func armName(_ arm: Int) -> String {
        arm == grouping.armCount ? "no-contact" : grouping.armName(arm)
    }

    /// The full feature vector `ψ_g(x, a)` of candidate `index` (length `p`), for training and explanation.
    public func features(context x: [Double], candidate index: Int) -> [Double] {
        precondition(x.count == contextDimension, "BanditFeatureMap: context has \(x.count) features, expected \(contextDimension)")
        var psi = [Double](repeating: 0, count: armFeatureCount)
        for j in 0..<x.count { psi[j] = x[j] }
        if index != Candidate.noContactIndex {
            for slot in 0..<3 {
                let b = Int(candidateBlocks[index * 3 + slot])
                if b < 0 { continue }
                for j in 0..<effectFeatureCount { psi[blockOffsets[b] + j] = x[j] }
            }
        }
        return psi
    }

    /// Active block ids of candidate `index` (base block 0 first).
    func activeBlocks(_ index: Int) -> [Int] {
        var out = [0]
        if index != Candidate.noContactIndex {
            for slot in 0..<3 where candidateBlocks[index * 3 + slot] >= 0 { out.append(Int(candidateBlocks[index * 3 + slot])) }
        }
        return out
    }

    /// Name of feature `j` of an arm's feature vector: `amount` or `weekday=friday×intercept`.
    public func featureName(_ j: Int) -> String {
        precondition(j >= 0 && j < armFeatureCount, "BanditFeatureMap: feature \(j) outside 0..<\(armFeatureCount)")
        var b = blockOffsets.count - 1
        while blockOffsets[b] > j { b -= 1 }
        let inner = j - blockOffsets[b]
        return b == 0 ? contextFeatures[inner] : "\(blockNames[b])×\(contextFeatures[inner])"
    }
}
