import Foundation
import CLAPACKE

/// A failure reported by LAPACK, with the context needed to act on it.
public enum LinAlgError: Error, Equatable, CustomStringConvertible {
    /// Cholesky: the leading minor of order `minor` (1-based) is not positive definite.
    case notPositiveDefinite(minor: Int)
    /// LU: `U(pivot, pivot)` (1-based) is exactly zero, so the matrix is singular.
    case singular(pivot: Int)
    /// An eigen-solver did not converge (`info` as LAPACK reported it).
    case noConvergence(routine: String, info: Int)
    /// LAPACK rejected argument number `position` (a bug in LinAlg, reported rather than hidden).
    case illegalArgument(routine: String, position: Int)
    /// A matrix or right-hand side contains NaN or infinity.
    case notFinite(routine: String)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let minor):
            return "matrix is not positive definite: the leading minor of order \(minor) is not positive"
        case .singular(let pivot):
            return "matrix is singular: U(\(pivot),\(pivot)) is exactly zero in its LU factorization"
        case .noConvergence(let routine, let info):
            return "\(routine) did not converge (info \(info))"
        case .illegalArgument(let routine, let position):
            return "\(routine): argument \(position) had an illegal value"
        case .notFinite(let routine):
            return "\(routine): the matrix contains NaN or infinite values"
        }
    }
}

private let columnMajor = Int32(LAPACK_COL_MAJOR)
private func char(_ c: Character) -> CChar { CChar(UInt8(ascii: c.unicodeScalars.first!)) }

/// Maps a negative LAPACK `info` to an error; positive values are routine-specific.
private func checkArguments(_ info: Int32, _ routine: String) throws {
    if info < 0 { throw LinAlgError.illegalArgument(routine: routine, position: Int(-info)) }
}

private func requireFinite(_ elements: [Double], _ routine: String) throws {
    for x in elements where !x.isFinite { throw LinAlgError.notFinite(routine: routine) }
}

/// The Cholesky factorization `A = L·Lᵀ` of a symmetric positive-definite matrix (LAPACK `dpotrf`).
///
/// ```swift
/// let a = Matrix(rows: 2, columns: 2, rowMajor: [4, 2, 2, 3])
/// let chol = try Cholesky(a)
/// let x = chol.solve(Vector([1, 2]))      // A x = b
/// let logDet = chol.logDeterminant         // log det A, without overflow
/// ```
/// Complexity: n³/3 flops for the factorization, 2n² per solved right-hand side.
public struct Cholesky: Sendable {
    /// The lower-triangular factor `L` (upper triangle zero).
    public let lower: Matrix

    /// Factorizes `a`, reading its lower triangle.
    /// - Throws: `LinAlgError.notPositiveDefinite(minor:)` when `a` is not positive definite.
    public init(_ a: Matrix) throws {
        precondition(a.isSquare, "Cholesky: matrix is \(a.rows) x \(a.columns)")
        BLASRuntime.ensureConfigured()
        try requireFinite(a.elements, "dpotrf")
        var l = a
        let n = a.rows
        if n > 0 {
            let info = l.elements.withUnsafeMutableBufferPointer { p in
                LAPACKE_dpotrf(columnMajor, char("L"), Int32(n), p.baseAddress, Int32(n))
            }
            try checkArguments(info, "dpotrf")
            if info > 0 { throw LinAlgError.notPositiveDefinite(minor: Int(info)) }
        }
        for j in 0..<n { for i in 0..<j { l[i, j] = 0 } }
        lower = l
    }

    /// The order of the factorized matrix.
    public var dimension: Int { lower.rows }

    /// `log det A = 2 Σ log Lᵢᵢ`.
    public var logDeterminant: Double {
        var s = 0.0
        for i in 0..<dimension { s += log(lower[i, i]) }
        return 2 * s
    }

    /// Solves `A·x = b`.
    public func solve(_ b: Vector) -> Vector {
        precondition(b.count == dimension, "Cholesky.solve: b has \(b.count), expected \(dimension)")
        var x = b
        solveTriangular(lower, .lower, .none, &x)
        solveTriangular(lower, .lower, .transpose, &x)
        return x
    }

    /// Solves `A·X = B` for several right-hand sides.
    public func solve(_ b: Matrix) -> Matrix {
        precondition(b.rows == dimension, "Cholesky.solve: B has \(b.rows) rows, expected \(dimension)")
        var x = b
        solveTriangular(lower, .lower, .none, &x)
        solveTriangular(lower, .lower, .transpose, &x)
        return x
    }

    /// `A⁻¹` (LAPACK `dpotri`), symmetric.
    public func inverse() -> Matrix {
        var inv = lower
        let n = dimension
        if n == 0 { return inv }
        let info = inv.elements.withUnsafeMutableBufferPointer { p in
            LAPACKE_dpotri(columnMajor, char("L"), Int32(n), p.baseAddress, Int32(n))
        }
        // dpotri fails only on a zero diagonal element, which a successful dpotrf excludes.
        precondition(info == 0, "dpotri failed with info \(info) after a successful dpotrf")
        inv.symmetrize(from: .lower)
        return inv
    }

