import Foundation
import LinAlg

/// Sums `values` with eight independent accumulators per thread on every core: the time it
/// takes is the time to stream the array from memory, the floor for any pass over a design.
func streamingSum(_ values: [Double]) -> Double {
    let threads = BLASRuntime.threads
    let partial = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
    defer { partial.deallocate() }
    values.withUnsafeBufferPointer { buffer in
        nonisolated(unsafe) let base = buffer.baseAddress!
        nonisolated(unsafe) let out = partial
        let n = buffer.count
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let lo = n * t / threads, hi = n * (t + 1) / threads
            var acc = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
            var i = lo
            while i + 8 <= hi {
                acc.0 += base[i]; acc.1 += base[i + 1]; acc.2 += base[i + 2]; acc.3 += base[i + 3]
                acc.4 += base[i + 4]; acc.5 += base[i + 5]; acc.6 += base[i + 6]; acc.7 += base[i + 7]
                i += 8
            }
            var s = acc.0 + acc.1 + acc.2 + acc.3 + acc.4 + acc.5 + acc.6 + acc.7
            while i < hi { s += base[i]; i += 1 }
            out[t] = s
        }
    }
    return partial.reduce(0, +)
}

/// LinAlg against the machine: GEMM, Gram, gemv, the fused logistic pass and Cholesky.
/// The peer figures (numpy on the same machine, same sitting) come from Benchmarks/peers/blas.py.
func blasBenchmarks() throws -> [BenchResult] {
    var results = [BenchResult]()
    var rng = Xoshiro256(seed: 1)

    let n = size(4096, quick: 1024)
    let a = rng.normalMatrix(rows: n, columns: n), b = rng.normalMatrix(rows: n, columns: n)
    var c = Matrix(rows: n, columns: n)
    results.append(measure("blas", "gemm \(n)^3", runs: 3, rate: { 2 * pow(Double(n), 3) / $0 / 1e9 }, unit: "GFLOP/s") {
        gemm(1, a.view, .none, b.view, .none, 0, &c)
    })

    let rows = size(1_000_000, quick: 100_000), p = 64
    let shape = "\(countLabel(rows))x\(p)"
    let x = rng.normalMatrix(rows: rows, columns: p)
    let w = (0..<rows).map { _ in rng.uniform() + 0.5 }
    let bytes = Double(rows * p * 8)
    results.append(measure("blas", "stream X \(shape) (sum of all elements)", rate: { bytes / $0 / 1e9 }, unit: "GB/s") {
        blackHole(streamingSum(x.elements))
    })
    results.append(measure("blas", "gram X^T W X \(shape), row blocks", rate: { Double(rows * p * p) / $0 / 1e9 }, unit: "GFLOP/s (n p^2)") {
        blackHole(weightedGram(x.view, weights: w))
    })
    var g = Matrix(rows: p, columns: p)
    results.append(measure("blas", "gram X^T X \(shape), one plain dsyrk", rate: { Double(rows * p * p) / $0 / 1e9 }, unit: "GFLOP/s (n p^2)") {
        syrk(1, x.view, .transpose, 0, &g)
    })
    let beta = rng.normalVector(p)
    var y = Vector(count: rows)
    results.append(measure("blas", "gemv X beta \(shape)", rate: { bytes / $0 / 1e9 }, unit: "GB/s") {
        gemv(1, x.view, .none, beta, 0, &y)
    })
    let labels = (0..<rows).map { _ in rng.uniform() < 0.4 ? 1.0 : 0.0 }
    results.append(measure("blas", "fused logistic gradient X^T(sigma(X beta) - y) \(shape)", rate: { bytes / $0 / 1e9 }, unit: "GB/s of X") {
        blackHole(logisticPass(design: x.view, labels: labels, coefficients: beta))
    })
    results.append(measure("blas", "fused logistic gradient + Hessian \(shape)", rate: { bytes / $0 / 1e9 }, unit: "GB/s of X") {
        blackHole(logisticPass(design: x.view, labels: labels, weights: w, coefficients: beta, hessian: true))
    })
    let m = rng.normalMatrix(rows: 512, columns: 512)
    var spd = Matrix(rows: 512, columns: 512)
    syrk(1, m.view, .transpose, 0, &spd)
    for i in 0..<512 { spd[i, i] += 512 }
    results.append(try measure("blas", "cholesky 512", runs: 20, rate: { pow(512, 3) / 3 / $0 / 1e9 }, unit: "GFLOP/s") {
        blackHole(try Cholesky(spd))
    })
    return results
}
