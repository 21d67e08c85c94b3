import Foundation
import Mustache
import QRCodes
import Vocabulary
import FeatureStore

/// What a message is for: the template families of the catalogue.
public enum MessagePurpose: String, Sendable, Hashable, Codable, CaseIterable {
    case preDue = "pre_due"
    case reminder
    case firstDunning = "first_dunning"
    case secondDunning = "second_dunning"
    case finalDunning = "final_dunning"
    case paymentPlanOffer = "payment_plan_offer"
    case contactDataRequest = "contact_data_request"
    case paymentConfirmation = "payment_confirmation"
    case visitFollowUp = "visit_follow_up"

    /// The purpose named `name`; also accepts the simulator's template names (`dunning_1`,
    /// `dunning_2`, `final_notice`).
    public init?(templateName name: String) {
        switch name {
        case "dunning_1": self = .firstDunning
        case "dunning_2": self = .secondDunning
        case "final_notice": self = .finalDunning
        default: self.init(rawValue: name)
        }
    }
}

/// The case facts a template is rendered with.
public struct CaseData: Sendable, Hashable {
    /// The customer's name as it should appear in the greeting; `nil` for an anonymous greeting.
    public var customerName: String?
    /// The invoice number printed in messages.
    public var invoiceNumber: String
    /// Amount in minor units of `currency` (what is due; for `payment_confirmation`, what was paid).
    public var amountMinor: Int64
    public var currency: String
    public var dueDate: CalendarDate
    /// The day the message is written for (days overdue are counted to it).
    public var asOf: CalendarDate
    /// The date by which a dunning notice asks for payment.
    public var paymentDeadline: CalendarDate
    /// The case's payment page.
    public var paymentLink: String
    /// Who is writing (the creditor), for sign-offs.
    public var creditorName: String
    /// The recipient's postal address lines, for the address field of a letter's printable document.
    public var postalAddress: [String]

    /// - Parameter paymentDeadline: defaults to `asOf` + 14 days.
    public init(customerName: String?, invoiceNumber: String, amountMinor: Int64, currency: String, dueDate: CalendarDate,
                asOf: CalendarDate, paymentDeadline: CalendarDate? = nil, paymentLink: String, creditorName: String,
                postalAddress: [String] = []) {
        self.customerName = customerName
        self.invoiceNumber = invoiceNumber
        self.amountMinor = amountMinor
        self.currency = currency
        self.dueDate = dueDate
        self.asOf = asOf
        self.paymentDeadline = paymentDeadline ?? asOf.adding(days: 14)
        self.paymentLink = paymentLink
        self.creditorName = creditorName
        self.postalAddress = postalAddress
    }

    /// The facts of `invoice` as of `asOf`.
    public init(invoice: Invoice, customerName: String?, asOf: CalendarDate, paymentLink: String, creditorName: String,
                paymentDeadline: CalendarDate? = nil) {
        self.init(customerName: customerName, invoiceNumber: invoice.id, amountMinor: invoice.amountMinor, currency: invoice.currency,
                  dueDate: invoice.dueDate, asOf: asOf, paymentDeadline: paymentDeadline, paymentLink: paymentLink,
                  creditorName: creditorName)
    }

    /// Whole days past the due date on `asOf` (0 before it).
    public var daysOverdue: Int { max(0, asOf.daysSinceEpoch - dueDate.daysSinceEpoch) }
    /// Whole days until the due date from `asOf` (0 on or after it).
    public var daysUntilDue: Int { max(0, dueDate.daysSinceEpoch - asOf.daysSinceEpoch) }
}

/// A template rendered for one case.
public struct RenderedMessage: Sendable, Hashable {
    public var channel: Channel
    public var purpose: MessagePurpose
    public var tone: Tone
    /// The catalogue language actually used (`de` for a `de-AT` request).
    public var locale: String
    /// Subject (e-mail, letter) or title (push); `nil` for SMS, WhatsApp and robocalls.
    public var subject: String?
    /// The plain text body.
    public var text: String
    /// The HTML body of an e-mail, or the printable HTML document of a letter (address field,
    /// text, and the QR code of the payment link with the link printed under it).
    public var html: String?
    /// The SMS encoding and segment count (SMS only).
    public var sms: SMSSegments?
}

