import Dispatch
import Foundation
import LinAlg
import Vocabulary
import FeatureStore

/// Writing histories and valuing policies in the simulated world.
public enum Simulation {
    /// Row counts of a written history.
    public struct HistorySummary: Codable, Sendable, Equatable {
        public var customers = 0, contactPoints = 0, invoices = 0, messages = 0, events = 0, payments = 0, decisions = 0
        /// Total rows over all files.
        public var total: Int { customers + contactPoints + invoices + messages + events + payments + decisions }
    }

    /// One decision as the logging policy made it, with the timeline it was made in (for the oracle).
    public struct DecisionObservation {
        public var timeline: CustomerTimeline
        public var invoice: Int
        public var context: DecisionContext
        /// The logging policy's probabilities over `context.candidates`.
        public var probabilities: [Double]
        /// Index of the chosen candidate.
        public var chosen: Int
    }

    /// Runs customer `index` through the dunning flow under `policy` for the whole period:
    /// at `decisionHour` local on each reminder day (due date + `reminderDays`) of each open
    /// invoice, the policy's probabilities over the candidates are drawn from with the stream
    /// `Xoshiro256(seed:keys: 4, customer, invoice, reminder)`; the decision is logged with its
    /// exact propensity and its message queued. Unpaid cases go to the agency on due + `agencyDay`.
    /// - Parameter observe: called before each decision is applied.
    /// - Returns: the customer's timeline advanced to the end of the period.
    public static func runCustomer(world: World, index: Int, policy: some SimulationPolicy,
                                   observe: ((DecisionObservation) -> Void)? = nil) -> CustomerTimeline {
        let timeline = CustomerTimeline(world: world, customer: world.customer(index))
        let end = world.config.endInstant
        var plan: [(time: Date, invoice: Int, reminder: Int)] = []
        for i in timeline.invoices.indices {
            for k in world.parameters.reminderDays.indices {
                plan.append((timeline.reminderInstant(invoice: i, reminder: k), i, k))
            }
        }
        plan.sort { ($0.time, $0.invoice, $0.reminder) < ($1.time, $1.invoice, $1.reminder) }
        for step in plan where step.time < end {
            timeline.advance(to: step.time)
            guard timeline.isOpen(step.invoice) else { continue }
            let context = timeline.context(invoice: step.invoice, at: step.time)
            guard !context.candidates.isEmpty else { continue }
            let probabilities = policy.probabilities(for: context)
            precondition(probabilities.count == context.candidates.count && abs(probabilities.reduce(0, +) - 1) < 1e-9,
                         "Simulation: policy '\(policy.name)' must give one probability per candidate, summing to 1")
            var rng = Xoshiro256(seed: world.config.seed, keys: 4, UInt64(index), UInt64(step.invoice), UInt64(step.reminder))
            let chosen = sample(probabilities, rng.uniform())
            observe?(DecisionObservation(timeline: timeline, invoice: step.invoice, context: context,
                                         probabilities: probabilities, chosen: chosen))
            timeline.decide(context, action: context.candidates[chosen], propensity: probabilities[chosen],
                            policy: policy.name, version: policy.version, invoice: step.invoice)
        }
        timeline.advance(to: end)
        return timeline
    }

