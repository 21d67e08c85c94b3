/// The words pom's parts share: channels, tones, send days and hours, and the delivery actions
/// the optimiser chooses among (SPEC §4: channel × tone × send weekday × send-hour bucket).

/// A communication channel.
public enum Channel: String, CaseIterable, Codable, Sendable, Comparable {
    case email, sms, letter, push, robocall, whatsapp

    public static func < (a: Channel, b: Channel) -> Bool { a.index < b.index }
    /// Position in `allCases` (a switch: `allCases.firstIndex` built the array at every call).
    public var index: Int {
        switch self {
        case .email: 0
        case .sms: 1
        case .letter: 2
        case .push: 3
        case .robocall: 4
        case .whatsapp: 5
        }
    }

    static let cases = allCases
}

/// The tone of a message.
public enum Tone: String, CaseIterable, Codable, Sendable, Comparable {
    case friendly, neutral, firm

    public static func < (a: Tone, b: Tone) -> Bool { a.index < b.index }
    /// Position in `allCases`.
    public var index: Int {
        switch self {
        case .friendly: 0
        case .neutral: 1
        case .firm: 2
        }
    }

    static let cases = allCases
}

/// A day of the week in the customer's own time zone (ISO 8601 numbering: Monday = 1).
public enum Weekday: Int, CaseIterable, Codable, Sendable, Comparable {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    public static func < (a: Weekday, b: Weekday) -> Bool { a.rawValue < b.rawValue }
    public var index: Int { rawValue - 1 }
    public var name: String { String(describing: self) }
    public var isWeekend: Bool { self == .saturday || self == .sunday }

    static let cases = allCases
}

/// A two-hour send window in the customer's local time, 08:00 to 20:00.
public enum HourBucket: Int, CaseIterable, Codable, Sendable, Comparable {
    case h08 = 8, h10 = 10, h12 = 12, h14 = 14, h16 = 16, h18 = 18

    public static func < (a: HourBucket, b: HourBucket) -> Bool { a.rawValue < b.rawValue }
    /// Position in `allCases`.
    public var index: Int { (rawValue - 8) / 2 }
    /// First local hour of the window.
    public var startHour: Int { rawValue }
    /// The bucket containing local hour `hour`, if it lies within 08:00–20:00.
    public init?(hour: Int) {
        guard hour >= 8 && hour < 20 else { return nil }
        self.init(rawValue: hour - hour % 2)
    }
    /// `"08-10"` and so on.
    public var label: String {
        let a = startHour, b = startHour + 2
        return (a < 10 ? "0\(a)" : "\(a)") + "-" + (b < 10 ? "0\(b)" : "\(b)")
    }

    static let cases = allCases
}

/// One choice of the optimiser: how, in what tone and when a message goes out.
public struct DeliveryAction: Hashable, Codable, Sendable, CustomStringConvertible {
    public var channel: Channel
    public var tone: Tone
    public var weekday: Weekday
    public var hour: HourBucket

    public init(channel: Channel, tone: Tone, weekday: Weekday, hour: HourBucket) {
        self.channel = channel
        self.tone = tone
        self.weekday = weekday
        self.hour = hour
    }

    /// Number of distinct actions: 6 × 3 × 7 × 6 = 756.
    public static let count = Channel.cases.count * Tone.cases.count * Weekday.cases.count * HourBucket.cases.count

    /// A dense index in `0..<count` (channel-major), stable across versions.
    public var index: Int {
        ((channel.index * Tone.cases.count + tone.index) * Weekday.cases.count + weekday.index) * HourBucket.cases.count + hour.index
    }

    /// The action with dense index `index`.
    public init(index: Int) {
        precondition(index >= 0 && index < DeliveryAction.count, "DeliveryAction: index \(index) outside 0..<\(DeliveryAction.count)")
        var k = index
        let h = k % HourBucket.cases.count; k /= HourBucket.cases.count
        let d = k % Weekday.cases.count; k /= Weekday.cases.count
        let t = k % Tone.cases.count; k /= Tone.cases.count
        self.init(channel: Channel.cases[k], tone: Tone.cases[t], weekday: Weekday.cases[d], hour: HourBucket.cases[h])
    }

    /// Every action, in index order.
    public static let all: [DeliveryAction] = (0..<count).map(DeliveryAction.init(index:))

    /// `email/friendly/tuesday/10-12`.
    public var description: String { "\(channel.rawValue)/\(tone.rawValue)/\(weekday.name)/\(hour.label)" }
}
