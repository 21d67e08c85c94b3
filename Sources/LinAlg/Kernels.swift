import CBLAS
import Foundation

// MARK: - Numerically stable scalar kernels

/// The logistic function `σ(z) = 1 / (1 + e^{-z})`, without overflow for any finite `z`.
@inlinable
public func sigmoid(_ z: Double) -> Double {
    if z >= 0 {
        return 1 / (1 + exp(-z))
    }
    let e = exp(z)
    return e / (1 + e)
}

/// `log(1 + e^z)` (softplus), accurate for large `|z|`: `z + log1p(e^{-z})` for `z > 0`.
@inlinable
public func log1pExp(_ z: Double) -> Double {
    z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
}

/// The log-loss of a logit `z` against a label `y ∈ [0, 1]`: `−y·log σ(z) − (1−y)·log(1−σ(z)) = log(1+e^z) − y·z`.
@inlinable
public func logLoss(label y: Double, logit z: Double) -> Double {
    log1pExp(z) - y * z
}

extension Vector {
    /// `σ` applied element-wise.
    public func sigmoid() -> Vector { Vector(elements.map { LinAlg.sigmoid($0) }) }
    /// `log(1 + e^x)` applied element-wise.
    public func log1pExp() -> Vector { Vector(elements.map { LinAlg.log1pExp($0) }) }
}

/// `Σᵢ wᵢ·(log(1+e^{zᵢ}) − yᵢ·zᵢ)`: the weighted log-loss of logits `z` (weights default to 1).
public func totalLogLoss(labels y: [Double], logits z: [Double], weights w: [Double]? = nil) -> Double {
    precondition(y.count == z.count && (w == nil || w!.count == y.count), "totalLogLoss: length mismatch")
    var s = 0.0
    if let w {
        for i in 0..<y.count { s += w[i] * logLoss(label: y[i], logit: z[i]) }
    } else {
        for i in 0..<y.count { s += logLoss(label: y[i], logit: z[i]) }
    }
    return s
}

// MARK: - Streaming kernels over a tall design matrix

/// Rows per block for streaming kernels: about 128 KiB of the design, so a block read from
/// memory once stays in the core's L2 cache for the second BLAS call over it.
func streamingBlockRows(columns: Int) -> Int {
    if let text = ProcessInfo.processInfo.environment["POM_BLOCK_KIB"], let kib = Int(text) {
        return Swift.max(64, Swift.min(8192, kib * 128 / Swift.max(columns, 1)))
    }
    return Swift.max(64, Swift.min(4096, 16_384 / Swift.max(columns, 1)))
}

/// The weighted Gram matrix `Xᵀ·diag(w)·X` of a tall design, reading `X` once.
///
/// Rows are processed in cache-sized blocks: each block is scaled by `√wᵢ` into a small
/// buffer and accumulated with `dsyrk`; the row range is split across `BLASRuntime.threads`
/// workers with private accumulators. Weights must be non-negative (omit them for `XᵀX`).
/// Complexity: `n·p²` flops, one pass over `X`, `O(p² + block·p)` extra memory per worker.
public func weightedGram(_ x: MatrixView, weights: [Double]? = nil) -> Matrix {
    let (n, p) = (x.rows, x.columns)
    precondition(weights == nil || weights!.count == n, "weightedGram: \(weights!.count) weights for \(n) rows")
    BLASRuntime.ensureConfigured()
    let parts = n * p < 200_000 ? 1 : BLASRuntime.threads
    let partials = parallelMap(count: n, parts: parts) { range -> [Double] in
        var acc = [Double](repeating: 0, count: p * p)
        let blockRows = streamingBlockRows(columns: p)
        var buffer = [Double](repeating: 0, count: blockRows * p)
        var scales = [Double](repeating: 0, count: blockRows)
        x.withUnsafeElements { xp, ldx in
            weights.withOptionalBuffer { wp in
                buffer.withUnsafeMutableBufferPointer { bp in
                    acc.withUnsafeMutableBufferPointer { cp in
                        var start = range.lowerBound
                        while start < range.upperBound {
                            let b = Swift.min(blockRows, range.upperBound - start)
                            if let wp {
                                for i in 0..<b {
                                    let wi = wp[start + i]
                                    precondition(wi >= 0, "weightedGram: negative weight \(wi) at row \(start + i)")
                                    scales[i] = wi.squareRoot()
                                }
                            }
                            for j in 0..<p {
                                let src = xp + start + j * ldx, dst = bp.baseAddress! + j * b
                                if wp != nil {
                                    for i in 0..<b { dst[i] = scales[i] * src[i] }
                                } else {
                                    for i in 0..<b { dst[i] = src[i] }
                                }
                            }
                            cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, blasInt(p), blasInt(b), 1,
                                        bp.baseAddress, blasInt(b), 1, cp.baseAddress, blasInt(p))
                            start += b
                        }
                    }
                }
            }
        }
        return acc
    }
    var gram = Matrix(rows: p, columns: p, columnMajor: partials[0])
    for extra in partials.dropFirst() {
        for k in 0..<(p * p) { gram.elements[k] += extra[k] }
    }
    gram.symmetrize(from: .lower)
    return gram
}

