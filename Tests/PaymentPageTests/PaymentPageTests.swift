import Channels
import FeatureStore
import Flows
import Foundation
import Orchestrator
import PaymentPage
import QRCodes
import Testing
import Vocabulary

@Suite("Payment page", .serialized)
struct PaymentPageTests {
    @Test("The German page shows the invoice, the pay button and an accessible enrichment form; the visit is recorded",
          arguments: Backend.available)
    func german(_ backend: Backend) async throws {
        let f = try await PageFixture(backend)
        let r = await f.pages.page(token: f.token("C7", "I7"), query: [:], acceptLanguage: "de-DE,de;q=0.9,en;q=0.8")
        #expect(r.status == 200)
        #expect(r.contentType == "text/html; charset=utf-8")
        #expect(r.header("Content-Language") == "de")
        #expect(r.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        #expect(r.header("Referrer-Policy") == "no-referrer")
        let html = r.text
        #expect(html.hasPrefix("<!doctype html>\n<html lang=\"de\">"))
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        #expect(html.contains("<title>Rechnung bezahlen</title>"))
        for value in ["pom demo GmbH", "<dt>Rechnungsnummer</dt><dd>I7</dd>", "<dd>120,00 €</dd>", "<dt>Fällig am</dt><dd>01.03.2026</dd>",
                      "Jetzt bezahlen (120,00 €)"] {
            #expect(html.contains(value), "\(value)")
        }
        #expect(html.contains("<label for=\"email\">E-Mail-Adresse</label>"))
        #expect(html.contains("<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" inputmode=\"email\" spellcheck=\"false\" value=\"\" aria-describedby=\"email-hint\">"))
        #expect(html.contains("<label for=\"mobile\">Handynummer</label>"))
        #expect(html.contains("<legend>Bevorzugter Weg für Erinnerungen</legend>"))
        #expect(html.contains("<input type=\"radio\" id=\"preferred-none\" name=\"preferred\" value=\"none\" checked>"))
        #expect(html.contains("<input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\">"))
        #expect(html.contains("action=\"/p/\(f.token("C7", "I7"))/contact?lang=de\""))
        #expect(!html.contains("<script") && !html.contains("http://") && !html.contains("src=\"http"))
        #expect(!html.contains("I8") && !html.contains("75,50"))
        let visits = try await f.events(.pageVisit)
        #expect(visits.count == 1)
        #expect(Schema.events.value(visits[0], "invoice_id").text == "I7")
        try await f.store.close()
    }

    @Test("?lang=en wins over Accept-Language; a QR scan is recorded as such", arguments: Backend.available)
    func english(_ backend: Backend) async throws {
        let f = try await PageFixture(backend)
        let r = await f.pages.page(token: f.token("C7", "I7"), query: ["lang": "en", "src": "qr"], acceptLanguage: "de-DE")
        let html = r.text
        #expect(html.contains("<html lang=\"en\">"))
        #expect(html.contains("<title>Pay your invoice</title>"))
        #expect(html.contains("<dd>€120.00</dd>") && html.contains("<dd>1 March 2026</dd>"))
        #expect(html.contains("<label for=\"email\">E-mail address</label>"))
        #expect(html.contains("hreflang=\"de\" lang=\"de\">Deutsch</a>"))
        #expect(html.contains("hreflang=\"en\" lang=\"en\" aria-current=\"true\">English</a>"))
        #expect(try await f.events(.qrScan).count == 1)
        #expect(try await f.events(.pageVisit).isEmpty)
        try await f.store.close()
    }

    @Test("Language: ?lang=, then Accept-Language by weight, then the customer's locale, then the default")
    func languages() {
        let all: Set<String> = ["de", "en"]
        func pick(_ q: String?, _ h: String?, _ fallbacks: [String] = []) -> String {
            LanguageChoice.choose(query: q, acceptLanguage: h, fallbacks: fallbacks, available: all, defaultLanguage: "de")
        }
        #expect(pick("EN", "de") == "en")
        #expect(pick("fr", "fr-CH, en;q=0.9, de;q=0.8") == "en")
        #expect(pick(nil, "de;q=0.1, en;q=0") == "de")
        #expect(pick(nil, "en-US;q=0.5, de-AT;q=0.7") == "de")
        #expect(pick(nil, "fr", ["en-GB"]) == "en")
        #expect(pick(nil, nil, ["it"]) == "de")
    }

