import Foundation
import Vocabulary

/// A calendar date without a time of day (an invoice's issue or due date), written `YYYY-MM-DD`.
///
/// Stored as days since 1970-01-01 (proleptic Gregorian calendar, Hinnant's `days_from_civil`),
/// so date arithmetic is integer arithmetic and independent of any time zone.
public struct CalendarDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int

    /// The date `daysSinceEpoch` days after 1970-01-01.
    public init(daysSinceEpoch: Int) { self.daysSinceEpoch = daysSinceEpoch }

    /// The date `year-month-day`; the fields must form a real date (a programmer error otherwise).
    public init(year: Int, month: Int, day: Int) {
        precondition(CalendarDate.isValid(year: year, month: month, day: day), "CalendarDate: \(year)-\(month)-\(day) is not a date")
        self.daysSinceEpoch = CalendarDate.daysFromCivil(year, month, day)
    }

    /// Parses `YYYY-MM-DD`; `nil` when the text is not a real date in that form.
    public init?(parsing text: some StringProtocol) {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              let y = digits(u, 0, 4), let m = digits(u, 5, 2), let d = digits(u, 8, 2),
              CalendarDate.isValid(year: y, month: m, day: d) else { return nil }
        self.daysSinceEpoch = CalendarDate.daysFromCivil(y, m, d)
    }

    /// Year, month (1–12) and day (1–31).
    public var components: (year: Int, month: Int, day: Int) { CalendarDate.civilFromDays(daysSinceEpoch) }

    /// ISO 8601 weekday of this date.
    public var weekday: Weekday {
        // 1970-01-01 was a Thursday (ISO 4).
        let w = ((daysSinceEpoch % 7) + 7 + 3) % 7  // 0 = Monday
        return Weekday(rawValue: w + 1)!
    }

    /// The date `days` days later (earlier when negative).
    public func adding(days: Int) -> CalendarDate { CalendarDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (y, m, d) = components
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let d = CalendarDate(parsing: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not a date of the form YYYY-MM-DD")
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    static func isValid(year: Int, month: Int, day: Int) -> Bool {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// Inverse of `daysFromCivil`.
    static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

/// A wall-clock time in the customer's own time zone without an offset (a message's scheduled
/// local time), written `YYYY-MM-DDTHH:MM:SS`. Always paired with the UTC instant it maps to.
public struct LocalDateTime: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The local calendar date.
    public var date: CalendarDate
    /// Seconds since local midnight, `0..<86400`.
    public var secondOfDay: Int

    /// A local time `hour:minute:second` on `date`.
    public init(date: CalendarDate, hour: Int, minute: Int = 0, second: Int = 0) {
        precondition((0..<24).contains(hour) && (0..<60).contains(minute) && (0..<60).contains(second),
                     "LocalDateTime: \(hour):\(minute):\(second) is not a time of day")
        self.date = date
        self.secondOfDay = hour * 3600 + minute * 60 + second
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS`; `nil` when the text is not of that form.
    public init?(parsing text: some StringProtocol) {
        let u = Array(text.utf8)
        guard u.count == 19, u[10] == UInt8(ascii: "T"), u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
              let date = CalendarDate(parsing: String(decoding: u[0..<10], as: UTF8.self)),
              let h = digits(u, 11, 2), let mi = digits(u, 14, 2), let s = digits(u, 17, 2),
              h < 24, mi < 60, s < 60 else { return nil }
        self.date = date
        self.secondOfDay = h * 3600 + mi * 60 + s
    }

    /// Hour of the day, `0..<24`.
    public var hour: Int { secondOfDay / 3600 }

    /// `YYYY-MM-DDTHH:MM:SS`.
    public var description: String {
        date.description + "T" + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
    }

    public static func < (a: LocalDateTime, b: LocalDateTime) -> Bool {
        (a.date, a.secondOfDay) < (b.date, b.secondOfDay)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let t = LocalDateTime(parsing: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not a local time of the form YYYY-MM-DDTHH:MM:SS")
        }
        self = t
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// UTC instants as text: ISO 8601 with a `Z` suffix and whole seconds, `2026-03-02T08:15:00Z`.
/// Every timestamp column of pom's files uses this form.
public enum UTCTimestamp {
    /// `date` as `YYYY-MM-DDTHH:MM:SSZ` (fractional seconds are truncated towards the past).
    public static func format(_ date: Date) -> String {
        let t = Int(floor(date.timeIntervalSince1970))
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let sod = t - days * 86400
        let d = CalendarDate(daysSinceEpoch: days)
        return d.description + "T" + pad(sod / 3600, 2) + ":" + pad(sod / 60 % 60, 2) + ":" + pad(sod % 60, 2) + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ`; `nil` when the text is not of that form.
    public static func parse(_ text: some StringProtocol) -> Date? {
        let u = Array(text.utf8)
        guard u.count == 20, u[19] == UInt8(ascii: "Z"),
              let local = LocalDateTime(parsing: String(decoding: u[0..<19], as: UTF8.self)) else { return nil }
        return Date(timeIntervalSince1970: Double(local.date.daysSinceEpoch * 86400 + local.secondOfDay))
    }

    /// A JSON encoder whose dates are written in this form and whose keys are sorted, so the same
    /// value always gives the same bytes.
    public static func jsonEncoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(format(date))
        }
        return e
    }

    /// A JSON decoder that reads dates in this form.
    public static func jsonDecoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            guard let date = parse(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not a UTC timestamp of the form YYYY-MM-DDTHH:MM:SSZ")
            }
            return date
        }
        return d
    }
}

