import Foundation
import LinAlg
import Optimizer
import Tabular

/// Logistic regression on a dense 1,000,000 × 64 design (features N(0,1), true weights N(0, 0.3),
/// seeded), with scikit-learn's default penalty (C = 1, i.e. λ = 1) so the objective is the one
/// `LogisticRegression(solver='lbfgs', tol=1e-6)` minimises; and CSV parsing speed of Tabular.
/// The peers (scikit-learn, statsmodels) run from Benchmarks/peers/logistic.py.
func logisticBenchmarks() throws -> [BenchResult] {
    var results = [BenchResult]()
    let (n, k) = (size(1_000_000, quick: 100_000), 64)
    let rowsLabel = countLabel(n)
    var rng = Xoshiro256(seed: 20_261_129)
    var storage = [Double]()
    storage.reserveCapacity(n * (k + 1))
    storage.append(contentsOf: repeatElement(1.0, count: n))
    for _ in 0..<(n * k) { storage.append(rng.normal()) }
    let x = Matrix(rows: n, columns: k + 1, columnMajor: storage)
    storage = []
    let truth = Vector([0] + (0..<k).map { _ in 0.3 * rng.normal() })
    var logits = Vector(count: n)
    gemv(1, x.view, .none, truth, 0, &logits)
    let labels = logits.map { rng.uniform() < sigmoid($0) ? 1.0 : 0.0 }
    logits = Vector(count: 0)
    let designMiB = Double(n * (k + 1) * 8) / 1_048_576

    let bytes = Double(n * (k + 1) * 8)
    let beta = truth
    results.append(measure("logistic", "pass: loss + gradient, \(rowsLabel)x65", runs: 3, rate: { bytes / $0 / 1e9 }, unit: "GB/s of X") {
        blackHole(logisticPass(design: x.view, labels: labels, coefficients: beta))
    })
    results.append(measure("logistic", "pass: loss + gradient + Hessian, \(rowsLabel)x65", runs: 3, rate: { bytes / $0 / 1e9 }, unit: "GB/s of X") {
        blackHole(logisticPass(design: x.view, labels: labels, coefficients: beta, hessian: true))
    })

    // The optimum of the objective, to measure how far above it each fit stops.
    let optimum = try LogisticRegression(l2: 1, solver: .newton, tolerance: 1e-12, standardErrors: false)
        .fit(design: x, labels: labels).objective

    func fitBenchmark(_ name: String, _ regression: LogisticRegression) throws -> BenchResult {
        var model: LogisticRegression.Model? = nil
        resetPeakRSS()
        let cpuBefore = cpuSeconds()
        var result = try measure("logistic", name, runs: 3) {
            model = try regression.fit(design: x, labels: labels)
        }
        let cpu = (cpuSeconds() - cpuBefore) / 4  // one warm-up and three runs
        let peak = peakRSSMiB()
        let m = model!
        result.rate = Double(n) / result.medianSeconds / 1e6
        result.rateUnit = "M rows/s"
        result.peakRSSMiB = peak
        let gap = regression.l2 == 1 ? String(format: ", %.2e above the optimum per row", (m.objective - optimum) / Double(n)) : ""
        result.note = String(format: "objective/row %.12f%@, %d iterations, %d passes, converged %@, "
                             + "%.2f CPU s per fit, peak RSS %.2fx the design (%.0f MiB)",
                             m.objective / Double(n), gap, m.report.iterations, m.report.passes, m.report.converged ? "yes" : "no",
                             cpu, peak / designMiB, designMiB)
        return result
    }
    results.append(try fitBenchmark("fit \(rowsLabel)x64 lambda=1, newton (auto), tol 1e-6 (sklearn's rule), no standard errors",
                                    LogisticRegression(l2: 1, tolerance: 1e-6, standardErrors: false)))
    results.append(try fitBenchmark("fit \(rowsLabel)x64 lambda=1, newton (auto), tol 1e-9, with standard errors",
                                    LogisticRegression(l2: 1)))
    results.append(try fitBenchmark("fit \(rowsLabel)x64 lambda=0, newton (auto), tol 1e-9, with standard errors (statsmodels' task)",
                                    LogisticRegression(l2: 0)))
    results.append(try fitBenchmark("fit \(rowsLabel)x64 lambda=1, lbfgs, tol 1e-6, no standard errors",
                                    LogisticRegression(l2: 1, solver: .lbfgs, tolerance: 1e-6, standardErrors: false)))
    return results
}

/// Tabular's CSV reader on a generated numeric CSV (about 270 MB, 1.5 M rows × 20 columns), written to
/// a temporary directory and read into columns. The peer is pandas' `read_csv` (Benchmarks/peers/logistic.py).
func csvBenchmarks() throws -> [BenchResult] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-bench-csv-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let (rows, columns) = (size(1_500_000, quick: 150_000), 20)
    return [try csvBenchmark(dir: dir, rows: rows, columns: columns, quotedText: false),
            try csvBenchmark(dir: dir, rows: rows, columns: columns, quotedText: true)]
}

/// Parsing a seeded file of `rows` × `columns` numbers (the first column 0/1, the others N(0, 9)
/// with six decimals) into columns. With `quotedText`, every record also has a quoted name holding
/// a comma (one in six with a doubled quote), read as text: the general path, on all cores. Peer:
/// pandas on the same kind of files (Benchmarks/peers/logistic.py).
func csvBenchmark(dir: URL, rows: Int, columns: Int, quotedText: Bool) throws -> BenchResult {
    let path = dir.appendingPathComponent(quotedText ? "quoted.csv" : "numeric.csv").path
    let names = (0..<columns).map { "c\($0)" }
    FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    var rng = Xoshiro256(seed: quotedText ? 8 : 7)
    let surnames = ["Müller", "Schmidt", "Dupont", "O\"\"Brien", "van der Berg", "Smith"]
    var text = (names + (quotedText ? ["name"] : [])).joined(separator: ",") + "\n"
    for i in 0..<rows {
        for j in 0..<columns {
            if j > 0 { text += "," }
            text += j == 0 ? (rng.uniform() < 0.5 ? "0" : "1") : String(format: "%.6f", 3 * rng.normal())
        }
        if quotedText { text += ",\"" + surnames[i % surnames.count] + ", customer " + String(i) + "\"" }
        text += "\n"
        if i % 20_000 == 19_999 || i == rows - 1 {
            handle.write(Data(text.utf8))
            text = ""
        }
    }
    try handle.close()
    let bytes = Double(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int)
    let cpuBefore = cpuSeconds()
    let label = "CSV parse \(Int(bytes / 1e6)) MB, \(rows) x \(columns) numeric" + (quotedText ? " + a quoted text column" : "")
    var result = try measure("csv", label, runs: 3, rate: { bytes / $0 / 1e6 }, unit: "MB/s") {
        let cols = try CSVFile(path: path).read(numeric: names, text: quotedText ? ["name"] : [])
        precondition(cols.rowCount == rows && (!quotedText || cols.string("name")[3] == "O\"Brien, customer 3"))
        blackHole(cols)
    }
    let cpu = (cpuSeconds() - cpuBefore) / 4  // one warm-up and three runs
    result.note = String(format: "%d threads, file in the OS page cache; %.2f CPU s per parse = %.0f MB per CPU second",
                         ProcessInfo.processInfo.activeProcessorCount, cpu, bytes / cpu / 1e6)
    return result
}