    @Test("Invalid input re-renders the form with the user's input, an error summary linked to the fields and nothing stored",
          arguments: Backend.available)
    func validation(_ backend: Backend) async throws {
        let f = try await PageFixture(backend)
        let token = f.token("C7", "I7")
        let page = await f.pages.page(token: token, query: [:], acceptLanguage: "de")
        let formToken = try PageFixture.formToken(in: page.text)
        let before = try await f.rows(Schema.contactPoints).count
        let r = await f.pages.contact(token: token, body: form(["form_token": formToken, "email": "<b>anna</b>@", "mobile": "030 12345678",
                                                                "preferred": "sms"]),
                                      query: ["lang": "de"], acceptLanguage: nil)
        #expect(r.status == 422)
        let html = r.text
        #expect(html.contains("<title>Fehler: Rechnung bezahlen</title>"))
        #expect(html.contains("<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\" tabindex=\"-1\">"))
        #expect(html.contains("<li><a href=\"#email\">Geben Sie eine gültige E-Mail-Adresse ein"))
        #expect(html.contains("<li><a href=\"#mobile\">Das ist keine Handynummer. Geben Sie eine Nummer ein, die SMS empfangen kann.</a></li>"))
        #expect(html.contains("<li><a href=\"#consent\">Bestätigen Sie, dass wir Sie über diese Kontaktdaten benachrichtigen dürfen.</a></li>"))
        // The input comes back escaped, tied to its message.
        #expect(html.contains("value=\"&lt;b&gt;anna&lt;/b&gt;@\" aria-describedby=\"email-hint email-error\" aria-invalid=\"true\">"))
        #expect(!html.contains("<b>anna"))
        #expect(html.contains("<p id=\"email-error\" class=\"error-message\">"))
        #expect(html.contains("value=\"030 12345678\" aria-describedby=\"mobile-hint mobile-error\" aria-invalid=\"true\">"))
        #expect(html.contains("<input type=\"radio\" id=\"preferred-sms\" name=\"preferred\" value=\"sms\" checked>"))
        #expect(try await f.rows(Schema.contactPoints).count == before)
        #expect(try await f.events(.contactSubmitted).isEmpty)

        // English messages carry the validator's reason.
        let en = await f.pages.contact(token: token, body: form(["form_token": formToken, "email": "anna.example.org"]),
                                       query: ["lang": "en"], acceptLanguage: nil)
        #expect(en.text.contains("<li><a href=\"#email\">Enter a valid e-mail address: there is no @; an address looks like name@example.org.</a></li>"))
        // Nothing at all is an error too.
        let empty = await f.pages.contact(token: token, body: form(["form_token": formToken, "preferred": "none"]), query: ["lang": "en"],
                                          acceptLanguage: nil)
        #expect(empty.status == 422 && empty.text.contains("Enter an e-mail address or mobile number, or choose a preferred way."))
        // Preferring e-mail needs an address.
        let noAddress = await f.pages.contact(token: token, body: form(["form_token": formToken, "preferred": "email"]), query: ["lang": "en"],
                                              acceptLanguage: nil)
        #expect(noAddress.text.contains("<li><a href=\"#preferred-email\">To be reminded by e-mail, enter your e-mail address.</a></li>"))
        #expect(noAddress.text.contains("<fieldset class=\"field has-error\" aria-describedby=\"preferred-error\">"))
        try await f.store.close()
    }

    @Test("A likely typo is asked back; submitting the same address again stores it", arguments: Backend.available)
    func typoConfirmation(_ backend: Backend) async throws {
        let f = try await PageFixture(backend)
        let token = f.token("C7", "I7")
        let formToken = try PageFixture.formToken(in: await f.pages.page(token: token, query: [:], acceptLanguage: nil).text)
        let first = await f.pages.contact(token: token, body: form(["form_token": formToken, "email": "erika@gmial.com", "consent": "yes"]),
                                          query: [:], acceptLanguage: "de")
        #expect(first.status == 422)
        #expect(first.text.contains("Meinten Sie erika@gmail.com? Wenn Ihre Adresse stimmt, senden Sie das Formular noch einmal ab."))
        #expect(first.text.contains("<input type=\"hidden\" name=\"email_confirmed\" value=\"erika@gmial.com\">"))
        let second = await f.pages.contact(token: token, body: form(["form_token": formToken, "email": "erika@gmial.com", "consent": "yes",
                                                                     "email_confirmed": "erika@gmial.com"]),
                                           query: [:], acceptLanguage: "de")
        #expect(second.status == 200)
        let points = try await f.rows(Schema.contactPoints).filter { Schema.contactPoints.value($0, "kind").text == "email" }
        #expect(points.map { Schema.contactPoints.value($0, "value").text } == ["erika@gmial.com"])
        try await f.store.close()
    }

