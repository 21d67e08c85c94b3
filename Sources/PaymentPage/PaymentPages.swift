import Channels
import ContactData
import Crypto
import FeatureStore
import Foundation
import Orchestrator
import QRCodes
import Vocabulary

/// Settings of the payment page.
public struct PaymentPageConfiguration: Sendable {
    /// The public base URL the page is reached at (links are `<base>/p/<token>`); the same as the
    /// orchestrator's `paymentLinkBase`.
    public var baseURL: String
    /// The secret that signs the links (`PaymentLink`) and the forms (`FormToken`).
    public var linkSecret: String
    /// The payee shown on the page.
    public var creditorName: String
    /// The language when neither `?lang=`, `Accept-Language` nor the customer's locale is one of the page's.
    public var defaultLanguage: String = "de"
    /// How long a rendered form may be submitted.
    public var formLifetime: TimeInterval = 4 * 3600

    public init(baseURL: String, linkSecret: String, creditorName: String) {
        self.baseURL = baseURL
        self.linkSecret = linkSecret
        self.creditorName = creditorName
    }

    /// The page that goes with an orchestrator's run configuration (same base URL, secret and creditor).
    public init(run: RunConfiguration) {
        self.init(baseURL: run.paymentLinkBase, linkSecret: run.linkSecret, creditorName: run.creditorName)
    }
}

/// The payment page behind the links and QR codes in messages (SPEC §1 data enrichment, §3 events):
/// the invoice a token names, payment through a `PaymentProvider`, and the contact-enrichment form.
/// Every method returns a `PageResponse`; the HTTP server only routes (`addPaymentPageRoutes`).
///
/// | request | response |
/// |---|---|
/// | `GET /p/{token}` (`?lang=de|en`, `?src=qr`) | the invoice page; records a `page_visit` or `qr_scan` |
/// | `POST /p/{token}/pay` | 303 to the provider, or the confirmation (records the `payment`) |
/// | `POST /p/{token}/contact` | the confirmation (records `contact_submitted`, `preferred_channel_set`), or 422 with the form and its messages |
/// | `GET /p/{token}/qr.svg`, `/qr.png` | the QR code of the link (`?src=qr` appended) |
///
/// A token that fails its signature gets 404, an expired one 410: a plain page in the visitor's
/// language that shows nothing of any invoice. A token only ever reads the one invoice it names.
public final class PaymentPages: Sendable {
    public let store: any CaseQueue
    public let configuration: PaymentPageConfiguration
    public let provider: any PaymentProvider
    public let events: any PaymentPageEvents
    let templates: TemplateCatalogue
    let forms: FormToken
    let clock: @Sendable () -> Date
    let log: @Sendable (String) -> Void
    /// The path part of the base URL (`""` or `/pay`).
    let basePath: String

    /// - Parameters:
    ///   - templates: the message catalogue, for its amount and date formats.
    ///   - clock: the time of visits, payments and token checks.
    ///   - log: where failures that the payer is not shown go (a visit that could not be recorded).
    public init(store: any CaseQueue, configuration: PaymentPageConfiguration, provider: any PaymentProvider = TestPaymentProvider(),
                events: any PaymentPageEvents, templates: TemplateCatalogue, clock: @escaping @Sendable () -> Date = Date.init,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.configuration = configuration
        self.provider = provider
        self.events = events
        self.templates = templates
        self.forms = FormToken(secret: configuration.linkSecret, lifetime: configuration.formLifetime)
        self.clock = clock
        self.log = log
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let path = URLComponents(string: base)?.path ?? ""
        self.basePath = path == "/" ? "" : path
    }

    /// The link to an invoice's page (what the orchestrator puts in messages).
    public func link(customerId: String, invoiceId: String, expires: Date) -> String {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/p/" + PaymentLink.token(customerId: customerId, invoiceId: invoiceId, secret: configuration.linkSecret, expires: expires)
    }

    /// What a QR code of the page holds: the link with `?src=qr`, so that scans are told from clicks.
    public func qrText(token: String) -> String { publicURL(token) + "?src=qr" }

    // MARK: Requests