/// The message templates of every channel × purpose × tone × language, loaded from data files and
/// checked completely at load time, so rendering for a case cannot fail at send time.
///
/// Layout of a template directory (the bundled one is `Sources/Channels/Resources/templates`):
///
/// - `catalogue.yaml`: `languages`, `default_language`, `channels`, currency fraction digits,
///   per-channel limits (`sms.max_segments`, `push.max_characters` ...);
/// - `<language>/locale.yaml`: number, currency and date formats and fixed phrases (`LocaleFormat`);
/// - `<language>/<channel>.yaml`: `purpose: {tone: {subject?, body}}` for all nine purposes and three tones;
/// - `layout/email.html`: the HTML frame of e-mails (Mustache, HTML-escaped);
/// - `layout/letter.html`: the printable HTML document of letters, with the QR code of the payment
///   link (`qr_svg`, an inline SVG); optional, the bundled one is used when it is missing.
///
/// Template texts are Mustache (`{{name}}`; sections over the same names are allowed, partials
/// and delimiter changes are not). The names are `placeholders`; any other name, a missing
/// purpose, tone or field, a Mustache syntax error, or an SMS whose worst-case rendering (long
/// name, large amount) exceeds `sms.max_segments` is a `ChannelConfigurationError` naming the file,
/// line and field.
///
/// ```swift
/// let catalogue = try TemplateCatalogue.bundled()
/// let sms = catalogue.render(.sms, purpose: .reminder, tone: .friendly, locale: "de-DE", data: caseData)
/// ```
public struct TemplateCatalogue: Sendable {
    /// The placeholder names templates may use.
    public static let placeholders: [String] = [
        "salutation", "customer_name", "invoice_number", "amount", "due_date", "days_overdue", "days_until_due",
        "payment_deadline", "payment_link", "creditor_name", "qr_note",
    ]

    /// Languages, in the order `catalogue.yaml` lists them.
    public let languages: [String]
    public let defaultLanguage: String
    /// Channels every language has templates for.
    public let channels: [Channel]
    /// Per-language formats.
    public let formats: [String: LocaleFormat]
    /// At most this many SMS segments per rendered text.
    public let smsMaxSegments: Int
    /// At most this many characters in a push body.
    public let pushMaxCharacters: Int
    let currencyDigits: [String: Int]
    let templates: [Key: Entry]
    let emailLayout: MustacheTemplate
    let letterLayout: MustacheTemplate

    struct Key: Hashable {
        var language: String
        var channel: Channel
        var purpose: MessagePurpose
        var tone: Tone
    }

    struct Entry: Sendable {
        var subject: TextTemplate?
        var body: TextTemplate
        /// Line of the body field in its file.
        var bodyLine: Int?
    }

    /// The templates shipped with pom.
    public static func bundled() throws -> TemplateCatalogue {
        try TemplateCatalogue(directory: bundledDirectory())
    }

    /// The directory of the templates shipped with pom (a copy is a good start for one's own).
    public static func bundledDirectory() -> URL {
        guard let url = Bundle.module.url(forResource: "templates", withExtension: nil) else {
            preconditionFailure("TemplateCatalogue: the bundled templates are missing from the Channels resources")
        }
        return url
    }

