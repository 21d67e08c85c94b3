import Flows
import Foundation

/// The compact text form of `StoredProgress` in `case_states.progress`.
///
/// A run decodes and re-encodes the progress of every case it plans; `JSONEncoder`/`JSONDecoder`
/// made that the largest cost of a run (tens of µs per case in release builds). The compact form
/// is one line, written and read byte by byte in a single pass (O(length), no intermediate
/// dictionaries):
///
/// ```
/// ~1|flow|flow_version|end|ended_at|switched_to|records|events|messages
/// records:  process.depth,action,at,d|s[,condition@at ...]   separated by ';'
/// events:   kind,at[,process.depth]                           separated by ';'
/// messages: message_id=process.depth                          separated by ';'
/// ```
///
/// Instants are `Date.timeIntervalSince1970` (integral seconds as digits, anything else in Swift's
/// shortest round-trip form), exactly what the JSON form stored (`secondsSince1970`); empty fields
/// are nil. Text fields percent-encode `%`, `|`, `;`, `,`, `=`, `@` and control characters.
/// Rows written by earlier versions hold JSON (they start with `{`) and are still read.
extension StoredProgress {
    static let compactPrefix: [UInt8] = Array("~1|".utf8)

    /// The compact text stored in `case_states.progress`.
    public func compact() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(96 + flow.records.count * 40 + messages.count * 32)
        out += Self.compactPrefix
        let f = flow
        ProgressBytes.text(f.flow, &out)
        out.append(ProgressBytes.field)
        ProgressBytes.integer(Int64(f.flowVersion), &out)
        out.append(ProgressBytes.field)
        if let end = f.end { ProgressBytes.text(end.rawValue, &out) }
        out.append(ProgressBytes.field)
        if let endedAt = f.endedAt { ProgressBytes.instant(endedAt, &out) }
        out.append(ProgressBytes.field)
        if let switchedTo = f.switchedTo { ProgressBytes.text(switchedTo, &out) }
        out.append(ProgressBytes.field)
        for (i, r) in f.records.enumerated() {
            if i > 0 { out.append(ProgressBytes.item) }
            ProgressBytes.ref(r.ref, &out)
            out.append(ProgressBytes.part)
            ProgressBytes.text(r.action, &out)
            out.append(ProgressBytes.part)
            ProgressBytes.instant(r.at, &out)
            out.append(ProgressBytes.part)
            out.append(r.outcome == .done ? UInt8(ascii: "d") : UInt8(ascii: "s"))
            for c in r.raised {
                out.append(ProgressBytes.part)
                ProgressBytes.text(c.condition.rawValue, &out)
                out.append(ProgressBytes.at)
                ProgressBytes.instant(c.at, &out)
            }
        }
        out.append(ProgressBytes.field)
        for (i, e) in f.events.enumerated() {
            if i > 0 { out.append(ProgressBytes.item) }
            ProgressBytes.text(e.kind.rawValue, &out)
            out.append(ProgressBytes.part)
            ProgressBytes.instant(e.at, &out)
            if let step = e.step {
                out.append(ProgressBytes.part)
                ProgressBytes.ref(step, &out)
            }
        }
        out.append(ProgressBytes.field)
        // Sorted, so equal progress gives equal text.
        for (i, id) in messages.keys.sorted().enumerated() {
            if i > 0 { out.append(ProgressBytes.item) }
            ProgressBytes.text(id, &out)
            out.append(ProgressBytes.equals)
            ProgressBytes.ref(messages[id]!, &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads `case_states.progress` in either form: compact (`compact()`) or the JSON of earlier
    /// versions (`json()`).
    /// - Throws: `ProgressFormatError` naming the byte offset when compact text is malformed; a
    ///   `DecodingError` for malformed JSON.
    public init(stored text: String) throws {
        var text = text
        if text.utf8.first == UInt8(ascii: "{") {
            try self.init(json: text)
            return
        }
        self = try text.withUTF8 { try Self.parseCompact($0) }
    }

    static func parseCompact(_ b: UnsafeBufferPointer<UInt8>) throws -> StoredProgress {
        var p = ProgressParser(bytes: b)
        for c in compactPrefix { try p.expect(c) }
        let flowName = try p.text()
        try p.expect(ProgressBytes.field)
        let version = try p.integer()
        try p.expect(ProgressBytes.field)
        let endText = try p.text()
        let end: FlowEnd?
        if endText.isEmpty {
            end = nil
        } else {
            guard let e = FlowEnd(rawValue: endText) else { throw p.error("unknown flow end '\(endText)'") }
            end = e
        }
        try p.expect(ProgressBytes.field)
        var endedAt: Date? = nil
        if p.peek != ProgressBytes.field { endedAt = try p.instant() }
        try p.expect(ProgressBytes.field)
        let switched = try p.text()
        try p.expect(ProgressBytes.field)
        var records: [StepRecord] = []
        while p.peek != ProgressBytes.field {
            if !records.isEmpty { try p.expect(ProgressBytes.item) }
            let ref = try p.ref()
            try p.expect(ProgressBytes.part)
            let action = try p.text()
            try p.expect(ProgressBytes.part)
            let at = try p.instant()
            try p.expect(ProgressBytes.part)
            let outcome: StepRecord.Outcome
            switch p.next() {
            case UInt8(ascii: "d"): outcome = .done
            case UInt8(ascii: "s"): outcome = .skipped
            default: throw p.error("a step outcome is d or s")
            }
            var raised: [RaisedCondition] = []
            while p.peek == ProgressBytes.part {
                p.index += 1
                let name = try p.text()
                guard let condition = FlowCondition(rawValue: name) else { throw p.error("unknown condition '\(name)'") }
                try p.expect(ProgressBytes.at)
                raised.append(RaisedCondition(condition, at: try p.instant()))
            }
            records.append(StepRecord(ref: ref, action: action, at: at, outcome: outcome, raised: raised))
        }
        try p.expect(ProgressBytes.field)
        var events: [CaseEvent] = []
        while p.peek != ProgressBytes.field {
            if !events.isEmpty { try p.expect(ProgressBytes.item) }
            let name = try p.text()
            guard let kind = CaseEvent.Kind(rawValue: name) else { throw p.error("unknown event '\(name)'") }
            try p.expect(ProgressBytes.part)
            let at = try p.instant()
            var step: StepRef? = nil
            if p.peek == ProgressBytes.part {
                p.index += 1
                step = try p.ref()
            }
            events.append(CaseEvent(kind, at: at, step: step))
        }
        try p.expect(ProgressBytes.field)
        var messages: [String: StepRef] = [:]
        while !p.atEnd {
            if !messages.isEmpty { try p.expect(ProgressBytes.item) }
            let id = try p.text()
            try p.expect(ProgressBytes.equals)
            messages[id] = try p.ref()
        }
        let flow = CaseProgress(flow: flowName, flowVersion: Int(version), records: records, events: events, end: end,
                                endedAt: endedAt, switchedTo: switched.isEmpty ? nil : switched)
        return StoredProgress(flow: flow, messages: messages)
    }
}

/// Compact progress text that cannot be read (a damaged `case_states.progress` value).
public struct ProgressFormatError: Error, CustomStringConvertible, Equatable {
    /// Byte offset into the text.
    public var offset: Int
    public var message: String

    public var description: String { "case progress, byte \(offset): \(message)" }
}

/// Separators and writers of the compact form.
enum ProgressBytes {
    static let field = UInt8(ascii: "|")
    static let item = UInt8(ascii: ";")
    static let part = UInt8(ascii: ",")
    static let equals = UInt8(ascii: "=")
    static let at = UInt8(ascii: "@")
    static let dot = UInt8(ascii: ".")
    static let percent = UInt8(ascii: "%")

    static func needsEscape(_ c: UInt8) -> Bool {
        c < 0x20 || c == 0x7F || c == field || c == item || c == part || c == equals || c == at || c == percent
    }

    static func text(_ s: String, _ out: inout [UInt8]) {
        // Most texts (ids, flow names, instants) need no escape: one scan, one copy (of the
        // string's own bytes when it has them contiguous, as native strings do).
        let copied = s.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for c in bytes where needsEscape(c) { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true { return }
        if copied == nil, !s.utf8.contains(where: needsEscape) {
            out.append(contentsOf: s.utf8)
            return
        }
        for c in s.utf8 {
            if needsEscape(c) {
                let hex = Array("0123456789ABCDEF".utf8)
                out.append(percent)
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 15)])
            } else {
                out.append(c)
            }
        }
    }