    /// `GET /p/{token}`: the invoice page. Records a visit (`qr_scan` with `?src=qr`).
    public func page(token: String, query: [String: String], acceptLanguage: String?) async -> PageResponse {
        let now = clock()
        let view: CaseView
        switch await load(token, now: now) {
        case .failure(let problem): return errorPage(problem, query: query, acceptLanguage: acceptLanguage)
        case .success(let v): view = v
        }
        let text = language(query: query, acceptLanguage: acceptLanguage, view: view)
        let via = query["src"] == "qr" ? "qr" : "link"
        let minute = Int64(now.timeIntervalSince1970 / 60)
        let visit = Event(id: "page:\(view.invoiceId):\(via):\(minute)", kind: via == "qr" ? .qrScan : .pageVisit, customerId: view.customerId,
                          invoiceId: view.invoiceId, messageId: nil, occurredAt: now, payload: EventPayload(via: via))
        do {
            try await events.record([visit], changes: [], at: now)
        } catch {
            // The payer still gets the page; the operator gets the failure.
            log("payment page: could not record the visit to invoice \(view.invoiceId): \(error)")
        }
        return invoicePage(view, token: token, text: text, now: now, contact: ContactInput(preferred: view.preferred?.rawValue ?? ""),
                           errors: [], notice: nil, status: 200)
    }

    /// `POST /p/{token}/pay`: starts the payment with the provider.
    public func pay(token: String, body: [UInt8], query: [String: String], acceptLanguage: String?) async -> PageResponse {
        let now = clock()
        let view: CaseView
        switch await load(token, now: now) {
        case .failure(let problem): return errorPage(problem, query: query, acceptLanguage: acceptLanguage)
        case .success(let v): view = v
        }
        let text = language(query: query, acceptLanguage: acceptLanguage, view: view)
        let form = FormData.parse(body) ?? [:]
        guard let formToken = form["form_token"], forms.verify(formToken, pageToken: token, now: now) else {
            return invoicePage(view, token: token, text: text, now: now, contact: ContactInput(), errors: [], notice: text.formExpired, status: 403)
        }
        guard view.open > 0, !view.status.isClosed else {
            return invoicePage(view, token: token, text: text, now: now, contact: ContactInput(), errors: [], notice: text.nothingToPay, status: 200)
        }
        let request = PaymentRequest(customerId: view.customerId, invoiceId: view.invoiceId, amountMinor: view.open, currency: view.currency,
                                     payee: configuration.creditorName, language: text.language,
                                     returnURL: publicURL(token) + "?lang=" + text.language, idempotencyKey: "pay:\(view.invoiceId):\(formToken)")
        let start: PaymentStart
        do {
            start = try await provider.start(request)
        } catch {
            log("payment page: provider \(provider.name) could not start a payment for invoice \(view.invoiceId): \(error)")
            return invoicePage(view, token: token, text: text, now: now, contact: ContactInput(), errors: [], notice: text.paymentFailed, status: 502)
        }
        switch start {
        case .redirect(let url):
            return PageResponse(status: 303, contentType: "text/plain; charset=utf-8", body: [], headers: securityHeaders() + [.init("Location", url)])
        case .completed(let paymentId):
            let event = Event(id: "page:\(view.invoiceId):payment:\(paymentId)", kind: .payment, customerId: view.customerId,
                              invoiceId: view.invoiceId, messageId: nil, occurredAt: now,
                              payload: EventPayload(amountMinor: view.open, currency: view.currency, paymentId: paymentId))
            do {
                try await events.record([event], changes: [], at: now)
            } catch {
                log("payment page: payment \(paymentId) of invoice \(view.invoiceId) could not be recorded: \(error)")
                return invoicePage(view, token: token, text: text, now: now, contact: ContactInput(), errors: [], notice: text.paymentFailed, status: 503)
            }
            let amount = format(text).formatAmount(view.open, currency: view.currency, digits: templates.fractionDigits(view.currency))
            return confirmation(view, token: token, text: text, title: text.paymentReceivedTitle,
                                lines: [text.paymentReceivedText(amount, view.invoiceId)])
        }
    }

