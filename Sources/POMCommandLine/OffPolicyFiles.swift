import Foundation
import Optimizer
import Tabular

/// Logged bandit feedback and a target policy read from the generic CSV files of SPEC §5.
///
/// Log file: columns `action`, `reward`, `propensity`, optional `position`, and context columns
/// (every other column, numeric). Target file: one row per logged row, columns `p_<action>` (the
/// target policy's probability of each action) and an optional `position` that must match the
/// log's. A logged action `a` refers to the column `p_a` (matched as text, or as a number:
/// `1.0` matches `p_1`).
public struct OffPolicyFiles: Sendable {
    /// The validated log; action `k` is the `k`-th `p_` column of the target file.
    public var log: LoggedFeedback
    /// The target policy's action distribution on each logged row.
    public var target: ActionDistribution
    /// Action labels, in index order (the target file's `p_<label>` columns).
    public var actionLabels: [String]
    /// Position labels, in index order (empty without a position column).
    public var positionLabels: [String]
    /// The context columns of the log, in file order.
    public var contextColumns: [String]

    /// Reads and validates the two files.
    /// - Parameters:
    ///   - logPath: the log CSV.
    ///   - targetPath: the target-probabilities CSV.
    ///   - tolerance: how far a target row's probabilities may sum from 1.
    /// - Throws: `CSVError` naming the file, line, column and value: a missing column, a propensity
    ///   outside (0, 1], an action without a `p_` column, a probability outside [0, 1] or a row not
    ///   summing to 1, a row-count or position mismatch between the files.
    public static func load(logPath: String, targetPath: String, tolerance: Double = 1e-6) throws -> OffPolicyFiles {
        let logFile = try CSVFile(path: logPath)
        let targetFile = try CSVFile(path: targetPath)
        for required in ["action", "reward", "propensity"] { _ = try logFile.index(of: required) }
        let hasPosition = logFile.header.contains("position")
        let contextColumns = logFile.header.filter { !["action", "reward", "propensity", "position"].contains($0) }

        let probabilityColumns = targetFile.header.filter { $0.hasPrefix("p_") && $0.count > 2 }
        for column in targetFile.header where column != "position" && !probabilityColumns.contains(column) {
            throw CSVError(file: targetPath, line: 1, column: column,
                           message: "unexpected column; the target file has one 'p_<action>' column per action and an optional 'position'")
        }
        guard !probabilityColumns.isEmpty else {
            throw CSVError(file: targetPath, line: 1, message: "no 'p_<action>' columns; expected one per action, e.g. p_0, p_1, ...")
        }
        let targetHasPosition = targetFile.header.contains("position")
        if targetHasPosition && !hasPosition {
            throw CSVError(file: targetPath, line: 1, column: "position",
                           message: "the target file has a position column but the log \(logPath) has none")
        }

        let logColumns = try logFile.read(numeric: ["reward", "propensity"] + contextColumns,
                                          text: ["action"] + (hasPosition ? ["position"] : []))
        let targetColumns = try targetFile.read(numeric: probabilityColumns, text: targetHasPosition ? ["position"] : [])
        let n = logColumns.rowCount
        guard targetColumns.rowCount == n else {
            throw CSVError(file: targetPath, line: targetColumns.rowCount + 1,
                           message: "\(targetColumns.rowCount) rows, but the log \(logPath) has \(n); expected one row per logged row, in the log's order")
        }
        guard n > 0 else { throw CSVError(file: logPath, line: 2, message: "the log has no rows") }

        // Actions: the p_ columns, in file order.
        let actionLabels = probabilityColumns.map { String($0.dropFirst(2)) }
        var byLabel = [String: Int](), byNumber = [Double: Int]()
        for (k, label) in actionLabels.enumerated() {
            byLabel[label] = k
            if let v = parseDouble(label) { byNumber[v] = k }
        }
        let actionText = logColumns.string("action")
        var actions = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let s = actionText[i].trimmingCharacters(in: .whitespaces)
            guard let k = byLabel[s] ?? parseDouble(s).flatMap({ byNumber[$0] }) else {
                throw CSVError(file: logPath, line: logFile.line(ofRow: i), column: "action", value: s,
                               message: "no column 'p_\(s)' in the target file \(targetPath); its action columns are \(probabilityColumns.joined(separator: ", "))")
            }
            actions[i] = k
        }

