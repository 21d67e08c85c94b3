import Foundation
import FeatureStore

/// How one language writes amounts and dates, and its fixed phrases; read from
/// `templates/<language>/locale.yaml`.
///
/// Amounts are formatted by integer arithmetic on minor units (no floating point, no ICU), with
/// ordinary spaces only, so SMS texts stay in the GSM-7 alphabet where the language allows.
public struct LocaleFormat: Sendable, Hashable {
    /// The language code (`de`, `en`), the directory name.
    public var language: String
    public var decimalSeparator: String
    public var groupingSeparator: String
    /// `{amount}` and `{symbol}` placeholders, e.g. `{amount} {symbol}` (de) or `{symbol}{amount}` (en).
    public var currencyPattern: String
    /// Currency symbols by ISO 4217 code; a code without a symbol is written as the code.
    public var currencySymbols: [String: String]
    /// Tokens `d`, `dd`, `M`, `MM`, `MMMM` (month name), `yyyy`; anything else is copied.
    public var datePattern: String
    /// The twelve month names, January first.
    public var monthNames: [String]
    /// The greeting line with a known name; must contain `{name}`.
    public var salutationNamed: String
    /// The greeting line without a name.
    public var salutationAnonymous: String
    /// The sentence on letters about their QR code.
    public var qrNote: String
    /// The label of the payment button in e-mails.
    public var payButton: String

    /// `amountMinor` of `currency` with `digits` fraction digits, e.g. `1.234,56 €` (de) or `€1,234.56` (en).
    public func formatAmount(_ amountMinor: Int64, currency: String, digits: Int) -> String {
        let negative = amountMinor < 0
        let magnitude = amountMinor.magnitude
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        let whole = String(magnitude / scale)
        var grouped = ""
        for (k, ch) in whole.enumerated() {
            if k > 0 && (whole.count - k) % 3 == 0 { grouped += groupingSeparator }
            grouped.append(ch)
        }
        var number = grouped
        if digits > 0 {
            let frac = String(magnitude % scale)
            number += decimalSeparator + String(repeating: "0", count: digits - frac.count) + frac
        }
        if negative { number = "-" + number }
        let symbol = currencySymbols[currency] ?? currency
        return Self.fill(currencyPattern, ["{amount}": number, "{symbol}": symbol])
    }

    /// `pattern` with every occurrence of each placeholder of `values` replaced, in one pass (this
    /// runs for every message a run sends; Foundation's `replacingOccurrences` took several times longer).
    static func fill(_ pattern: String, _ values: KeyValuePairs<String, String>) -> String {
        var out = ""
        var rest = pattern[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            if let (placeholder, value) = values.first(where: { rest[open...].hasPrefix($0.key) }) {
                out += value
                rest = rest[rest.index(open, offsetBy: placeholder.count)...]
            } else {
                out.append("{")
                rest = rest[rest.index(after: open)...]
            }
        }
        out += rest
        return out
    }

    /// `date` in the locale's pattern, e.g. `15.03.2026` (de) or `15 March 2026` (en).
    public func formatDate(_ date: CalendarDate) -> String {
        let (y, m, d) = date.components
        var out = ""
        var chars = Array(datePattern)[...]
        while let c = chars.first {
            var run = 0
            while run < chars.count && chars[chars.startIndex + run] == c { run += 1 }
            chars = chars.dropFirst(run)
            switch (c, run) {
            case ("d", 1): out += String(d)
            case ("d", 2): out += pad2(d)
            case ("M", 1): out += String(m)
            case ("M", 2): out += pad2(m)
            case ("M", 4): out += monthNames[m - 1]
            case ("y", 4): out += String(y)
            default: out += String(repeating: c, count: run)
            }
        }
        return out
    }

    /// The greeting line for `name` (anonymous when `nil` or blank).
    public func salutation(name: String?) -> String {
        guard let name, !name.trimmingCharacters(in: .whitespaces).isEmpty else { return salutationAnonymous }
        return Self.fill(salutationNamed, ["{name}": name])
    }

    static let fields: Set<String> = ["language", "decimal_separator", "grouping_separator", "currency_pattern", "currency_symbols",
                                      "date_pattern", "month_names", "salutation_named", "salutation_anonymous", "qr_note", "pay_button"]

    /// Reads a `locale.yaml`.
    static func load(_ value: YAMLValue) throws -> LocaleFormat {
        let f = try value.fields(allowed: fields)
        func text(_ k: String) throws -> String { try f.required(k, in: value).string() }
        var symbols: [String: String] = [:]
        for (code, v) in try f.required("currency_symbols", in: value).mapping() { symbols[code] = try v.string() }
        let monthsValue = try f.required("month_names", in: value)
        let months = try monthsValue.sequence().map { try $0.string() }
        guard months.count == 12 else { throw monthsValue.error("expected 12 month names, found \(months.count)") }
        let format = LocaleFormat(
            language: try text("language"), decimalSeparator: try text("decimal_separator"),
            groupingSeparator: try text("grouping_separator"), currencyPattern: try text("currency_pattern"),
            currencySymbols: symbols, datePattern: try text("date_pattern"), monthNames: months,
            salutationNamed: try text("salutation_named"), salutationAnonymous: try text("salutation_anonymous"),
            qrNote: try text("qr_note"), payButton: try text("pay_button"))
        guard format.currencyPattern.contains("{amount}") else {
            throw try f.required("currency_pattern", in: value).error("must contain {amount}")
        }
        guard format.salutationNamed.contains("{name}") else {
            throw try f.required("salutation_named", in: value).error("must contain {name}")
        }
        return format
    }
}