    /// `POST /p/{token}/contact`: validates and stores the enrichment form.
    public func contact(token: String, body: [UInt8], query: [String: String], acceptLanguage: String?) async -> PageResponse {
        let now = clock()
        let view: CaseView
        switch await load(token, now: now) {
        case .failure(let problem): return errorPage(problem, query: query, acceptLanguage: acceptLanguage)
        case .success(let v): view = v
        }
        let text = language(query: query, acceptLanguage: acceptLanguage, view: view)
        let form = FormData.parse(body) ?? [:]
        let input = ContactInput(form: form)
        guard let formToken = form["form_token"], forms.verify(formToken, pageToken: token, now: now) else {
            return invoicePage(view, token: token, text: text, now: now, contact: input, errors: [], notice: text.formExpired, status: 403)
        }
        let submission: ContactSubmission
        switch ContactValidation.validate(input, country: view.country, points: view.points, text: text) {
        case .invalid(let errors):
            var echo = input
            // After a "did you mean" warning, the same address submitted again counts as confirmed.
            if errors.contains(where: { $0.field == "email" }), !input.email.isEmpty {
                echo.emailConfirmed = EmailValidator.validate(input.email).address ?? ""
            }
            return invoicePage(view, token: token, text: text, now: now, contact: echo, errors: errors, notice: nil, status: 422)
        case .valid(let s): submission = s
        }
        let nonce = SHA256.hash(data: Array(formToken.utf8)).prefix(6).lowercaseHex
        let points = ContactValidation.points(for: submission, customerId: view.customerId, existing: view.points, at: now)
        var list: [Event] = points.map { p in
            Event(id: "page:\(view.invoiceId):contact:\(nonce):\(p.id)", kind: .contactSubmitted, customerId: view.customerId,
                  invoiceId: view.invoiceId, messageId: nil, occurredAt: now, payload: EventPayload(contactPointId: p.id))
        }
        if let channel = submission.preferred {
            list.append(Event(id: "page:\(view.invoiceId):preferred:\(nonce)", kind: .preferredChannelSet, customerId: view.customerId,
                              invoiceId: view.invoiceId, messageId: nil, occurredAt: now, payload: EventPayload(channel: channel)))
        }
        let rows = points.map(Schema.contactPoints.row)
        let changes: [TableChange] = rows.isEmpty ? [] : [
            .upsert(TableRows(table: Schema.contactPoints, rows: rows)), .upsert(TableRows(table: Schema.contactPointVersions, rows: rows)),
        ]
        do {
            try await events.record(list, changes: changes, at: now)
        } catch {
            log("payment page: contact data for invoice \(view.invoiceId) could not be stored: \(error)")
            return invoicePage(view, token: token, text: text, now: now, contact: input, errors: [], notice: text.paymentFailed, status: 503)
        }
        var lines: [String] = []
        if let e = submission.email { lines.append(text.savedEmail(e)) }
        if let m = submission.mobile { lines.append(text.savedMobile(m)) }
        if let c = submission.preferred { lines.append(text.savedPreferred(text.channelNames[c.rawValue] ?? c.rawValue)) }
        return confirmation(view, token: token, text: text, title: text.savedTitle, lines: lines)
    }

    /// `GET /p/{token}/qr.svg`: the QR code of the page's link as SVG (404 for a bad or expired token).
    public func qrSVG(token: String) -> PageResponse {
        guard PaymentLink.verify(token, secret: configuration.linkSecret, now: clock()) != nil,
              let code = try? QRCode(text: qrText(token: token)) else { return notFound() }
        return PageResponse(status: 200, contentType: "image/svg+xml", body: Array(code.svg(moduleSize: 6, margin: 4).utf8),
                            headers: imageHeaders())
    }

    /// `GET /p/{token}/qr.png`: the QR code of the page's link as PNG (404 for a bad or expired token).
    public func qrPNG(token: String) -> PageResponse {
        guard PaymentLink.verify(token, secret: configuration.linkSecret, now: clock()) != nil,
              let code = try? QRCode(text: qrText(token: token)), let png = try? code.png(scale: 8, margin: 4) else { return notFound() }
        return PageResponse(status: 200, contentType: "image/png", body: png, headers: imageHeaders())
    }

    // MARK: Loading

    /// Why a token shows nothing.
    enum LinkProblem: Error {
        case invalid, expired, unavailable
    }