    /// Writes the history of `world` under the logging `policy` into `directory` (created if
    /// missing): `customers.csv`, `contact_points.csv`, `invoices.csv`, `messages.csv`,
    /// `events.jsonl`, `payments.csv`, `decisions.csv` (formats in `datasets/README.md`) and
    /// `truth.json`. Every file is written atomically; the same world and policy give
    /// byte-identical files. O(customers), memory O(one customer).
    /// Customers are simulated in blocks on `BLASRuntime.threads` workers (`POM_THREADS`) and written
    /// in customer order.
    /// - Parameter progress: called with (customers done, customers in all) about every 5%.
    /// - Throws: `RecordFileError` when a file cannot be written.
    @discardableResult
    public static func writeHistory(world: World, policy: some SimulationPolicy, directory: String,
                                    progress: ((Int, Int) -> Void)? = nil) throws -> HistorySummary {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RecordFileError(path: directory, message: "cannot create the directory (\(error.localizedDescription))")
        }
        let customers = try CSVRecordWriter<Customer>(directory: directory)
        let points = try CSVRecordWriter<ContactPoint>(directory: directory)
        let invoices = try CSVRecordWriter<Invoice>(directory: directory)
        let messages = try CSVRecordWriter<Message>(directory: directory)
        let payments = try CSVRecordWriter<Payment>(directory: directory)
        let decisions = try CSVRecordWriter<Decision>(directory: directory)
        let events = try EventLogWriter(directory: directory)
        let truth = try TruthWriter(directory: directory, world: world)
        var summary = HistorySummary()
        let n = world.config.customers
        let every = max(1, n / 20)
        let block = 1024
        var reported = 0
        // Customers are independent: each block is simulated on all workers, then written in
        // customer order, so the files do not depend on the number of threads.
        for start in stride(from: 0, to: n, by: block) {
            let count = min(block, n - start)
            let results = ResultSlots<CustomerHistory>(count: count)
            let threads = max(1, min(BLASRuntime.threads, count))
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                for k in stride(from: worker, to: count, by: threads) {
                    results.set(k, CustomerHistory(runCustomer(world: world, index: start + k, policy: policy)))
                }
            }
            for k in 0..<count {
                let h = results.get(k)
                try customers.append(h.customer)
                for r in h.contactPoints { try points.append(r) }
                for r in h.invoices { try invoices.append(r) }
                for r in h.messages { try messages.append(r) }
                for r in h.payments { try payments.append(r) }
                for r in h.decisions { try decisions.append(r) }
                for e in h.events { try events.append(e) }
                try truth.append(h.traits)
                summary.customers += 1
                summary.contactPoints += h.contactPoints.count
                summary.invoices += h.invoices.count
                summary.messages += h.messages.count
                summary.payments += h.payments.count
                summary.decisions += h.decisions.count
                summary.events += h.events.count
            }
            let done = start + count
            if done / every > reported || done == n {
                reported = done / every
                progress?(done, n)
            }
        }
        try customers.commit()
        try points.commit()
        try invoices.commit()
        try messages.commit()
        try payments.commit()
        try decisions.commit()
        try events.commit()
        try truth.commit()
        return summary
    }

    /// The true values of policies on the contexts a logging policy visits.
    public struct PolicyEvaluation: Codable, Sendable {
        /// Number of decisions valued.
        public var decisions: Int
        public var horizonDays: Double
        /// Mean over decisions of `Σ_a π(a|x)·V(x, a)` for the logging policy.
        public var logging: Double
        /// Mean over decisions of `max_a V(x, a)`.
        public var oracle: Double
        /// Mean over decisions of the uniform policy's value.
        public var uniform: Double
        /// Per target policy name: mean of `Σ_a π(a|x)·V(x, a)`.
        public var targets: [String: Double]
    }

    /// Values `targets` (and the logging, uniform and oracle policies) exactly on the decision
    /// contexts the logging policy visits when it writes the history of `world` — the same
    /// decisions, with the same ids, as `writeHistory` logs. `V(x, a)` is
    /// `CustomerTimeline.actionValues` (probability of payment within `horizonDays` of the send).
    /// This is the ground truth an off-policy estimate of a target policy should recover.
    /// O(decisions · candidates · messages per case).
    public static func evaluate(world: World, logging: some SimulationPolicy, targets: [any SimulationPolicy],
                                horizonDays: Double) -> PolicyEvaluation {
        var count = 0
        var log = 0.0, oracle = 0.0, uniform = 0.0
        var target = Array(repeating: 0.0, count: targets.count)
        for index in 0..<world.config.customers {
            _ = runCustomer(world: world, index: index, policy: logging) { o in
                let values = o.timeline.actionValues(invoice: o.invoice, at: o.context.decidedAt, horizonDays: horizonDays,
                                                     actions: o.context.candidates).map(\.probabilityPaid)
                count += 1
                log += zip(o.probabilities, values).reduce(0) { $0 + $1.0 * $1.1 }
                oracle += values.max()!
                uniform += values.reduce(0, +) / Double(values.count)
                for (k, policy) in targets.enumerated() {
                    let probs = policy.probabilities(for: o.context)
                    precondition(probs.count == values.count, "Simulation.evaluate: policy '\(policy.name)' gave \(probs.count) probabilities for \(values.count) candidates")
                    target[k] += zip(probs, values).reduce(0) { $0 + $1.0 * $1.1 }
                }
            }
        }
        let n = Double(max(count, 1))
        var named: [String: Double] = [:]
        for (k, policy) in targets.enumerated() { named[policy.name] = target[k] / n }
        return PolicyEvaluation(decisions: count, horizonDays: horizonDays, logging: log / n, oracle: oracle / n,
                                uniform: uniform / n, targets: named)
    }
}

/// The ground truth of a world: `truth.json`.
public struct Truth: Codable, Sendable {
    /// 1.
    public var formatVersion: Int
    /// Size, seed and start of the world.
    public var config: SimulationConfig
    /// The population constants.
    public var parameters: WorldParameters
    /// Every customer's hidden traits, in `customers.csv` order.
    public var customers: [CustomerTraits]

    /// Reads `truth.json`.
    public static func read(path: String) throws -> Truth {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(Truth.self, from: data)
    }
}

/// Streams `truth.json`: `{"formatVersion":1,"config":…,"parameters":…,"customers":[…]}`, one
/// customer per line, keys sorted inside each object.
final class TruthWriter {
    let file: AtomicFileWriter
    let encoder: JSONEncoder
    var first = true

    init(directory: String, world: World) throws {
        file = try AtomicFileWriter(path: (directory as NSString).appendingPathComponent("truth.json"))
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let config = String(decoding: try encoder.encode(world.config), as: UTF8.self)
        let parameters = String(decoding: try encoder.encode(world.parameters), as: UTF8.self)
        try file.write("{\"formatVersion\":1,\n\"config\":\(config),\n\"parameters\":\(parameters),\n\"customers\":[")
    }

    func append(_ traits: CustomerTraits) throws {
        try file.write(first ? "\n" : ",\n")
        first = false
        try file.write(bytes: try encoder.encode(traits))
    }

    func commit() throws {
        try file.write("\n]}\n")
        try file.commit()
    }
}

/// The records of one customer's finished timeline (events in time order).
struct CustomerHistory: Sendable {
    var customer: Customer
    var contactPoints: [ContactPoint]
    var invoices: [Invoice]
    var messages: [Message]
    var payments: [Payment]
    var decisions: [Decision]
    var events: [Event]
    var traits: CustomerTraits

    init(_ t: CustomerTimeline) {
        customer = t.customer
        contactPoints = t.contactPoints
        invoices = t.invoices
        messages = t.messages
        payments = t.payments
        decisions = t.decisions
        events = t.events.enumerated().sorted { ($0.element.occurredAt, $0.offset) < ($1.element.occurredAt, $1.offset) }.map(\.element)
        traits = t.traits
    }
}