    @Test("A valid submission stores the contact points with source and consent, and the preferred channel",
          arguments: Backend.available)
    func contactStored(_ backend: Backend) async throws {
        let f = try await PageFixture(backend)
        let token = f.token("C7", "I7")
        let formToken = try PageFixture.formToken(in: await f.pages.page(token: token, query: [:], acceptLanguage: nil).text)
        let body = form(["form_token": formToken, "email": " Erika@Mustermann.DE ", "mobile": "0151 23456789", "preferred": "sms",
                         "consent": "yes"])
        let r = await f.pages.contact(token: token, body: body, query: ["lang": "de"], acceptLanguage: nil)
        #expect(r.status == 200)
        #expect(r.text.contains("<h1>Gespeichert. Vielen Dank!</h1>"))
        #expect(r.text.contains("<li>E-Mail-Adresse: Erika@mustermann.de</li>"))
        #expect(r.text.contains("<li>Handynummer: +4915123456789</li>"))
        #expect(r.text.contains("<li>Bevorzugter Weg: SMS</li>"))
        let cp = Schema.contactPoints
        let stored = try await f.rows(cp).filter { cp.value($0, "source").text == "payment_page" }
            .sorted { cp.value($0, "kind").text! < cp.value($1, "kind").text! }
        #expect(stored.count == 2)
        #expect(stored.map { cp.value($0, "value").text } == ["Erika@mustermann.de", "+4915123456789"])
        #expect(stored.map { cp.value($0, "phone_type").text } == [nil, "mobile"])
        #expect(stored.allSatisfy { cp.value($0, "consent").integer == 1 && cp.value($0, "validation").text == "valid" })
        #expect(stored.allSatisfy { cp.value($0, "customer_id").text == "C7" })
        let versions = try await f.rows(Schema.contactPointVersions).filter { cp.value($0, "source").text == "payment_page" }
        #expect(Set(versions.map { cp.value($0, "id").text! }) == Set(stored.map { cp.value($0, "id").text! }))
        let customer = try await f.store.rows(of: Schema.customers, customerIds: ["C7"])[0]
        #expect(Schema.customers.value(customer, "preferred_channel").text == "sms")
        let submitted = try await f.events(.contactSubmitted)
        #expect(Set(submitted.map { Schema.events.value($0, "contact_point_id").text! }) == Set(stored.map { cp.value($0, "id").text! }))
        let preferred = try await f.events(.preferredChannelSet)
        #expect(preferred.map { Schema.events.value($0, "channel").text } == ["sms"])
        // Submitting the same form again (a reload) stores nothing new.
        _ = await f.pages.contact(token: token, body: body, query: ["lang": "de"], acceptLanguage: nil)
        #expect(try await f.events(.contactSubmitted).count == 2)
        // The other customer is untouched.
        let other = try await f.store.rows(of: Schema.customers, customerIds: ["C8"])[0]
        #expect(Schema.customers.value(other, "preferred_channel").isNull)
        try await f.store.close()
    }

