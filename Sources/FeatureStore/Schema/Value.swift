/// One stored value, in the representation both backends share: identifiers and text as `.text`,
/// integers, money (minor units, e.g. cents), instants (microseconds since 1970-01-01T00:00:00Z),
/// dates (`YYYY-MM-DD` text) and booleans (0/1) as `.integer`, real numbers as `.real`.
public enum Value: Hashable, Sendable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .text(let s): return s
        }
    }

    /// The integer, or nil for any other case.
    public var integer: Int64? { if case .integer(let v) = self { return v }; return nil }
    /// The real number (integers widen), or nil.
    public var real: Double? {
        switch self {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }
    /// The text, or nil for any other case.
    public var text: String? { if case .text(let s) = self { return s }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }
}

/// Calendar arithmetic in the proleptic Gregorian calendar, UTC (H. Hinnant's `days_from_civil`).
public enum CivilTime {
    /// Days since 1970-01-01 of a calendar date.
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The calendar date of a day count since 1970-01-01.
    public static func date(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// ISO weekday (Monday = 1 ... Sunday = 7) of a day count since 1970-01-01 (a Thursday).
    public static func isoWeekday(days: Int) -> Int {
        let w = (days + 3) % 7
        return (w < 0 ? w + 7 : w) + 1
    }

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Parses `YYYY-MM-DD` into days since 1970-01-01.
    public static func parseDate<C: Collection>(_ s: C) -> Int? where C.Element == UInt8 {
        Array(s).withUnsafeBufferPointer { parseDate($0) }
    }

    /// Parses `YYYY-MM-DD` into days since 1970-01-01 (from bytes in memory, without copying them).
    public static func parseDate(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2),
              (1...12).contains(m), d >= 1, d <= daysInMonth(y, m) else { return nil }
        return days(year: y, month: m, day: d)
    }

    /// `YYYY-MM-DD` of a day count since 1970-01-01.
    public static func formatDate(days: Int) -> String {
        let (y, m, d) = date(days: days)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// Parses an ISO 8601 instant `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)` (a space may stand for
    /// `T`) into microseconds since the epoch. Fractions beyond microseconds are refused.
    public static func parseInstant<C: Collection>(_ s: C) -> Int64? where C.Element == UInt8 {
        Array(s).withUnsafeBufferPointer { parseInstant($0) }
    }

    /// Parses an ISO 8601 instant as `parseInstant(_:)` does, from bytes in memory without copying them.
    public static func parseInstant(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 20, let days = parseDate(UnsafeBufferPointer(rebasing: b[0..<10])),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let hh = digits(b, 11, 2), let mm = digits(b, 14, 2), let ss = digits(b, 17, 2),
              hh < 24, mm < 60, ss < 60 else { return nil }
        var i = 19
        var micros = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var n = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                guard n < 6 else { return nil }
                micros = micros * 10 + Int(b[i] - 48)
                n += 1
                i += 1
            }
            guard n > 0 else { return nil }
            for _ in n..<6 { micros *= 10 }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
                  let oh = digits(b, i + 1, 2), let om = digits(b, i + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * 60 * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let seconds = Int64(days) * 86_400 + Int64(hh * 3600 + mm * 60 + ss) - Int64(offset)
        return seconds * 1_000_000 + Int64(micros)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, with a fraction (trailing zeros dropped) only when it is not zero.
    public static func formatInstant(micros: Int64) -> String {
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        var s = formatDate(days: Int(days)) + "T" + pad(Int(rest / 3600), 2) + ":" + pad(Int(rest / 60 % 60), 2) + ":" + pad(Int(rest % 60), 2)
        if fraction != 0 {
            var f = pad(Int(fraction), 6)
            while f.hasSuffix("0") { f.removeLast() }
            s += "." + f
        }
        return s + "Z"
    }

    static func digits(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
        guard start + count <= b.count else { return nil }
        var v = 0
        for k in start..<start + count {
            let d = b[k] &- 48
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
