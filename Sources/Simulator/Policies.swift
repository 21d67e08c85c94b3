import Foundation
import LinAlg
import Vocabulary
import FeatureStore

/// A policy the simulator can run (as the logging policy of a history) or value (`Simulation.evaluate`):
/// a probability for every candidate of a decision context.
public protocol SimulationPolicy: Sendable {
    /// Name written to `decisions.policy`.
    var name: String { get }
    /// Version written to `decisions.policy_version`.
    var version: String { get }
    /// One probability per `context.candidates` entry, summing to 1.
    func probabilities(for context: DecisionContext) -> [Double]
}

/// A policy given by a function — for valuing a learned model with `Simulation.evaluate` or
/// driving a history with it.
public struct FunctionPolicy: SimulationPolicy {
    public let name: String
    public let version: String
    let body: @Sendable (DecisionContext) -> [Double]

    /// - Parameter probabilities: one probability per candidate of the context, summing to 1.
    public init(name: String, version: String, probabilities: @escaping @Sendable (DecisionContext) -> [Double]) {
        self.name = name
        self.version = version
        self.body = probabilities
    }

    public func probabilities(for context: DecisionContext) -> [Double] { body(context) }
}

/// The uniform logging policy: every allowed action with probability `1/|candidates|`.
public struct UniformRandomPolicy: SimulationPolicy {
    public init() {}
    public var name: String { "random" }
    public var version: String { "1" }
    public func probabilities(for context: DecisionContext) -> [Double] {
        Array(repeating: 1 / Double(context.candidates.count), count: context.candidates.count)
    }
}

/// The rule-based default flow with ε-uniform exploration:
/// `π(a) = (1 − ε)·[a = rule(x)] + ε/|candidates|`.
///
/// The rule: first reminder by e-mail (else SMS, else letter ...) in a friendly tone, second by
/// SMS in a neutral tone, later ones by letter in a firm tone; the customer's preferred channel
/// first when set; sent on the first day from the decision day on which the channel is allowed,
/// in the 10–12 window (else the earliest allowed window).
public struct RuleBasedPolicy: SimulationPolicy {
    /// Exploration share ε in [0, 1].
    public var epsilon: Double

    public init(epsilon: Double = 0.2) {
        precondition(epsilon >= 0 && epsilon <= 1, "RuleBasedPolicy: epsilon \(epsilon) outside [0, 1]")
        self.epsilon = epsilon
    }

    public var name: String { "rules" }
    public var version: String { "1" }

    /// The action the rule picks (one of the candidates; `context.candidates` must not be empty).
    public func ruleAction(for context: DecisionContext) -> DeliveryAction {
        precondition(!context.candidates.isEmpty, "RuleBasedPolicy: no candidates")
        let allowed = ActionSet(context.candidates)
        var order: [Channel]
        let tone: Tone
        switch context.level {
        case 0: order = [.email, .sms, .letter, .whatsapp, .push, .robocall]; tone = .friendly
        case 1: order = [.sms, .email, .letter, .whatsapp, .push, .robocall]; tone = .neutral
        default: order = [.letter, .sms, .email, .whatsapp, .push, .robocall]; tone = .firm
        }
        if let preferred = context.customer.preferredChannel {
            order.removeAll { $0 == preferred }
            order.insert(preferred, at: 0)
        }
        let hours: [HourBucket] = [.h10, .h08, .h12, .h14, .h16, .h18]
        for channel in order {
            for ahead in 0..<7 {
                let day = context.localTime.date.adding(days: ahead).weekday
                for hour in hours {
                    let a = DeliveryAction(channel: channel, tone: tone, weekday: day, hour: hour)
                    if allowed.contains(a) { return a }
                }
            }
        }
        return context.candidates[0]
    }

    public func probabilities(for context: DecisionContext) -> [Double] {
        let rule = ruleAction(for: context)
        let n = Double(context.candidates.count)
        return context.candidates.map { ($0 == rule ? 1 - epsilon : 0) + epsilon / n }
    }
}

/// The oracle policy: all mass on the action with the highest true probability of payment
/// within `horizonDays` (ties to the lowest action index). Only the simulator can run it.
public struct OracleChoice {
    /// The best of `values` (non-empty).
    public static func best(_ values: [ActionValue]) -> ActionValue {
        precondition(!values.isEmpty, "OracleChoice: no actions")
        var best = values[0]
        for v in values.dropFirst() where v.probabilityPaid > best.probabilityPaid { best = v }
        return best
    }
}

/// Draws an index from `probabilities` with one uniform `u` (inverse CDF); `probabilities` must sum to 1.
func sample(_ probabilities: [Double], _ u: Double) -> Int {
    var acc = 0.0
    for (k, p) in probabilities.enumerated() {
        acc += p
        if u < acc { return k }
    }
    return probabilities.lastIndex { $0 > 0 } ?? probabilities.count - 1
}
