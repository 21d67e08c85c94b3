import Dispatch
import Foundation

/// Batch LinUCB scoring of many contexts at once at the arm level (MABWiser's
/// `predict_expectations`/`predict` for `LinUCB`, numpy's vectorised LinUCB).
///
/// For arms with posterior `(θ_g, Σ_g)` over the raw context (`p = d`, a feature map without
/// effects) the score is `θ_gᵀx + α √(xᵀΣ_g x)`. The quadratic forms of all arms are one matrix
/// product: with `z(x) = (x_i x_j)_{i≤j}` (`d(d+1)/2` entries) and `c_g = (Σ_ii ; 2Σ_ij)_{i<j}`,
/// `xᵀΣ_g x = z(x)ᵀc_g`, so a block of rows costs `Z·C` (`dgemm`, `n × d(d+1)/2 × G`) plus
/// `X·Θᵀ` (`dgemm`, `n × d × G`), about half the flops of `G` separate `X Σ_g` products.
/// Row blocks run on `BLASRuntime.threads` workers.
public struct BatchLinUCBScorer: Sendable {
    public let alpha: Double
    public let dimension: Int
    public let armCount: Int
    let quadratic: Matrix   // q × G
    let means: Matrix       // d × G
    /// `Θ` for the row kernel in chunks of eight arms (chunk, feature, arm within the chunk; zero-padded).
    let thetaRows: [Double]
    /// Per arm `α·√λ_max(Σ_g)`, slightly enlarged against rounding: the bonus bound per unit of `‖x‖`.
    let bonusWidths: [Double]

    /// - Parameters:
    ///   - posterior: a linear posterior whose feature map has no effect blocks (`p == d`).
    ///   - alpha: the exploration width.
    public init(posterior: BanditPosterior, alpha: Double) {
        precondition(alpha >= 0 && alpha.isFinite, "BatchLinUCBScorer: alpha \(alpha) must be finite and ≥ 0")
        let map = posterior.featureMap
        precondition(map.armFeatureCount == map.contextDimension,
                     "BatchLinUCBScorer: scores arms over the raw context; use a feature map without effects (effectFeatureCount 0 or the action grouping)")
        let d = map.contextDimension, g = posterior.arms.count, q = d * (d + 1) / 2
        var c = [Double](repeating: 0, count: q * g), t = [Double](repeating: 0, count: d * g)
        for a in 0..<g {
            let sigma = posterior.arms[a].covariance
            var r = 0
            for i in 0..<d {
                for j in i..<d {
                    c[r + a * q] = (i == j ? 1 : 2) * sigma[i + j * d]
                    r += 1
                }
            }
            for i in 0..<d { t[i + a * d] = posterior.arms[a].mean[i] }
        }
        self.alpha = alpha
        self.dimension = d
        self.armCount = g
        quadratic = Matrix(rows: q, columns: g, columnMajor: c)
        means = Matrix(rows: d, columns: g, columnMajor: t)
        // Θ in chunks of eight arms: chunk c, feature j, lane l at (c·d + j)·8 + l (zero padding).
        var chunked = [Double](repeating: 0, count: (g + 7) / 8 * d * 8)
        for a in 0..<g { for j in 0..<d { chunked[((a / 8) * d + j) * 8 + a % 8] = t[j + a * d] } }
        thetaRows = chunked
        bonusWidths = posterior.arms.map { arm in
            let sigma = Matrix(rows: d, columns: d, columnMajor: Array(arm.covariance[0..<(d * d)]))
            // λ_max from LAPACK, else Gershgorin's bound (the largest absolute row sum); both ≥ λ_max.
            var gershgorin = 0.0
            for i in 0..<d { var r = 0.0; for j in 0..<d { r += abs(sigma[i, j]) }; gershgorin = Swift.max(gershgorin, r) }
            let top = (try? SymmetricEigen(sigma)).flatMap { $0.values.elements.max() }.map { Swift.min($0, gershgorin) } ?? gershgorin
            return alpha * (Swift.max(top, 0) * (1 + 1e-8) + 1e-300).squareRoot()
        }
    }

