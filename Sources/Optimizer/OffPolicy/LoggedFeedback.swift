/// A problem with logged bandit feedback or a target policy's probabilities, naming the row
/// (0-based), the field and the value, and saying what would be right.
///
/// Readers of files (the command line) turn `row` into a file line.
public struct OffPolicyDataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The 0-based row, when the problem belongs to one row.
    public var row: Int?
    /// The field: `action`, `reward`, `propensity`, `position`, or an action's probability.
    public var field: String
    /// The offending value, as text.
    public var value: String?
    /// What is wrong and what would be right.
    public var message: String

    public init(row: Int?, field: String, value: String?, message: String) {
        self.row = row
        self.field = field
        self.value = value
        self.message = message
    }

    public var description: String {
        var place = row.map { "row \($0)" } ?? "data"
        place += ", field '\(field)'"
        if let value { place += ", value '\(value)'" }
        return "\(place): \(message)"
    }
}

/// Logged bandit feedback: for each round `i`, the context `xᵢ`, the action `aᵢ` the logging
/// policy `π₀` chose, its propensity `π₀(aᵢ|xᵢ)`, the observed reward `rᵢ` and, optionally, the
/// position (slot) the action was shown in.
///
/// This is Open Bandit Pipeline's `bandit_feedback` dictionary as a validated value: actions are
/// dense indices `0..<actionCount`, propensities lie in `(0, 1]`, positions in `0..<positionCount`.
///
/// ```swift
/// let log = try LoggedFeedback(actions: [0, 2, 1], rewards: [1, 0, 1],
///                              propensities: [0.5, 0.25, 0.25],
///                              contexts: Matrix(rows: 3, columns: 1, columnMajor: [0.1, -0.3, 1.2]),
///                              actionCount: 3)
/// ```
public struct LoggedFeedback: Sendable {
    /// The logged action of each round, in `0..<actionCount`.
    public let actions: [Int]
    /// The observed reward of each round (finite).
    public let rewards: [Double]
    /// `π₀(aᵢ|xᵢ)`: the probability with which the logging policy chose the logged action, in `(0, 1]`.
    public let propensities: [Double]
    /// Context features, one row per round (`count` x `contextDimension`, possibly zero columns).
    public let contexts: Matrix
    /// The position of each round in `0..<positionCount`, or nil when the log has no positions.
    public let positions: [Int]?
    /// The number of actions.
    public let actionCount: Int
    /// The number of positions (1 when the log has none).
    public let positionCount: Int

    /// Validates and wraps logged feedback.
    /// - Parameters:
    ///   - actions: logged actions, each in `0..<actionCount`.
    ///   - rewards: observed rewards, finite.
    ///   - propensities: the logging policy's probability of each logged action, in `(0, 1]`.
    ///   - contexts: a `count` x `d` matrix of context features, finite.
    ///   - positions: optional positions, each in `0..<positionCount`.
    ///   - actionCount: the number of actions (at least 1).
    ///   - positionCount: the number of positions; defaults to `max(positions) + 1` (1 without positions).
    /// - Throws: `OffPolicyDataError` naming the first offending row and field.
    public init(actions: [Int], rewards: [Double], propensities: [Double], contexts: Matrix,
                positions: [Int]? = nil, actionCount: Int, positionCount: Int? = nil) throws {
        let n = actions.count
        precondition(rewards.count == n && propensities.count == n && contexts.rows == n
                     && (positions == nil || positions!.count == n),
                     "LoggedFeedback: \(n) actions, \(rewards.count) rewards, \(propensities.count) propensities, "
                     + "\(contexts.rows) context rows, \(positions?.count ?? n) positions")
        precondition(actionCount >= 1, "LoggedFeedback: actionCount must be at least 1")
        for i in 0..<n {
            guard actions[i] >= 0 && actions[i] < actionCount else {
                throw OffPolicyDataError(row: i, field: "action", value: String(actions[i]),
                                         message: "action index outside 0..<\(actionCount)")
            }
            guard rewards[i].isFinite else {
                throw OffPolicyDataError(row: i, field: "reward", value: String(rewards[i]), message: "expected a finite reward")
            }
            let p = propensities[i]
            guard p > 0 && p <= 1 else {
                throw OffPolicyDataError(row: i, field: "propensity", value: String(p),
                                         message: "a propensity must lie in (0, 1]: the logging policy's probability of the logged action")
            }
        }
        for (k, v) in contexts.elements.enumerated() where !v.isFinite {
            throw OffPolicyDataError(row: k % Swift.max(n, 1), field: "context column \(k / Swift.max(n, 1))",
                                     value: String(v), message: "expected a finite context feature")
        }
        var positionTotal = 1
        if let positions {
            let declared = positionCount ?? ((positions.max() ?? 0) + 1)
            precondition(declared >= 1, "LoggedFeedback: positionCount must be at least 1")
            for (i, p) in positions.enumerated() where p < 0 || p >= declared {
                throw OffPolicyDataError(row: i, field: "position", value: String(p), message: "position index outside 0..<\(declared)")
            }
            positionTotal = declared
        } else {
            precondition(positionCount == nil || positionCount == 1, "LoggedFeedback: positionCount without positions")
        }
        self.actions = actions
        self.rewards = rewards
        self.propensities = propensities
        self.contexts = contexts
        self.positions = positions
        self.actionCount = actionCount
        self.positionCount = positionTotal
    }

