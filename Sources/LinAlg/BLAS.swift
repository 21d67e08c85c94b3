import CBLAS

/// Whether an operand enters an operation as it is or transposed.
public enum Transpose: Sendable {
    case none
    case transpose

    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// Which triangle of a symmetric or triangular matrix holds the data.
public enum Triangle: Sendable {
    case lower
    case upper

    var cblas: CBLAS_UPLO { self == .lower ? CblasLower : CblasUpper }
    var lapack: CChar { self == .lower ? CChar(UInt8(ascii: "L")) : CChar(UInt8(ascii: "U")) }
}

@inline(__always)
func blasInt(_ n: Int) -> Int32 {
    precondition(n >= 0 && n <= Int(Int32.max), "LinAlg: dimension \(n) exceeds the 32-bit BLAS interface")
    return Int32(n)
}

// MARK: - Level 1

/// The dot product `xᵀy`.
public func dot(_ x: Vector, _ y: Vector) -> Double {
    precondition(x.count == y.count, "dot: length mismatch \(x.count) vs \(y.count)")
    BLASRuntime.ensureConfigured()
    return x.elements.withUnsafeBufferPointer { xp in
        y.elements.withUnsafeBufferPointer { yp in
            cblas_ddot(blasInt(x.count), xp.baseAddress, 1, yp.baseAddress, 1)
        }
    }
}

/// `y ← αx + y`.
public func axpy(_ alpha: Double, _ x: Vector, _ y: inout Vector) {
    precondition(x.count == y.count, "axpy: length mismatch \(x.count) vs \(y.count)")
    BLASRuntime.ensureConfigured()
    x.elements.withUnsafeBufferPointer { xp in
        y.elements.withUnsafeMutableBufferPointer { yp in
            cblas_daxpy(blasInt(x.count), alpha, xp.baseAddress, 1, yp.baseAddress, 1)
        }
    }
}

/// `x ← αx`.
public func scale(_ alpha: Double, _ x: inout Vector) {
    BLASRuntime.ensureConfigured()
    let n = x.count
    x.elements.withUnsafeMutableBufferPointer { xp in cblas_dscal(blasInt(n), alpha, xp.baseAddress, 1) }
}

extension Vector {
    /// The Euclidean norm `‖x‖₂`, computed without overflow.
    public var norm2: Double {
        BLASRuntime.ensureConfigured()
        return elements.withUnsafeBufferPointer { cblas_dnrm2(blasInt(count), $0.baseAddress, 1) }
    }

    /// The largest absolute element (0 for an empty vector).
    public var normInfinity: Double { elements.reduce(0) { Swift.max($0, abs($1)) } }

    public static func + (a: Vector, b: Vector) -> Vector {
        var r = b
        axpy(1, a, &r)
        return r
    }

    public static func - (a: Vector, b: Vector) -> Vector {
        var r = a
        axpy(-1, b, &r)
        return r
    }

