import Foundation

/// A record that is one row of a CSV file with a fixed, documented header (`datasets/README.md`).
///
/// Column names equal the record's coding keys and the store's column names. Empty fields are
/// `NULL`; timestamps are UTC (`UTCTimestamp`), dates `YYYY-MM-DD`, booleans `true`/`false`.
public protocol CSVRecord: Codable, Sendable {
    /// The file's name in a history directory, e.g. `customers.csv`.
    static var fileName: String { get }
    /// The header row.
    static var columns: [String] { get }
    /// The row's fields, in `columns` order, unquoted (the writer quotes where needed).
    var csvFields: [String] { get }
}

/// A file written atomically: bytes go to a temporary file beside the target, which is renamed
/// over the target by `commit()`. Until then the target is untouched; a writer dropped without
/// `commit()` removes its temporary file, so no reader ever sees half a file.
public final class AtomicFileWriter {
    /// The target path.
    public let path: String
    let temporaryPath: String
    var handle: UnsafeMutablePointer<FILE>?
    var buffer: [UInt8] = []
    static let bufferSize = 1 << 20

    /// Opens a temporary file beside `path`.
    /// - Throws: `RecordFileError` when the directory does not exist or is not writable.
    public init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        temporaryPath = (dir.isEmpty ? "" : dir + "/") + ".\(base).\(getpid()).\(UInt64.random(in: 0..<UInt64.max)).tmp"
        guard let h = fopen(temporaryPath, "wb") else {
            throw RecordFileError(path: path, message: "cannot create a file here (\(String(cString: strerror(errno))))")
        }
        handle = h
        buffer.reserveCapacity(AtomicFileWriter.bufferSize)
    }

    /// Appends the UTF-8 bytes of `text`.
    public func write(_ text: String) throws {
        var t = text
        t.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= AtomicFileWriter.bufferSize { try flush() }
    }

    /// Appends `bytes`.
    public func write(bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= AtomicFileWriter.bufferSize { try flush() }
    }

    /// Appends one CSV row: the fields quoted as `csvField` does, comma-separated, LF-terminated.
    public func writeRow(_ fields: [String]) throws {
        for (k, field) in fields.enumerated() {
            if k > 0 { buffer.append(UInt8(ascii: ",")) }
            var f = field
            f.withUTF8 { u in
                var quote = false
                for b in u where b == UInt8(ascii: ",") || b == UInt8(ascii: "\"") || b == 10 || b == 13 {
                    quote = true
                    break
                }
                if !quote, let first = u.first, let last = u.last, first == 32 || last == 32 { quote = true }
                if !quote {
                    buffer.append(contentsOf: u)
                } else {
                    buffer.append(UInt8(ascii: "\""))
                    for b in u {
                        if b == UInt8(ascii: "\"") { buffer.append(b) }
                        buffer.append(b)
                    }
                    buffer.append(UInt8(ascii: "\""))
                }
            }
        }
        buffer.append(10)
        if buffer.count >= AtomicFileWriter.bufferSize { try flush() }
    }

    func flush() throws {
        guard let handle else { preconditionFailure("AtomicFileWriter: write after commit") }
        let n = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
        guard n == buffer.count else {
            throw RecordFileError(path: path, message: "cannot write (\(String(cString: strerror(errno))))")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and renames the temporary file over the target.
    public func commit() throws {
        try flush()
        guard let h = handle else { preconditionFailure("AtomicFileWriter: committed twice") }
        handle = nil
        let ok = fflush(h) == 0 && fsync(fileno(h)) == 0
        let closed = fclose(h) == 0
        guard ok && closed else {
            unlink(temporaryPath)
            throw RecordFileError(path: path, message: "cannot write (\(String(cString: strerror(errno))))")
        }
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw RecordFileError(path: path, message: "cannot replace the file (\(reason))")
        }
    }

    deinit {
        if let handle {
            fclose(handle)
            unlink(temporaryPath)
        }
    }
}

/// A problem writing one of pom's record files.
public struct RecordFileError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// Streams records of one type into their CSV file (header first), atomically.
///
/// ```swift
/// let w = try CSVRecordWriter<Customer>(directory: "history")
/// try w.append(customer)
/// try w.commit()   // history/customers.csv appears complete, or not at all
/// ```
public final class CSVRecordWriter<Record: CSVRecord> {
    let file: AtomicFileWriter
    /// Rows written so far (the header excluded).
    public private(set) var count = 0