    /// Loads and checks the templates in `directory`.
    /// - Throws: `ChannelConfigurationError` naming the file, line and field of the first problem.
    public init(directory: URL) throws {
        func file(_ relative: String) -> URL { directory.appendingPathComponent(relative) }
        let root = try YAMLValue.load(file("catalogue.yaml"))
        let f = try root.fields(allowed: ["languages", "default_language", "channels", "currency_digits", "limits"])
        let languagesValue = try f.required("languages", in: root)
        languages = try languagesValue.sequence().map { try $0.string() }
        guard !languages.isEmpty else { throw languagesValue.error("at least one language is needed") }
        let defaultValue = try f.required("default_language", in: root)
        defaultLanguage = try defaultValue.string()
        guard languages.contains(defaultLanguage) else { throw defaultValue.error("'\(defaultLanguage)' is not among the languages") }
        channels = try f.required("channels", in: root).sequence().map { v in
            guard let c = Channel(rawValue: try v.string()) else {
                throw v.error("unknown channel \(v.describe); expected one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return c
        }
        var digits: [String: Int] = [:]
        if let d = f["currency_digits"] {
            for (code, v) in try d.mapping() {
                let n = try v.int()
                guard (0...4).contains(n) else { throw v.error("fraction digits must be 0 to 4") }
                digits[code] = n
            }
        }
        currencyDigits = digits
        var smsMax = 2, pushMax = 178
        if let limits = f["limits"] {
            let l = try limits.fields(allowed: ["sms_max_segments", "push_max_characters"])
            if let v = l["sms_max_segments"] { smsMax = try v.int() }
            if let v = l["push_max_characters"] { pushMax = try v.int() }
        }
        smsMaxSegments = smsMax
        pushMaxCharacters = pushMax

        let layoutURL = file("layout/email.html")
        let layoutText: String
        do { layoutText = try String(contentsOf: layoutURL, encoding: .utf8) } catch {
            throw ChannelConfigurationError(file: layoutURL.path, line: nil, field: nil, message: "cannot read the e-mail layout")
        }
        emailLayout = try Self.compile(layoutText, allowed: Self.layoutNames, file: layoutURL.path, line: 1, field: nil, text: false)
        var letterURL = file("layout/letter.html")
        if !FileManager.default.fileExists(atPath: letterURL.path) { letterURL = Self.bundledDirectory().appendingPathComponent("layout/letter.html") }
        let letterText: String
        do { letterText = try String(contentsOf: letterURL, encoding: .utf8) } catch {
            throw ChannelConfigurationError(file: letterURL.path, line: nil, field: nil, message: "cannot read the letter layout")
        }
        letterLayout = try Self.compile(letterText, allowed: Self.letterLayoutNames, file: letterURL.path, line: 1, field: nil, text: false)

        var formats: [String: LocaleFormat] = [:]
        var templates: [Key: Entry] = [:]
        for language in languages {
            formats[language] = try LocaleFormat.load(YAMLValue.load(file("\(language)/locale.yaml")))
            for channel in channels {
                let doc = try YAMLValue.load(file("\(language)/\(channel.rawValue).yaml"))
                let purposes = try doc.fields(allowed: Set(MessagePurpose.allCases.map(\.rawValue)))
                for purpose in MessagePurpose.allCases {
                    let p = try purposes.required(purpose.rawValue, in: doc)
                    let tones = try p.fields(allowed: Set(Tone.allCases.map(\.rawValue)))
                    for tone in Tone.allCases {
                        let t = try tones.required(tone.rawValue, in: p)
                        let hasSubject = [.email, .letter, .push].contains(channel)
                        let parts = try t.fields(allowed: hasSubject ? ["subject", "body"] : ["body"])
                        let subject = try hasSubject ? Self.compile(parts.required("subject", in: t)) : nil
                        let bodyValue = try parts.required("body", in: t)
                        let body = try Self.compile(bodyValue)
                        templates[Key(language: language, channel: channel, purpose: purpose, tone: tone)] =
                            Entry(subject: subject, body: body, bodyLine: bodyValue.line)
                    }
                }
            }
        }
        self.formats = formats
        self.templates = templates
        try checkLimits(directory: directory)
    }

    /// The catalogue language for a BCP 47 locale: the exact language if present (`de` for
    /// `de-AT` or `de_CH`), else the default language.
    public func language(for locale: String) -> String {
        let lang = String(locale.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first ?? "")
        return languages.contains(lang) ? lang : defaultLanguage
    }

    /// Fraction digits of `currency` (2 unless `catalogue.yaml` says otherwise).
    public func fractionDigits(_ currency: String) -> Int { currencyDigits[currency] ?? 2 }

    /// Renders the template of `channel`, `purpose`, `tone` in the language of `locale` for `data`.
    /// Never fails: every combination was checked at load time.
    /// - Precondition: `channel` is one of `channels`.
    public func render(_ channel: Channel, purpose: MessagePurpose, tone: Tone, locale: String, data: CaseData) -> RenderedMessage {
        let language = language(for: locale)
        guard let entry = templates[Key(language: language, channel: channel, purpose: purpose, tone: tone)] else {
            preconditionFailure("TemplateCatalogue: no templates for channel \(channel.rawValue); the catalogue has \(channels.map(\.rawValue))")
        }
        let format = formats[language]!
        let values = self.values(data, format: format, channel: channel)
        let subject = entry.subject.map { Self.tidy($0.render(values), singleLine: true) }
        let text = Self.tidy(entry.body.render(values), singleLine: false)
        var html: String?
        if channel == .email {
            html = emailLayout.render(Self.layoutValues(subject: subject ?? "", text: text, language: language, format: format, data: data))
        } else if channel == .letter {
            var values = Self.layoutValues(subject: subject ?? "", text: text, language: language, format: format, data: data)
            values["address"] = data.postalAddress
            values["qr_svg"] = purpose == .paymentConfirmation ? "" : Self.qrSVG(link: data.paymentLink, title: format.payButton)
            html = letterLayout.render(values)
        }
        return RenderedMessage(channel: channel, purpose: purpose, tone: tone, locale: language, subject: subject, text: text, html: html,
                               sms: channel == .sms ? SMSSegments(text) : nil)
    }

    /// The placeholder values for `data`.
    func values(_ data: CaseData, format: LocaleFormat, channel: Channel) -> [String: String] {
        [
            "salutation": format.salutation(name: data.customerName),
            "customer_name": data.customerName ?? "",
            "invoice_number": data.invoiceNumber,
            "amount": format.formatAmount(data.amountMinor, currency: data.currency, digits: fractionDigits(data.currency)),
            "due_date": format.formatDate(data.dueDate),
            "days_overdue": String(data.daysOverdue),
            "days_until_due": String(data.daysUntilDue),
            "payment_deadline": format.formatDate(data.paymentDeadline),
            "payment_link": data.paymentLink,
            "creditor_name": data.creditorName,
            "qr_note": channel == .letter ? format.qrNote : "",
        ]
    }

    static let layoutNames: Set<String> = ["lang", "subject", "paragraphs", "lines", "text", "first", "payment_link", "pay_button",
                                           "creditor_name"]

    static func layoutValues(subject: String, text: String, language: String, format: LocaleFormat, data: CaseData) -> [String: Any] {
        let paragraphs: [[String: Any]] = paragraphTexts(text).map { para in
            let lines = para.split(separator: "\n", omittingEmptySubsequences: false)
            return ["lines": lines.enumerated().map { ["text": String($0.element), "first": $0.offset == 0] as [String: Any] }]
        }
        return ["lang": language, "subject": subject, "paragraphs": paragraphs, "payment_link": data.paymentLink,
                "pay_button": format.payButton, "creditor_name": data.creditorName]
    }

    /// The parts of `text` between blank lines: `text.components(separatedBy: "\n\n")`, in one pass
    /// over the UTF-8 bytes.
    static func paragraphTexts(_ text: String) -> [Substring] {
        var parts: [Substring] = []
        let bytes = text.utf8
        var start = bytes.startIndex, i = start
        while i != bytes.endIndex {
            let next = bytes.index(after: i)
            if bytes[i] == 0x0A, next != bytes.endIndex, bytes[next] == 0x0A {
                parts.append(text[start..<i])
                i = bytes.index(after: next)
                start = i
            } else {
                i = next
            }
        }
        parts.append(text[start...])
        return parts
    }

    static let letterLayoutNames: Set<String> = layoutNames.union(["address", "qr_svg"])

    /// What a letter's QR code holds: the payment link with `src=qr`, so that scans are told from typed links.
    public static func qrLink(_ paymentLink: String) -> String {
        paymentLink + (paymentLink.contains("?") ? "&" : "?") + "src=qr"
    }

    /// The inline SVG of a letter's QR code (error correction M, 4-module quiet zone); empty
    /// without a link, or for a link too long for any QR code (its text is printed all the same).
    static func qrSVG(link: String, title: String) -> String {
        guard !link.isEmpty, let code = try? QRCode(text: qrLink(link)) else { return "" }
        return code.svg(moduleSize: 4, margin: 4, title: title)
    }

    /// Trims trailing spaces of lines and the text's ends; a subject becomes one line.
    static func tidy(_ s: String, singleLine: Bool) -> String {
        guard singleLine else {
            // Trailing spaces and tabs off every line; empty lines at the start and the end dropped. Over
            // the UTF-8 bytes: newline, space and tab never occur inside a multi-byte sequence.
            var text = s
            return text.withUTF8 { bytes in
                var lines: [Range<Int>] = []
                var start = 0
                for i in bytes.indices where bytes[i] == 0x0A {
                    lines.append(start..<i)
                    start = i + 1
                }
                lines.append(start..<bytes.count)
                for k in lines.indices {
                    var end = lines[k].upperBound
                    while end > lines[k].lowerBound, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
                    lines[k] = lines[k].lowerBound..<end
                }
                let first = lines.firstIndex { !$0.isEmpty } ?? lines.endIndex
                let last = lines.lastIndex { !$0.isEmpty } ?? -1
                var out: [UInt8] = []
                out.reserveCapacity(bytes.count)
                if first <= last {
                    for k in first...last {
                        if k > first { out.append(0x0A) }
                        out.append(contentsOf: bytes[lines[k]])
                    }
                }
                return String(decoding: out, as: UTF8.self)
            }
        }
        // Subjects over Unicode scalars, bodies over UTF-8 bytes, not Characters or Foundation's string
        // searches: this runs for every message a run sends.
        let scalars = s.unicodeScalars
        func isSpace(_ c: Unicode.Scalar) -> Bool { c == "\t" || c.properties.generalCategory == .spaceSeparator }
        func isNewline(_ c: Unicode.Scalar) -> Bool {
            switch c { case "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": return true; default: return false }
        }
        var out = String.UnicodeScalarView()
        // The non-empty lines, each trimmed of spaces, joined by one space; the whole trimmed again.
        var line: [Unicode.Scalar] = [], first = true, sawLine = false
        func flush() {
            guard sawLine else { return }
            var a = 0, b = line.count
            while a < b, isSpace(line[a]) { a += 1 }
            while b > a, isSpace(line[b - 1]) { b -= 1 }
            if !first { out.append(" ") }
            out.append(contentsOf: line[a..<b])
            first = false
            line.removeAll(keepingCapacity: true)
            sawLine = false
        }
        for c in scalars {
            if isNewline(c) { flush() } else { line.append(c); sawLine = true }
        }
        flush()
        var text = String(out)
        while let last = text.unicodeScalars.last, isSpace(last) { text.unicodeScalars.removeLast() }
        while let head = text.unicodeScalars.first, isSpace(head) { text.unicodeScalars.removeFirst() }
        return text
    }

    /// Compiles a template text field after checking its tags.
    static func compile(_ value: YAMLValue) throws -> TextTemplate {
        let text = try value.string()
        let firstLine = (value.line ?? 1) + (value.isBlockScalar ? 1 : 0)
        return TextTemplate(source: text, mustache: try compile(text, allowed: Set(placeholders), file: value.file, line: firstLine,
                                                                field: value.path, text: true))
    }

    /// Checks every `{{...}}` tag of `source` (names in `allowed`; no partials, no delimiter
    /// changes, no pragmas) and compiles it; errors name the line of the offending tag.
    static func compile(_ source: String, allowed: Set<String>, file: String, line: Int, field: String?, text: Bool) throws -> MustacheTemplate {
        func fail(_ offset: String.Index, _ message: String) -> ChannelConfigurationError {
            let l = line + source[..<offset].filter { $0 == "\n" }.count
            return ChannelConfigurationError(file: file, line: l, field: field, message: message)
        }
        var i = source.startIndex
        while let open = source[i...].range(of: "{{") {
            let triple = source[open.upperBound...].hasPrefix("{")
            let closeToken = triple ? "}}}" : "}}"
            guard let close = source[open.upperBound...].range(of: closeToken) else {
                throw fail(open.lowerBound, "a tag opened with {{ is never closed")
            }
            var inner = source[open.upperBound..<close.lowerBound]
            if triple { inner = inner.dropFirst() }
            let sigil = inner.first
            switch sigil {
            case "!": break
            case ">", "<", "$", "=", "%":
                throw fail(open.lowerBound, "the tag {{\(inner)}} is not allowed in templates (no partials, blocks, delimiter changes or pragmas)")
            default:
                var name = inner
                if let s = sigil, "#^/&".contains(s) { name = name.dropFirst() }
                let trimmed = name.trimmingCharacters(in: .whitespaces)
                guard allowed.contains(trimmed) || (trimmed == "." && !text) else {
                    throw fail(open.lowerBound, "unknown placeholder {{\(trimmed)}}; templates may use \(allowed.sorted().joined(separator: ", "))")
                }
            }
            i = close.upperBound
        }
        do {
            return try MustacheTemplate(string: (text ? "{{% CONTENT_TYPE: TEXT}}" : HTMLEscaping.pragma) + source)
        } catch {
            throw ChannelConfigurationError(file: file, line: line, field: field, message: "not a valid template: \(error)")
        }
    }

    /// Renders every SMS and push template with a worst-case case (long name, large amount, long
    /// link) and checks the limits.
    func checkLimits(directory: URL) throws {
        let worst = CaseData(customerName: "Maximiliane Mustermann-Schulze", invoiceNumber: "RE-2026-0001234567", amountMinor: 9_999_999,
                             currency: "EUR", dueDate: CalendarDate(year: 2026, month: 12, day: 28),
                             asOf: CalendarDate(year: 2027, month: 2, day: 28), paymentLink: "https://pay.example.com/p/AbCdEfGh12",
                             creditorName: "Stadtwerke Musterstadt")
        let keys = templates.keys.filter { $0.channel == .sms || $0.channel == .push }.sorted {
            ($0.language, $0.channel.index, $0.purpose.rawValue, $0.tone.index) < ($1.language, $1.channel.index, $1.purpose.rawValue, $1.tone.index)
        }
        for key in keys {
            let entry = templates[key]!
            let r = render(key.channel, purpose: key.purpose, tone: key.tone, locale: key.language, data: worst)
            let where_ = "\(key.purpose.rawValue).\(key.tone.rawValue).body"
            let path = directory.appendingPathComponent("\(key.language)/\(key.channel.rawValue).yaml").path
            if let s = r.sms, s.segments > smsMaxSegments {
                let why = s.encoding == .ucs2 ? " (UCS-2 because of \(s.nonGSMCharacters.map { "'\($0)'" }.joined(separator: " ")))" : ""
                throw ChannelConfigurationError(file: path, line: entry.bodyLine, field: where_,
                                                message: "with a long name and amount the SMS takes \(s.segments) segments\(why), \(s.units) units; at most \(smsMaxSegments) allowed")
            }
            if key.channel == .push && r.text.count > pushMaxCharacters {
                throw ChannelConfigurationError(file: path, line: entry.bodyLine, field: where_,
                                                message: "with a long name and amount the push text has \(r.text.count) characters; at most \(pushMaxCharacters) allowed")
            }
        }
    }
}