    public static func * (alpha: Double, x: Vector) -> Vector {
        var r = x
        scale(alpha, &r)
        return r
    }
}

// MARK: - Level 2

/// `y ← α·op(A)·x + β·y` (BLAS `dgemv`), for a matrix or any view of one.
public func gemv(_ alpha: Double, _ a: MatrixView, _ trans: Transpose = .none, _ x: Vector,
                 _ beta: Double, _ y: inout Vector) {
    let (m, n) = trans == .none ? (a.rows, a.columns) : (a.columns, a.rows)
    precondition(x.count == n && y.count == m,
                 "gemv: op(A) is \(m) x \(n), x has \(x.count), y has \(y.count)")
    BLASRuntime.ensureConfigured()
    if m == 0 { return }
    if n == 0 { scale(beta, &y); return }
    // A large product is split by output elements across the workers: rows of A for `A·x`,
    // columns of A for `Aᵀ·x`; each part is an ordinary single-threaded dgemv on a view.
    let parts = a.rows * a.columns < 1 << 20 ? 1 : Swift.min(BLASRuntime.threads, Swift.max(1, m / 64))
    a.withUnsafeElements { ap, lda in
        x.elements.withUnsafeBufferPointer { xp in
            y.elements.withUnsafeMutableBufferPointer { ybuf in
                let ap = SendableConstPointer(ap), xp = SendableConstPointer(xp.baseAddress!)
                let yp = SendablePointer(ybuf.baseAddress!)
                parallelChunks(count: m, parts: parts) { out in
                    if trans == .none {
                        cblas_dgemv(CblasColMajor, CblasNoTrans, blasInt(out.count), blasInt(a.columns), alpha,
                                    ap.pointer + out.lowerBound, blasInt(lda), xp.pointer, 1, beta,
                                    yp.pointer + out.lowerBound, 1)
                    } else {
                        cblas_dgemv(CblasColMajor, CblasTrans, blasInt(a.rows), blasInt(out.count), alpha,
                                    ap.pointer + out.lowerBound * lda, blasInt(lda), xp.pointer, 1, beta,
                                    yp.pointer + out.lowerBound, 1)
                    }
                }
            }
        }
    }
}

/// `A ← αxyᵀ + A` (BLAS `dger`, a rank-1 update).
public func ger(_ alpha: Double, _ x: Vector, _ y: Vector, _ a: inout Matrix) {
    precondition(x.count == a.rows && y.count == a.columns,
                 "ger: A is \(a.rows) x \(a.columns), x has \(x.count), y has \(y.count)")
    BLASRuntime.ensureConfigured()
    if a.elements.isEmpty { return }
    let (m, n) = (a.rows, a.columns)
    x.elements.withUnsafeBufferPointer { xp in
        y.elements.withUnsafeBufferPointer { yp in
            a.elements.withUnsafeMutableBufferPointer { ap in
                cblas_dger(CblasColMajor, blasInt(m), blasInt(n), alpha, xp.baseAddress, 1,
                           yp.baseAddress, 1, ap.baseAddress, blasInt(m))
            }
        }
    }
}

/// Solves `op(T)·x = b` in place for a triangular `T` (BLAS `dtrsv`); `b` becomes `x`.
public func solveTriangular(_ t: Matrix, _ triangle: Triangle, _ trans: Transpose = .none,
                            unitDiagonal: Bool = false, _ b: inout Vector) {
    precondition(t.isSquare && t.rows == b.count, "solveTriangular: T is \(t.rows) x \(t.columns), b has \(b.count)")
    BLASRuntime.ensureConfigured()
    if b.isEmpty { return }
    let n = t.rows
    t.elements.withUnsafeBufferPointer { tp in
        b.elements.withUnsafeMutableBufferPointer { bp in
            cblas_dtrsv(CblasColMajor, triangle.cblas, trans.cblas, unitDiagonal ? CblasUnit : CblasNonUnit,
                        blasInt(n), tp.baseAddress, blasInt(n), bp.baseAddress, 1)
        }
    }
}

// MARK: - Level 3

/// `C ← α·op(A)·op(B) + β·C` (BLAS `dgemm`).
///
/// Large products are split by columns of `C` across `BLASRuntime.threads` threads, each
/// running single-threaded OpenBLAS, so pom's own parallelism never oversubscribes the cores.
public func gemm(_ alpha: Double, _ a: MatrixView, _ transA: Transpose = .none,
                 _ b: MatrixView, _ transB: Transpose = .none, _ beta: Double, _ c: inout Matrix) {
    let (m, k) = transA == .none ? (a.rows, a.columns) : (a.columns, a.rows)
    let (kb, n) = transB == .none ? (b.rows, b.columns) : (b.columns, b.rows)
    precondition(k == kb && c.rows == m && c.columns == n,
                 "gemm: op(A) is \(m) x \(k), op(B) is \(kb) x \(n), C is \(c.rows) x \(c.columns)")
    BLASRuntime.ensureConfigured()
    if m == 0 || n == 0 { return }
    let flops = 2.0 * Double(m) * Double(n) * Double(k)
    let parts = flops < 2e7 ? 1 : Swift.min(BLASRuntime.threads, Swift.max(1, n / 32))
    a.withUnsafeElements { ap, lda in
        b.withUnsafeElements { bp, ldb in
            c.elements.withUnsafeMutableBufferPointer { cbuf in
                let cp = SendablePointer(cbuf.baseAddress!)
                let ap = SendableConstPointer(ap), bp = SendableConstPointer(bp)
                parallelChunks(count: n, parts: parts) { cols in
                    // Columns j of op(B): B[:, j] untransposed, B[j, :] transposed.
                    let bOffset = transB == .none ? cols.lowerBound * ldb : cols.lowerBound
                    cblas_dgemm(CblasColMajor, transA.cblas, transB.cblas, blasInt(m), blasInt(cols.count), blasInt(k),
                                alpha, ap.pointer, blasInt(lda), bp.pointer + bOffset, blasInt(ldb), beta,
                                cp.pointer + cols.lowerBound * m, blasInt(m))
                }
            }
        }
    }
}

/// `C ← α·AᵀA + β·C` (`trans == .transpose`) or `C ← α·AAᵀ + β·C` (BLAS `dsyrk`).
///
/// BLAS fills one triangle; this function mirrors it so `C` is a full symmetric matrix.
public func syrk(_ alpha: Double, _ a: MatrixView, _ trans: Transpose, _ beta: Double, _ c: inout Matrix) {
    let (n, k) = trans == .none ? (a.rows, a.columns) : (a.columns, a.rows)
    precondition(c.rows == n && c.columns == n, "syrk: C is \(c.rows) x \(c.columns), expected \(n) x \(n)")
    BLASRuntime.ensureConfigured()
    if n == 0 { return }
    if k > 0 {
        a.withUnsafeElements { ap, lda in
            c.elements.withUnsafeMutableBufferPointer { cp in
                cblas_dsyrk(CblasColMajor, CblasLower, trans.cblas, blasInt(n), blasInt(k), alpha, ap, blasInt(lda),
                            beta, cp.baseAddress, blasInt(n))
            }
        }
    } else {
        for idx in 0..<c.elements.count { c.elements[idx] *= beta }
    }
    c.symmetrize(from: .lower)
}

/// Solves `op(T)·X = α·B` in place for a triangular `T` (BLAS `dtrsm`, `T` on the left); `B` becomes `X`.
public func solveTriangular(_ t: Matrix, _ triangle: Triangle, _ trans: Transpose = .none,
                            unitDiagonal: Bool = false, alpha: Double = 1, _ b: inout Matrix) {
    precondition(t.isSquare && t.rows == b.rows, "solveTriangular: T is \(t.rows) x \(t.columns), B is \(b.rows) x \(b.columns)")
    BLASRuntime.ensureConfigured()
    if b.elements.isEmpty { return }
    let (n, nrhs) = (b.rows, b.columns)
    t.elements.withUnsafeBufferPointer { tp in
        b.elements.withUnsafeMutableBufferPointer { bp in
            cblas_dtrsm(CblasColMajor, CblasLeft, triangle.cblas, trans.cblas, unitDiagonal ? CblasUnit : CblasNonUnit,
                        blasInt(n), blasInt(nrhs), alpha, tp.baseAddress, blasInt(n), bp.baseAddress, blasInt(n))
        }
    }
}

extension Matrix {
    /// Copies the given triangle onto the other one, making the matrix exactly symmetric.
    public mutating func symmetrize(from triangle: Triangle) {
        precondition(isSquare, "symmetrize: matrix is \(rows) x \(columns)")
        let n = rows
        elements.withUnsafeMutableBufferPointer { p in
            for j in 0..<n {
                for i in (j + 1)..<Swift.max(n, j + 1) {
                    if triangle == .lower { p[j + i * n] = p[i + j * n] } else { p[i + j * n] = p[j + i * n] }
                }
            }
        }
    }

    public static func * (a: Matrix, b: Matrix) -> Matrix {
        var c = Matrix(rows: a.rows, columns: b.columns)
        gemm(1, a.view, .none, b.view, .none, 0, &c)
        return c
    }

    public static func * (a: Matrix, x: Vector) -> Vector {
        var y = Vector(count: a.rows)
        gemv(1, a.view, .none, x, 0, &y)
        return y
    }

    public static func * (alpha: Double, a: Matrix) -> Matrix {
        Matrix(rows: a.rows, columns: a.columns, columnMajor: a.elements.map { alpha * $0 })
    }

    public static func + (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.columns == b.columns, "Matrix +: shape mismatch")
        return Matrix(rows: a.rows, columns: a.columns, columnMajor: zip(a.elements, b.elements).map { $0 + $1 })
    }

    public static func - (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.columns == b.columns, "Matrix -: shape mismatch")
        return Matrix(rows: a.rows, columns: a.columns, columnMajor: zip(a.elements, b.elements).map { $0 - $1 })
    }

    /// `Aᵀx` without forming the transpose.
    public func transposeTimes(_ x: Vector) -> Vector {
        var y = Vector(count: columns)
        gemv(1, view, .transpose, x, 0, &y)
        return y
    }
}