    /// The number of logged rounds.
    public var count: Int { actions.count }

    /// The number of context features.
    public var contextDimension: Int { contexts.columns }

    /// The rows logged at position `p` (all rows when the log has no positions and `p == 0`).
    public func rows(atPosition p: Int) -> [Int] {
        precondition(p >= 0 && p < positionCount, "LoggedFeedback: position \(p) outside 0..<\(positionCount)")
        guard let positions else { return Array(0..<count) }
        return positions.indices.filter { positions[$0] == p }
    }

    /// Whether every reward lies in `[0, 1]` (binary or fractional outcomes), so a logistic
    /// reward model applies.
    public var rewardsAreProbabilities: Bool { rewards.allSatisfy { $0 >= 0 && $0 <= 1 } }

    /// The importance weights `wᵢ = π(aᵢ|xᵢ) / π₀(aᵢ|xᵢ)` of a target policy on the logged actions.
    /// Complexity: O(n).
    public func importanceWeights(_ target: ActionDistribution) -> [Double] {
        precondition(target.rows == count, "importanceWeights: \(target.rows) target rows for \(count) logged rounds")
        precondition(target.actions == actionCount, "importanceWeights: \(target.actions) target actions, log has \(actionCount)")
        let n = count
        return [Double](unsafeUninitializedCapacity: n) { out, initialized in
            target.probabilities.elements.withUnsafeBufferPointer { p in
                actions.withUnsafeBufferPointer { a in
                    propensities.withUnsafeBufferPointer { pi in
                        for i in 0..<n { out[i] = p[i + a[i] * n] / pi[i] }
                    }
                }
            }
            initialized = n
        }
    }
}

/// A target policy's action distribution on each logged round: `π(a|xᵢ)` for every action `a`,
/// one row per logged round (Open Bandit Pipeline's `action_dist`, with the row's position
/// already selected).
///
/// Every row is a probability distribution: entries in `[0, 1]` summing to 1 within `tolerance`.
public struct ActionDistribution: Sendable {
    /// `rows` x `actions`, column-major: `π(a|xᵢ)` is element `(i, a)`.
    public let probabilities: Matrix

    /// Validates a matrix of per-round action probabilities.
    /// - Parameters:
    ///   - probabilities: one row per logged round, one column per action.
    ///   - tolerance: how far a row's sum may be from 1 (rounding in files).
    /// - Throws: `OffPolicyDataError` naming the row and action of a negative, non-finite or
    ///   too-large probability, or the row whose probabilities do not sum to 1.
    public init(probabilities: Matrix, tolerance: Double = 1e-6) throws {
        let (n, k) = (probabilities.rows, probabilities.columns)
        precondition(k >= 1, "ActionDistribution: no actions")
        let p = probabilities.elements
        var sums = [Double](repeating: 0, count: n)
        for a in 0..<k {
            for i in 0..<n {
                let v = p[i + a * n]
                guard v.isFinite && v >= 0 && v <= 1 + tolerance else {
                    throw OffPolicyDataError(row: i, field: "probability of action \(a)", value: String(v),
                                             message: "a probability must lie in [0, 1]")
                }
                sums[i] += v
            }
        }
        for i in 0..<n where abs(sums[i] - 1) > tolerance {
            throw OffPolicyDataError(row: i, field: "probabilities", value: String(sums[i]),
                                     message: "the row's action probabilities sum to \(sums[i]); they must sum to 1 (within \(tolerance))")
        }
        self.probabilities = probabilities
    }

    /// The number of rounds.
    public var rows: Int { probabilities.rows }
    /// The number of actions.
    public var actions: Int { probabilities.columns }

    /// The distribution of a deterministic policy that picks `choices[i]` on round `i`.
    public static func deterministic(_ choices: [Int], actions: Int) -> ActionDistribution {
        var p = [Double](repeating: 0, count: choices.count * actions)
        for (i, a) in choices.enumerated() {
            precondition(a >= 0 && a < actions, "ActionDistribution.deterministic: action \(a) outside 0..<\(actions)")
            p[i + a * choices.count] = 1
        }
        // Rows of exact zeros and ones always validate.
        return try! ActionDistribution(probabilities: Matrix(rows: choices.count, columns: actions, columnMajor: p))
    }

    /// The distribution of the logging policy itself, for checks: `π = π₀` on the logged action
    /// needs only the propensities, so this puts `propensity` on the logged action and spreads
    /// `1 − propensity` evenly over the other actions (or on the logged action alone when there is one action).
    public static func loggingPolicy(of log: LoggedFeedback) -> ActionDistribution {
        let (n, k) = (log.count, log.actionCount)
        var p = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            let a = log.actions[i], pi = log.propensities[i]
            if k == 1 { p[i] = 1; continue }
            let rest = (1 - pi) / Double(k - 1)
            for b in 0..<k { p[i + b * n] = b == a ? pi : rest }
        }
        return try! ActionDistribution(probabilities: Matrix(rows: n, columns: k, columnMajor: p))
    }
}
