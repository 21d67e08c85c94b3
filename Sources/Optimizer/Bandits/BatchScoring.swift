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
    }

    /// The best arm per row of `contexts` (`n × d`); ties go to the lowest arm index (numpy's argmax).
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
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var b = worker
            while b < blocks {
                let lo = b * block, m = Swift.min(block, n - lo)
                var xb = [Double](repeating: 0, count: m * d)
                var z = [Double](repeating: 0, count: m * q)
                source.withUnsafeBufferPointer { src in
                    xb.withUnsafeMutableBufferPointer { xp in
                        z.withUnsafeMutableBufferPointer { zp in
                            for j in 0..<d {
                                let from = src.baseAddress! + lo + j * n, to = xp.baseAddress! + j * m
                                for i in 0..<m { to[i] = from[i] }
                            }
                            var r = 0
                            for i in 0..<d {
                                let xi = xp.baseAddress! + i * m
                                for j in i..<d {
                                    let xj = xp.baseAddress! + j * m, zr = zp.baseAddress! + r * m
                                    for row in 0..<m { zr[row] = xi[row] * xj[row] }
                                    r += 1
                                }
                            }
                        }
                    }
                }
                let zm = Matrix(rows: m, columns: q, columnMajor: z)
                let xm = Matrix(rows: m, columns: d, columnMajor: xb)
                var variance = Matrix(rows: m, columns: g)
                var mean = Matrix(rows: m, columns: g)
                gemm(1, zm.view, .none, quadratic.view, .none, 0, &variance)
                gemm(1, xm.view, .none, means.view, .none, 0, &mean)
                variance.elements.withUnsafeBufferPointer { vp in
                    mean.elements.withUnsafeBufferPointer { mp in
                        for row in 0..<m {
                            var best = -Double.infinity, arg = 0
                            for a in 0..<g {
                                let s = mp[row + a * m] + alpha * Swift.max(vp[row + a * m], 0).squareRoot()
                                if s > best { best = s; arg = a }
                            }
                            sink[lo + row] = arg
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