    static func integer(_ v: Int64, _ out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(m % 10) + 48
                m /= 10
                n += 1
            } while m > 0
            for k in stride(from: n - 1, through: 0, by: -1) { out.append(d[k]) }
        }
    }

    static func ref(_ r: StepRef, _ out: inout [UInt8]) {
        integer(Int64(r.process), &out)
        out.append(dot)
        integer(Int64(r.depth), &out)
    }

    /// Seconds since 1970 as the JSON form stored them.
    static func instant(_ d: Date, _ out: inout [UInt8]) {
        let t = d.timeIntervalSince1970
        if t == t.rounded(), abs(t) < 9.0e15 {
            integer(Int64(t), &out)
        } else {
            out += Array(t.description.utf8)
        }
    }
}

/// A cursor over compact progress bytes.
struct ProgressParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    func error(_ message: String) -> ProgressFormatError { ProgressFormatError(offset: index, message: message) }

    mutating func expect(_ c: UInt8) throws {
        guard peek == c else { throw error("expected '\(Character(Unicode.Scalar(c)))'") }
        index += 1
    }

    /// Text up to the next separator, unescaped.
    mutating func text() throws -> String {
        let start = index
        var escaped = false
        while let c = peek, !(c == ProgressBytes.field || c == ProgressBytes.item || c == ProgressBytes.part
                              || c == ProgressBytes.equals || c == ProgressBytes.at) {
            if c == ProgressBytes.percent { escaped = true }
            index += 1
        }
        let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
        guard escaped else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        var k = 0
        while k < raw.count {
            if raw[k] == ProgressBytes.percent {
                guard k + 2 < raw.count, let hi = Self.hex(raw[k + 1]), let lo = Self.hex(raw[k + 2]) else {
                    throw ProgressFormatError(offset: start + k, message: "a % is followed by two hex digits")
                }
                out.append(hi << 4 | lo)
                k += 3
            } else {
                out.append(raw[k])
                k += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    mutating func integer() throws -> Int64 {
        var negative = false
        if peek == UInt8(ascii: "-") { negative = true; index += 1 }
        let start = index
        var v: Int64 = 0
        while let c = peek, c >= 48, c <= 57 {
            guard index - start < 18 else { throw error("number too long") }
            v = v * 10 + Int64(c - 48)
            index += 1
        }
        guard index > start else { throw error("expected a number") }
        return negative ? -v : v
    }

    mutating func ref() throws -> StepRef {
        let process = try integer()
        try expect(ProgressBytes.dot)
        let depth = try integer()
        guard process >= 0, depth >= 0, process < Int32.max, depth < Int32.max else { throw error("a step is two non-negative numbers") }
        return StepRef(process: Int(process), depth: Int(depth))
    }

    mutating func instant() throws -> Date {
        let start = index
        func digits() -> Int {
            let from = index
            while let c = peek, c >= 48, c <= 57 { index += 1 }
            return index - from
        }
        if peek == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { throw error("expected an instant") }
        var whole = true
        if peek == ProgressBytes.dot {
            whole = false
            index += 1
            guard digits() > 0 else { throw error("a fraction needs digits") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            whole = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("an exponent needs digits") }
        }
        if whole {
            index = start
            return Date(timeIntervalSince1970: Double(try integer()))
        }
        // A fraction or an exponent: Swift's shortest round-trip form of the seconds.
        let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let t = Double(s), t.isFinite else { throw ProgressFormatError(offset: start, message: "not an instant: '\(s)'") }
        return Date(timeIntervalSince1970: t)
    }
}
