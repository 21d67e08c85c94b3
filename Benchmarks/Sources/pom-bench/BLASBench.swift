import Foundation
import LinAlg

/// LinAlg against the machine: GEMM, Gram, gemv, the fused logistic pass and Cholesky.
/// The peer figures (numpy on the same machine, same sitting) come from Benchmarks/peers/blas.py.
func blasBenchmarks() throws -> [BenchResult] {
    var results = [BenchResult]()
    var rng = Xoshiro256(seed: 1)

    let n = 4096
    let a = rng.normalMatrix(rows: n, columns: n), b = rng.normalMatrix(rows: n, columns: n)
    var c = Matrix(rows: n, columns: n)
    results.append(measure("blas", "gemm 4096^3", runs: 3, rate: { 2 * pow(Double(n), 3) / $0 / 1e9 }, unit: "GFLOP/s") {
        gemm(1, a.view, .none, b.view, .none, 0, &c)
    })

    let rows = 1_000_000, p = 64
    let before = peakRSSMiB()
    let x = rng.normalMatrix(rows: rows, columns: p)
    let designMiB = Double(rows * p * 8) / 1_048_576
    let w = (0..<rows).map { _ in rng.uniform() + 0.5 }
    let bytes = Double(rows * p * 8)
    results.append(measure("blas", "stream X 1Mx64 (sum of all elements)", rate: { bytes / $0 / 1e9 }, unit: "GB/s") {
        blackHole(x.elements.reduce(0, +))
    })
    results.append(measure("blas", "gram X^T W X 1Mx64, row blocks", rate: { Double(rows * p * p) / $0 / 1e9 }, unit: "GFLOP/s (n p^2)") {
        blackHole(weightedGram(x.view, weights: w))
    })
    var g = Matrix(rows: p, columns: p)
    results.append(measure("blas", "gram X^T X 1Mx64, one plain dsyrk", rate: { Double(rows * p * p) / $0 / 1e9 }, unit: "GFLOP/s (n p^2)") {
        syrk(1, x.view, .transpose, 0, &g)
    })
    let beta = rng.normalVector(p)
    var y = Vector(count: rows)
    results.append(measure("blas", "gemv X beta 1Mx64", rate: { bytes / $0 / 1e9 }, unit: "GB/s") {
        gemv(1, x.view, .none, beta, 0, &y)
    })
    let labels = (0..<rows).map { _ in rng.uniform() < 0.4 ? 1.0 : 0.0 }
    results.append(measure("blas", "fused logistic gradient X^T(sigma(X beta) - y) 1Mx64", rate: { bytes / $0 / 1e9 }, unit: "GB/s of X") {
        blackHole(logisticPass(design: x.view, labels: labels, coefficients: beta))
    })
    results.append(measure("blas", "fused logistic gradient + Hessian 1Mx64", rate: { bytes / $0 / 1e9 }, unit: "GB/s of X") {
        blackHole(logisticPass(design: x.view, labels: labels, weights: w, coefficients: beta, hessian: true))
    })
    let extra = peakRSSMiB() - before
    results.append(BenchResult(group: "blas", name: "peak memory over the 1Mx64 benchmarks", medianSeconds: 0, runs: 1,
                               rate: extra / designMiB, rateUnit: "x the design matrix (\(Int(designMiB)) MiB)",
                               peakRSSMiB: peakRSSMiB(), note: "design + labels + weights + outputs"))

    let m = rng.normalMatrix(rows: 512, columns: 512)
    var spd = Matrix(rows: 512, columns: 512)
    syrk(1, m.view, .transpose, 0, &spd)
    for i in 0..<512 { spd[i, i] += 512 }
    results.append(try measure("blas", "cholesky 512", runs: 20, rate: { pow(512, 3) / 3 / $0 / 1e9 }, unit: "GFLOP/s") {
        blackHole(try Cholesky(spd))
    })
    return results
}