    /// `L·z`: maps a standard-normal draw `z` to a draw with covariance `A`.
    public func multiplyLower(_ z: Vector) -> Vector {
        precondition(z.count == dimension, "Cholesky.multiplyLower: length mismatch")
        return lower * z
    }
}

/// The LU factorization with partial pivoting `P·A = L·U` of a square matrix (LAPACK `dgetrf`).
public struct LUFactorization: Sendable {
    let factors: Matrix
    let pivots: [Int32]

    /// Factorizes `a`.
    /// - Throws: `LinAlgError.singular(pivot:)` when `a` is exactly singular.
    public init(_ a: Matrix) throws {
        precondition(a.isSquare, "LU: matrix is \(a.rows) x \(a.columns)")
        BLASRuntime.ensureConfigured()
        try requireFinite(a.elements, "dgetrf")
        var f = a
        let n = a.rows
        var ipiv = [Int32](repeating: 0, count: n)
        if n > 0 {
            let info = f.elements.withUnsafeMutableBufferPointer { p in
                ipiv.withUnsafeMutableBufferPointer { ip in
                    LAPACKE_dgetrf(columnMajor, Int32(n), Int32(n), p.baseAddress, Int32(n), ip.baseAddress)
                }
            }
            try checkArguments(info, "dgetrf")
            if info > 0 { throw LinAlgError.singular(pivot: Int(info)) }
        }
        factors = f
        pivots = ipiv
    }

    /// The order of the factorized matrix.
    public var dimension: Int { factors.rows }

    /// Solves `A·X = B` (LAPACK `dgetrs`).
    public func solve(_ b: Matrix) -> Matrix {
        precondition(b.rows == dimension, "LU.solve: B has \(b.rows) rows, expected \(dimension)")
        var x = b
        let (n, nrhs) = (dimension, b.columns)
        if n == 0 || nrhs == 0 { return x }
        let info = factors.elements.withUnsafeBufferPointer { fp in
            pivots.withUnsafeBufferPointer { ip in
                x.elements.withUnsafeMutableBufferPointer { xp in
                    LAPACKE_dgetrs(columnMajor, char("N"), Int32(n), Int32(nrhs), fp.baseAddress, Int32(n),
                                   ip.baseAddress, xp.baseAddress, Int32(n))
                }
            }
        }
        precondition(info == 0, "dgetrs failed with info \(info)")
        return x
    }

    /// Solves `A·x = b`.
    public func solve(_ b: Vector) -> Vector {
        Vector(solve(b.asColumn).elements)
    }

    /// `log |det A|` and the sign of `det A`.
    public var logAbsDeterminant: (value: Double, sign: Double) {
        var s = 0.0, sign = 1.0
        for i in 0..<dimension {
            let u = factors[i, i]
            s += log(abs(u))
            if u < 0 { sign = -sign }
            if pivots[i] != Int32(i + 1) { sign = -sign }
        }
        return (s, sign)
    }
}

/// Solves `A·x = b` for a general square `A` by LU with partial pivoting.
public func solve(_ a: Matrix, _ b: Vector) throws -> Vector {
    try LUFactorization(a).solve(b)
}

/// The eigen-decomposition `A = V·diag(λ)·Vᵀ` of a symmetric matrix (LAPACK `dsyevd`).
public struct SymmetricEigen: Sendable {
    /// Eigenvalues in ascending order.
    public let values: Vector
    /// Orthonormal eigenvectors, one per column, in the order of `values`.
    public let vectors: Matrix

    /// Decomposes `a`, reading its lower triangle.
    /// - Throws: `LinAlgError.noConvergence` when the divide-and-conquer solver fails.
    public init(_ a: Matrix) throws {
        precondition(a.isSquare, "SymmetricEigen: matrix is \(a.rows) x \(a.columns)")
        BLASRuntime.ensureConfigured()
        try requireFinite(a.elements, "dsyevd")
        var v = a
        let n = a.rows
        var w = [Double](repeating: 0, count: n)
        if n > 0 {
            let info = v.elements.withUnsafeMutableBufferPointer { p in
                w.withUnsafeMutableBufferPointer { wp in
                    LAPACKE_dsyevd(columnMajor, char("V"), char("L"), Int32(n), p.baseAddress, Int32(n), wp.baseAddress)
                }
            }
            try checkArguments(info, "dsyevd")
            if info > 0 { throw LinAlgError.noConvergence(routine: "dsyevd", info: Int(info)) }
        }
        values = Vector(w)
        vectors = v
    }

    /// `λ_max / λ_min` in absolute value: infinite for a singular matrix.
    public var conditionNumber: Double {
        guard let lo = values.map(abs).min(), let hi = values.map(abs).max() else { return 1 }
        return lo == 0 ? .infinity : hi / lo
    }
}
