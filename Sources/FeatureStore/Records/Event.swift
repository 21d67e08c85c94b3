import Foundation
import Vocabulary

/// Something that happened to a case: a delivery report, a bounce, a page visit, a payment ...
/// (SPEC §3). One line of `events.jsonl`.
public struct Event: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var kind: EventKind
    public var customerId: String
    public var invoiceId: String
    /// The message the event belongs to (delivery reports, opens, clicks, visits from a link), if any.
    public var messageId: String?
    /// When it happened (UTC).
    public var occurredAt: Date
    /// Kind-specific details.
    public var payload: EventPayload

    public init(id: String, kind: EventKind, customerId: String, invoiceId: String, messageId: String?, occurredAt: Date,
                payload: EventPayload = EventPayload()) {
        self.id = id
        self.kind = kind
        self.customerId = customerId
        self.invoiceId = invoiceId
        self.messageId = messageId
        self.occurredAt = occurredAt
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, kind
        case customerId = "customer_id"
        case invoiceId = "invoice_id"
        case messageId = "message_id"
        case occurredAt = "occurred_at"
        case payload
    }

    /// The file name of the event log.
    public static let fileName = "events.jsonl"
}

/// The kind-specific details of an event; absent fields are left out of the JSON object.
///
/// | kind | fields |
/// |---|---|
/// | `delivered`, `opened`, `clicked` | `contact_point_id` |
/// | `bounced_hard`, `bounced_soft` | `contact_point_id`, `reason` |
/// | `page_visit`, `qr_scan` | `via` (`link` or `qr`) |
/// | `contact_submitted` | `contact_point_id` (the new point, see `contact_points.csv`) |
/// | `preferred_channel_set` | `channel` |
/// | `payment` | `payment_id`, `amount_minor`, `currency` |
/// | `payment_plan_agreed` | `amount_minor`, `currency`, `installments` |
/// | `dispute` | `reason` |
public struct EventPayload: Codable, Sendable, Hashable {
    public var amountMinor: Int64?
    public var currency: String?
    public var paymentId: String?
    public var channel: Channel?
    public var contactPointId: String?
    public var reason: String?
    public var installments: Int?
    public var via: String?

    public init(amountMinor: Int64? = nil, currency: String? = nil, paymentId: String? = nil, channel: Channel? = nil,
                contactPointId: String? = nil, reason: String? = nil, installments: Int? = nil, via: String? = nil) {
        self.amountMinor = amountMinor
        self.currency = currency
        self.paymentId = paymentId
        self.channel = channel
        self.contactPointId = contactPointId
        self.reason = reason
        self.installments = installments
        self.via = via
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case amountMinor = "amount_minor"
        case currency
        case paymentId = "payment_id"
        case channel
        case contactPointId = "contact_point_id"
        case reason, installments, via
    }

    /// The JSON field names.
    public static let fields = CodingKeys.allCases.map(\.stringValue)
}

extension Event {
    /// The JSON object keys of an `events.jsonl` line.
    public static let fields = CodingKeys.allCases.map(\.stringValue)
}
