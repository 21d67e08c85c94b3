import Foundation

/// An amount of money as written in a flow file: `5`, `12.50` or `"12.50 EUR"`.
///
/// The amount is kept as an exact `Decimal` in major units (euros, not cents); `currency` is the
/// ISO 4217 code when the file names one, else `nil` (the invoice's currency is meant).
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The amount in major units, never negative.
    public var amount: Decimal
    /// ISO 4217 code (`EUR`), or `nil` for "the invoice's currency".
    public var currency: String?

    public init(amount: Decimal, currency: String? = nil) {
        precondition(amount >= 0, "Money: negative amount \(amount)")
        self.amount = amount
        self.currency = currency
    }

    /// The amount in minor units of a currency with `exponent` decimals (2 for EUR), rounded half up.
    public func minorUnits(exponent: Int = 2) -> Int64 {
        var scaled = amount
        for _ in 0..<exponent { scaled *= 10 }
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    /// `12.50 EUR`, or `12.50` without a currency.
    public var description: String {
        let number = NSDecimalNumber(decimal: amount).stringValue
        return currency.map { "\(number) \($0)" } ?? number
    }

    /// Parses `12.50`, `12.50 EUR` or `EUR 12.50`; `nil` when the text is not such an amount.
    public static func parse(_ text: String) -> Money? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        func isCurrency(_ s: String) -> Bool { s.count == 3 && s.allSatisfy { $0.isASCII && $0.isUppercase } }
        func amount(_ s: String) -> Decimal? {
            // Digits with at most one decimal point; no sign, no exponent, no thousands separators.
            guard !s.isEmpty, s.first != ".", s.last != ".",
                  s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  s.filter({ $0 == "." }).count <= 1 else { return nil }
            return Decimal(string: s, locale: Locale(identifier: "en_US_POSIX"))
        }
        switch parts.count {
        case 1: return amount(parts[0]).map { Money(amount: $0) }
        case 2:
            if let a = amount(parts[0]), isCurrency(parts[1]) { return Money(amount: a, currency: parts[1]) }
            if isCurrency(parts[0]), let a = amount(parts[1]) { return Money(amount: a, currency: parts[0]) }
            return nil
        default: return nil
        }
    }
}

/// A length of time as written in a flow file: `90m`, `24h`, `3d`, `2w` or combinations (`1d12h`).
public enum FlowDuration {
    /// The seconds in `text`, or `nil` when it is not a duration. Units: `m` minutes, `h` hours,
    /// `d` days (24 h), `w` weeks; at least one number-unit pair, each unit at most once.
    public static func seconds(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var seen = Set<Character>()
        for c in text {
            if c.isASCII && c.isNumber { number.append(c); continue }
            let unit: Double
            switch c {
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: return nil
            }
            guard let n = Int(number), !seen.contains(c) else { return nil }
            seen.insert(c)
            total += Double(n) * unit
            number = ""
        }
        guard number.isEmpty, !seen.isEmpty else { return nil }
        return total
    }

    /// `1d12h` for 129,600 s; `0m` for zero.
    public static func format(seconds: Double) -> String {
        var rest = Int(seconds.rounded())
        var out = ""
        for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out.isEmpty ? "0m" : out
    }
}

/// The type of one action setting; the parser checks every value in a flow file against it.
public indirect enum SettingType: Hashable, Sendable {
    /// Any text.
    case string
    /// A whole number within the optional bounds (inclusive).
    case int(min: Int?, max: Int?)
    /// A number within the optional bounds (inclusive).
    case double(min: Double?, max: Double?)
    /// `true` or `false`.
    case bool
    /// One of the listed words.
    case enumeration([String])
    /// A length of time (`24h`, `3d`), held in seconds.
    case duration
    /// An amount of money (`5.00` or `"5.00 EUR"`).
    case money
    /// A list of values of one type, each at most once.
    case list(SettingType)
    /// The name of another flow (checked when a set of flows is validated).
    case flow
    /// A local time of day `HH:MM` (24-hour clock).
    case timeOfDay
    /// A BCP 47 language tag of the form `de`, `en` or `de-AT`.
    case locale

    /// Whether `value` is a value of this type (within its bounds).
    public func admits(_ value: SettingValue) -> Bool {
        switch (self, value) {
        case (.string, .string), (.bool, .bool), (.duration, .duration), (.money, .money): return true
        case let (.int(lo, hi), .int(v)): return v >= (lo ?? .min) && v <= (hi ?? .max)
        case let (.double(lo, hi), .double(v)): return v >= (lo ?? -.infinity) && v <= (hi ?? .infinity)
        case let (.enumeration(words), .string(s)): return words.contains(s)
        case let (.list(element), .list(items)): return !items.isEmpty && Set(items).count == items.count && items.allSatisfy(element.admits)
        case let (.flow, .string(s)): return isFlowName(s)
        case let (.timeOfDay, .timeOfDay(m)): return (0..<1440).contains(m)
        case let (.locale, .string(s)): return isLocale(s)
        default: return false
        }
    }

    /// How the type is written in documentation: `int 1...36`, `one of friendly|neutral|firm`.
    public var summary: String {
        switch self {
        case .string: return "text"
        case let .int(min, max): return "int" + Self.bounds(min.map(String.init), max.map(String.init))
        case let .double(min, max): return "number" + Self.bounds(min.map { "\($0)" }, max.map { "\($0)" })
        case .bool: return "true|false"
        case let .enumeration(values): return "one of " + values.joined(separator: "|")
        case .duration: return "duration (90m, 24h, 3d, 2w)"
        case .money: return "money (5.00 or \"5.00 EUR\")"
        case let .list(element): return "list of " + element.summary
        case .flow: return "flow name"
        case .timeOfDay: return "time HH:MM"
        case .locale: return "locale (de, en, de-AT)"
        }
    }

    private static func bounds(_ lo: String?, _ hi: String?) -> String {
        switch (lo, hi) {
        case (nil, nil): return ""
        case let (l?, nil): return " >= \(l)"
        case let (nil, h?): return " <= \(h)"
        case let (l?, h?): return " \(l)...\(h)"
        }
    }
}

