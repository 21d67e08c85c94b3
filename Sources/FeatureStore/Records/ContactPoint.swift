import Foundation
import Vocabulary

/// One way to reach a customer: an e-mail address, a phone number, a postal address, a push token
/// or a WhatsApp opt-in (SPEC §3). One row of `contact_points.csv`.
public struct ContactPoint: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var customerId: String
    public var kind: ContactKind
    /// The address: an e-mail address, a phone number in E.164 (`+4915112345678`), a one-line
    /// postal address, a push token or a WhatsApp number in E.164.
    public var value: String
    /// For phones only: mobile or landline.
    public var phoneType: PhoneType?
    public var validation: ValidationState
    /// Whether the customer consented to be contacted over this point.
    public var consent: Bool
    /// Where the point came from: `import`, `payment_page`, `crm`, `agent` ... (free text).
    public var source: String
    /// When the point (its value, validation or consent) last changed (UTC).
    public var updatedAt: Date

    public init(id: String, customerId: String, kind: ContactKind, value: String, phoneType: PhoneType?,
                validation: ValidationState, consent: Bool, source: String, updatedAt: Date) {
        self.id = id
        self.customerId = customerId
        self.kind = kind
        self.value = value
        self.phoneType = phoneType
        self.validation = validation
        self.consent = consent
        self.source = source
        self.updatedAt = updatedAt
    }

    /// Whether a message over `channel` may go to this point: the kind fits, the point is usable
    /// (unverified or valid), consent is given, and SMS/WhatsApp go to mobiles only.
    public func canCarry(_ channel: Channel) -> Bool {
        guard channel.contactKind == kind, validation.isUsable, consent else { return false }
        if channel == .sms { return phoneType == .mobile }
        return true
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case customerId = "customer_id"
        case kind, value
        case phoneType = "phone_type"
        case validation, consent, source
        case updatedAt = "updated_at"
    }
}

extension ContactPoint: CSVRecord {
    public static let fileName = "contact_points.csv"
    public static let columns = CodingKeys.allCases.map(\.stringValue)
    public var csvFields: [String] {
        [id, customerId, kind.rawValue, value, phoneType?.rawValue ?? "", validation.rawValue, consent ? "true" : "false",
         source, UTCTimestamp.format(updatedAt)]
    }
}
