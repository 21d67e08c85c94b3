import Testing
@testable import LinAlg

/// The textbook triple loop that BLAS results are checked against.
func naiveProduct(_ a: Matrix, _ transA: Transpose, _ b: Matrix, _ transB: Transpose) -> Matrix {
    let opA = transA == .none ? a : a.transposed
    let opB = transB == .none ? b : b.transposed
    precondition(opA.columns == opB.rows)
    return Matrix(rows: opA.rows, columns: opB.columns) { i, j in
        var s = 0.0
        for k in 0..<opA.columns { s += opA[i, k] * opB[k, j] }
        return s
    }
}

/// Relative tolerance for sums of `k` products of O(1) numbers.
func tolerance(_ k: Int) -> Double { 1e-12 * Double(max(k, 1)) }

@Suite struct BLASTests {
    /// Shapes including the degenerate ones: 1×N, N×1, 1×1 and empty inner dimensions.
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 7, 5), (7, 1, 5), (5, 4, 1), (1, 1, 9), (13, 17, 11), (64, 3, 129), (3, 64, 2), (0, 4, 3),
        (200, 150, 90),  // large enough to run split across worker threads
    ]

    @Test(arguments: [Transpose.none, .transpose], [Transpose.none, .transpose])
    func gemmMatchesTripleLoop(transA: Transpose, transB: Transpose) {
        var rng = Xoshiro256(seed: 11)
        for (m, n, k) in Self.shapes {
            let a = transA == .none ? rng.normalMatrix(rows: m, columns: k) : rng.normalMatrix(rows: k, columns: m)
            let b = transB == .none ? rng.normalMatrix(rows: k, columns: n) : rng.normalMatrix(rows: n, columns: k)
            let c0 = rng.normalMatrix(rows: m, columns: n)
            var c = c0
            gemm(0.5, a.view, transA, b.view, transB, 2, &c)
            let expected = 0.5 * naiveProduct(a, transA, b, transB) + 2 * c0
            #expect(c.maxAbsDifference(expected) <= tolerance(k) * 10, "m=\(m) n=\(n) k=\(k)")
        }
    }

    @Test func gemmOnViewsMatchesCopies() {
        var rng = Xoshiro256(seed: 12)
        let big = rng.normalMatrix(rows: 40, columns: 30)
        let other = rng.normalMatrix(rows: 25, columns: 12)
        // A block in the middle of `big`: offset rows and columns, leading dimension 40.
        let a = big.block(rows: 5..<22, columns: 3..<28)   // 17 x 25
        var c = Matrix(rows: 17, columns: 12)
        gemm(1, a, .none, other.view, .none, 0, &c)
        #expect(c.maxAbsDifference(naiveProduct(a.copy(), .none, other, .none)) <= tolerance(25))
        let rowsView = big.rows(10..<40)                    // 30 x 30
        var d = Matrix(rows: 30, columns: 30)
        gemm(1, rowsView, .transpose, rowsView, .none, 0, &d)
        #expect(d.maxAbsDifference(naiveProduct(rowsView.copy(), .transpose, rowsView.copy(), .none)) <= tolerance(30))
    }

    @Test func gemvMatchesTripleLoopIncludingViews() {
        var rng = Xoshiro256(seed: 13)
        for (m, n, _) in Self.shapes {
            let a = rng.normalMatrix(rows: m + 3, columns: n)
            let view = a.rows(2..<(2 + m))
            let x = rng.normalVector(n), xt = rng.normalVector(m)
            var y = rng.normalVector(m), yt = rng.normalVector(n)
            let y0 = y, yt0 = yt
            gemv(2, view, .none, x, -1, &y)
            gemv(1, view, .transpose, xt, 0.5, &yt)
            let ref = naiveProduct(view.copy(), .none, x.asColumn, .none)
            let reft = naiveProduct(view.copy(), .transpose, xt.asColumn, .none)
            for i in 0..<m { #expect(abs(y[i] - (2 * ref[i, 0] - y0[i])) <= tolerance(n) * 10) }
            for j in 0..<n { #expect(abs(yt[j] - (reft[j, 0] + 0.5 * yt0[j])) <= tolerance(m) * 10) }
        }
    }

    @Test func syrkIsTheFullSymmetricGram() {
        var rng = Xoshiro256(seed: 14)
        for (m, n, _) in Self.shapes {
            let a = rng.normalMatrix(rows: m, columns: n)
            var ata = Matrix(rows: n, columns: n, repeating: 1)
            syrk(1, a.view, .transpose, 0.5, &ata)
            let expected = naiveProduct(a, .transpose, a, .none) + 0.5 * Matrix(rows: n, columns: n, repeating: 1)
            #expect(ata.maxAbsDifference(expected) <= tolerance(m) * 10)
            var aat = Matrix(rows: m, columns: m)
            syrk(1, a.view, .none, 0, &aat)
            #expect(aat.maxAbsDifference(naiveProduct(a, .none, a, .transpose)) <= tolerance(n) * 10)
            #expect(aat == aat.transposed)
        }
    }

    @Test func levelOneAndRankOne() {
        let x: Vector = [1, 2, 3], y: Vector = [4, -5, 6]
        #expect(dot(x, y) == 12)
        #expect((x + y) == [5, -3, 9])
        #expect((x - y) == [-3, 7, -3])
        #expect((2 * x) == [2, 4, 6])
        #expect(Vector([3, 4]).norm2 == 5)
        #expect(Vector([1e200, 1e200]).norm2 == 1e200 * 2.0.squareRoot())
        var a = Matrix(rows: 3, columns: 3)
        ger(2, x, y, &a)
        #expect(a == Matrix(rows: 3, columns: 3) { i, j in 2 * x[i] * y[j] })
    }

    @Test func triangularSolves() {
        var rng = Xoshiro256(seed: 15)
        let n = 9
        var l = rng.normalMatrix(rows: n, columns: n)
        for j in 0..<n { for i in 0..<j { l[i, j] = 0 }; l[j, j] = 3 + abs(l[j, j]) }
        let x = rng.normalVector(n)
        var b = l * x
        solveTriangular(l, .lower, .none, &b)
        #expect(b.maxAbsDifference(x) < 1e-12)
        var bt = l.transposeTimes(x)
        solveTriangular(l, .lower, .transpose, &bt)
        #expect(bt.maxAbsDifference(x) < 1e-12)
        let xs = rng.normalMatrix(rows: n, columns: 4)
        var bs = l * xs
        solveTriangular(l, .lower, .none, &bs)
        #expect(bs.maxAbsDifference(xs) < 1e-12)
    }

    @Test func valueSemanticsAndViewsShareWithoutCopying() {
        var a = Matrix(rows: 2, columns: 2, rowMajor: [1, 2, 3, 4])
        #expect(a[0, 1] == 2 && a[1, 0] == 3)
        let view = a.rows(1..<2)
        let copy = a
        a[1, 0] = 30
        #expect(copy[1, 0] == 3)   // copy-on-write: the copy keeps its value
        #expect(view[0, 0] == 3)   // a view sees the storage it was taken from
        #expect(a.transposed == Matrix(rows: 2, columns: 2, rowMajor: [1, 30, 2, 4]))
        #expect(a.rowBlocks(ofSize: 1).map { $0.copy() } == [Matrix(rows: 1, columns: 2, rowMajor: [1, 2]),
                                                              Matrix(rows: 1, columns: 2, rowMajor: [30, 4])])
    }
}
