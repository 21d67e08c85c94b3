import Vocabulary

/// The kind of a contact point.
public enum ContactKind: String, CaseIterable, Codable, Sendable {
    case email, phone, postal, push, whatsapp
}

/// Whether a phone number reaches a mobile or a landline (SMS and WhatsApp need a mobile).
public enum PhoneType: String, CaseIterable, Codable, Sendable {
    case mobile, landline
}

/// The validation state of a contact point. Only `unverified` and `valid` points may be sent to.
public enum ValidationState: String, CaseIterable, Codable, Sendable {
    case unverified, valid, invalid, bounced

    /// Whether messages may go to a contact point in this state.
    public var isUsable: Bool { self == .unverified || self == .valid }
}

/// The status of an invoice (a dunning case).
public enum InvoiceStatus: String, CaseIterable, Codable, Sendable {
    case open, partiallyPaid = "partially_paid", paid, disputed, paymentPlan = "payment_plan", agency, writtenOff = "written_off"

    /// Whether the case is closed for dunning (nothing more is sent).
    public var isClosed: Bool { self == .paid || self == .agency || self == .writtenOff }
}

/// The delivery status of a message.
public enum MessageStatus: String, CaseIterable, Codable, Sendable {
    case queued, sent, delivered, bounced, failed
}

/// The kind of an event.
public enum EventKind: String, CaseIterable, Codable, Sendable {
    case delivered
    case bouncedHard = "bounced_hard"
    case bouncedSoft = "bounced_soft"
    case opened, clicked
    case pageVisit = "page_visit"
    case qrScan = "qr_scan"
    case contactSubmitted = "contact_submitted"
    case preferredChannelSet = "preferred_channel_set"
    case payment
    case paymentPlanAgreed = "payment_plan_agreed"
    case dispute
}

extension Channel {
    /// The kind of contact point a message over this channel goes to.
    public var contactKind: ContactKind {
        switch self {
        case .email: .email
        case .sms, .robocall: .phone
        case .letter: .postal
        case .push: .push
        case .whatsapp: .whatsapp
        }
    }
}
