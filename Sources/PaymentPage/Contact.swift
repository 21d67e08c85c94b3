import ContactData
import Crypto
import FeatureStore
import Foundation
import Vocabulary

/// The contact-enrichment form as the payer filled it in (echoed back when something is wrong).
public struct ContactInput: Sendable, Hashable {
    public var email: String = ""
    public var mobile: String = ""
    /// `email`, `sms`, `letter`, `none` or empty.
    public var preferred: String = ""
    public var consent: Bool = false
    /// The address the payer confirmed after a "did you mean" or disposable-mailbox warning.
    public var emailConfirmed: String = ""

    public init(email: String = "", mobile: String = "", preferred: String = "", consent: Bool = false, emailConfirmed: String = "") {
        self.email = email
        self.mobile = mobile
        self.preferred = preferred
        self.consent = consent
        self.emailConfirmed = emailConfirmed
    }

    /// The fields of a submitted form (`email`, `mobile`, `preferred`, `consent`, `email_confirmed`).
    public init(form: [String: String]) {
        email = String((form["email"] ?? "").prefix(320)).trimmingCharacters(in: .whitespacesAndNewlines)
        mobile = String((form["mobile"] ?? "").prefix(64)).trimmingCharacters(in: .whitespacesAndNewlines)
        preferred = String((form["preferred"] ?? "").prefix(16))
        consent = form["consent"] == "yes"
        emailConfirmed = String((form["email_confirmed"] ?? "").prefix(320))
    }
}

/// One problem with one field of the form, in the page's language.
public struct FieldError: Sendable, Hashable {
    /// The id of the form control the message belongs to (`email`, `mobile`, `preferred-email`, `consent`).
    public var field: String
    public var message: String
}

/// What a valid submission stores.
public struct ContactSubmission: Sendable, Hashable {
    /// The address as `EmailValidator` normalises it (domain in lower-case ASCII).
    public var email: String?
    /// The number in E.164.
    public var mobile: String?
    public var preferred: Channel?
    public var consent: Bool
}

/// Checks the enrichment form with ContactData's validators (the same as `validate_contact_data`).
public enum ContactValidation {
    /// The channels a payer may pick on the page.
    public static let choices: [Channel] = [.email, .sms, .letter]

    /// The verdict on a form.
    public enum Outcome: Sendable, Hashable {
        case valid(ContactSubmission)
        /// The per-field messages, in form order.
        case invalid([FieldError])
    }

    /// Validates `input` for a customer in `country` who has the contact points `points` (store rows).
    /// - Returns: the submission to store, or the per-field messages (in form order) to show.
    public static func validate(_ input: ContactInput, country: String, points: [[Value]], text: PageText) -> Outcome {
        var errors: [FieldError] = []
        var email: String?, mobile: String?
        if !input.email.isEmpty {
            let check = EmailValidator.validate(input.email)
            switch check.verdict {
            case .valid:
                email = check.address
            case .risky:
                if let address = check.address, input.emailConfirmed == address {
                    email = address
                } else {
                    errors.append(FieldError(field: "email", message: text.errorEmailConfirm(check.suggestion)))
                }
            case .invalid:
                let problem = check.problems.first
                errors.append(FieldError(field: "email", message: text.errorEmailInvalid(problem?.code ?? .empty, problem?.message ?? "the address is empty")))
            }
        }
        if !input.mobile.isEmpty {
            let check = PhoneValidator.parse(input.mobile, defaultCountry: country)
            if let e164 = check.e164 {
                if check.type?.canReceiveSMS ?? false { mobile = e164 } else {
                    errors.append(FieldError(field: "mobile", message: text.errorMobileNotMobile))
                }
            } else {
                errors.append(FieldError(field: "mobile", message: text.errorMobileInvalid(check.problem ?? "invalid")))
            }
        }
        var preferred: Channel?
        switch input.preferred {
        case "", "none": break
        case let p:
            if let c = Channel(rawValue: p), choices.contains(c) { preferred = c } else {
                errors.append(FieldError(field: "preferred-email", message: text.errorPreferredUnknown))
            }
        }
        let cp = Schema.contactPoints
        func onFile(_ channel: Channel) -> Bool {
            points.contains { row in
                guard cp.value(row, "kind").text == channel.contactKind.rawValue,
                      ValidationState(rawValue: cp.value(row, "validation").text ?? "")?.isUsable ?? false else { return false }
                if channel == .letter { return true }
                guard cp.value(row, "consent").integer == 1 else { return false }
                return channel != .sms || cp.value(row, "phone_type").text == "mobile"
            }
        }
        switch preferred {
        case .email where input.email.isEmpty && !onFile(.email):
            errors.append(FieldError(field: "preferred-email", message: text.errorPreferredNeedsEmail))
        case .sms where input.mobile.isEmpty && !onFile(.sms):
            errors.append(FieldError(field: "preferred-email", message: text.errorPreferredNeedsMobile))
        case .letter where !onFile(.letter):
            errors.append(FieldError(field: "preferred-email", message: text.errorPreferredNeedsAddress))
        default: break
        }
        if (!input.email.isEmpty || !input.mobile.isEmpty) && !input.consent {
            errors.append(FieldError(field: "consent", message: text.errorConsent))
        }
        if input.email.isEmpty && input.mobile.isEmpty && preferred == nil && errors.isEmpty {
            errors.append(FieldError(field: "email", message: text.errorNothingGiven))
        }
        if !errors.isEmpty { return .invalid(errors) }
        return .valid(ContactSubmission(email: email, mobile: mobile, preferred: preferred, consent: input.consent))
    }

    /// The contact-point rows a submission writes: an existing point with the same address is
    /// updated (valid, consented, source `payment_page`), else a new point is added with an id
    /// derived from the address (`<customer>-pp-e-<hash>` / `-pp-m-<hash>`).
    static func points(for s: ContactSubmission, customerId: String, existing: [[Value]], at: Date) -> [ContactPoint] {
        let cp = Schema.contactPoints
        var out: [ContactPoint] = []
        func add(kind: ContactKind, value: String, phoneType: FeatureStore.PhoneType?, tag: String) {
            let same = existing.first { cp.value($0, "kind").text == kind.rawValue && cp.value($0, "value").text?.lowercased() == value.lowercased() }
            let digest = SHA256.hash(data: Array(value.lowercased().utf8)).prefix(6).lowercaseHex
            let id = same.flatMap { cp.value($0, "id").text } ?? "\(customerId)-pp-\(tag)-\(digest)"
            out.append(ContactPoint(id: id, customerId: customerId, kind: kind, value: value, phoneType: phoneType, validation: .valid,
                                    consent: s.consent, source: "payment_page", updatedAt: at))
        }
        if let e = s.email { add(kind: .email, value: e, phoneType: nil, tag: "e") }
        if let m = s.mobile { add(kind: .phone, value: m, phoneType: .mobile, tag: "m") }
        return out
    }
}
