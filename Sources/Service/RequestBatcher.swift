/// Work of concurrent requests done together: items submitted meanwhile are handled as one batch —
/// written in one transaction (group commit) or looked up in one read — and each submitter gets its
/// own items' results once the batch is done.
///
/// While one batch is handled, new submissions queue; the next batch takes everything queued (up to
/// `maxBatch` items, never splitting one submission). Under load a batch therefore holds about
/// (arrival rate × batch time) items, so the number of transactions (or reads) per second stays near
/// 1 / (batch time) however many requests arrive; with a single request in flight a batch is that
/// one request and nothing waits. `after` runs once per batch, after the submitters were answered,
/// before the next batch (the service's reaction run goes there, so it never overlaps an ingest).
actor RequestBatcher<Item: Sendable, Output: Sendable> {
    typealias Work = @Sendable ([Item]) async -> [Result<Output, any Error>]

    private let work: Work
    private let after: @Sendable () async -> Void
    private let maxBatch: Int
    private var pending: [(items: [Item], continuation: CheckedContinuation<[Result<Output, any Error>], Never>)] = []
    private var draining = false

    /// - Parameters:
    ///   - work: handles a batch; returns one result per item, in order.
    ///   - after: runs after each batch.
    init(maxBatch: Int, work: @escaping Work, after: @escaping @Sendable () async -> Void = {}) {
        precondition(maxBatch > 0, "RequestBatcher: maxBatch must be positive")
        self.maxBatch = maxBatch
        self.work = work
        self.after = after
    }

    /// Queues `items` and returns their results once their batch is done.
    func submit(_ items: [Item]) async -> [Result<Output, any Error>] {
        if items.isEmpty { return [] }
        return await withCheckedContinuation { c in
            pending.append((items, c))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    /// Whether nothing is queued or being handled.
    var isIdle: Bool { !draining }

    private func drain() async {
        while !pending.isEmpty {
            var count = 0, end = 0
            while end < pending.count, count == 0 || count + pending[end].items.count <= maxBatch {
                count += pending[end].items.count
                end += 1
            }
            let batch = Array(pending[..<end])
            pending.removeFirst(end)
            let results = await work(batch.flatMap(\.items))
            precondition(results.count == count, "RequestBatcher: work returned \(results.count) results for \(count) items")
            var i = 0
            for (items, c) in batch {
                c.resume(returning: Array(results[i..<(i + items.count)]))
                i += items.count
            }
            await after()
        }
        draining = false
    }
}