    /// What the page shows of one case.
    struct CaseView {
        var customerId: String
        var invoiceId: String
        var amount: Int64
        var paid: Int64
        var currency: String
        var dueDate: CalendarDate
        var status: InvoiceStatus
        var locale: String
        var country: String
        var preferred: Channel?
        var points: [[Value]]
        var open: Int64 { max(0, amount - paid) }
    }

    func load(_ token: String, now: Date) async -> Result<CaseView, LinkProblem> {
        guard let claim = PaymentLink.inspect(token, secret: configuration.linkSecret) else { return .failure(.invalid) }
        guard Double(claim.expires) >= now.timeIntervalSince1970 else { return .failure(.expired) }
        let it = Schema.invoices, cu = Schema.customers, pt = Schema.payments
        do {
            guard let invoice = try await store.rows(of: it, keys: [[claim.customerId, claim.invoiceId]]).first,
                  let customer = try await store.rows(of: cu, customerIds: [claim.customerId]).first,
                  let due = it.value(invoice, "due_date").text.flatMap({ CalendarDate(parsing: $0) }) else { return .failure(.invalid) }
            let paid = try await store.rows(of: pt, customerIds: [claim.customerId])
                .filter { pt.value($0, "invoice_id").text == claim.invoiceId }
                .reduce(Int64(0)) { $0 + (pt.value($1, "amount_minor").integer ?? 0) }
            let points = try await store.rows(of: Schema.contactPoints, customerIds: [claim.customerId])
            return .success(CaseView(
                customerId: claim.customerId, invoiceId: claim.invoiceId, amount: it.value(invoice, "amount_minor").integer ?? 0, paid: paid,
                currency: it.value(invoice, "currency").text ?? "EUR", dueDate: due,
                status: InvoiceStatus(rawValue: it.value(invoice, "status").text ?? "") ?? .open,
                locale: cu.value(customer, "locale").text ?? "", country: cu.value(customer, "country").text ?? "DE",
                preferred: cu.value(customer, "preferred_channel").text.flatMap(Channel.init(rawValue:)), points: points))
        } catch {
            log("payment page: the store could not be read: \(error)")
            return .failure(.unavailable)
        }
    }

    func language(query: [String: String], acceptLanguage: String?, view: CaseView?) -> PageText {
        let lang = LanguageChoice.choose(query: query["lang"], acceptLanguage: acceptLanguage, fallbacks: view.map { [$0.locale] } ?? [],
                                         available: Set(PageText.all.keys), defaultLanguage: configuration.defaultLanguage)
        return PageText.all[lang] ?? .de
    }

    func format(_ text: PageText) -> LocaleFormat {
        templates.formats[text.language] ?? templates.formats[templates.defaultLanguage]!
    }

    func pageURL(_ token: String) -> String { basePath + "/p/" + token }

    /// The page's absolute URL under the public base URL.
    func publicURL(_ token: String) -> String {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/p/" + token
    }

    // MARK: Rendering

