import Dispatch

/// A pointer handed to worker threads that write disjoint parts of one buffer.
struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Double>
    init(_ pointer: UnsafeMutablePointer<Double>) { self.pointer = pointer }
}

/// A read-only pointer shared by worker threads.
struct SendableConstPointer: @unchecked Sendable {
    let pointer: UnsafePointer<Double>
    init(_ pointer: UnsafePointer<Double>) { self.pointer = pointer }
}

/// Splits `0..<count` into `parts` contiguous ranges of near-equal size and runs `body` on each,
/// concurrently when `parts > 1`. Returns when all are done.
public func parallelChunks(count: Int, parts: Int, _ body: @Sendable (Range<Int>) -> Void) {
    let parts = Swift.max(1, Swift.min(parts, count))
    if parts == 1 {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        body(chunkRange(part, of: parts, count: count))
    }
}

/// Range `part` of `parts` near-equal contiguous ranges covering `0..<count`.
func chunkRange(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
    let base = count / parts, extra = count % parts
    let start = part * base + Swift.min(part, extra)
    return start..<(start + base + (part < extra ? 1 : 0))
}

/// Runs `body(part, range)` for each part concurrently and returns the per-part results in order.
func parallelMap<T: Sendable>(count: Int, parts: Int, _ body: @Sendable (Range<Int>) -> T) -> [T] {
    let parts = Swift.max(1, Swift.min(parts, count))
    if parts == 1 { return [body(0..<count)] }
    let results = ResultSlots<T>(count: parts)
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        results.set(part, body(chunkRange(part, of: parts, count: count)))
    }
    return results.values
}

/// Result slots written by worker threads, each slot by exactly one worker; read after the
/// workers are done.
public final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<T?>
    public init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }
    deinit {
        slots.baseAddress!.deinitialize(count: slots.count)
        slots.deallocate()
    }
    public func set(_ index: Int, _ value: T) { slots[index] = value }
    public func get(_ index: Int) -> T { slots[index]! }
    public var values: [T] { slots.map { $0! } }
}