/// The result of one pass of the logistic log-likelihood over a design.
public struct LogisticPass: Sendable {
    /// `Σ wᵢ·(log(1+e^{zᵢ}) − yᵢ·zᵢ)` with `z = Xβ (+ offset)`.
    public var loss: Double
    /// `Xᵀ·(w ⊙ (σ(z) − y))`.
    public var gradient: Vector
    /// `Xᵀ·diag(w ⊙ σ(z) ⊙ (1−σ(z)))·X`, when requested.
    public var hessian: Matrix?
}

/// Loss, gradient and (optionally) Hessian of the weighted logistic loss at `beta`, reading `X` once.
///
/// Each cache-sized row block is used for `z = X_b·β` (dgemv), then for `X_bᵀ·r` (dgemv) and,
/// with `hessian`, for `dsyrk` of the `√(wσ(1−σ))`-scaled block while it is still in cache.
/// Labels may be fractional in `[0, 1]`. Weights must be non-negative.
public func logisticPass(design x: MatrixView, labels y: [Double], weights: [Double]? = nil,
                         coefficients beta: Vector, hessian wantHessian: Bool = false) -> LogisticPass {
    let (n, p) = (x.rows, x.columns)
    precondition(y.count == n, "logisticPass: \(y.count) labels for \(n) rows")
    precondition(weights == nil || weights!.count == n, "logisticPass: weights length mismatch")
    precondition(beta.count == p, "logisticPass: \(beta.count) coefficients for \(p) columns")
    BLASRuntime.ensureConfigured()
    let parts = n * p < 200_000 ? 1 : BLASRuntime.threads
    struct Partial: Sendable { var loss: Double; var gradient: [Double]; var hessian: [Double] }
    let partials = parallelMap(count: n, parts: parts) { range -> Partial in
        var out = Partial(loss: 0, gradient: [Double](repeating: 0, count: p),
                          hessian: wantHessian ? [Double](repeating: 0, count: p * p) : [])
        let blockRows = streamingBlockRows(columns: p)
        var z = [Double](repeating: 0, count: blockRows)
        var buffer = [Double](repeating: 0, count: wantHessian ? blockRows * p : 0)
        var hscale = [Double](repeating: 0, count: wantHessian ? blockRows : 0)
        x.withUnsafeElements { xp, ldx in
            y.withUnsafeBufferPointer { yp in
                weights.withOptionalBuffer { wp in
                    beta.elements.withUnsafeBufferPointer { bp in
                        var start = range.lowerBound
                        var loss = 0.0
                        while start < range.upperBound {
                            let b = Swift.min(blockRows, range.upperBound - start)
                            let block = xp + start
                            z.withUnsafeMutableBufferPointer { zp in
                                cblas_dgemv(CblasColMajor, CblasNoTrans, blasInt(b), blasInt(p), 1, block, blasInt(ldx),
                                            bp.baseAddress, 1, 0, zp.baseAddress, 1)
                                // zp now holds the residual-type weights for the transposed product.
                                for i in 0..<b {
                                    let zi = zp[i], yi = yp[start + i]
                                    let wi = wp?[start + i] ?? 1
                                    // One exponential serves both σ(z) and log(1 + e^z).
                                    let e = exp(-abs(zi))
                                    let s = zi >= 0 ? 1 / (1 + e) : e / (1 + e)
                                    loss += wi * (Swift.max(zi, 0) + log1p(e) - yi * zi)
                                    zp[i] = wi * (s - yi)
                                    if wantHessian { hscale[i] = (wi * s * (1 - s)).squareRoot() }
                                }
                                out.gradient.withUnsafeMutableBufferPointer { gp in
                                    cblas_dgemv(CblasColMajor, CblasTrans, blasInt(b), blasInt(p), 1, block, blasInt(ldx),
                                                zp.baseAddress, 1, 1, gp.baseAddress, 1)
                                }
                            }
                            if wantHessian {
                                buffer.withUnsafeMutableBufferPointer { hb in
                                    for j in 0..<p {
                                        let src = block + j * ldx, dst = hb.baseAddress! + j * b
                                        for i in 0..<b { dst[i] = hscale[i] * src[i] }
                                    }
                                }
                                buffer.withUnsafeBufferPointer { hb in
                                    out.hessian.withUnsafeMutableBufferPointer { hp in
                                        cblas_dsyrk(CblasColMajor, CblasLower, CblasTrans, blasInt(p), blasInt(b), 1,
                                                    hb.baseAddress, blasInt(b), 1, hp.baseAddress, blasInt(p))
                                    }
                                }
                            }
                            start += b
                        }
                        out.loss = loss
                    }
                }
            }
        }
        return out
    }
    var result = LogisticPass(loss: 0, gradient: Vector(count: p), hessian: nil)
    var hessian = wantHessian ? [Double](repeating: 0, count: p * p) : []
    for part in partials {
        result.loss += part.loss
        for j in 0..<p { result.gradient[j] += part.gradient[j] }
        if wantHessian { for k in 0..<(p * p) { hessian[k] += part.hessian[k] } }
    }
    if wantHessian {
        var h = Matrix(rows: p, columns: p, columnMajor: hessian)
        h.symmetrize(from: .lower)
        result.hessian = h
    }
    return result
}

extension Optional where Wrapped == [Double] {
    /// Calls `body` with a buffer over the array, or `nil` when there is none.
    func withOptionalBuffer<R>(_ body: (UnsafeBufferPointer<Double>?) throws -> R) rethrows -> R {
        switch self {
        case .some(let array): return try array.withUnsafeBufferPointer { try body($0) }
        case .none: return try body(nil)
        }
    }
}
