import ArgumentParser
import FeatureStore
import Foundation
import Reports

/// `report`: reports built from the store.
public struct ReportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports from the store.",
        subcommands: [ABReportCommand.self])

    public init() {}
}

/// `report ab`: the A/B time-to-pay report of one experiment.
public struct ABReportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ab",
        abstract: "A/B time-to-pay report of an experiment: curves, medians, log-rank test, RMST, cost, channels.",
        discussion: """
            Reads the experiment's decisions, invoices, payments, messages and events from the store and writes \
            report.html (self-contained, plots inline), report.md, report.json and survival_curves.csv, arms.csv, \
            channels.csv into --out. docs/report.md defines every figure.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "The experiment's name, as logged on the decisions.")
    var experiment: String

    @Option(name: .customLong("as-of"), help: ArgumentHelp(
        "Censor unpaid invoices at this instant: YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SSZ (default: the store's last instant).",
        valueName: "date"))
    var asOf: String?

    @Option(help: ArgumentHelp(
        "The configured split for the sample-ratio check: shares in arm order, control first then the others by name (50/50), or arm=share pairs (control=50,treatment=50). Default: equal.",
        valueName: "split"))
    var split: String?

    @Option(help: "The control arm (default: the arm called 'control', else the first arm by name).")
    var control: String?

    @Option(help: "Horizon of the restricted mean time to pay, hours (default: 720 h or the shortest arm follow-up).")
    var tau: Double?

    @Option(help: "Directory to write the report files into (created if needed).")
    var out: String

    public init() {}

    public func validate() throws {
        _ = try ABReportCommand.parseAsOf(asOf)
        _ = try ABReportCommand.parseSplit(split)
        if let tau, !(tau > 0 && tau.isFinite) { throw ValidationError("--tau must be a positive number of hours, got \(tau)") }
    }

    public func run() async throws {
        let store = try await storeOptions.open()
        do {
            let (shares, byArm) = try ABReportCommand.parseSplit(split)
            let report = try await ABReport.build(
                store: store, experiment: experiment, asOf: ABReportCommand.parseAsOf(asOf),
                options: ABReport.Options(control: control, split: shares, splitByArm: byArm, tau: tau))
            try await store.close()
            try ReportFiles.write(report, to: out)
            print(report.verdict)
            for note in report.notes { print("  - " + note) }
            print("wrote \(ReportFiles.names.map { (out as NSString).appendingPathComponent($0) }.joined(separator: ", "))")
        } catch let error as ReportError {
            try? await store.close()
            throw ValidationError(error.description)
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// `YYYY-MM-DD` (midnight UTC) or an ISO 8601 instant.
    static func parseAsOf(_ text: String?) throws -> Date? {
        guard let text else { return nil }
        if let days = CivilTime.parseDate(Array(text.utf8)), text.utf8.count == 10 {
            return Date(timeIntervalSince1970: Double(days) * 86_400)
        }
        if let micros = CivilTime.parseInstant(Array(text.utf8)) {
            return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        }
        throw ValidationError("--as-of '\(text)': expected a date YYYY-MM-DD or an instant YYYY-MM-DDTHH:MM:SSZ")
    }

    /// `50/50` (shares in arm order) or `control=50,treatment=50`.
    static func parseSplit(_ text: String?) throws -> ([Double]?, [String: Double]?) {
        guard let text else { return (nil, nil) }
        func share(_ s: Substring) throws -> Double {
            guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v > 0, v.isFinite else {
                throw ValidationError(ReportError.badSplit(text, "'\(s)' is not a positive number").description)
            }
            return v
        }
        if text.contains("=") {
            var byArm: [String: Double] = [:]
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw ValidationError(ReportError.badSplit(text, "'\(pair)' is not arm=share").description)
                }
                byArm[String(parts[0]).trimmingCharacters(in: .whitespaces)] = try share(parts[1])
            }
            return (nil, byArm)
        }
        let shares = try text.split(separator: "/", omittingEmptySubsequences: false).map(share)
        guard shares.count >= 2 else { throw ValidationError(ReportError.badSplit(text, "at least two shares are needed").description) }
        return (shares, nil)
    }
}