    @Test("Tampered, forged, unknown and expired tokens get a plain page without any invoice data; forms need their own page's token",
          arguments: Backend.available)
    func refusedTokens(_ backend: Backend) async throws {
        let f = try await PageFixture(backend)
        let good = f.token("C7", "I7")
        let other = f.token("C8", "I8")
        var tampered = Array(good)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == "A" ? "B" : "A"
        let forged = String(other.split(separator: ".")[0]) + "." + String(good.split(separator: ".")[1])
        let wrongSecret = PaymentLink.token(customerId: "C7", invoiceId: "I7", secret: "guess", expires: preDue.addingTimeInterval(86_400))
        let unknown = f.token("C7", "I99")
        let expired = f.token("C7", "I7", expires: preDue)
        for (token, status) in [(String(tampered), 404), (forged, 404), (wrongSecret, 404), (unknown, 404), ("x", 404), (expired, 410)] {
            let r = await f.pages.page(token: token, query: [:], acceptLanguage: "de")
            #expect(r.status == status, "\(token)")
            for secret in ["I7", "I8", "120,00", "75,50", "C7", "pom demo GmbH", "form_token"] {
                #expect(!r.text.contains(secret), "\(token) shows \(secret)")
            }
            #expect(r.text.contains(status == 410 ? "<h1>Link abgelaufen</h1>" : "<h1>Link ungültig</h1>"))
            // The QR image of a correctly signed link shows nothing but the link: only bad signatures and expiry count there.
            let qrStatus = token == unknown ? 200 : 404
            #expect(f.pages.qrSVG(token: token).status == qrStatus)
            #expect(f.pages.qrPNG(token: token).status == qrStatus)
            let post = await f.pages.contact(token: token, body: form(["email": "a@example.org"]), query: [:], acceptLanguage: nil)
            #expect(post.status == status)
        }
        // The token of I8 shows I8 only.
        let r8 = await f.pages.page(token: other, query: [:], acceptLanguage: nil)
        #expect(r8.status == 200 && r8.text.contains("<dd>I8</dd>") && r8.text.contains("€75.50") && !r8.text.contains("I7"))
        // A form token of page I8 does not work on page I7, and a missing one neither.
        let formToken8 = try PageFixture.formToken(in: r8.text)
        let cross = await f.pages.contact(token: good, body: form(["form_token": formToken8, "email": "mallory@example.org", "consent": "yes"]),
                                          query: [:], acceptLanguage: "en")
        #expect(cross.status == 403 && cross.text.contains("The form has expired. Please submit it again."))
        let none = await f.pages.pay(token: good, body: form([:]), query: [:], acceptLanguage: "en")
        #expect(none.status == 403)
        // A form token older than its lifetime is refused.
        let formToken7 = try PageFixture.formToken(in: await f.pages.page(token: good, query: [:], acceptLanguage: nil).text)
        f.clock.set(f.clock.now.addingTimeInterval(5 * 3600))
        let late = await f.pages.contact(token: good, body: form(["form_token": formToken7, "email": "erika@mustermann.de", "consent": "yes"]),
                                         query: [:], acceptLanguage: "en")
        #expect(late.status == 403)
        #expect(try await f.events(.contactSubmitted).isEmpty)
        #expect(try await f.rows(Schema.contactPoints).count == 2)
        try await f.store.close()
    }

    @Test("The test provider's payment is recorded through event ingest: the invoice is paid and the page says so",
          arguments: Backend.available)
    func payment(_ backend: Backend) async throws {
        let f = try await PageFixture(backend)
        let token = f.token("C7", "I7")
        let formToken = try PageFixture.formToken(in: await f.pages.page(token: token, query: [:], acceptLanguage: nil).text)
        let r = await f.pages.pay(token: token, body: form(["form_token": formToken]), query: ["lang": "en"], acceptLanguage: nil)
        #expect(r.status == 200)
        #expect(r.text.contains("<h1>Payment received</h1>"))
        #expect(r.text.contains("Thank you! Your payment of €120.00 for invoice I7 has been received."))
        let payments = try await f.rows(Schema.payments)
        #expect(payments.count == 1)
        #expect(Schema.payments.value(payments[0], "amount_minor").integer == 12_000)
        let invoice = try await f.store.rows(of: Schema.invoices, keys: [["C7", "I7"]])[0]
        #expect(Schema.invoices.value(invoice, "status").text == "paid")
        // Paying twice from the same page (a double click) pays once; the page now says paid.
        let again = await f.pages.pay(token: token, body: form(["form_token": formToken]), query: ["lang": "en"], acceptLanguage: nil)
        #expect(again.text.contains("Nothing is left to pay on this invoice."))
        #expect(try await f.rows(Schema.payments).count == 1)
        let page = await f.pages.page(token: token, query: ["lang": "en"], acceptLanguage: nil)
        #expect(page.text.contains("This invoice is paid. Thank you!") && !page.text.contains("id=\"pay-button\""))
        try await f.store.close()
    }

    /// A provider with a hosted checkout.
    struct RedirectProvider: PaymentProvider {
        let name = "hosted"
        let redirectOrigins = ["https://checkout.example.net"]
        func start(_ request: PaymentRequest) async throws -> PaymentStart {
            .redirect(url: "https://checkout.example.net/s/\(request.invoiceId)?amount=\(request.amountMinor)&back=\(request.returnURL)")
        }
    }

    @Test("A provider with a hosted checkout gets a 303 to its page and the CSP allows the form to go there")
    func redirect() async throws {
        let f = try await PageFixture(.sqlite, provider: RedirectProvider())
        let token = f.token("C7", "I7")
        let page = await f.pages.page(token: token, query: [:], acceptLanguage: nil)
        #expect(page.header("Content-Security-Policy")?.contains("form-action 'self' https://checkout.example.net;") == true)
        let r = await f.pages.pay(token: token, body: form(["form_token": try PageFixture.formToken(in: page.text)]), query: ["lang": "de"],
                                  acceptLanguage: nil)
        #expect(r.status == 303)
        #expect(r.header("Location") == "https://checkout.example.net/s/I7?amount=12000&back=https://pay.example.com/p/\(token)?lang=de")
        #expect(try await f.rows(Schema.payments).isEmpty)
        try await f.store.close()
    }

