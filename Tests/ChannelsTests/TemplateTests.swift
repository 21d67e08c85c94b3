import Foundation
import Mustache
import Testing
import Vocabulary
import FeatureStore
@testable import Channels

@Suite("Message templates")
struct TemplateTests {
    static let caseData = CaseData(customerName: "Erika Mustermann", invoiceNumber: "RE-2026-0042", amountMinor: 123_456, currency: "EUR",
                                   dueDate: CalendarDate(year: 2026, month: 3, day: 5), asOf: CalendarDate(year: 2026, month: 3, day: 19),
                                   paymentLink: "https://pay.example.com/p/x7", creditorName: "Stadtwerke Musterstadt")

    @Test("the bundled catalogue covers every channel, purpose and tone in de and en")
    func coverage() throws {
        let c = try TemplateCatalogue.bundled()
        #expect(c.languages == ["de", "en"])
        #expect(Set(c.channels) == Set(Channel.allCases))
        #expect(c.templates.count == 2 * Channel.allCases.count * MessagePurpose.allCases.count * Tone.allCases.count)
    }

    @Test("every template renders in de and en for each tone without leftover placeholders")
    func everyTemplateRenders() throws {
        let c = try TemplateCatalogue.bundled()
        for language in ["de", "en"] {
            for channel in Channel.allCases {
                for purpose in MessagePurpose.allCases {
                    for tone in Tone.allCases {
                        let r = c.render(channel, purpose: purpose, tone: tone, locale: language, data: Self.caseData)
                        let label = "\(language)/\(channel.rawValue)/\(purpose.rawValue)/\(tone.rawValue)"
                        #expect(r.locale == language, "\(label)")
                        #expect(!r.text.isEmpty, "\(label)")
                        for part in [r.text, r.subject ?? "", r.html ?? ""] {
                            #expect(!part.contains("{{") && !part.contains("}}"), "\(label): \(part)")
                        }
                        #expect((r.subject != nil) == [.email, .letter, .push].contains(channel), "\(label)")
                        #expect((r.html != nil) == (channel == .email || channel == .letter), "\(label)")
                        if channel == .letter {
                            // The printable letter: the QR code of the link (none on a payment confirmation).
                            #expect(r.html!.contains("<svg xmlns=\"http://www.w3.org/2000/svg\"") == (purpose != .paymentConfirmation), "\(label)")
                        }
                        if channel != .robocall && purpose != .paymentConfirmation {
                            #expect(r.text.contains("https://pay.example.com/p/x7") || channel == .push, "\(label) lacks the payment link")
                        }
                        if channel == .letter && purpose != .paymentConfirmation { #expect(r.text.contains(c.formats[language]!.qrNote), "\(label) lacks the QR note") }
                        if channel == .sms {
                            let s = try #require(r.sms)
                            #expect(s.encoding == .gsm7, "\(label): \(s.nonGSMCharacters)")
                            #expect(s.segments >= 1 && s.segments <= 2, "\(label): \(s)")
                        }
                        if [.email, .letter, .whatsapp].contains(channel) {
                            #expect(r.text.contains("Erika Mustermann"), "\(label) lacks the greeting")
                        }
                    }
                }
            }
        }
    }

    /// The Foundation formulation `tidy` replaced (Characters, `trimmingCharacters`, `components`).
    static func referenceTidy(_ s: String, singleLine: Bool) -> String {
        if singleLine {
            return s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
        }
        var lines = s.components(separatedBy: "\n").map { line -> String in
            var l = Substring(line)
            while let last = l.last, last == " " || last == "\t" { l = l.dropLast() }
            return String(l)
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    @Test("tidying rendered text gives what the Foundation formulation gives, also for odd spacing and non-ASCII text")
    func tidyMatchesReference() {
        var samples = ["", " ", "\n", "\n\n a \n", "Sehr geehrte Frau Müller,  \n\n  bitte zahlen Sie\t\n\n\n",
                       "\t Betreff:\u{00A0}Mahnung \u{2003}\n", "line\u{2028}next", "a\u{0B}b\u{0C}c\u{85}d", " x \n \n y ",
                       "Größe 😀 \n\t\n", "\u{3000}全角\u{3000}\n次"]
        var rng = SystemRandomNumberGenerator()
        let alphabet: [String] = ["a", "Z", "ü", " ", "  ", "\t", "\n", "\n\n", "\u{00A0}", "\u{2009}", "é", "€", "\u{2028}", "-"]
        for _ in 0..<500 { samples.append((0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()) }
        for sample in samples {
            #expect(TemplateCatalogue.tidy(sample, singleLine: true) == Self.referenceTidy(sample, singleLine: true), "\(sample.debugDescription)")
            #expect(TemplateCatalogue.tidy(sample, singleLine: false) == Self.referenceTidy(sample, singleLine: false), "\(sample.debugDescription)")
        }
    }

    @Test("splitting paragraphs and filling placeholders in one pass give what Foundation's components and replacingOccurrences give")
    func onePassHelpersMatchFoundation() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = ["a", "ü", " ", "\n", "\n\n", "\n\n\n", "{", "}", "{amount}", "{symbol}", "{name}", "€", "😀"]
        var samples = ["", "\n\n", "a\n\nb", "{amount} {symbol}", "{symbol}{amount}", "{{amount}}"]
        for _ in 0..<500 { samples.append((0..<Int.random(in: 0...16, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()) }
        for sample in samples {
            #expect(TemplateCatalogue.paragraphTexts(sample).map(String.init) == sample.components(separatedBy: "\n\n"), "\(sample.debugDescription)")
            let filled = sample.replacingOccurrences(of: "{amount}", with: "1.234,56").replacingOccurrences(of: "{symbol}", with: "€")
            #expect(LocaleFormat.fill(sample, ["{amount}": "1.234,56", "{symbol}": "€"]) == filled, "\(sample.debugDescription)")
        }
    }

    @Test("templates that only fill in placeholders render by concatenation exactly what Mustache renders, for awkward values too")
    func plainTemplatesMatchMustache() throws {
        let c = try TemplateCatalogue.bundled()
        let awkward = ["", "{{amount}}", "<b>&amp;\"'</b>", "Zeile\nzwei  ", "Grüße 🙂 \u{301}e", "}}{{", "\\", String(repeating: "x", count: 500)]
        var rng = SystemRandomNumberGenerator()
        var checked = 0
        for (key, entry) in c.templates.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            for template in [entry.subject, entry.body].compactMap({ $0 }) {
                // Every bundled subject and body is of the plain kind.
                #expect(template.pieces != nil, "\(key) needs Mustache")
                for round in 0..<6 {
                    var values = c.values(Self.caseData, format: c.formats[key.language]!, channel: key.channel)
                    for name in values.keys where round > 0 && Bool.random(using: &rng) { values[name] = awkward.randomElement(using: &rng)! }
                    if round == 5 { values.removeValue(forKey: values.keys.sorted().first!) }
                    #expect(template.render(values) == template.renderedByMustache(values), "\(key) \(values)")
                    checked += 1
                }
            }
        }
        #expect(checked > 1_000)
        // Sections, inverted sections and comments are left to Mustache.
        let sections = "{{#amount}}fällig: {{amount}}{{/amount}}{{^due_date}}ohne Datum{{/due_date}}\n{{! note }}\nEnde {{{payment_link}}} {{& creditor_name }}"
        let t = TextTemplate(source: sections, mustache: try TemplateCatalogue.compile(sections, allowed: Set(TemplateCatalogue.placeholders),
                                                                                         file: "t", line: 1, field: nil, text: true))
        #expect(t.pieces == nil)
        #expect(t.render(["amount": "5 €", "payment_link": "<a>", "creditor_name": "&"]) == "fällig: 5 €ohne Datum\nEnde <a> &")
        let plain = "Betrag {{ amount }} / {{{payment_link}}} / {{&creditor_name}} / {{unknown_name}}."
        let p = TextTemplate(source: plain, mustache: try TemplateCatalogue.compile(plain, allowed: Set(TemplateCatalogue.placeholders + ["unknown_name"]),
                                                                                     file: "t", line: 1, field: nil, text: true))
        #expect(p.pieces == [.literal("Betrag "), .placeholder("amount"), .literal(" / "), .placeholder("payment_link"), .literal(" / "),
                             .placeholder("creditor_name"), .literal(" / "), .placeholder("unknown_name"), .literal(".")])
        let v = ["amount": "<1 €>", "payment_link": "https://x/?a=1&b=2", "creditor_name": "A & B"]
        #expect(p.render(v) == "Betrag <1 €> / https://x/?a=1&b=2 / A & B / .")
        #expect(p.render(v) == p.renderedByMustache(v))
    }

    @Test("the layouts' HTML escaping gives what Mustache's gives, and also escapes a '<' that a combining mark follows")
    func htmlEscaping() throws {
        let theirs = try MustacheTemplate(string: "<p title=\"{{x}}\">{{x}}</p>{{{x}}}")
        let ours = try MustacheTemplate(string: HTMLEscaping.pragma + "<p title=\"{{x}}\">{{x}}</p>{{{x}}}")
        let alphabet: [String] = ["<", ">", "&", "\"", "'", "a", "ß", "€", "🙂", " ", "\n", "&amp;", "\u{0}", "\r\n"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...24, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
            #expect(ours.render(["x": text]) == theirs.render(["x": text]), "\(text.debugDescription)")
        }
        #expect(HTMLEscaping.escape("<\u{301}script>") == "&lt;\u{301}script&gt;")
        #expect(HTMLEscaping.escape("plain text, nothing to do") == "plain text, nothing to do")
    }

    @Test("amounts and dates are written per locale")
    func localeFormats() throws {
        let c = try TemplateCatalogue.bundled()
        let de = c.formats["de"]!, en = c.formats["en"]!
        #expect(de.formatAmount(123_456, currency: "EUR", digits: 2) == "1.234,56 €")
        #expect(en.formatAmount(123_456, currency: "EUR", digits: 2) == "€1,234.56")
        #expect(en.formatAmount(5, currency: "GBP", digits: 2) == "£0.05")
        #expect(de.formatAmount(100_000_000, currency: "CHF", digits: 2) == "1.000.000,00 CHF")
        #expect(en.formatAmount(1_234_567, currency: "JPY", digits: c.fractionDigits("JPY")) == "JPY1,234,567")
        #expect(de.formatAmount(-250, currency: "SEK", digits: 2) == "-2,50 SEK")
        #expect(de.formatDate(CalendarDate(year: 2026, month: 3, day: 5)) == "05.03.2026")
        #expect(en.formatDate(CalendarDate(year: 2026, month: 3, day: 5)) == "5 March 2026")
        #expect(c.language(for: "de-AT") == "de")
        #expect(c.language(for: "de_CH") == "de")
        #expect(c.language(for: "fr-FR") == "en")
    }

    @Test("an SMS reminder renders exactly, with its segment count")
    func exactSMS() throws {
        let c = try TemplateCatalogue.bundled()
        let de = c.render(.sms, purpose: .reminder, tone: .neutral, locale: "de-DE", data: Self.caseData)
        #expect(de.text == "Stadtwerke Musterstadt: Rechnung RE-2026-0042 (1.234,56 €) ist seit 14 Tagen überfällig. Bitte bezahlen: https://pay.example.com/p/x7")
        #expect(de.sms == SMSSegments(de.text))
        #expect(de.sms?.units == 134 && de.sms?.segments == 1)
        let en = c.render(.sms, purpose: .firstDunning, tone: .firm, locale: "en-GB", data: Self.caseData)
        #expect(en.text == "Stadtwerke Musterstadt: 1st reminder, invoice RE-2026-0042 (€1,234.56) is 14 days overdue. Pay by 2 April 2026: https://pay.example.com/p/x7")
    }

    @Test("e-mails get an HTML part with the text escaped; the plain text is not escaped")
    func emailHTML() throws {
        let c = try TemplateCatalogue.bundled()
        var data = Self.caseData
        data.customerName = "Tom & <Jerry>"
        let r = c.render(.email, purpose: .reminder, tone: .friendly, locale: "en", data: data)
        #expect(r.subject == "A small reminder: invoice RE-2026-0042")
        #expect(r.text.hasPrefix("Dear Tom & <Jerry>,\n\nit can easily slip the mind"))
        let html = try #require(r.html)
        #expect(html.contains("Dear Tom &amp; &lt;Jerry&gt;,"))
        #expect(!html.contains("<Jerry>"))
        #expect(html.contains("<a href=\"https://pay.example.com/p/x7\""))
        #expect(html.contains("<html lang=\"en\">"))
        let anonymous = c.render(.email, purpose: .reminder, tone: .neutral, locale: "de",
                                 data: CaseData(customerName: nil, invoiceNumber: "R1", amountMinor: 100, currency: "EUR",
                                                dueDate: CalendarDate(year: 2026, month: 3, day: 5),
                                                asOf: CalendarDate(year: 2026, month: 3, day: 4), paymentLink: "https://p.example/1",
                                                creditorName: "ACME"))
        #expect(anonymous.text.hasPrefix("Guten Tag,\n\nnach unseren Unterlagen"))
        #expect(anonymous.text.contains("(0 Tage überfällig)"))
    }

    /// Copies the bundled templates to a temporary directory and applies `edit` to one file.
    func catalogueError(file: String, _ edit: (String) -> String) throws -> ChannelConfigurationError {
        let dir = try temporaryDirectory()
        defer { cleanUp(dir) }
        let copy = dir.appendingPathComponent("templates")
        try FileManager.default.copyItem(at: TemplateCatalogue.bundledDirectory(), to: copy)
        let target = copy.appendingPathComponent(file)
        try edit(String(contentsOf: target, encoding: .utf8)).write(to: target, atomically: true, encoding: .utf8)
        do {
            _ = try TemplateCatalogue(directory: copy)
        } catch let e as ChannelConfigurationError {
            return e
        }
        Issue.record("the edited catalogue loaded")
        return ChannelConfigurationError(file: "", line: nil, field: nil, message: "")
    }

    @Test("an unknown placeholder is an error at load time naming file, line and field")
    func unknownPlaceholder() throws {
        let e = try catalogueError(file: "en/email.yaml") {
            $0.replacingOccurrences(of: "it can easily slip the mind: invoice {{invoice_number}}",
                                    with: "it can easily slip the mind: invoice {{invoice_numbr}}")
        }
        #expect(e.file.hasSuffix("en/email.yaml"))
        #expect(e.field == "reminder.friendly.body")
        #expect(e.message.hasPrefix("unknown placeholder {{invoice_numbr}}"))
        let lines = try String(contentsOf: TemplateCatalogue.bundledDirectory().appendingPathComponent("en/email.yaml"), encoding: .utf8)
            .components(separatedBy: "\n")
        let expected = try #require(lines.firstIndex { $0.contains("it can easily slip the mind") }) + 1
        #expect(e.line == expected)
    }

    @Test("a missing tone, an unknown field and a too long SMS are load-time errors")
    func structuralErrors() throws {
        let missing = try catalogueError(file: "de/robocall.yaml") { text in
            var lines = text.components(separatedBy: "\n")
            let k = lines.firstIndex { $0 == "payment_plan_offer:" }!
            lines.removeSubrange((k + 5)...(k + 6))  // the firm tone
            return lines.joined(separator: "\n")
        }
        #expect(missing.field == "payment_plan_offer.firm")
        #expect(missing.message == "missing field")

        let unknown = try catalogueError(file: "en/sms.yaml") { $0.replacingOccurrences(of: "pre_due:\n  friendly:\n    body:", with: "pre_due:\n  friendly:\n    text:") }
        #expect(unknown.field == "pre_due.friendly.text")
        #expect(unknown.line == 5)
        #expect(unknown.message.hasPrefix("unknown field; expected one of body"))

        let long = try catalogueError(file: "de/sms.yaml") {
            $0.replacingOccurrences(of: "Online bezahlen: {{payment_link}}",
                                    with: "Sie können ganz bequem online bezahlen, mit Karte, Überweisung, Lastschrift oder in Raten, und es dauert wirklich nur eine Minute. Bei Fragen rufen Sie uns gern an, wir helfen Ihnen weiter: {{payment_link}}")
        }
        #expect(long.field == "pre_due.neutral.body")
        #expect(long.message.contains("the SMS takes 3 segments"))
        #expect(long.line == 8)

        let typographic = try catalogueError(file: "de/sms.yaml") {
            $0.replacingOccurrences(of: "Online bezahlen: {{payment_link}}", with: "„Online“ bezahlen – {{payment_link}}")
        }
        #expect(typographic.message.contains("UCS-2 because of '„' '“' '–'"))
    }
}
