import ContactData

/// The payment page's wording in one language (German and English ship with pom).
public struct PageText: Sendable {
    public var language: String
    public var languageName: String
    public var title: String
    public var skipToContent: String
    public var invoiceHeading: String
    public var payee: String
    public var reference: String
    public var amount: String
    public var openAmount: String
    public var dueDate: String
    public var paidHeading: String
    public var paidText: String
    public var payHeading: String
    public var payButton: String
    public var payNote: String
    public var paymentReceivedTitle: String
    public var paymentReceivedText: @Sendable (_ amount: String, _ reference: String) -> String
    public var contactHeading: String
    public var contactIntro: String
    public var emailLabel: String
    public var emailHint: String
    public var mobileLabel: String
    public var mobileHint: String
    public var preferredLegend: String
    public var channelNames: [String: String]
    public var noPreference: String
    public var consentLabel: String
    public var saveButton: String
    public var errorSummaryTitle: String
    public var errorTitlePrefix: String
    public var savedTitle: String
    public var savedEmail: @Sendable (String) -> String
    public var savedMobile: @Sendable (String) -> String
    public var savedPreferred: @Sendable (String) -> String
    public var backToInvoice: String
    public var invalidLinkTitle: String
    public var invalidLinkText: String
    public var expiredLinkTitle: String
    public var expiredLinkText: String
    public var formExpired: String
    public var paymentFailed: String
    public var nothingToPay: String
    // Field errors.
    public var errorNothingGiven: String
    public var errorEmailInvalid: @Sendable (_ code: EmailProblem.Code, _ detail: String) -> String
    public var errorEmailConfirm: @Sendable (_ suggestion: String?) -> String
    public var errorMobileInvalid: @Sendable (_ detail: String) -> String
    public var errorMobileNotMobile: String
    public var errorConsent: String
    public var errorPreferredNeedsEmail: String
    public var errorPreferredNeedsMobile: String
    public var errorPreferredNeedsAddress: String
    public var errorPreferredUnknown: String

    /// German.
    public static let de = PageText(
        language: "de", languageName: "Deutsch",
        title: "Rechnung bezahlen", skipToContent: "Zum Inhalt springen",
        invoiceHeading: "Ihre Rechnung", payee: "Zahlungsempfänger", reference: "Rechnungsnummer", amount: "Rechnungsbetrag",
        openAmount: "Offener Betrag", dueDate: "Fällig am",
        paidHeading: "Bezahlt", paidText: "Diese Rechnung ist bezahlt. Vielen Dank!",
        payHeading: "Bezahlen", payButton: "Jetzt bezahlen", payNote: "Sie werden zu unserem Zahlungsdienst weitergeleitet.",
        paymentReceivedTitle: "Zahlung eingegangen",
        paymentReceivedText: { "Vielen Dank! Ihre Zahlung über \($0) für die Rechnung \($1) ist eingegangen." },
        contactHeading: "Wie dürfen wir Sie erreichen?",
        contactIntro: "Hinterlassen Sie Ihre E-Mail-Adresse oder Handynummer und wählen Sie, wie wir Sie künftig erinnern sollen.",
        emailLabel: "E-Mail-Adresse", emailHint: "Zum Beispiel name@beispiel.de",
        mobileLabel: "Handynummer", mobileHint: "Zum Beispiel 0151 23456789 oder +49 151 23456789",
        preferredLegend: "Bevorzugter Weg für Erinnerungen",
        channelNames: ["email": "E-Mail", "sms": "SMS", "letter": "Brief"], noPreference: "Keine Vorliebe",
        consentLabel: "Ich bin einverstanden, dass Sie mich zu dieser und künftigen Rechnungen über die angegebenen Kontaktdaten benachrichtigen.",
        saveButton: "Speichern",
        errorSummaryTitle: "Bitte prüfen Sie Ihre Angaben", errorTitlePrefix: "Fehler: ",
        savedTitle: "Gespeichert. Vielen Dank!",
        savedEmail: { "E-Mail-Adresse: \($0)" }, savedMobile: { "Handynummer: \($0)" }, savedPreferred: { "Bevorzugter Weg: \($0)" },
        backToInvoice: "Zurück zur Rechnung",
        invalidLinkTitle: "Link ungültig",
        invalidLinkText: "Dieser Link ist ungültig. Bitte verwenden Sie den Link oder QR-Code aus Ihrem Schreiben.",
        expiredLinkTitle: "Link abgelaufen",
        expiredLinkText: "Dieser Link ist abgelaufen. Bitte verwenden Sie den Link oder QR-Code aus Ihrem neuesten Schreiben.",
        formExpired: "Das Formular ist abgelaufen. Bitte senden Sie es noch einmal ab.",
        paymentFailed: "Die Zahlung konnte gerade nicht gestartet werden. Bitte versuchen Sie es in einigen Minuten noch einmal.",
        nothingToPay: "Für diese Rechnung ist nichts mehr zu zahlen.",
        errorNothingGiven: "Geben Sie eine E-Mail-Adresse oder Handynummer ein oder wählen Sie einen bevorzugten Weg.",
        errorEmailInvalid: { code, _ in
            let detail: String
            switch code {
            case .missingAt: detail = "Es fehlt das @-Zeichen."
            case .multipleAt: detail = "Die Adresse enthält mehr als ein @-Zeichen."
            case .whitespace: detail = "Die Adresse enthält Leerzeichen."
            case .localEmpty: detail = "Vor dem @ fehlt der Name."
            case .domainEmpty, .singleLabel, .labelEmpty: detail = "Hinter dem @ fehlt die vollständige Domain."
            case .badTopLevel: detail = "Die Endung der Domain gibt es nicht."
            case .reservedDomain: detail = "Diese Domain empfängt keine E-Mails."
            default: detail = "Die Adresse kann so keine E-Mails empfangen."
            }
            return "Geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@beispiel.de. \(detail)"
        },
        errorEmailConfirm: { s in
            s.map { "Meinten Sie \($0)? Wenn Ihre Adresse stimmt, senden Sie das Formular noch einmal ab." }
                ?? "Diese Adresse sieht nach einem Wegwerf-Postfach aus. Wenn sie stimmt, senden Sie das Formular noch einmal ab."
        },
        errorMobileInvalid: { _ in "Geben Sie eine gültige Handynummer ein, zum Beispiel 0151 23456789 oder +49 151 23456789." },
        errorMobileNotMobile: "Das ist keine Handynummer. Geben Sie eine Nummer ein, die SMS empfangen kann.",
        errorConsent: "Bestätigen Sie, dass wir Sie über diese Kontaktdaten benachrichtigen dürfen.",
        errorPreferredNeedsEmail: "Für Erinnerungen per E-Mail geben Sie bitte Ihre E-Mail-Adresse ein.",
        errorPreferredNeedsMobile: "Für Erinnerungen per SMS geben Sie bitte Ihre Handynummer ein.",
        errorPreferredNeedsAddress: "Uns liegt keine Postanschrift vor. Wählen Sie E-Mail oder SMS.",
        errorPreferredUnknown: "Wählen Sie E-Mail, SMS, Brief oder keine Vorliebe.")

