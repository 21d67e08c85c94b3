import ArgumentParser
import Foundation
import Optimizer
import Tabular

/// `survival`: time-to-pay statistics of any CSV (SPEC §5) — Kaplan–Meier medians with
/// confidence intervals, survival and Nelson–Aalen at given times, RMST, and the log-rank test
/// across groups.
public struct SurvivalCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "survival",
        abstract: "Time-to-pay statistics: Kaplan-Meier, Nelson-Aalen, RMST and the log-rank test.",
        discussion: """
            Reads right-censored durations from a CSV file (event 1 = paid, 0 = censored) and writes \
            per-group medians with confidence intervals, survival and cumulative hazard at --times, \
            paid-within rates, the restricted mean up to --tau and, with --group, the log-rank test \
            over all groups, as JSON to --out.
            """)

    @Option(help: "CSV file with a header row.")
    var data: String

    @Option(help: "Column with the durations (non-negative numbers, e.g. hours to pay).")
    var duration: String

    @Option(help: "Column with the event flag: 1 = paid (event observed), 0 = censored.")
    var event: String

    @Option(help: "Column naming each row's group (e.g. the experiment arm); without it all rows form the group 'all'.")
    var group: String?

    @Option(help: "Comma-separated times at which to report survival, cumulative hazard and paid-within rates.")
    var times: String?

    @Option(help: "Horizon of the restricted mean survival time (default: the smallest of the groups' largest durations).")
    var tau: Double?

    @Option(help: "Confidence level of every interval.")
    var level: Double = 0.95

    @Option(help: "Where to write the JSON report.")
    var out: String

    public init() {}

    public func validate() throws {
        _ = try parsedTimes()
        if let tau, !(tau >= 0 && tau.isFinite) { throw ValidationError("--tau must be a non-negative number, got \(tau)") }
        if !(level > 0 && level < 1) { throw ValidationError("--level must lie strictly between 0 and 1, got \(level)") }
    }

    func parsedTimes() throws -> [Double] {
        guard let times, !times.isEmpty else { return [] }
        return try times.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let text = part.trimmingCharacters(in: .whitespaces)
            guard let t = Double(text), t.isFinite, t >= 0 else {
                throw ValidationError("--times: '\(text)' is not a non-negative number; expected e.g. --times 24,168,720")
            }
            return t
        }
    }

    public func run() throws {
        let report = try SurvivalCommand.report(data: data, duration: duration, event: event, group: group,
                                                times: parsedTimes(), tau: tau, level: level)
        try SurvivalCommand.write(report, to: out)
    }

    /// Reads `data` and computes the report (the command without its output file).
    /// - Throws: `CSVError` naming the file, line, column and value for a missing column, a
    ///   value that is not a number, a negative duration, an event flag other than 0/1, or a file
    ///   without rows.
    public static func report(data: String, duration: String, event: String, group: String?,
                              times: [Double], tau: Double?, level: Double) throws -> SurvivalReport {
        let csv = try CSVFile(path: data)
        let columns = try csv.read(numeric: [duration, event], text: group.map { [$0] } ?? [])
        guard columns.rowCount > 0 else {
            throw CSVError(file: data, line: 2, message: "the file has a header but no rows; expected one row per subject")
        }
        let durations = columns.number(duration)
        let flags = columns.number(event)
        var events = [Bool](repeating: false, count: flags.count)
        for i in 0..<durations.count {
            // Line numbers come from the file (blank lines and quoted line breaks counted).
            if durations[i] < 0 {
                throw CSVError(file: data, line: csv.line(ofRow: i), column: duration, value: format(durations[i]),
                               message: "durations must be non-negative (time from the start of follow-up)")
            }
            switch flags[i] {
            case 1: events[i] = true
            case 0: events[i] = false
            default:
                throw CSVError(file: data, line: csv.line(ofRow: i), column: event, value: format(flags[i]),
                               message: "the event flag must be 1 (paid) or 0 (censored)")
            }
        }
        var names = [String]()
        var groupOf = [Int](repeating: 0, count: durations.count)
        if let group {
            var index = [String: Int]()
            for (i, name) in columns.string(group).enumerated() {
                if let g = index[name] {
                    groupOf[i] = g
                } else {
                    index[name] = names.count
                    groupOf[i] = names.count
                    names.append(name)
                }
            }
        } else {
            names = ["all"]
        }
        let analysis = SurvivalAnalysis(durations: durations, events: events, groups: groupOf, groupCount: names.count)
        return SurvivalReport(analysis: analysis, names: names, times: times, tau: tau, level: level)
    }

    /// Writes `report` as JSON to `path`, atomically.
    public static func write(_ report: SurvivalReport, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes = try encoder.encode(report)
        do {
            try bytes.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ValidationError("cannot write the report to \(path): \(error.localizedDescription)")
        }
    }

    private static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
