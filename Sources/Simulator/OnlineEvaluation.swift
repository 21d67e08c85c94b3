import Foundation
import Vocabulary
import FeatureStore

/// One case a policy decides online: the customer's live timeline (its records so far) and the
/// decision context.
public struct OnlineCase {
    public let timeline: CustomerTimeline
    public let context: DecisionContext
}

/// The true value of a policy run online on fresh customers, against the oracle and the uniform
/// policy at the same decisions.
public struct OnlineEvaluation: Codable, Sendable, Equatable {
    /// Decisions the policy made.
    public var decisions: Int
    public var horizonDays: Double
    /// Mean over the policy's decisions of `V(x, a_chosen)` (probability of payment within H days of the send).
    public var policy: Double
    /// Mean of `max_a V(x, a)` at the same decisions (the oracle policy's value there).
    public var oracle: Double
    /// Mean of the uniform policy's value `mean_a V(x, a)` at the same decisions.
    public var uniform: Double

    /// `policy / oracle`.
    public var ratioToOracle: Double { policy / oracle }
    /// `uniform / oracle`.
    public var uniformRatioToOracle: Double { uniform / oracle }
}

extension Simulation {
    /// Runs a policy online in `world` through `LiveWorld`: every customer goes through the
    /// dunning flow (a decision at `decisionHour` local on due + `reminderDays` of each open
    /// invoice, as `runCustomer`), the policy `choose`s among the candidates, the decision is logged
    /// and its message sent, and the world answers. At each decision the exact action values
    /// `CustomerTimeline.actionValues` score the chosen action, the oracle's best and the uniform
    /// mix. Customers are independent, so each is driven through its period in turn.
    /// O(decisions · candidates · messages per case).
    /// - Parameter choose: the policy: an allowed action and its propensity.
    public static func evaluateOnline(world: World, horizonDays: Double, policy name: String, version: String,
                                      choose: (OnlineCase) throws -> (action: DeliveryAction, propensity: Double)) rethrows -> OnlineEvaluation {
        let live = LiveWorld(world: world)
        let end = world.config.endInstant
        var count = 0
        var chosenTotal = 0.0, oracleTotal = 0.0, uniformTotal = 0.0
        for timeline in live.timelines {
            var plan: [(time: Date, invoice: Int, reminder: Int)] = []
            for i in timeline.invoices.indices {
                for k in world.parameters.reminderDays.indices { plan.append((timeline.reminderInstant(invoice: i, reminder: k), i, k)) }
            }
            plan.sort { ($0.time, $0.invoice, $0.reminder) < ($1.time, $1.invoice, $1.reminder) }
            for step in plan where step.time < end {
                let invoiceId = timeline.invoices[step.invoice].id
                let context = live.context(invoiceId: invoiceId, at: step.time)
                guard timeline.isOpen(step.invoice), !context.candidates.isEmpty else { continue }
                let (action, propensity) = try choose(OnlineCase(timeline: timeline, context: context))
                let values = live.actionValues(invoiceId: invoiceId, at: step.time, horizonDays: horizonDays)
                guard let chosen = values.first(where: { $0.action == action }) else {
                    preconditionFailure("Simulation.evaluateOnline: policy '\(name)' chose \(action), which is not among the candidates")
                }
                count += 1
                chosenTotal += chosen.probabilityPaid
                oracleTotal += OracleChoice.best(values).probabilityPaid
                uniformTotal += values.reduce(0) { $0 + $1.probabilityPaid } / Double(values.count)
                live.decide(context, action: action, propensity: propensity, policy: name, version: version)
            }
            _ = timeline.advance(to: end)
        }
        let n = Double(max(count, 1))
        return OnlineEvaluation(decisions: count, horizonDays: horizonDays, policy: chosenTotal / n, oracle: oracleTotal / n,
                                uniform: uniformTotal / n)
    }
}
