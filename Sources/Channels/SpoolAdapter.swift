import Foundation
import Vocabulary
import FeatureStore

/// Writes messages to a spool directory for another system to pick up: letters as print batches
/// (one text file per batch, letters separated by form feeds, plus a manifest CSV), e-mails as
/// `.eml` files (RFC 5322, `multipart/alternative` with the text and HTML bodies), SMS, push,
/// WhatsApp and robocall messages as JSON Lines batches.
///
/// Layout under `directory`:
///
/// | path | what |
/// |---|---|
/// | `pending/<channel>/<sha256(key)>.json` | a message taken by `send`, not yet in a batch |
/// | `sent/<channel>/<sha256(key)>.json` | a message in a sealed batch (the idempotency index) |
/// | `letter/batch-000001.txt` | a print batch: the letters, separated by form feeds |
/// | `letter/batch-000001/0001-<hash>.html` | the printable document of each letter that has one (address field, text, QR code of the payment link) |
/// | `email/batch-000001/0001-<hash>.eml` | the e-mails of a batch, one file each |
/// | `<channel>/batch-000001.jsonl` | SMS, push, WhatsApp, robocall: one JSON object per message |
/// | `<channel>/batch-000001.manifest.csv` | the batch's manifest; **its presence seals the batch** |
///
/// Crash safety: `send` writes its pending record atomically (temporary file, `fsync`, `rename`)
/// before it returns, so a taken message is never lost. Sealing writes the batch file, then the
/// manifest (the commit point), then moves the pending records to `sent/`; a crash in between is
/// repaired by the next seal, which finishes the last batch's moves and overwrites a batch file
/// that has no manifest. Consumers take only batches whose manifest exists.
///
/// Idempotency: a key found under `pending/` or `sent/` of the message's channel is not spooled
/// again; `send` returns its first receipt with `replayed == true`, across adapter instances and
/// process restarts. Every operation holds an exclusive `flock` on `spool.lock`, so several
/// instances (and processes) may share a directory.
public actor SpoolAdapter: ChannelAdapter {
    /// Settings of a spool.
    public struct Options: Sendable, Hashable {
        /// Seal a channel's batch as soon as it holds this many messages (`nil`: only on `flush`).
        public var batchSize: [Channel: Int]
        /// The `From:` header of e-mails.
        public var emailFrom: String
        /// The domain part of e-mails' `Message-ID` headers.
        public var messageIdDomain: String

        public init(batchSize: [Channel: Int] = [:], emailFrom: String = "billing@example.invalid",
                    messageIdDomain: String = "pom.invalid") {
            precondition(batchSize.values.allSatisfy { $0 > 0 }, "SpoolAdapter.Options: batch sizes must be positive")
            self.batchSize = batchSize
            self.emailFrom = emailFrom
            self.messageIdDomain = messageIdDomain
        }
    }

    /// A sealed batch.
    public struct Batch: Sendable, Hashable {
        public var channel: Channel
        /// 1, 2, ... per channel.
        public var sequence: Int
        /// The batch file (or, for e-mail, the batch directory).
        public var content: URL
        public var manifest: URL
        public var messageCount: Int
    }

    public nonisolated let name = "spool"
    public nonisolated let directory: URL
    public nonisolated let options: Options
    let clock: @Sendable () -> Date

    /// A spool in `directory` (created when missing).
    /// - Parameters:
    ///   - clock: the time written as `acceptedAt`.
    public init(directory: URL, options: Options = Options(), clock: @escaping @Sendable () -> Date = Date.init) throws {
        self.directory = directory
        self.options = options
        self.clock = clock
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var lockFile: URL { directory.appendingPathComponent("spool.lock") }
    func pendingDir(_ c: Channel) -> URL { directory.appendingPathComponent("pending/\(c.rawValue)", isDirectory: true) }
    func sentDir(_ c: Channel) -> URL { directory.appendingPathComponent("sent/\(c.rawValue)", isDirectory: true) }
    func channelDir(_ c: Channel) -> URL { directory.appendingPathComponent(c.rawValue, isDirectory: true) }

    public func send(_ message: OutgoingMessage) async throws -> SendReceipt {
        try message.checkRecipient()
        let hash = Files.sha256Hex(message.idempotencyKey)
        let (receipt, due) = try Files.withLock(lockFile) { () throws -> (SendReceipt, Bool) in
            for dir in [pendingDir(message.channel), sentDir(message.channel)] {
                let url = dir.appendingPathComponent(hash + ".json")
                if FileManager.default.fileExists(atPath: url.path) {
                    var first = try readRecord(url).receipt
                    first.replayed = true
                    return (first, false)
                }
            }
            let receipt = SendReceipt(providerId: "spool:\(message.channel.rawValue):" + hash.prefix(16), acceptedAt: clock(),
                                      status: .accepted)
            let record = SpoolRecord(message: message, receipt: receipt)
            try Files.writeAtomically(try ChannelJSON.encoder().encode(record),
                                      to: pendingDir(message.channel).appendingPathComponent(hash + ".json"))
            guard let size = options.batchSize[message.channel] else { return (receipt, false) }
            return (receipt, try pendingFiles(message.channel).count >= size)
        }
        if due { _ = try seal(message.channel) }
        return receipt
    }

    /// Seals every channel's open batch.
    public func flush() async throws {
        for c in Channel.allCases { _ = try seal(c) }
    }

    /// Seals the open batch of `channel`.
    /// - Returns: the batch written, or `nil` when nothing was pending.
    @discardableResult
    public func seal(_ channel: Channel) throws -> Batch? {
        try Files.withLock(lockFile) {
            let last = try lastSealedSequence(channel)
            if last > 0 { try finishMoves(channel, sequence: last) }
            var records = try pendingFiles(channel).map { ($0, try readRecord($0)) }
            guard !records.isEmpty else { return nil }
            records.sort { ($0.1.message.scheduledAt, $0.1.message.messageId) < ($1.1.message.scheduledAt, $1.1.message.messageId) }
            let seq = last + 1
            let stem = "batch-" + pad6(seq)
            let dir = channelDir(channel)
            let content: URL
            switch channel {
            case .letter:
                content = dir.appendingPathComponent(stem + ".txt")
                try Files.writeAtomically(Data(records.map { PrintBatch.letter($0.1.message) }.joined(separator: "\u{0C}\n").utf8), to: content)
                let documents = records.enumerated().filter { $0.element.1.message.bodyHTML != nil }
                if !documents.isEmpty {
                    let folder = dir.appendingPathComponent(stem, isDirectory: true)
                    let temp = dir.appendingPathComponent("." + stem + ".tmp", isDirectory: true)
                    try? FileManager.default.removeItem(at: temp)
                    try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
                    for (k, (_, r)) in documents {
                        let name = pad4(k + 1) + "-" + Files.sha256Hex(r.message.idempotencyKey).prefix(16) + ".html"
                        try Files.writeAtomically(Data(r.message.bodyHTML!.utf8), to: temp.appendingPathComponent(name))
                    }
                    try? FileManager.default.removeItem(at: folder)  // an unsealed batch left by a crash
                    try Files.move(temp, to: folder)
                }
            case .email:
                content = dir.appendingPathComponent(stem, isDirectory: true)
                let temp = dir.appendingPathComponent("." + stem + ".tmp", isDirectory: true)
                try? FileManager.default.removeItem(at: temp)
                try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
                for (k, (_, r)) in records.enumerated() {
                    let name = pad4(k + 1) + "-" + Files.sha256Hex(r.message.idempotencyKey).prefix(16) + ".eml"
                    try Files.writeAtomically(Data(EML.render(r.message, from: options.emailFrom, domain: options.messageIdDomain).utf8),
                                              to: temp.appendingPathComponent(name))
                }
                try? FileManager.default.removeItem(at: content)  // an unsealed batch left by a crash
                try Files.move(temp, to: content)
            case .sms, .push, .whatsapp, .robocall:
                content = dir.appendingPathComponent(stem + ".jsonl")
                let encoder = ChannelJSON.encoder()
                var data = Data()
                for (_, r) in records {
                    data.append(try encoder.encode(SpoolLine(r)))
                    data.append(UInt8(ascii: "\n"))
                }
                try Files.writeAtomically(data, to: content)
            }
            let manifest = dir.appendingPathComponent(stem + ".manifest.csv")
            try Files.writeAtomically(Data(Manifest.csv(records.map(\.1)).utf8), to: manifest)
            try finishMoves(channel, sequence: seq)
            return Batch(channel: channel, sequence: seq, content: content, manifest: manifest, messageCount: records.count)
        }
    }

    /// The sealed batches of `channel`, oldest first.
    public func batches(_ channel: Channel) throws -> [Batch] {
        let dir = channelDir(channel)
        return try manifestSequences(channel).map { seq in
            let stem = "batch-" + pad6(seq)
            let manifest = dir.appendingPathComponent(stem + ".manifest.csv")
            let content: URL = switch channel {
            case .letter: dir.appendingPathComponent(stem + ".txt")
            case .email: dir.appendingPathComponent(stem, isDirectory: true)
            default: dir.appendingPathComponent(stem + ".jsonl")
            }
            let count = try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n").count - 1
            return Batch(channel: channel, sequence: seq, content: content, manifest: manifest, messageCount: count)
        }
    }

    /// Number of messages of `channel` taken but not yet sealed into a batch.
    public func pendingCount(_ channel: Channel) throws -> Int {
        try Files.withLock(lockFile) { try pendingFiles(channel).count }
    }

    // MARK: Internals

    func pendingFiles(_ c: Channel) throws -> [URL] {
        let dir = pendingDir(c)
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
            .sorted()
            .map { dir.appendingPathComponent($0) }
    }

    func manifestSequences(_ c: Channel) throws -> [Int] {
        let dir = channelDir(c)
        guard FileManager.default.fileExists(atPath: dir.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).compactMap { name -> Int? in
            guard name.hasPrefix("batch-"), name.hasSuffix(".manifest.csv") else { return nil }
            return Int(name.dropFirst(6).dropLast(13))
        }.sorted()
    }

    func lastSealedSequence(_ c: Channel) throws -> Int { try manifestSequences(c).last ?? 0 }

    /// Moves the pending records listed in batch `sequence`'s manifest to `sent/` (after a crash
    /// between the manifest and the moves, some are still pending).
    func finishMoves(_ c: Channel, sequence: Int) throws {
        let manifest = channelDir(c).appendingPathComponent("batch-" + pad6(sequence) + ".manifest.csv")
        for hash in try Manifest.keyHashes(manifest) {
            let pending = pendingDir(c).appendingPathComponent(hash + ".json")
            if FileManager.default.fileExists(atPath: pending.path) {
                try Files.move(pending, to: sentDir(c).appendingPathComponent(hash + ".json"))
            }
        }
    }

    func readRecord(_ url: URL) throws -> SpoolRecord {
        do {
            return try ChannelJSON.decoder().decode(SpoolRecord.self, from: Data(contentsOf: url))
        } catch {
            throw ChannelError.retryable("spool record \(url.path) is unreadable: \(error)")
        }
    }
}

/// A message in the spool with the receipt `send` gave for it.
struct SpoolRecord: Codable {
    var message: OutgoingMessage
    var receipt: SendReceipt
}

/// One line of a JSON Lines batch (SMS, push, WhatsApp, robocall).
struct SpoolLine: Codable {
    var messageId: String
    var idempotencyKey: String
    var providerId: String
    var customerId: String
    var invoiceId: String
    var channel: Channel
    var to: String
    var subject: String?
    var text: String
    var scheduledAt: Date
    var locale: String
    /// SMS only: `gsm7` or `ucs2`, and the number of segments.
    var encoding: String?
    var segments: Int?

    init(_ r: SpoolRecord) {
        let m = r.message
        messageId = m.messageId
        idempotencyKey = m.idempotencyKey
        providerId = r.receipt.providerId
        customerId = m.customerId
        invoiceId = m.invoiceId
        channel = m.channel
        to = m.recipient.description
        subject = m.subject
        text = m.bodyText
        scheduledAt = m.scheduledAt
        locale = m.locale
        if m.channel == .sms {
            let s = SMSSegments(m.bodyText)
            encoding = s.encoding.rawValue
            segments = s.segments
        }
    }

    enum CodingKeys: String, CodingKey {
        case messageId = "message_id", idempotencyKey = "idempotency_key", providerId = "provider_id"
        case customerId = "customer_id", invoiceId = "invoice_id", channel, to, subject, text
        case scheduledAt = "scheduled_at", locale, encoding, segments
    }
}

/// The manifest CSV of a batch: one row per message, RFC 4180 quoting.
enum Manifest {
    static let columns = ["position", "message_id", "idempotency_key", "key_sha256", "provider_id", "customer_id", "invoice_id",
                          "channel", "template", "tone", "locale", "recipient", "scheduled_at", "amount_minor", "currency",
                          "due_date", "payment_link"]

    static func csv(_ records: [SpoolRecord]) -> String {
        var out = columns.joined(separator: ",") + "\n"
        for (k, r) in records.enumerated() {
            let m = r.message
            let fields = [String(k + 1), m.messageId, m.idempotencyKey, Files.sha256Hex(m.idempotencyKey), r.receipt.providerId,
                          m.customerId, m.invoiceId, m.channel.rawValue, m.template, m.tone.rawValue, m.locale,
                          recipientField(m.recipient), UTCTimestamp.format(m.scheduledAt), String(m.metadata.amountMinor),
                          m.metadata.currency, m.metadata.dueDate.description, m.metadata.paymentLink ?? ""]
            out += fields.map(quote).joined(separator: ",") + "\n"
        }
        return out
    }

    static func recipientField(_ r: Recipient) -> String {
        if case .postal(let lines) = r { return lines.joined(separator: "; ") }
        return r.description
    }

    static func quote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The `key_sha256` column of a manifest (the hash column never needs quoting; the columns
    /// before it are counted with quotes honoured).
    static func keyHashes(_ url: URL) throws -> [String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        let index = columns.firstIndex(of: "key_sha256")!
        var out: [String] = []
        for row in parse(text).dropFirst() where row.count > index { out.append(row[index]) }
        return out
    }

    /// A small RFC 4180 reader (quoted fields may hold commas, quotes and line breaks).
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var it = Array(text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? it.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = it.next() {
                        if n == "\"" { field.append("\"") } else { quoted = false; pending = n }
                    } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\n" {
                row.append(field); field = ""
                rows.append(row); row = []
            } else if c != "\r" {
                field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}

/// The text of one letter in a print batch.
enum PrintBatch {
    static func letter(_ m: OutgoingMessage) -> String {
        var lines: [String] = []
        if case .postal(let address) = m.recipient { lines.append(contentsOf: address) }
        lines.append("")
        if let subject = m.subject { lines.append(subject); lines.append("") }
        lines.append(m.bodyText.hasSuffix("\n") ? String(m.bodyText.dropLast()) : m.bodyText)
        lines.append("")
        lines.append("[ref \(m.messageId)]")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// RFC 5322 / MIME rendering of an e-mail (CRLF line ends, base64 bodies, RFC 2047 headers).
enum EML {
    static func render(_ m: OutgoingMessage, from: String, domain: String) -> String {
        let hash = Files.sha256Hex(m.idempotencyKey)
        let boundary = "pom-" + hash.prefix(24)
        var h: [String] = [
            "From: " + from,
            "To: " + m.recipient.description,
            "Subject: " + encodeHeader(m.subject ?? ""),
            "Date: " + rfc5322Date(m.scheduledAt),
            "Message-ID: <\(hash.prefix(32))@\(domain)>",
            "MIME-Version: 1.0",
            "X-Pom-Message-Id: " + encodeHeader(m.messageId),
            "X-Pom-Idempotency-Key: " + encodeHeader(m.idempotencyKey),
        ]
        var body: [String] = []
        let text = base64(m.bodyText)
        if let html = m.bodyHTML {
            h.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            body = ["--" + boundary, "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", text,
                    "--" + boundary, "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", "", base64(html),
                    "--" + boundary + "--"]
        } else {
            h.append(contentsOf: ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"])
            body = [text]
        }
        return (h + [""] + body).joined(separator: "\r\n") + "\r\n"
    }

    static func base64(_ s: String) -> String {
        Data(s.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
    }

    /// ASCII text as is; anything else as an RFC 2047 encoded word (`=?UTF-8?B?...?=`).
    static func encodeHeader(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return s }
        return "=?UTF-8?B?" + Data(s.utf8).base64EncodedString() + "?="
    }

    /// `Mon, 02 Mar 2026 08:15:00 +0000`.
    static func rfc5322Date(_ d: Date) -> String {
        let t = Int(floor(d.timeIntervalSince1970))
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let sod = t - days * 86400
        let date = CalendarDate(daysSinceEpoch: days)
        let (y, mo, da) = date.components
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(names[date.weekday.index]), \(pad2(da)) \(months[mo - 1]) \(y) \(pad2(sod / 3600)):\(pad2(sod / 60 % 60)):\(pad2(sod % 60)) +0000"
    }
}

func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
func pad4(_ v: Int) -> String { String(repeating: "0", count: max(0, 4 - String(v).count)) + String(v) }
func pad6(_ v: Int) -> String { String(repeating: "0", count: max(0, 6 - String(v).count)) + String(v) }
