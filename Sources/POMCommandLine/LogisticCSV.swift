import Foundation
import Optimizer
import Tabular

/// A logistic-regression training set read from a CSV file: the design (intercept column first),
/// 0/1 labels, optional sample weights and the feature names.
public struct LogisticData: Sendable {
    /// `n × (1 + k)`: a column of ones, then the features in `featureNames` order.
    public var design: Matrix
    /// The 0/1 target.
    public var labels: [Double]
    /// Sample weights, if a weight column was named.
    public var weights: [Double]?
    /// Feature column names.
    public var featureNames: [String]

    /// Reads `target`, `features` (default: every column but the target and the weight) and `weight` from `path`.
    ///
    /// The design matrix is built in place column by column from the parsed columns, each released once
    /// copied, so the peak memory is about one design matrix plus one column.
    /// - Throws: `CSVError` naming the file, line, column and value for a missing column, a value that is
    ///   not a number, a target other than 0 or 1, or a negative weight.
    public static func load(path: String, target: String, features: [String]? = nil, weight: String? = nil) throws -> LogisticData {
        let csv = try CSVFile(path: path)
        for name in [target] + (weight.map { [$0] } ?? []) + (features ?? []) { _ = try csv.index(of: name) }
        if let weight, weight == target {
            throw CSVError(file: path, line: 1, column: weight, message: "the weight column cannot be the target column")
        }
        let names = features ?? csv.header.filter { $0 != target && $0 != weight }
        for (i, name) in names.enumerated() {
            if name == target { throw CSVError(file: path, line: 1, column: name, message: "the target column cannot also be a feature") }
            if name == weight { throw CSVError(file: path, line: 1, column: name, message: "the weight column cannot also be a feature") }
            if names[..<i].contains(name) { throw CSVError(file: path, line: 1, column: name, message: "feature named twice") }
        }
        var columns = try csv.read(numeric: [target] + (weight.map { [$0] } ?? []) + names)
        let n = columns.rowCount
        guard n > 0 else { throw CSVError(file: path, line: 2, message: "the file has a header but no data rows") }
        let labels = columns.numeric.removeValue(forKey: target)!
        if let bad = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw CSVError(file: path, line: try dataLine(path, row: bad), column: target, value: format(labels[bad]),
                           message: "the target must be 0 or 1")
        }
        var weights: [Double]? = nil
        if let weight {
            let w = columns.numeric.removeValue(forKey: weight)!
            if let bad = w.firstIndex(where: { $0 < 0 }) {
                throw CSVError(file: path, line: try dataLine(path, row: bad), column: weight, value: format(w[bad]),
                               message: "a weight must be a number >= 0")
            }
            weights = w
        }
        var storage = [Double]()
        storage.reserveCapacity(n * (names.count + 1))
        storage.append(contentsOf: repeatElement(1.0, count: n))
        for name in names { storage.append(contentsOf: columns.numeric.removeValue(forKey: name)!) }
        return LogisticData(design: Matrix(rows: n, columns: names.count + 1, columnMajor: storage),
                            labels: labels, weights: weights, featureNames: names)
    }

    /// The 1-based line of data row `row` (0-based): the header is line 1, blank lines are skipped as the reader does.
    static func dataLine(_ path: String, row: Int) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        return data.withUnsafeBytes { raw -> Int in
            let p = raw.bindMemory(to: UInt8.self)
            var line = 1, recordLine = 1, record = -1, recordStart = 0
            var inQuotes = false
            for i in 0...p.count {
                let atEnd = i == p.count
                if !atEnd && p[i] == UInt8(ascii: "\"") { inQuotes.toggle() }
                guard atEnd || p[i] == UInt8(ascii: "\n") else { continue }
                if !atEnd && inQuotes { line += 1; continue }
                if recordLine > 1 {
                    let blank = i == recordStart || (i == recordStart + 1 && p[recordStart] == UInt8(ascii: "\r"))
                    if !blank {
                        record += 1
                        if record == row { return recordLine }
                    }
                }
                line += 1
                recordLine = line
                recordStart = i + 1
            }
            return line
        }
    }

    private static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}

/// The JSON `pom-train fit logistic` writes (SPEC §5): coefficients by name, intercept, standard
/// errors (intercept included), log-likelihood, iterations, convergence, and the fit report.
public struct LogisticFitOutput: Codable, Equatable, Sendable {
    /// The fitted intercept.
    public var intercept: Double
    /// Coefficients by feature name.
    public var coefficients: [String: Double]
    /// Standard errors by feature name, and under `intercept`: `√diag(H⁻¹)` of the objective's Hessian.
    public var standardErrors: [String: Double]
    /// `Σ wᵢ·(yᵢ log pᵢ + (1−yᵢ) log(1−pᵢ))` at the fit.
    public var logLikelihood: Double
    /// Solver iterations over the full data.
    public var iterations: Int
    /// Whether the convergence criterion was met and the optimum exists.
    public var converged: Bool
    /// `−logLikelihood + (λ/2)‖β‖²`.
    public var objective: Double
    /// The penalty λ.
    public var l2: Double
    /// `‖∇f‖∞` at the fit.
    public var gradientNorm: Double
    /// `newton` or `lbfgs`.
    public var solver: String
    /// Passes over the full design.
    public var passes: Int
    /// Condition number of the unit-diagonal Hessian, when formed.
    public var conditionNumber: Double?
    /// Separation, ill-conditioning and convergence warnings.
    public var warnings: [String]
    /// Feature names in the order of the design.
    public var features: [String]
    /// Number of rows.
    public var n: Int
    /// `Σ wᵢ` (the row count without weights).
    public var weightSum: Double
    /// The input file.
    public var data: String

    enum CodingKeys: String, CodingKey {
        case intercept, coefficients, standardErrors = "standard_errors", logLikelihood = "log_likelihood", iterations,
             converged, objective, l2, gradientNorm = "gradient_norm", solver, passes, conditionNumber = "condition_number",
             warnings, features, n, weightSum = "weights_sum", data
    }

    /// The output for `model`, fitted on the file `data`.
    public init(model: LogisticRegression.Model, data: String) {
        intercept = model.intercept
        coefficients = Dictionary(uniqueKeysWithValues: zip(model.featureNames, model.coefficients))
        var se = [String: Double]()
        if let s = model.standardErrors { for (name, v) in zip(model.featureNames, s) { se[name] = v } }
        if let s = model.interceptStandardError { se["intercept"] = s }
        standardErrors = se
        logLikelihood = model.logLikelihood
        iterations = model.report.iterations
        converged = model.report.converged
        objective = model.objective
        l2 = model.l2
        gradientNorm = model.report.gradientNorm
        solver = model.report.solver.rawValue
        passes = model.report.passes
        conditionNumber = model.report.conditionNumber.flatMap { $0.isFinite ? $0 : nil }
        warnings = model.report.warnings
        features = model.featureNames
        n = model.rows
        weightSum = model.weightSum
        self.data = data
    }
}

/// Writes `data` to `path` atomically (a temporary file in the same directory, then renamed).
func writeAtomically(_ data: Data, to path: String) throws {
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw CommandFailure("\(path): cannot write the output (\(error.localizedDescription))")
    }
}

/// A user-facing failure of a command, with the message to print.
public struct CommandFailure: Error, CustomStringConvertible, LocalizedError {
    public var description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