    func securityHeaders() -> [PageResponse.Header] {
        let origins = ([" 'self'"] + provider.redirectOrigins.map { " " + $0 }).joined()
        return [
            .init("Content-Security-Policy",
                  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action\(origins); frame-ancestors 'none'; base-uri 'none'"),
            .init("X-Content-Type-Options", "nosniff"),
            .init("X-Frame-Options", "DENY"),
            .init("Referrer-Policy", "no-referrer"),
            .init("Cache-Control", "no-store"),
        ]
    }

    func imageHeaders() -> [PageResponse.Header] {
        [.init("X-Content-Type-Options", "nosniff"), .init("Cache-Control", "private, max-age=3600"),
         .init("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")]
    }

    func notFound() -> PageResponse {
        PageResponse(status: 404, contentType: "text/plain; charset=utf-8", body: Array("not found\n".utf8),
                     headers: [.init("X-Content-Type-Options", "nosniff"), .init("Cache-Control", "no-store")])
    }

    func html(_ status: Int, _ text: PageText, _ document: String) -> PageResponse {
        PageResponse(status: status, contentType: "text/html; charset=utf-8", body: Array(document.utf8),
                     headers: securityHeaders() + [.init("Content-Language", text.language)])
    }

    /// The plain page for a bad, expired or unreadable token: no invoice data at all.
    func errorPage(_ problem: LinkProblem, query: [String: String], acceptLanguage: String?) -> PageResponse {
        let text = language(query: query, acceptLanguage: acceptLanguage, view: nil)
        let status: Int, title: String, message: String
        switch problem {
        case .invalid: status = 404; title = text.invalidLinkTitle; message = text.invalidLinkText
        case .expired: status = 410; title = text.expiredLinkTitle; message = text.expiredLinkText
        case .unavailable: status = 503; title = text.invalidLinkTitle; message = text.paymentFailed
        }
        let body = "<h1>\(HTML.escape(title))</h1>\n<p>\(HTML.escape(message))</p>"
        return html(status, text, PageLayout.document(text: text, title: title, payee: nil, languageLinks: nil, main: body))
    }

    func languageLinks(_ token: String, current: PageText) -> String {
        PageText.all.keys.sorted().map { lang in
            let t = PageText.all[lang]!
            let mark = lang == current.language ? " aria-current=\"true\"" : ""
            return "<a href=\"\(HTML.escape(pageURL(token)))?lang=\(lang)\" hreflang=\"\(lang)\" lang=\"\(lang)\"\(mark)>\(HTML.escape(t.languageName))</a>"
        }.joined(separator: " ")
    }

    func invoicePage(_ view: CaseView, token: String, text: PageText, now: Date, contact: ContactInput, errors: [FieldError],
                     notice: String?, status: Int) -> PageResponse {
        let f = format(text)
        let digits = templates.fractionDigits(view.currency)
        let formToken = HTML.escape(forms.make(pageToken: token, now: now))
        let e = HTML.escape
        var main = ""
        if !errors.isEmpty {
            main += "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"error-summary-title\" tabindex=\"-1\">\n"
            main += "<h2 id=\"error-summary-title\">\(e(text.errorSummaryTitle))</h2>\n<ul>\n"
            for err in errors { main += "<li><a href=\"#\(e(err.field))\">\(e(err.message))</a></li>\n" }
            main += "</ul>\n</div>\n"
        }
        if let notice { main += "<p class=\"notice\" role=\"status\">\(e(notice))</p>\n" }
        main += "<h1>\(e(text.invoiceHeading))</h1>\n<dl class=\"invoice\">\n"
        let rows: [(String, String)] = [
            (text.payee, configuration.creditorName), (text.reference, view.invoiceId),
            (text.amount, f.formatAmount(view.amount, currency: view.currency, digits: digits)),
            (text.openAmount, f.formatAmount(view.open, currency: view.currency, digits: digits)),
            (text.dueDate, f.formatDate(view.dueDate)),
        ]
        for (k, v) in rows { main += "<div><dt>\(e(k))</dt><dd>\(e(v))</dd></div>\n" }
        main += "</dl>\n"
        let action = { (what: String) in e(self.pageURL(token) + "/" + what + "?lang=" + text.language) }
        if view.open == 0 || view.status == .paid {
            main += "<section aria-labelledby=\"pay-heading\">\n<h2 id=\"pay-heading\">\(e(text.paidHeading))</h2>\n<p>\(e(text.paidText))</p>\n</section>\n"
        } else if !view.status.isClosed {
            main += """
            <section aria-labelledby="pay-heading">
            <h2 id="pay-heading">\(e(text.payHeading))</h2>
            <form method="post" action="\(action("pay"))">
            <input type="hidden" name="form_token" value="\(formToken)">
            <button type="submit" id="pay-button">\(e(text.payButton)) (\(e(f.formatAmount(view.open, currency: view.currency, digits: digits))))</button>
            <p class="hint">\(e(text.payNote))</p>
            </form>
            </section>

            """
        }
        let errorFor = { (field: String) in errors.first { $0.field == field } }
        func describedBy(_ field: String) -> String {
            let ids = [field + "-hint"] + (errorFor(field) == nil ? [] : [field + "-error"])
            return " aria-describedby=\"\(ids.joined(separator: " "))\"" + (errorFor(field) == nil ? "" : " aria-invalid=\"true\"")
        }
        func errorLine(_ field: String) -> String {
            errorFor(field).map { "<p id=\"\(field)-error\" class=\"error-message\">\(e($0.message))</p>\n" } ?? ""
        }
        main += """
        <section aria-labelledby="contact-heading">
        <h2 id="contact-heading">\(e(text.contactHeading))</h2>
        <p>\(e(text.contactIntro))</p>
        <form method="post" action="\(action("contact"))" novalidate>
        <input type="hidden" name="form_token" value="\(formToken)">

        """
        if !contact.emailConfirmed.isEmpty {
            main += "<input type=\"hidden\" name=\"email_confirmed\" value=\"\(e(contact.emailConfirmed))\">\n"
        }
        main += """
        <div class="field\(errorFor("email") == nil ? "" : " has-error")">
        <label for="email">\(e(text.emailLabel))</label>
        <p id="email-hint" class="hint">\(e(text.emailHint))</p>
        \(errorLine("email"))<input id="email" name="email" type="email" autocomplete="email" inputmode="email" spellcheck="false" value="\(e(contact.email))"\(describedBy("email"))>
        </div>
        <div class="field\(errorFor("mobile") == nil ? "" : " has-error")">
        <label for="mobile">\(e(text.mobileLabel))</label>
        <p id="mobile-hint" class="hint">\(e(text.mobileHint))</p>
        \(errorLine("mobile"))<input id="mobile" name="mobile" type="tel" autocomplete="tel" inputmode="tel" value="\(e(contact.mobile))"\(describedBy("mobile"))>
        </div>

        """
        let preferredError = errorFor("preferred-email")
        main += "<fieldset class=\"field\(preferredError == nil ? "" : " has-error")\"\(preferredError == nil ? "" : " aria-describedby=\"preferred-error\"")>\n"
        main += "<legend>\(e(text.preferredLegend))</legend>\n"
        if let preferredError { main += "<p id=\"preferred-error\" class=\"error-message\">\(e(preferredError.message))</p>\n" }
        for choice in ContactValidation.choices.map(\.rawValue) + ["none"] {
            let label = choice == "none" ? text.noPreference : text.channelNames[choice] ?? choice
            let checked = contact.preferred == choice || (choice == "none" && contact.preferred.isEmpty) ? " checked" : ""
            main += "<div class=\"choice\"><input type=\"radio\" id=\"preferred-\(choice)\" name=\"preferred\" value=\"\(choice)\"\(checked)>"
            main += "<label for=\"preferred-\(choice)\">\(e(label))</label></div>\n"
        }
        main += "</fieldset>\n"
        let consentError = errorFor("consent")
        main += "<div class=\"field\(consentError == nil ? "" : " has-error")\">\n"
        if let consentError { main += "<p id=\"consent-error\" class=\"error-message\">\(e(consentError.message))</p>\n" }
        main += "<div class=\"choice\"><input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\"\(contact.consent ? " checked" : "")"
        main += consentError == nil ? ">" : " aria-describedby=\"consent-error\" aria-invalid=\"true\">"
        main += "<label for=\"consent\">\(e(text.consentLabel))</label></div>\n</div>\n"
        main += "<button type=\"submit\" id=\"save-button\">\(e(text.saveButton))</button>\n</form>\n</section>"
        let title = (errors.isEmpty ? "" : text.errorTitlePrefix) + text.title
        return html(status, text, PageLayout.document(text: text, title: title, payee: configuration.creditorName,
                                                      languageLinks: languageLinks(token, current: text), main: main))
    }

    func confirmation(_ view: CaseView, token: String, text: PageText, title: String, lines: [String]) -> PageResponse {
        let e = HTML.escape
        var main = "<h1>\(e(title))</h1>\n"
        if !lines.isEmpty { main += "<ul class=\"saved\">\n" + lines.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n" }
        main += "<p><a href=\"\(e(pageURL(token)))?lang=\(text.language)\">\(e(text.backToInvoice))</a></p>"
        return html(200, text, PageLayout.document(text: text, title: title, payee: configuration.creditorName,
                                                   languageLinks: languageLinks(token, current: text), main: main))
    }
}