/// A set of delivery actions (the candidates a decision chose among), written as a 189-digit
/// lower-case hexadecimal bit mask: bit `i` (counting from the least significant bit of the last
/// digit) is set when `DeliveryAction(index: i)` is in the set.
public struct ActionSet: Hashable, Sendable, Codable, CustomStringConvertible, Sequence {
    /// 12 words of 64 bits cover the 756 actions.
    var words: [UInt64]

    static let wordCount = (DeliveryAction.count + 63) / 64
    static let hexDigits = (DeliveryAction.count + 3) / 4

    /// The empty set.
    public init() { words = Array(repeating: 0, count: ActionSet.wordCount) }

    /// The set of `actions`.
    public init(_ actions: some Sequence<DeliveryAction>) {
        self.init()
        for a in actions { insert(a) }
    }

    /// The set of `actions` (the array form, specialised for speed).
    public init(_ actions: [DeliveryAction]) {
        self.init()
        for a in actions { insert(a) }
    }

    /// Parses the hexadecimal form (189 digits × 4 bits = the 756 actions); `nil` when it is not exactly 189 hex digits.
    public init?(hex: some StringProtocol) {
        let u = Array(hex.utf8)
        guard u.count == ActionSet.hexDigits else { return nil }
        self.init()
        for (k, ch) in u.reversed().enumerated() {
            let v: UInt64
            switch ch {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt64(ch - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = UInt64(ch - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = UInt64(ch - UInt8(ascii: "A") + 10)
            default: return nil
            }
            let bit = 4 * k
            words[bit / 64] |= v << UInt64(bit % 64)
        }
    }

    /// Adds `action`.
    public mutating func insert(_ action: DeliveryAction) {
        let i = ActionSet.denseIndex(action)
        words[i / 64] |= 1 << UInt64(i % 64)
    }

    /// Whether `action` is in the set.
    public func contains(_ action: DeliveryAction) -> Bool {
        let i = ActionSet.denseIndex(action)
        return (words[i / 64] >> UInt64(i % 64)) & 1 == 1
    }

    /// `action.index` without searching `allCases` (this is on the hot path of history writing).
    @inline(__always)
    static func denseIndex(_ a: DeliveryAction) -> Int {
        let c: Int
        switch a.channel {
        case .email: c = 0
        case .sms: c = 1
        case .letter: c = 2
        case .push: c = 3
        case .robocall: c = 4
        case .whatsapp: c = 5
        }
        let t: Int
        switch a.tone {
        case .friendly: t = 0
        case .neutral: t = 1
        case .firm: t = 2
        }
        return ((c * 3 + t) * 7 + a.weekday.rawValue - 1) * 6 + (a.hour.rawValue - 8) / 2
    }

    /// Number of actions in the set.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The actions in index order.
    public func makeIterator() -> IndexingIterator<[DeliveryAction]> {
        var out: [DeliveryAction] = []
        for (w, word) in words.enumerated() where word != 0 {
            var x = word
            while x != 0 {
                let b = x.trailingZeroBitCount
                out.append(DeliveryAction(index: w * 64 + b))
                x &= x - 1
            }
        }
        return out.makeIterator()
    }

    /// The 189-digit hexadecimal form.
    public var description: String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: ActionSet.hexDigits)
        for k in 0..<ActionSet.hexDigits {
            let bit = 4 * k
            out[ActionSet.hexDigits - 1 - k] = table[Int((words[bit / 64] >> UInt64(bit % 64)) & 0xF)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let set = ActionSet(hex: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "candidates must be \(ActionSet.hexDigits) hexadecimal digits (a bit mask over the \(DeliveryAction.count) delivery actions)")
        }
        self = set
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

func digits(_ u: [UInt8], _ start: Int, _ count: Int) -> Int? {
    var v = 0
    for i in start..<(start + count) {
        let c = u[i]
        guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
        v = v * 10 + Int(c - UInt8(ascii: "0"))
    }
    return v
}

func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
