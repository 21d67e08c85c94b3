/// Sorting of non-negative durations with a small payload, by most-significant-digit radix sort
/// on the IEEE-754 bit patterns (monotone for non-negative doubles).
///
/// Each range is split by its next 8-bit digit into a scratch array (a stable scatter), digits
/// shared by every key of a range are skipped, and ranges of at most 48 keys finish by insertion
/// sort. After the first one or two levels the ranges fit in cache, which is what makes this
/// faster than a least-significant-digit sort whose every pass scatters over the whole array.
/// Stable; O(n · digits) time, 2n keys and payloads of scratch, no allocation per range.
enum DurationSort {
    static let smallRange = 48

    /// Sorts `durations` ascending (ties keep their input order) and permutes `payload` alike.
    /// - Returns: the bit patterns of the sorted durations (`Double(bitPattern:)` restores them)
    ///   and the payloads in the same order.
    static func sort(_ durations: [Double], payload: [UInt32]) -> (keys: [UInt64], payload: [UInt32]) {
        precondition(durations.count == payload.count, "DurationSort: \(durations.count) durations, \(payload.count) payloads")
        let n = durations.count
        var keys = [UInt64](unsafeUninitializedCapacity: n) { buffer, initialized in
            durations.withUnsafeBufferPointer { d in
                // + 0.0 turns −0.0 into +0.0 so it sorts with zero.
                for i in 0..<n { buffer[i] = (d[i] + 0.0).bitPattern }
            }
            initialized = n
        }
        var values = payload
        if n < 2 { return (keys, values) }
        var scratchKeys = [UInt64](repeating: 0, count: n)
        var scratchValues = [UInt32](repeating: 0, count: n)
        keys.withUnsafeMutableBufferPointer { k in
            values.withUnsafeMutableBufferPointer { v in
                scratchKeys.withUnsafeMutableBufferPointer { sk in
                    scratchValues.withUnsafeMutableBufferPointer { sv in
                        sortRange(Buffers(keys: k.baseAddress!, values: v.baseAddress!),
                                  other: Buffers(keys: sk.baseAddress!, values: sv.baseAddress!),
                                  lo: 0, hi: n, shift: 56, dataInOutput: true)
                    }
                }
            }
        }
        return (keys, values)
    }

    struct Buffers {
        let keys: UnsafeMutablePointer<UInt64>
        let values: UnsafeMutablePointer<UInt32>

        func copy(to other: Buffers, lo: Int, count: Int) {
            (other.keys + lo).update(from: keys + lo, count: count)
            (other.values + lo).update(from: values + lo, count: count)
        }
    }

    /// Sorts `[lo, hi)` by the bits from `shift + 7` down. The range's data are in `data`;
    /// `dataInOutput` says whether `data` is the output array. On return the sorted range is in
    /// the output array.
    static func sortRange(_ data: Buffers, other: Buffers, lo: Int, hi: Int, shift: Int, dataInOutput: Bool) {
        let count = hi - lo
        if count <= smallRange {
            insertionSort(data, lo: lo, hi: hi)
            if !dataInOutput { data.copy(to: other, lo: lo, count: count) }
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 513) { table in
            let counts = table.baseAddress!, offsets = counts + 256
            var s = shift
            // Skip digits every key of the range shares.
            while true {
                for b in 0..<256 { counts[b] = 0 }
                for i in lo..<hi { counts[Int((data.keys[i] >> UInt64(s)) & 0xFF)] += 1 }
                if counts[Int((data.keys[lo] >> UInt64(s)) & 0xFF)] != count { break }
                if s == 0 {
                    if !dataInOutput { data.copy(to: other, lo: lo, count: count) }
                    return
                }
                s -= 8
            }
            var start = lo
            for b in 0..<256 {
                offsets[b] = start
                start += counts[b]
            }
            offsets[256] = hi
            // Stable scatter into the other array; `counts` becomes the running write position.
            for b in 0..<256 { counts[b] = offsets[b] }
            for i in lo..<hi {
                let key = data.keys[i]
                let b = Int((key >> UInt64(s)) & 0xFF)
                let to = counts[b]
                counts[b] = to + 1
                other.keys[to] = key
                other.values[to] = data.values[i]
            }
            if s == 0 {
                if dataInOutput { other.copy(to: data, lo: lo, count: count) }
                return
            }
            for b in 0..<256 where offsets[b + 1] > offsets[b] {
                sortRange(other, other: data, lo: offsets[b], hi: offsets[b + 1], shift: s - 8, dataInOutput: !dataInOutput)
            }
        }
    }

