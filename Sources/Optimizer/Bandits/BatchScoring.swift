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
    /// Per arm `α·√λ_max(Σ_g)`, slightly enlarged against rounding: the bonus bound per unit of `‖x‖`.
    let bonusWidths: [Double]

    /// - Parameters:
    ///   - posterior: a linear posterior whose feature map has no effect blocks (`p == d`).
    ///   - alpha: the exploration width.
    public init(posterior: BanditPosterior, alpha: Double) {
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
    /// Exact, with pruning: the means `X·Θ` of a block of rows are one `dgemm`; a row's
    /// quadratic forms are then computed only for arms that can still win. Since
    /// `xᵀΣ_g x ≤ λ_max(Σ_g)·‖x‖²`, arm `g` is skipped when `θ_gᵀx + α·√(λ_max(Σ_g))·‖x‖` is below the best
    /// exact score found so far (the arm with the highest bound is scored first). Trained arms have
    /// small covariances, so typically one or two of the 18 quadratic forms (`d(d+1)/2` multiply-adds
    /// each) are computed; untrained arms (`Σ = I/λ`) fall back to all of them.
    public func bestArms(_ contexts: Matrix) -> [Int] {
        let n = contexts.rows, d = dimension, q = d * (d + 1) / 2, g = armCount
        precondition(contexts.columns == d, "BatchLinUCBScorer: contexts have \(contexts.columns) columns, expected \(d)")
        let block = 512
        let blocks = (n + block - 1) / block
        let out = UnsafeMutableBufferPointer<Int>.allocate(capacity: n)
        defer { out.deallocate() }
        nonisolated(unsafe) let sink = out
        let workers = Swift.max(1, Swift.min(BLASRuntime.threads, blocks))
        let source = contexts.elements
        let alpha = self.alpha
        let quadratic = self.quadratic.elements
        let widths = bonusWidths
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var b = worker
            var xr = [Double](repeating: 0, count: d), z = [Double](repeating: 0, count: q), bounds = [Double](repeating: 0, count: g)
            while b < blocks {
                let lo = b * block, m = Swift.min(block, n - lo)
                var xb = [Double](repeating: 0, count: m * d)
                source.withUnsafeBufferPointer { src in
                    xb.withUnsafeMutableBufferPointer { xp in
                        for j in 0..<d {
                            let from = src.baseAddress! + lo + j * n, to = xp.baseAddress! + j * m
                            for i in 0..<m { to[i] = from[i] }
                        }
                    }
                }
                let xm = Matrix(rows: m, columns: d, columnMajor: xb)
                var mean = Matrix(rows: m, columns: g)
                gemm(1, xm.view, .none, means.view, .none, 0, &mean)
                mean.elements.withUnsafeBufferPointer { mp in
                    xb.withUnsafeBufferPointer { xp in
                        quadratic.withUnsafeBufferPointer { cp in
                            widths.withUnsafeBufferPointer { wp in
                                xr.withUnsafeMutableBufferPointer { x in
                                    z.withUnsafeMutableBufferPointer { zp in
                                        bounds.withUnsafeMutableBufferPointer { bp in
                                            for row in 0..<m {
                                                var norm2 = 0.0
                                                for j in 0..<d { let v = xp[row + j * m]; x[j] = v; norm2 += v * v }
                                                let norm = norm2.squareRoot()
                                                var top = 0
                                                for a in 0..<g {
                                                    bp[a] = mp[row + a * m] + wp[a] * norm
                                                    if bp[a] > bp[top] { top = a }
                                                }
                                                var r = 0
                                                for i in 0..<d {
                                                    let xi = x[i]
                                                    for j in i..<d { zp[r] = xi * x[j]; r += 1 }
                                                }
                                                func exact(_ a: Int) -> Double {
                                                    let c = cp.baseAddress! + a * q
                                                    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                                                    var k = 0
                                                    while k + 4 <= q {
                                                        s0 += c[k] * zp[k]; s1 += c[k + 1] * zp[k + 1]
                                                        s2 += c[k + 2] * zp[k + 2]; s3 += c[k + 3] * zp[k + 3]
                                                        k += 4
                                                    }
                                                    while k < q { s0 += c[k] * zp[k]; k += 1 }
                                                    return mp[row + a * m] + alpha * Swift.max((s0 + s1) + (s2 + s3), 0).squareRoot()
                                                }
                                                var best = exact(top), arg = top
                                                for a in 0..<g where a != top && bp[a] >= best {
                                                    let s = exact(a)
                                                    if s > best || (s == best && a < arg) { best = s; arg = a }
                                                }
                                                sink[lo + row] = arg
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                b += workers
            }
        }
        return Array(out)
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
