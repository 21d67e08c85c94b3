import Foundation

/// One line of a dry-run log: the message that would have been sent and the receipt given for it.
public struct DryRunRecord: Sendable, Hashable, Codable {
    public var message: OutgoingMessage
    public var receipt: SendReceipt

    public init(message: OutgoingMessage, receipt: SendReceipt) {
        self.message = message
        self.receipt = receipt
    }
}

/// Records what would be sent without sending it: in memory, and in a JSON Lines file when given
/// one (one `DryRunRecord` per line, appended and synced before `send` returns).
///
/// Idempotent across restarts: a new adapter on the same file reads the keys already recorded, and
/// a key recorded before gets its first receipt back (`replayed == true`) and no new line. A line
/// left half-written by a crash is cut off when the file is opened.
///
/// Provider ids are `dry-run:` and the first 16 hex digits of the key's SHA-256, so they do not
/// depend on the order of sends.
public actor DryRunAdapter: ChannelAdapter {
    public nonisolated let name = "dry_run"
    /// The JSON Lines file, if any.
    public nonisolated let file: URL?
    let clock: @Sendable () -> Date
    private var receipts: [String: SendReceipt]
    private var log: [DryRunRecord]

    /// An adapter that keeps its records in memory only.
    /// - Parameter clock: the time written as `acceptedAt`.
    public init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.file = nil
        self.clock = clock
        self.receipts = [:]
        self.log = []
    }

    /// An adapter that appends its records to `file` and knows the keys already in it.
    /// - Throws: `ChannelError.retryable` when the file cannot be read or repaired; a
    ///   `DecodingError` naming the line when a complete line is not a record.
    public init(file: URL, clock: @escaping @Sendable () -> Date = Date.init) throws {
        try Self.cutPartialLine(file)
        var receipts: [String: SendReceipt] = [:]
        var log: [DryRunRecord] = []
        let decoder = ChannelJSON.decoder()
        for (k, line) in try Files.completeLines(of: file).enumerated() {
            let record: DryRunRecord
            do {
                record = try decoder.decode(DryRunRecord.self, from: line)
            } catch {
                throw ChannelConfigurationError(file: file.path, line: k + 1, field: nil,
                                                message: "not a dry-run record: \(error)")
            }
            receipts[record.message.idempotencyKey] = record.receipt
            log.append(record)
        }
        self.file = file
        self.clock = clock
        self.receipts = receipts
        self.log = log
    }

    /// Everything recorded so far (including what the file held when the adapter opened it), in order.
    public var records: [DryRunRecord] { log }

    public func send(_ message: OutgoingMessage) async throws -> SendReceipt {
        try message.checkRecipient()
        if var first = receipts[message.idempotencyKey] {
            first.replayed = true
            return first
        }
        let receipt = SendReceipt(providerId: "dry-run:" + Files.sha256Hex(message.idempotencyKey).prefix(16),
                                  acceptedAt: clock(), status: .accepted)
        let record = DryRunRecord(message: message, receipt: receipt)
        if let file {
            var line = try ChannelJSON.encoder().encode(record)
            line.append(UInt8(ascii: "\n"))
            try Files.appendLine(line, to: file)
        }
        receipts[message.idempotencyKey] = receipt
        log.append(record)
        return receipt
    }

    /// Truncates `file` after its last newline (a crash may have left a partial line).
    static func cutPartialLine(_ file: URL) throws {
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        let data = try Data(contentsOf: file)
        guard let last = data.last, last != UInt8(ascii: "\n") else { return }
        let keep = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? data.startIndex
        try Files.writeAtomically(data[data.startIndex..<keep], to: file)
    }
}
