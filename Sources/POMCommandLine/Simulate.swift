import ArgumentParser
import Foundation
import FeatureStore
import Simulator

/// `simulate`: writes a synthetic history with known ground truth (datasets/README.md).
public struct Simulate: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Write a simulated dunning history (customers, contact points, invoices, messages, events, payments, decisions, truth.json).")

    /// The logging policies a history can be written under.
    public enum PolicyName: String, ExpressibleByArgument, CaseIterable, Sendable {
        case random, rules
    }

    @Option(help: "Number of customers.")
    var customers: Int

    @Option(help: "Length of the simulated period in days.")
    var days: Int

    @Option(help: "Random seed; the same seed gives byte-identical files.")
    var seed: UInt64 = 1

    @Option(help: "Logging policy: random (uniform over the allowed actions) or rules (default flow with ε-exploration).")
    var policy: PolicyName = .random

    @Option(help: "Exploration share ε of the rules policy.")
    var epsilon: Double = 0.2

    @Option(help: "Directory to write the history into (created if missing).")
    var out: String

    @Option(help: "First day of the period, YYYY-MM-DD.")
    var start: String = "2026-01-05"

    @Option(help: "Letters the customer ids start with (default C), so that two worlds can share a store.")
    var idPrefix: String = "C"

    public init() {}

    public func validate() throws {
        guard customers > 0 else { throw ValidationError("--customers must be a positive number of customers, got \(customers)") }
        guard days > 0 else { throw ValidationError("--days must be a positive number of days, got \(days)") }
        guard epsilon >= 0 && epsilon <= 1 else { throw ValidationError("--epsilon must lie in [0, 1], got \(epsilon)") }
        guard CalendarDate(parsing: start) != nil else { throw ValidationError("--start must be a date YYYY-MM-DD, got '\(start)'") }
        guard !idPrefix.isEmpty, idPrefix.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw ValidationError("--id-prefix must be ASCII letters, got '\(idPrefix)'")
        }
    }

    public func run() throws {
        let world = World(config: SimulationConfig(customers: customers, days: days, seed: seed, start: CalendarDate(parsing: start)!,
                                                   idPrefix: idPrefix == "C" ? nil : idPrefix))
        let started = Date()
        let big = customers >= 10_000
        let report: (Int, Int) -> Void = { done, total in
            guard big else { return }
            let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-9)
            FileHandle.standardError.write(Data("simulate: \(done)/\(total) customers (\(Int(rate))/s)\n".utf8))
        }
        let summary: Simulation.HistorySummary
        switch policy {
        case .random: summary = try Simulation.writeHistory(world: world, policy: UniformRandomPolicy(), directory: out, progress: report)
        case .rules: summary = try Simulation.writeHistory(world: world, policy: RuleBasedPolicy(epsilon: epsilon), directory: out, progress: report)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    }
}