    /// Starts `directory/Record.fileName` (or `path` when given).
    public init(directory: String, path: String? = nil) throws {
        file = try AtomicFileWriter(path: path ?? (directory as NSString).appendingPathComponent(Record.fileName))
        try file.write(Record.columns.map(csvField).joined(separator: ",") + "\n")
    }

    /// Appends one row.
    public func append(_ record: Record) throws {
        try file.writeRow(record.csvFields)
        count += 1
    }

    /// Finishes the file.
    public func commit() throws { try file.commit() }

    /// Writes `records` to `directory/Record.fileName` in one go.
    public static func write(_ records: some Sequence<Record>, directory: String) throws {
        let w = try CSVRecordWriter(directory: directory)
        for r in records { try w.append(r) }
        try w.commit()
    }
}

/// Streams events into `events.jsonl` (one JSON object per line, keys sorted), atomically.
public final class EventLogWriter {
    let file: AtomicFileWriter
    /// Lines written so far.
    public private(set) var count = 0

    /// Starts `directory/events.jsonl` (or `path` when given).
    public init(directory: String, path: String? = nil) throws {
        file = try AtomicFileWriter(path: path ?? (directory as NSString).appendingPathComponent(Event.fileName))
    }

    /// Appends one event as a line (the same bytes `UTCTimestamp.jsonEncoder()` gives, written
    /// without the generic encoder, which is the bottleneck of history writing).
    public func append(_ event: Event) throws {
        event.appendJSONLine(to: &file.buffer)
        if file.buffer.count >= AtomicFileWriter.bufferSize { try file.flush() }
        count += 1
    }

    /// Finishes the file.
    public func commit() throws { try file.commit() }

    /// Writes `events` to `directory/events.jsonl` in one go.
    public static func write(_ events: some Sequence<Event>, directory: String) throws {
        let w = try EventLogWriter(directory: directory)
        for e in events { try w.append(e) }
        try w.commit()
    }
}

/// A CSV field, quoted (RFC 4180) when it contains a comma, a double quote, CR or LF, or begins or
/// ends with a space.
public func csvField(_ s: String) -> String {
    var needs = false
    for b in s.utf8 where b == UInt8(ascii: ",") || b == UInt8(ascii: "\"") || b == 10 || b == 13 {
        needs = true
        break
    }
    if !needs, let f = s.utf8.first, let l = s.utf8.last, f == 32 || l == 32 { needs = true }
    guard needs else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

extension Event {
    /// The event as one line of `events.jsonl` with its newline: keys sorted, absent optional
    /// keys left out, strings escaped as JSON requires (slashes and non-ASCII text unescaped).
    public var jsonLine: String {
        var bytes: [UInt8] = []
        appendJSONLine(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `jsonLine`'s UTF-8 bytes to `out`.
    public func appendJSONLine(to out: inout [UInt8]) {
        func raw(_ s: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
        func text(_ s: String) { out.append(contentsOf: jsonString(s).utf8) }
        func int(_ v: some BinaryInteger) { out.append(contentsOf: String(v).utf8) }
        raw("{\"customer_id\":"); text(customerId)
        raw(",\"id\":"); text(id)
        raw(",\"invoice_id\":"); text(invoiceId)
        raw(",\"kind\":"); text(kind.rawValue)
        if let messageId { raw(",\"message_id\":"); text(messageId) }
        raw(",\"occurred_at\":"); text(UTCTimestamp.format(occurredAt))
        raw(",\"payload\":{")
        var first = true
        func key(_ k: StaticString) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            raw(k)
        }
        if let v = payload.amountMinor { key("\"amount_minor\":"); int(v) }
        if let v = payload.channel { key("\"channel\":"); text(v.rawValue) }
        if let v = payload.contactPointId { key("\"contact_point_id\":"); text(v) }
        if let v = payload.currency { key("\"currency\":"); text(v) }
        if let v = payload.installments { key("\"installments\":"); int(v) }
        if let v = payload.paymentId { key("\"payment_id\":"); text(v) }
        if let v = payload.reason { key("\"reason\":"); text(v) }
        if let v = payload.via { key("\"via\":"); text(v) }
        raw("}}\n")
    }
}

/// `s` as a JSON string literal: `"` and `\\` escaped, control characters as `\n`, `\t` ... or `\u00XX`.
func jsonString(_ s: String) -> String {
    var needs = false
    for b in s.utf8 where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
        needs = true
        break
    }
    guard needs else { return "\"" + s + "\"" }
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        default:
            if ch.value < 0x20 {
                let hex = String(ch.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(ch)
            }
        }
    }
    return out + "\""
}
