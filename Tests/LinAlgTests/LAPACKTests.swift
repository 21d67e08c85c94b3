import Foundation
import Testing
@testable import LinAlg

/// A random symmetric positive-definite matrix `AᵀA + shift·I`.
func randomSPD(_ n: Int, shift: Double = 1, rng: inout Xoshiro256) -> Matrix {
    let a = rng.normalMatrix(rows: n + 3, columns: n)
    var s = Matrix(rows: n, columns: n)
    syrk(1, a.view, .transpose, 0, &s)
    for i in 0..<n { s[i, i] += shift }
    return s
}

@Suite struct LAPACKTests {
    @Test(arguments: [1, 2, 5, 40, 130])
    func choleskyReconstructsAndSolves(n: Int) throws {
        var rng = Xoshiro256(seed: UInt64(100 + n))
        let a = randomSPD(n, rng: &rng)
        let chol = try Cholesky(a)
        let l = chol.lower
        for j in 0..<n { for i in 0..<j { #expect(l[i, j] == 0) } }
        #expect((l * l.transposed).maxAbsDifference(a) <= 1e-12 * Double(n) * a.elements.map(abs).max()!)
        let x = rng.normalVector(n)
        #expect(chol.solve(a * x).maxAbsDifference(x) < 1e-9)
        let xs = rng.normalMatrix(rows: n, columns: 3)
        #expect(chol.solve(a * xs).maxAbsDifference(xs) < 1e-9)
        #expect((chol.inverse() * a).maxAbsDifference(.identity(n)) < 1e-9)
    }

    @Test(arguments: [1, 3, 12, 60])
    func logDeterminantEqualsSumOfLogEigenvalues(n: Int) throws {
        var rng = Xoshiro256(seed: UInt64(200 + n))
        let a = randomSPD(n, shift: 0.5, rng: &rng)
        let eigen = try SymmetricEigen(a)
        let fromEigen = eigen.values.reduce(0) { $0 + log($1) }
        #expect(abs(try Cholesky(a).logDeterminant - fromEigen) <= 1e-10 * max(1, abs(fromEigen)))
        #expect(abs(try LUFactorization(a).logAbsDeterminant.value - fromEigen) <= 1e-10 * max(1, abs(fromEigen)))
        #expect(try LUFactorization(a).logAbsDeterminant.sign == 1)
    }

    @Test func eigenDecompositionReconstructs() throws {
        var rng = Xoshiro256(seed: 300)
        let m = rng.normalMatrix(rows: 8, columns: 8)
        let s = m + m.transposed  // symmetric, indefinite
        let e = try SymmetricEigen(s)
        #expect(zip(e.values, e.values.dropFirst()).allSatisfy { $0 <= $1 })
        let v = e.vectors
        #expect((v.transposed * v).maxAbsDifference(.identity(8)) < 1e-12)
        #expect((v * .diagonal(e.values) * v.transposed).maxAbsDifference(s) < 1e-12)
    }

    @Test func luSolvesGeneralSystems() throws {
        var rng = Xoshiro256(seed: 400)
        for n in [1, 4, 33] {
            let a = rng.normalMatrix(rows: n, columns: n)
            let x = rng.normalVector(n)
            #expect(try solve(a, a * x).maxAbsDifference(x) < 1e-9)
        }
        // det of a permutation-heavy matrix: [[0, 2], [3, 0]] has det -6.
        let p = Matrix(rows: 2, columns: 2, rowMajor: [0, 2, 3, 0])
        let (value, sign) = try LUFactorization(p).logAbsDeterminant
        #expect(abs(value - log(6)) < 1e-15 && sign == -1)
    }

    @Test func notPositiveDefiniteNamesTheMinor() {
        // Leading 2x2 minor is 1*1 - 2*2 < 0.
        let a = Matrix(rows: 3, columns: 3, rowMajor: [1, 2, 0,
                                                       2, 1, 0,
                                                       0, 0, 1])
        #expect(throws: LinAlgError.notPositiveDefinite(minor: 2)) { try Cholesky(a) }
        #expect(LinAlgError.notPositiveDefinite(minor: 2).description.contains("order 2"))
    }

    @Test func singularNamesThePivot() {
        let a = Matrix(rows: 3, columns: 3, rowMajor: [1, 2, 3,
                                                       2, 4, 6,
                                                       1, 0, 1])
        #expect(throws: LinAlgError.singular(pivot: 3)) { try LUFactorization(a) }
    }

    @Test func nonFiniteInputIsAnError() {
        let a = Matrix(rows: 2, columns: 2, rowMajor: [1, .nan, .nan, 1])
        #expect(throws: LinAlgError.notFinite(routine: "dpotrf")) { try Cholesky(a) }
    }
}