        let propensities = logColumns.number("propensity")
        for (i, p) in propensities.enumerated() where !(p > 0 && p <= 1) {
            throw CSVError(file: logPath, line: logFile.line(ofRow: i), column: "propensity", value: String(p),
                           message: "a propensity is the logging policy's probability of the logged action and must lie in (0, 1]")
        }

        // Positions: labels sorted numerically when they are numbers, else as text.
        var positions: [Int]? = nil
        var positionLabels = [String]()
        if hasPosition {
            let text = logColumns.string("position").map { $0.trimmingCharacters(in: .whitespaces) }
            for (i, s) in text.enumerated() where s.isEmpty {
                throw CSVError(file: logPath, line: logFile.line(ofRow: i), column: "position", value: s, message: "missing position")
            }
            let unique = Array(Set(text))
            let numbers = unique.map(parseDouble)
            if numbers.allSatisfy({ $0 != nil }) {
                positionLabels = zip(unique, numbers).sorted { $0.1! < $1.1! }.map(\.0)
            } else {
                positionLabels = unique.sorted()
            }
            let index = Dictionary(uniqueKeysWithValues: positionLabels.enumerated().map { ($1, $0) })
            positions = text.map { index[$0]! }
            if targetHasPosition {
                let targetText = targetColumns.string("position").map { $0.trimmingCharacters(in: .whitespaces) }
                for i in 0..<n where targetText[i] != text[i] && parseDouble(targetText[i]).map({ $0 != parseDouble(text[i]) }) ?? true {
                    throw CSVError(file: targetPath, line: targetFile.line(ofRow: i), column: "position", value: targetText[i],
                                   message: "the log \(logPath) has position '\(text[i])' on this row; the target's rows must follow the log's rows")
                }
            }
        }

        // Target probabilities: each in [0, 1], each row summing to 1.
        let k = probabilityColumns.count
        var probabilities = [Double]()
        probabilities.reserveCapacity(n * k)
        var sums = [Double](repeating: 0, count: n)
        for column in probabilityColumns {
            let values = targetColumns.number(column)
            for i in 0..<n {
                let v = values[i]
                guard v >= 0 && v <= 1 else {
                    throw CSVError(file: targetPath, line: targetFile.line(ofRow: i), column: column, value: String(v), message: "a probability must lie in [0, 1]")
                }
                sums[i] += v
            }
            probabilities.append(contentsOf: values)
        }
        for i in 0..<n where abs(sums[i] - 1) > tolerance {
            throw CSVError(file: targetPath, line: targetFile.line(ofRow: i), column: probabilityColumns.joined(separator: "+"), value: String(sums[i]),
                           message: "the row's probabilities sum to \(sums[i]); they must sum to 1 (within \(tolerance))")
        }

        let d = contextColumns.count
        var contextValues = [Double]()
        contextValues.reserveCapacity(n * d)
        for column in contextColumns { contextValues.append(contentsOf: logColumns.number(column)) }
        do {
            let log = try LoggedFeedback(actions: actions, rewards: logColumns.number("reward"), propensities: propensities,
                                         contexts: Matrix(rows: n, columns: d, columnMajor: contextValues),
                                         positions: positions, actionCount: k,
                                         positionCount: positions == nil ? nil : positionLabels.count)
            let target = try ActionDistribution(probabilities: Matrix(rows: n, columns: k, columnMajor: probabilities), tolerance: tolerance)
            return OffPolicyFiles(log: log, target: target, actionLabels: actionLabels, positionLabels: positionLabels,
                                  contextColumns: contextColumns)
        } catch let error as OffPolicyDataError {
            // The checks above cover these; a remaining one still names its place.
            let inTarget = error.field == "probabilities" || error.field.hasPrefix("probability")
            throw CSVError(file: inTarget ? targetPath : logPath,
                           line: error.row.map { (inTarget ? targetFile : logFile).line(ofRow: $0) },
                           column: error.field, value: error.value, message: error.message)
        }
    }
}
