import Foundation

/// A seeded, fast, reproducible random number generator (xoshiro256**, Blackman & Vigna 2018),
/// seeded through SplitMix64. The same seed gives the same stream on every platform and build.
///
/// ```swift
/// var rng = Xoshiro256(seed: 42)
/// let u = rng.uniform()          // [0, 1)
/// let z = rng.normal()           // N(0, 1)
/// let k = Int.random(in: 0..<6, using: &rng)
/// ```
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// A generator for a sub-stream identified by `keys` (e.g. run id and customer id), so that
    /// decisions can be replayed independently of the order they were made in.
    public init(seed: UInt64, keys: UInt64...) {
        var h = seed
        for k in keys { h = (h ^ k) &* 0x1000_0000_01B3 ^ (h >> 29) &+ 0x9E37_79B9_7F4A_7C15 }
        self.init(seed: h)
    }

    @inlinable
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Xoshiro256.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Xoshiro256.rotl(s3, 45)
        return result
    }

    /// A uniform draw in `[0, 1)` with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard-normal draw (Marsaglia's polar method).
    public mutating func normal() -> Double {
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * log(s) / s).squareRoot() }
        }
    }

    /// A vector of `count` independent standard-normal draws.
    public mutating func normalVector(_ count: Int) -> Vector {
        Vector((0..<count).map { _ in normal() })
    }

    /// A `rows` x `columns` matrix of independent standard-normal draws.
    public mutating func normalMatrix(rows: Int, columns: Int) -> Matrix {
        Matrix(rows: rows, columns: columns, columnMajor: (0..<(rows * columns)).map { _ in normal() })
    }
}