/// One typed setting value.
public enum SettingValue: Hashable, Sendable, Encodable, CustomStringConvertible {
    /// Text, an enumeration word, a flow name or a locale.
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    /// A duration in seconds.
    case duration(Double)
    case money(Money)
    /// Minutes after local midnight.
    case timeOfDay(Int)
    case list([SettingValue])

    /// The value as a flow file would write it.
    public var description: String {
        switch self {
        case let .string(s): return s
        case let .int(i): return String(i)
        case let .double(d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case let .bool(b): return b ? "true" : "false"
        case let .duration(s): return FlowDuration.format(seconds: s)
        case let .money(m): return m.description
        case let .timeOfDay(m): return String(format: "%02d:%02d", m / 60, m % 60)
        case let .list(items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// JSON form: strings, numbers and booleans as such; durations, money and times as their text.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .string(s): try container.encode(s)
        case let .int(i): try container.encode(i)
        case let .double(d): try container.encode(d)
        case let .bool(b): try container.encode(b)
        case .duration, .money, .timeOfDay: try container.encode(description)
        case let .list(items): try container.encode(items)
        }
    }
}

/// The documented schema of one setting of an action.
public struct SettingSpec: Hashable, Sendable {
    public var name: String
    public var type: SettingType
    /// Whether a flow must give the setting (required settings have no default).
    public var required: Bool
    /// The value used when the flow leaves the setting out, if any.
    public var defaultValue: SettingValue?
    /// One sentence for operators.
    public var doc: String

    public init(_ name: String, _ type: SettingType, required: Bool = false, default defaultValue: SettingValue? = nil, doc: String) {
        precondition(!(required && defaultValue != nil), "SettingSpec \(name): a required setting has no default")
        self.name = name
        self.type = type
        self.required = required
        self.defaultValue = defaultValue
        self.doc = doc
    }
}

/// The typed settings of one process or backup step, checked against its action's schema.
///
/// Holds every setting the flow gave plus the schema's defaults for those it left out, so two
/// steps compare equal exactly when they would behave the same.
public struct ActionSettings: Hashable, Sendable, Encodable {
    public private(set) var values: [String: SettingValue]

    public init(_ values: [String: SettingValue] = [:]) { self.values = values }

    public subscript(name: String) -> SettingValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The text of a string, enumeration, flow or locale setting.
    public func string(_ name: String) -> String? {
        if case let .string(s)? = values[name] { return s }
        return nil
    }

    public func int(_ name: String) -> Int? {
        if case let .int(i)? = values[name] { return i }
        return nil
    }

    /// A number setting; int values are widened.
    public func double(_ name: String) -> Double? {
        switch values[name] {
        case let .double(d)?: return d
        case let .int(i)?: return Double(i)
        default: return nil
        }
    }

    public func bool(_ name: String) -> Bool? {
        if case let .bool(b)? = values[name] { return b }
        return nil
    }

    /// A duration setting in seconds.
    public func duration(_ name: String) -> Double? {
        if case let .duration(s)? = values[name] { return s }
        return nil
    }

    public func money(_ name: String) -> Money? {
        if case let .money(m)? = values[name] { return m }
        return nil
    }

    /// Minutes after local midnight of a time-of-day setting.
    public func timeOfDay(_ name: String) -> Int? {
        if case let .timeOfDay(m)? = values[name] { return m }
        return nil
    }

    /// The texts of a list of strings or enumeration words.
    public func strings(_ name: String) -> [String]? {
        guard case let .list(items)? = values[name] else { return nil }
        return items.compactMap { if case let .string(s) = $0 { s } else { nil } }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
}

/// Whether `s` is a flow name: 1-100 ASCII letters, digits, `.`, `_`, `-`, starting with a letter or digit.
func isFlowName(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 100,
          ("0"..."9").contains(first) || ("A"..."Z").contains(first) || ("a"..."z").contains(first) else { return false }
    return s.unicodeScalars.allSatisfy {
        ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-"
    }
}

/// Whether `s` is a language tag `ll`, `lll` or `ll-RR` (lowercase language, uppercase region).
func isLocale(_ s: String) -> Bool {
    let parts = s.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count <= 2, (2...3).contains(parts[0].count),
          parts[0].unicodeScalars.allSatisfy({ ("a"..."z").contains($0) }) else { return false }
    if parts.count == 2 {
        return parts[1].count == 2 && parts[1].unicodeScalars.allSatisfy { ("A"..."Z").contains($0) }
    }
    return true
}