    /// The best arm per row of `contexts` (`n × d`); ties go to the lowest arm index (numpy's argmax).
    ///
    /// Exact, with pruning, in plain Swift over blocks of 256 rows (no BLAS call, so no BLAS
    /// threads compete with the workers). Per row: the means `θ_gᵀx` of all arms (`d·G`
    /// multiply-adds), then the bounds `u_g = θ_gᵀx + α·√λ_max(Σ_g)·‖x‖ ≥ score_g` (since
    /// `xᵀΣ_g x ≤ λ_max(Σ_g)·‖x‖²`). Let `t` be the arm with the highest bound. When `θ_tᵀx`
    /// (a lower bound of `t`'s score, the bonus being ≥ 0) is above every other arm's bound (at
    /// least equal for arms after `t`), `t` wins without any quadratic form. Otherwise `t`'s
    /// exact score is computed and every arm whose bound reaches it is scored exactly, as
    /// `z(x)ᵀc_g` with `z(x) = vech(xxᵀ)`. Trained arms have small covariances, so most rows need
    /// no or one quadratic form; untrained arms (`Σ = I/λ`) fall back to all of them.
    /// Row blocks are taken from a shared counter by `BLASRuntime.threads` workers.
    /// Complexity: `O(n·d·G)` plus `O(d²)` per exactly scored arm.
    public func bestArms(_ contexts: Matrix) -> [Int] {
        let n = contexts.rows, d = dimension, q = d * (d + 1) / 2, g = armCount
        precondition(contexts.columns == d, "BatchLinUCBScorer: contexts have \(contexts.columns) columns, expected \(d)")
        var out = [Int](repeating: 0, count: n)
        guard n > 0 else { return out }
        let block = 256
        let blocks = (n + block - 1) / block
        let workers = Swift.max(1, Swift.min(BLASRuntime.threads, blocks))
        let alpha = self.alpha
        let counter = BlockCounter()
        let chunks = (g + 7) / 8
        out.withUnsafeMutableBufferPointer { outBuffer in
            contexts.elements.withUnsafeBufferPointer { sourceBuffer in
                thetaRows.withUnsafeBufferPointer { thetaBuffer in
                    quadratic.elements.withUnsafeBufferPointer { quadraticBuffer in
                        bonusWidths.withUnsafeBufferPointer { widthBuffer in
                            nonisolated(unsafe) let sink = outBuffer.baseAddress!, src = sourceBuffer.baseAddress!
                            nonisolated(unsafe) let theta = thetaBuffer.baseAddress!, cq = quadraticBuffer.baseAddress!
                            nonisolated(unsafe) let widths = widthBuffer.baseAddress!
                            let work = { @Sendable () in
                                let scratch = UnsafeMutablePointer<Double>.allocate(capacity: block * d + chunks * 8 + g + q)
                                defer { scratch.deallocate() }
                                let xr = scratch, mean = xr + block * d, bound = mean + chunks * 8, z = bound + g
                                while true {
                                    let b = counter.next()
                                    if b >= blocks { break }
                                    let lo = b * block, m = Swift.min(block, n - lo)
                                    // The block's rows, row-major.
                                    for j in 0..<d {
                                        let column = src + lo + j * n
                                        for i in 0..<m { xr[i * d + j] = column[i] }
                                    }
                                    for i in 0..<m {
                                        let x = xr + i * d
                                        var norm2 = 0.0
                                        for j in 0..<d { norm2 += x[j] * x[j] }
                                        // Means, eight arms at a time in four two-lane accumulators.
                                        for c in 0..<chunks {
                                            var a0 = SIMD2<Double>(), a1 = SIMD2<Double>(), a2 = SIMD2<Double>(), a3 = SIMD2<Double>()
                                            var t = UnsafeRawPointer(theta + c * d * 8)
                                            for j in 0..<d {
                                                let xj = SIMD2<Double>(repeating: x[j])
                                                a0 += xj * t.loadUnaligned(as: SIMD2<Double>.self)
                                                a1 += xj * t.loadUnaligned(fromByteOffset: 16, as: SIMD2<Double>.self)
                                                a2 += xj * t.loadUnaligned(fromByteOffset: 32, as: SIMD2<Double>.self)
                                                a3 += xj * t.loadUnaligned(fromByteOffset: 48, as: SIMD2<Double>.self)
                                                t += 64
                                            }
                                            let out = UnsafeMutableRawPointer(mean + c * 8)
                                            out.storeBytes(of: a0, as: SIMD2<Double>.self)
                                            out.storeBytes(of: a1, toByteOffset: 16, as: SIMD2<Double>.self)
                                            out.storeBytes(of: a2, toByteOffset: 32, as: SIMD2<Double>.self)
                                            out.storeBytes(of: a3, toByteOffset: 48, as: SIMD2<Double>.self)
                                        }
                                        let norm = norm2.squareRoot()
                                        var top = 0
                                        for a in 0..<g {
                                            bound[a] = mean[a] + widths[a] * norm
                                            if bound[a] > bound[top] { top = a }
                                        }
                                        // The top arm's mean beats every other bound: it wins outright.
                                        let floor = mean[top]
                                        var settled = true
                                        for a in 0..<g where a != top {
                                            if bound[a] > floor || (a < top && bound[a] == floor) { settled = false; break }
                                        }
                                        if settled {
                                            sink[lo + i] = top
                                            continue
                                        }
                                        var r = 0
                                        for k in 0..<d {
                                            let xk = x[k]
                                            for j in k..<d { z[r] = xk * x[j]; r += 1 }
                                        }
                                        // z·c_a in four partial sums (lanes of two accumulators: the order of the
                                        // four scalar sums it replaces).
                                        func exact(_ a: Int) -> Double {
                                            let c = cq + a * q
                                            let cr = UnsafeRawPointer(c), zr = UnsafeRawPointer(z)
                                            var v01 = SIMD2<Double>(), v23 = SIMD2<Double>()
                                            var k = 0
                                            while k + 4 <= q {
                                                v01 += cr.loadUnaligned(fromByteOffset: k * 8, as: SIMD2<Double>.self)
                                                    * zr.loadUnaligned(fromByteOffset: k * 8, as: SIMD2<Double>.self)
                                                v23 += cr.loadUnaligned(fromByteOffset: k * 8 + 16, as: SIMD2<Double>.self)
                                                    * zr.loadUnaligned(fromByteOffset: k * 8 + 16, as: SIMD2<Double>.self)
                                                k += 4
                                            }
                                            var s0 = v01[0]
                                            while k < q { s0 += c[k] * z[k]; k += 1 }
                                            return mean[a] + alpha * Swift.max((s0 + v01[1]) + (v23[0] + v23[1]), 0).squareRoot()
                                        }
                                        var best = exact(top), arg = top
                                        for a in 0..<g where a != top && bound[a] >= best {
                                            let s = exact(a)
                                            if s > best || (s == best && a < arg) { best = s; arg = a }
                                        }
                                        sink[lo + i] = arg
                                    }
                                }
                            }
                            if workers == 1 {
                                work()
                            } else {
                                DispatchQueue.concurrentPerform(iterations: workers) { _ in work() }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The best arm per row by the straightforward route: every score (`scores`), then the first
    /// maximum — what `bestArms` must agree with.
    public func bestArmsByScores(_ contexts: Matrix) -> [Int] {
        let s = scores(contexts)
        return (0..<contexts.rows).map { i in
            var arg = 0
            for a in 1..<armCount where s[i, a] > s[i, arg] { arg = a }
            return arg
        }
    }

    /// The `n × G` matrix of scores (for checking against other implementations).
    public func scores(_ contexts: Matrix) -> Matrix {
        let n = contexts.rows, d = dimension, q = d * (d + 1) / 2
        var z = Matrix(rows: n, columns: q)
        var r = 0
        for i in 0..<d {
            for j in i..<d {
                for row in 0..<n { z[row, r] = contexts[row, i] * contexts[row, j] }
                r += 1
            }
        }
        var variance = Matrix(rows: n, columns: armCount), mean = Matrix(rows: n, columns: armCount)
        gemm(1, z.view, .none, quadratic.view, .none, 0, &variance)
        gemm(1, contexts.view, .none, means.view, .none, 0, &mean)
        return Matrix(rows: n, columns: armCount) { i, a in mean[i, a] + alpha * Swift.max(variance[i, a], 0).squareRoot() }
    }
}

/// A shared counter handing out row blocks to workers (one lock per block of rows).
final class BlockCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let v = value
        value += 1
        return v
    }
}
