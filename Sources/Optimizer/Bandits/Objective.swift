import Vocabulary

/// What a logged reward measured for a message (the training label of a bandit).
public enum RewardDefinition: Hashable, Codable, Sendable, CustomStringConvertible {
    /// 1 if the invoice was paid within `days` days of the message, else 0.
    case paidWithin(days: Int)
    /// The amount collected within `days` days of the message (in the invoice currency).
    case amountCollectedWithin(days: Int)

    public var horizonDays: Int {
        switch self {
        case .paidWithin(let d), .amountCollectedWithin(let d): return d
        }
    }

    public var description: String {
        switch self {
        case .paidWithin(let d): return "paid within \(d) days"
        case .amountCollectedWithin(let d): return "amount collected within \(d) days"
        }
    }
}

/// Cost of sending one message per channel (a letter costs more than an SMS).
public struct ChannelCosts: Hashable, Codable, Sendable {
    /// Cost per message, indexed by `Channel.index`.
    public private(set) var perMessage: [Double]

    /// Costs per channel; channels not given cost 0. Costs must be finite and non-negative.
    public init(_ costs: [Channel: Double]) {
        perMessage = Channel.allCases.map { costs[$0] ?? 0 }
        precondition(perMessage.allSatisfy { $0.isFinite && $0 >= 0 }, "ChannelCosts: costs must be finite and non-negative")
    }

    /// Typical European list prices in EUR: e-mail 0.002, push 0.001, WhatsApp 0.05, SMS 0.08,
    /// robocall 0.12, letter 0.95.
    public static let typical = ChannelCosts([.email: 0.002, .push: 0.001, .whatsapp: 0.05, .sms: 0.08,
                                              .robocall: 0.12, .letter: 0.95])

    public func cost(_ channel: Channel) -> Double { perMessage[channel.index] }
}

/// What a decision maximises.
///
/// - `paymentProbability(horizonDays: H)`: `P(paid within H days | x, a)`. Needs a model trained on
///   `RewardDefinition.paidWithin(days: H)`.
/// - `expectedNetAmount(horizonDays: H, costs:)`: `E[amount collected within H days | x, a] − cost(channel)`.
///   A linear model must be trained on `amountCollectedWithin(days: H)` (its prediction is the amount);
///   a logistic model on `paidWithin(days: H)`, whose probability is multiplied by the request's
///   `amountDue`. "No contact now" costs nothing.
public enum DecisionObjective: Hashable, Codable, Sendable {
    case paymentProbability(horizonDays: Int)
    case expectedNetAmount(horizonDays: Int, costs: ChannelCosts)

    public var horizonDays: Int {
        switch self {
        case .paymentProbability(let h), .expectedNetAmount(let h, _): return h
        }
    }

    /// Cost of candidate `index` under this objective.
    func cost(ofCandidate index: Int) -> Double {
        guard case .expectedNetAmount(_, let costs) = self, index != Candidate.noContactIndex else { return 0 }
        return costs.perMessage[DeliveryAction.all[index].channel.index]
    }

    /// Checks that a model trained on `reward` with `link` can serve this objective.
    func validate(reward: RewardDefinition, link: RewardLink) throws {
        switch (self, reward, link) {
        case (.paymentProbability(let h), .paidWithin(let d), _) where h == d: return
        case (.expectedNetAmount(let h, _), .amountCollectedWithin(let d), .identity) where h == d: return
        case (.expectedNetAmount(let h, _), .paidWithin(let d), .logistic) where h == d: return
        default:
            throw BanditError.objectiveMismatch(
                "the objective \(self) cannot be served by a \(link.rawValue) model of '\(reward)'; "
                    + "use a model of 'paid within \(horizonDays) days' for the payment probability, and for the net amount "
                    + "a linear model of 'amount collected within \(horizonDays) days' or a logistic model of 'paid within \(horizonDays) days'")
        }
    }
}

/// How a model's linear predictor maps to its prediction.
public enum RewardLink: String, Codable, Sendable {
    /// The prediction is `η` itself (ridge regression: LinUCB, linear Thompson sampling).
    case identity
    /// The prediction is `σ(η)`, a probability (logistic Thompson sampling).
    case logistic
}

/// A configuration or use error of the bandit layer, with what would be right.
public enum BanditError: Error, Equatable, CustomStringConvertible {
    /// A hyper-parameter out of range: its name, the value given, the allowed range.
    case invalidParameter(name: String, value: Double, expected: String)
    /// The decision objective does not fit the model.
    case objectiveMismatch(String)
    /// No allowed candidate the model can score.
    case noCandidates(customerID: UInt64)
    /// A logged row is unusable: its row number (0-based), the field and what is wrong.
    case invalidLogRow(row: Int, field: String, value: Double, expected: String)

    public var description: String {
        switch self {
        case .invalidParameter(let name, let value, let expected):
            return "invalid bandit parameter \(name) = \(value): expected \(expected)"
        case .objectiveMismatch(let text):
            return text
        case .noCandidates(let customer):
            return "customer \(customer): no allowed candidate (no reachable channel survives the constraints and the flow does not allow 'no contact now')"
        case .invalidLogRow(let row, let field, let value, let expected):
            return "logged row \(row), field \(field): value \(value), expected \(expected)"
        }
    }
}
