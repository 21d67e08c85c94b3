/// Sorting of non-negative durations with a small payload, by least-significant-digit radix
/// sort on the IEEE-754 bit patterns (monotone for non-negative doubles).
///
/// Six passes of 11 bits, one counting pass for all six histograms, and passes whose digit is
/// the same for every key are skipped (durations in hours share most exponent bits; whole
/// numbers share many low mantissa bits). O(n) time, 2n keys and payloads of scratch.
enum DurationSort {
    static let digitBits = 11
    static let buckets = 1 << digitBits
    static let passes = 6

    /// Sorts `durations` ascending (ties keep their input order) and permutes `payload` alike.
    /// - Returns: the bit patterns of the sorted durations (`Double(bitPattern:)` restores them)
    ///   and the payloads in the same order.
    static func sort(_ durations: [Double], payload: [UInt32]) -> (keys: [UInt64], payload: [UInt32]) {
        precondition(durations.count == payload.count, "DurationSort: \(durations.count) durations, \(payload.count) payloads")
        let n = durations.count
        var keys = [UInt64](repeating: 0, count: n)
        var values = payload
        var histogram = [Int](repeating: 0, count: buckets * passes)
        keys.withUnsafeMutableBufferPointer { k in
            histogram.withUnsafeMutableBufferPointer { h in
                durations.withUnsafeBufferPointer { d in
                    for i in 0..<n {
                        // + 0.0 turns −0.0 into +0.0 so it sorts with zero.
                        let bits = (d[i] + 0.0).bitPattern
                        k[i] = bits
                        for p in 0..<passes {
                            h[p * buckets + Int((bits >> UInt64(p * digitBits)) & UInt64(buckets - 1))] += 1
                        }
                    }
                }
            }
        }
        var scratchKeys = [UInt64](repeating: 0, count: n)
        var scratchValues = [UInt32](repeating: 0, count: n)
        for p in 0..<passes {
            let base = p * buckets
            var trivial = false
            for b in 0..<buckets where histogram[base + b] != 0 {
                trivial = histogram[base + b] == n
                break
            }
            if trivial || n < 2 { continue }
            var offset = 0
            for b in 0..<buckets {
                let c = histogram[base + b]
                histogram[base + b] = offset
                offset += c
            }
            let shift = UInt64(p * digitBits)
            keys.withUnsafeBufferPointer { src in
                values.withUnsafeBufferPointer { srcV in
                    scratchKeys.withUnsafeMutableBufferPointer { dst in
                        scratchValues.withUnsafeMutableBufferPointer { dstV in
                            histogram.withUnsafeMutableBufferPointer { h in
                                for i in 0..<n {
                                    let key = src[i]
                                    let slot = base + Int((key >> shift) & UInt64(buckets - 1))
                                    let to = h[slot]
                                    h[slot] = to + 1
                                    dst[to] = key
                                    dstV[to] = srcV[i]
                                }
                            }
                        }
                    }
                }
            }
            swap(&keys, &scratchKeys)
            swap(&values, &scratchValues)
        }
        return (keys, values)
    }
}
