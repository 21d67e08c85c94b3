import Foundation
import FeatureStore

/// A provider request body in JSON with `{{placeholder}}`s filled from the message.
///
/// A placeholder inside a JSON string (`"text": "{{body}}"`) is replaced by the value escaped for
/// a JSON string (quotes, backslashes, control characters as `\"`, `\\`, `\n`, `\u0001` ...).
/// A placeholder outside strings (`"amount": {{amount_minor}}`) is replaced by a JSON value: a
/// quoted string, a number, `null` for an absent value, or an array of strings
/// (`address_lines`). The template is checked when it is made: unknown placeholders are an
/// error, and the body rendered for a sample message must be valid JSON.
///
/// | placeholder | value |
/// |---|---|
/// | `to` | the recipient: e-mail address, E.164 number, push token, or postal lines joined by `\n` |
/// | `address_lines` | postal lines (array outside strings, `\n`-joined inside), else the address |
/// | `subject`, `body`, `html` | the rendered texts (`null`/empty when absent) |
/// | `message_id`, `idempotency_key`, `customer_id`, `invoice_id`, `contact_point_id` | ids |
/// | `channel`, `template`, `tone`, `locale` | the message's labels |
/// | `scheduled_at` | `2026-03-02T08:15:00Z` |
/// | `amount_minor` | integer minor units; `currency`, `due_date` (`YYYY-MM-DD`), `payment_link` |
public struct JSONBodyTemplate: Sendable, Hashable {
    /// The placeholder names a body may use.
    public static let placeholders: [String] = [
        "to", "address_lines", "subject", "body", "html", "message_id", "idempotency_key", "customer_id", "invoice_id",
        "contact_point_id", "channel", "template", "tone", "locale", "scheduled_at", "amount_minor", "currency", "due_date",
        "payment_link",
    ]

    enum Part: Sendable, Hashable {
        case literal(String)
        case placeholder(String, inString: Bool)
    }

    /// The template text.
    public let source: String
    let parts: [Part]

    /// Parses `source`.
    /// - Throws: `JSONBodyTemplate.Problem` with the 1-based line of an unknown or unclosed
    ///   placeholder, or of a body that is not valid JSON once filled in.
    public init(_ source: String) throws {
        self.source = source
        var parts: [Part] = []
        var literal = ""
        var inString = false
        var escaped = false
        var line = 1
        var i = source.startIndex
        while i < source.endIndex {
            let c = source[i]
            if c == "{", source[i...].hasPrefix("{{") {
                guard let close = source[i...].range(of: "}}") else {
                    throw Problem(line: line, message: "a placeholder opened with {{ is never closed")
                }
                let name = source[source.index(i, offsetBy: 2)..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                guard Self.placeholders.contains(name) else {
                    throw Problem(line: line, message: "unknown placeholder {{\(name)}}; bodies may use \(Self.placeholders.joined(separator: ", "))")
                }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                parts.append(.placeholder(name, inString: inString))
                i = close.upperBound
                continue
            }
            if c == "\n" { line += 1 }
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            }
            literal.append(c)
            i = source.index(after: i)
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
        let sample = OutgoingMessage(
            messageId: "M1", idempotencyKey: "K1", customerId: "C1", invoiceId: "I1", channel: .letter, contactPointId: nil,
            recipient: .postal(["Erika \"E\" Mustermann", "Hauptstr. 1\\2", "10115 Berlin"]), template: "reminder", tone: .neutral,
            locale: "de", subject: "Zahlung \"offen\"", bodyText: "Zeile 1\nZeile 2\t€", bodyHTML: nil,
            scheduledAt: Date(timeIntervalSince1970: 0),
            metadata: MessageMetadata(amountMinor: 12345, currency: "EUR", dueDate: CalendarDate(year: 2026, month: 3, day: 1), paymentLink: nil))
        let data = Data(render(sample).utf8)
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw Problem(line: 1, message: "the body is not valid JSON once placeholders are filled in (a placeholder outside quotes gives a quoted string, a number or null): \(error.localizedDescription)")
        }
    }

    /// A template problem at a line of the template text.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line) of the body template: \(message)" }
    }

    enum Value {
        case string(String?)
        case number(Int64)
        case strings([String])
    }

    static func value(_ name: String, of m: OutgoingMessage) -> Value {
        switch name {
        case "to":
            if case .postal(let lines) = m.recipient { return .string(lines.joined(separator: "\n")) }
            return .string(m.recipient.description)
        case "address_lines":
            if case .postal(let lines) = m.recipient { return .strings(lines) }
            return .strings([m.recipient.description])
        case "subject": return .string(m.subject)
        case "body": return .string(m.bodyText)
        case "html": return .string(m.bodyHTML)
        case "message_id": return .string(m.messageId)
        case "idempotency_key": return .string(m.idempotencyKey)
        case "customer_id": return .string(m.customerId)
        case "invoice_id": return .string(m.invoiceId)
        case "contact_point_id": return .string(m.contactPointId)
        case "channel": return .string(m.channel.rawValue)
        case "template": return .string(m.template)
        case "tone": return .string(m.tone.rawValue)
        case "locale": return .string(m.locale)
        case "scheduled_at": return .string(UTCTimestamp.format(m.scheduledAt))
        case "amount_minor": return .number(m.metadata.amountMinor)
        case "currency": return .string(m.metadata.currency)
        case "due_date": return .string(m.metadata.dueDate.description)
        case "payment_link": return .string(m.metadata.paymentLink)
        default: preconditionFailure("JSONBodyTemplate: placeholder \(name) passed the check but has no value")
        }
    }

    /// The body for `message`.
    public func render(_ message: OutgoingMessage) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .placeholder(let name, let inString):
                let v = Self.value(name, of: message)
                if inString {
                    switch v {
                    case .string(let s): out += Self.escape(s ?? "")
                    case .number(let n): out += String(n)
                    case .strings(let l): out += Self.escape(l.joined(separator: "\n"))
                    }
                } else {
                    switch v {
                    case .string(let s): out += s.map { "\"" + Self.escape($0) + "\"" } ?? "null"
                    case .number(let n): out += String(n)
                    case .strings(let l): out += "[" + l.map { "\"" + Self.escape($0) + "\"" }.joined(separator: ",") + "]"
                    }
                }
            }
        }
        return out
    }

    /// `s` escaped for the inside of a JSON string (RFC 8259 §7).
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || u.value == 0x2028 || u.value == 0x2029 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }
}