    @Test("A visit without payment starts the flow's follow-up: 24 hours later the visit follow-up goes out over the new mobile number",
          arguments: Backend.available)
    func visitFollowUp(_ backend: Backend) async throws {
        let f = try await PageFixture(backend)
        // Day -3: the pre-due reminder can only go by letter.
        _ = try await f.orchestrator.run(asOf: preDue)
        #expect(await f.adapter.records.filter { $0.message.customerId == "C7" }.map(\.message.channel) == [.letter])
        // The payer leaves an e-mail address and a mobile number on the page.
        let token = f.token("C7", "I7")
        let formToken = try PageFixture.formToken(in: await f.pages.page(token: token, query: [:], acceptLanguage: nil).text)
        let saved = await f.pages.contact(token: token, body: form(["form_token": formToken, "email": "erika@mustermann.de",
                                                                    "mobile": "+49 151 23456789", "consent": "yes"]),
                                          query: [:], acceptLanguage: nil)
        #expect(saved.status == 200)
        // Day 3: the reminder goes by e-mail (the step's default), then a visit without payment.
        let day3 = preDue.addingTimeInterval(6 * 86_400)
        #expect(try await f.orchestrator.run(asOf: day3).sent == 1)
        f.clock.set(day3.addingTimeInterval(3600))
        _ = await f.pages.page(token: token, query: ["src": "qr"], acceptLanguage: nil)
        let state = try await f.store.rows(of: Schema.caseStates, keys: [["C7", "I7"]])[0]
        let progress = try StoredProgress(stored: Schema.caseStates.value(state, "progress").text!)
        #expect(progress.flow.events.contains { $0.kind == .visited })
        // Nothing more for 24 hours, then the follow-up by SMS.
        #expect(try await f.orchestrator.run(asOf: day3.addingTimeInterval(12 * 3600)).sent == 0)
        #expect(try await f.orchestrator.run(asOf: day3.addingTimeInterval(26 * 3600)).sent == 1)
        let records = await f.adapter.records.filter { $0.message.customerId == "C7" }
        #expect(records.map(\.message.channel) == [.letter, .email, .sms])
        #expect(records.map(\.message.template) == ["pre_due_reminder", "reminder", "visit_follow_up"])
        #expect(records[2].message.recipient == .phone("+4915123456789"))
        try await f.store.close()
    }

    @Test("The QR endpoints encode the page's link with src=qr, as SVG and as a PNG libpng reads back")
    func qr() async throws {
        let f = try await PageFixture(.sqlite)
        let token = f.token("C7", "I7")
        let svg = f.pages.qrSVG(token: token)
        #expect(svg.status == 200 && svg.contentType == "image/svg+xml")
        let expected = try QRCode(text: "https://pay.example.com/p/\(token)?src=qr")
        #expect(svg.text == expected.svg(moduleSize: 6, margin: 4))
        #expect(expected.version <= 5)
        let png = f.pages.qrPNG(token: token)
        #expect(png.status == 200 && png.contentType == "image/png")
        let image = try PNGImage.decodeGray(png.body)
        #expect(image.width == (expected.size + 8) * 8)
        #expect(image.pixels == (try PNGImage.decodeGray(try expected.png(scale: 8, margin: 4))).pixels)
        try await f.store.close()
    }

    @Test("Form bodies: percent-decoding, + as space, the last of repeated names; bad UTF-8 is refused")
    func formData() {
        #expect(FormData.parse(Array("a=1&b=x+y%26z&a=2&c=&d".utf8)) == ["a": "2", "b": "x y&z", "c": "", "d": ""])
        #expect(FormData.parse(Array("e=%C3%A4%E2%82%AC".utf8)) == ["e": "ä€"])
        #expect(FormData.parse(Array("e=%FF".utf8)) == nil)
        #expect(FormData.parse(Array("e=%4".utf8)) == ["e": "%4"])
        let encoded = FormData.encode(["e": "a b&c=ä"])
        #expect(encoded == "e=a+b%26c%3D%C3%A4")
        #expect(FormData.parse(Array(encoded.utf8)) == ["e": "a b&c=ä"])
    }
}