    /// Stable insertion sort of `[lo, hi)` in place.
    static func insertionSort(_ data: Buffers, lo: Int, hi: Int) {
        var i = lo + 1
        while i < hi {
            let key = data.keys[i], value = data.values[i]
            var j = i - 1
            while j >= lo && data.keys[j] > key {
                data.keys[j + 1] = data.keys[j]
                data.values[j + 1] = data.values[j]
                j -= 1
            }
            data.keys[j + 1] = key
            data.values[j + 1] = value
            i += 1
        }
    }
}

extension DurationSort {
    /// Sorts 64-bit keys ascending in place, by the same most-significant-digit radix sort as
    /// `sort(_:payload:)` without a payload (8 bytes moved per key and level instead of 12).
    /// - Parameters:
    ///   - keys: the keys; sorted on return.
    ///   - scratch: at least `keys.count` elements of working space (contents undefined on return).
    /// - Complexity: O(n · digits) time, no allocation beyond one 4 KiB table per range.
    static func sortKeys(_ keys: UnsafeMutableBufferPointer<UInt64>, scratch: UnsafeMutableBufferPointer<UInt64>) {
        precondition(scratch.count >= keys.count, "DurationSort.sortKeys: scratch of \(scratch.count) for \(keys.count) keys")
        guard keys.count > 1 else { return }
        sortKeyRange(keys.baseAddress!, other: scratch.baseAddress!, lo: 0, hi: keys.count, shift: 56, dataInOutput: true)
    }

    /// Sorts `[lo, hi)` of `data` by the bits from `shift + 7` down; the sorted range ends in the
    /// output array (`data` when `dataInOutput`, else `other`).
    static func sortKeyRange(_ data: UnsafeMutablePointer<UInt64>, other: UnsafeMutablePointer<UInt64>, lo: Int, hi: Int, shift: Int,
                             dataInOutput: Bool) {
        let count = hi - lo
        if count <= smallRange {
            var i = lo + 1
            while i < hi {
                let key = data[i]
                var j = i - 1
                while j >= lo && data[j] > key {
                    data[j + 1] = data[j]
                    j -= 1
                }
                data[j + 1] = key
                i += 1
            }
            if !dataInOutput { (other + lo).update(from: data + lo, count: count) }
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 513) { table in
            let counts = table.baseAddress!, offsets = counts + 256
            var s = shift
            while true {
                for b in 0..<256 { counts[b] = 0 }
                for i in lo..<hi { counts[Int(truncatingIfNeeded: data[i] &>> UInt64(s)) & 0xFF] += 1 }
                if counts[Int(truncatingIfNeeded: data[lo] &>> UInt64(s)) & 0xFF] != count { break }
                if s == 0 {
                    if !dataInOutput { (other + lo).update(from: data + lo, count: count) }
                    return
                }
                s -= 8
            }
            var start = lo
            for b in 0..<256 {
                offsets[b] = start
                start += counts[b]
            }
            offsets[256] = hi
            for b in 0..<256 { counts[b] = offsets[b] }
            for i in lo..<hi {
                let key = data[i]
                let b = Int(truncatingIfNeeded: key &>> UInt64(s)) & 0xFF
                other[counts[b]] = key
                counts[b] += 1
            }
            if s == 0 {
                if dataInOutput { (data + lo).update(from: other + lo, count: count) }
                return
            }
            for b in 0..<256 where offsets[b + 1] > offsets[b] {
                sortKeyRange(other, other: data, lo: offsets[b], hi: offsets[b + 1], shift: s - 8, dataInOutput: !dataInOutput)
            }
        }
    }
}
