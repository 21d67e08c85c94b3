import Foundation
import Testing
@testable import LinAlg

@Suite struct KernelTests {
    @Test func sigmoidAndSoftplusAreStableAtTheExtremes() {
        #expect(sigmoid(0) == 0.5)
        #expect(sigmoid(800) == 1)
        #expect(sigmoid(-800) > 0 || sigmoid(-800) == 0)
        #expect(sigmoid(-745) > 0)  // e^-745 is the smallest subnormal: no underflow to NaN
        #expect(abs(sigmoid(-30) - exp(-30) / (1 + exp(-30))) < 1e-28)
        #expect(log1pExp(1000) == 1000)
        #expect(log1pExp(-1000) == 0)
        #expect(abs(log1pExp(-40) - exp(-40)) < 1e-30)
        #expect(abs(log1pExp(2) - log(1 + exp(2))) < 1e-15)
        // log-loss: y = 1 with a huge positive logit costs ~0; with a huge negative one, ~|z|.
        #expect(logLoss(label: 1, logit: 50) < 1e-21)
        #expect(abs(logLoss(label: 1, logit: -50) - 50) < 1e-12)
        #expect(abs(logLoss(label: 0, logit: 0) - log(2)) < 1e-15)
        #expect(Vector([0, 1000]).sigmoid() == [0.5, 1])
    }

    func naiveLogistic(_ x: Matrix, _ y: [Double], _ w: [Double], _ beta: Vector) -> (Double, Vector, Matrix) {
        var loss = 0.0
        var g = Vector(count: x.columns)
        var h = Matrix(rows: x.columns, columns: x.columns)
        for i in 0..<x.rows {
            var z = 0.0
            for j in 0..<x.columns { z += x[i, j] * beta[j] }
            let p = 1 / (1 + exp(-z))
            loss += w[i] * (log(1 + exp(z)) - y[i] * z)
            for j in 0..<x.columns {
                g[j] += w[i] * (p - y[i]) * x[i, j]
                for k in 0..<x.columns { h[j, k] += w[i] * p * (1 - p) * x[i, j] * x[i, k] }
            }
        }
        return (loss, g, h)
    }

    /// Row counts below and above the threshold where work is split across threads.
    @Test(arguments: [1, 7, 500, 9_000])
    func logisticPassMatchesNaiveSums(rows: Int) {
        var rng = Xoshiro256(seed: UInt64(rows))
        let p = 5
        let x = rng.normalMatrix(rows: rows, columns: p)
        let y = (0..<rows).map { _ in rng.uniform() < 0.3 ? 1.0 : 0.0 }
        let w = (0..<rows).map { _ in rng.uniform() * 2 }
        let beta = 0.5 * rng.normalVector(p)
        let (loss, g, h) = naiveLogistic(x, y, w, beta)
        let pass = logisticPass(design: x.view, labels: y, weights: w, coefficients: beta, hessian: true)
        let scale = Double(rows)
        #expect(abs(pass.loss - loss) <= 1e-11 * scale)
        #expect(pass.gradient.maxAbsDifference(g) <= 1e-11 * scale)
        #expect(pass.hessian!.maxAbsDifference(h) <= 1e-11 * scale)
        let unweighted = logisticPass(design: x.view, labels: y, coefficients: beta)
        let (loss1, g1, _) = naiveLogistic(x, y, [Double](repeating: 1, count: rows), beta)
        #expect(abs(unweighted.loss - loss1) <= 1e-11 * scale && unweighted.hessian == nil)
        #expect(unweighted.gradient.maxAbsDifference(g1) <= 1e-11 * scale)
    }

    @Test(arguments: [3, 64, 70_000])
    func weightedGramMatchesDefinition(rows: Int) {
        var rng = Xoshiro256(seed: 77)
        let p = 6
        let x = rng.normalMatrix(rows: rows, columns: p)
        let w = (0..<rows).map { _ in rng.uniform() }
        let gram = weightedGram(x.view, weights: w)
        var expected = Matrix(rows: p, columns: p)
        for i in 0..<rows { for j in 0..<p { for k in 0..<p { expected[j, k] += w[i] * x[i, j] * x[i, k] } } }
        #expect(gram.maxAbsDifference(expected) <= 1e-11 * Double(rows))
        #expect(gram == gram.transposed)
        // Unweighted Gram of a row block equals syrk of its copy.
        let block = x.rows(1..<(rows / 2 + 2))
        var viaSyrk = Matrix(rows: p, columns: p)
        syrk(1, block.copy().view, .transpose, 0, &viaSyrk)
        #expect(weightedGram(block).maxAbsDifference(viaSyrk) <= 1e-11 * Double(rows))
    }

    @Test func seededGeneratorReproducesAndIsWellSpread() {
        var a = Xoshiro256(seed: 2024), b = Xoshiro256(seed: 2024), c = Xoshiro256(seed: 2025)
        let da = (0..<5).map { _ in a.next() }
        #expect(da == (0..<5).map { _ in b.next() })
        #expect(da != (0..<5).map { _ in c.next() })
        var k1 = Xoshiro256(seed: 1, keys: 7, 9), k2 = Xoshiro256(seed: 1, keys: 7, 9), k3 = Xoshiro256(seed: 1, keys: 9, 7)
        let first = k1.next()
        #expect(first == k2.next())
        #expect(first != k3.next())
        var r = Xoshiro256(seed: 5)
        let n = 200_000
        let z = (0..<n).map { _ in r.normal() }
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        #expect(abs(mean) < 4 / Double(n).squareRoot())      // 4 standard errors
        #expect(abs(variance - 1) < 4 * (2 / Double(n)).squareRoot())
        let u = (0..<n).map { _ in r.uniform() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(u.reduce(0, +) / Double(n) - 0.5) < 4 * (1 / 12 / Double(n)).squareRoot())
    }
}