    /// English.
    public static let en = PageText(
        language: "en", languageName: "English",
        title: "Pay your invoice", skipToContent: "Skip to content",
        invoiceHeading: "Your invoice", payee: "Payee", reference: "Invoice number", amount: "Invoice amount",
        openAmount: "Amount due", dueDate: "Due date",
        paidHeading: "Paid", paidText: "This invoice is paid. Thank you!",
        payHeading: "Pay", payButton: "Pay now", payNote: "You will be taken to our payment service.",
        paymentReceivedTitle: "Payment received",
        paymentReceivedText: { "Thank you! Your payment of \($0) for invoice \($1) has been received." },
        contactHeading: "How may we reach you?",
        contactIntro: "Leave your e-mail address or mobile number and choose how we should remind you in future.",
        emailLabel: "E-mail address", emailHint: "For example name@example.com",
        mobileLabel: "Mobile number", mobileHint: "For example +49 151 23456789",
        preferredLegend: "Preferred way for reminders",
        channelNames: ["email": "E-mail", "sms": "Text message (SMS)", "letter": "Letter"], noPreference: "No preference",
        consentLabel: "I agree that you notify me about this and future invoices using the contact details given.",
        saveButton: "Save",
        errorSummaryTitle: "Please check your details", errorTitlePrefix: "Error: ",
        savedTitle: "Saved. Thank you!",
        savedEmail: { "E-mail address: \($0)" }, savedMobile: { "Mobile number: \($0)" }, savedPreferred: { "Preferred way: \($0)" },
        backToInvoice: "Back to the invoice",
        invalidLinkTitle: "Link not valid",
        invalidLinkText: "This link is not valid. Please use the link or QR code in your letter or message.",
        expiredLinkTitle: "Link expired",
        expiredLinkText: "This link has expired. Please use the link or QR code in your most recent letter or message.",
        formExpired: "The form has expired. Please submit it again.",
        paymentFailed: "The payment could not be started just now. Please try again in a few minutes.",
        nothingToPay: "Nothing is left to pay on this invoice.",
        errorNothingGiven: "Enter an e-mail address or mobile number, or choose a preferred way.",
        errorEmailInvalid: { _, detail in "Enter a valid e-mail address: \(detail)\(detail.hasSuffix(".") ? "" : ".")" },
        errorEmailConfirm: { s in
            s.map { "Did you mean \($0)? If your address is right, submit the form again." }
                ?? "This looks like a throw-away mailbox. If it is right, submit the form again."
        },
        errorMobileInvalid: { "Enter a valid mobile number: \($0)\($0.hasSuffix(".") ? "" : ".")" },
        errorMobileNotMobile: "This is not a mobile number. Enter a number that can receive text messages.",
        errorConsent: "Confirm that we may notify you using these contact details.",
        errorPreferredNeedsEmail: "To be reminded by e-mail, enter your e-mail address.",
        errorPreferredNeedsMobile: "To be reminded by text message, enter your mobile number.",
        errorPreferredNeedsAddress: "We have no postal address for you. Choose e-mail or text message.",
        errorPreferredUnknown: "Choose e-mail, text message, letter or no preference.")

    /// The languages the page speaks, by BCP 47 primary subtag.
    public static let all: [String: PageText] = ["de": .de, "en": .en]
}
