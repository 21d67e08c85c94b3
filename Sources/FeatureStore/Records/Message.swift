import Foundation
import Vocabulary

/// A message sent (or meant to be sent) for a case (SPEC §3). One row of `messages.csv`.
public struct Message: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    /// The case's customer (denormalised so every table can be sharded by customer).
    public var customerId: String
    public var invoiceId: String
    /// The optimiser decision that chose this message, if one did.
    public var decisionId: String?
    /// The contact point it goes to (`nil` when none was usable and the message failed).
    public var contactPointId: String?
    public var channel: Channel
    /// Template name, e.g. `reminder`, `dunning_1`.
    public var template: String
    public var tone: Tone
    /// The send time in the customer's own time zone (wall clock, no offset).
    public var scheduledLocal: LocalDateTime
    /// The same send time as a UTC instant.
    public var scheduledAt: Date
    public var status: MessageStatus
    /// The delivery provider's message id, once it accepted the message.
    public var providerId: String?
    /// Unique key that makes sending idempotent: the same key is never sent twice.
    public var idempotencyKey: String
    /// What the message cost, in minor units of the invoice's currency.
    public var costMinor: Int64

    public init(id: String, customerId: String, invoiceId: String, decisionId: String?, contactPointId: String?,
                channel: Channel, template: String, tone: Tone, scheduledLocal: LocalDateTime, scheduledAt: Date,
                status: MessageStatus, providerId: String?, idempotencyKey: String, costMinor: Int64) {
        self.id = id
        self.customerId = customerId
        self.invoiceId = invoiceId
        self.decisionId = decisionId
        self.contactPointId = contactPointId
        self.channel = channel
        self.template = template
        self.tone = tone
        self.scheduledLocal = scheduledLocal
        self.scheduledAt = scheduledAt
        self.status = status
        self.providerId = providerId
        self.idempotencyKey = idempotencyKey
        self.costMinor = costMinor
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case customerId = "customer_id"
        case invoiceId = "invoice_id"
        case decisionId = "decision_id"
        case contactPointId = "contact_point_id"
        case channel, template, tone
        case scheduledLocal = "scheduled_local"
        case scheduledAt = "scheduled_at"
        case status
        case providerId = "provider_id"
        case idempotencyKey = "idempotency_key"
        case costMinor = "cost_minor"
    }
}

extension Message: CSVRecord {
    public static let fileName = "messages.csv"
    public static let columns = CodingKeys.allCases.map(\.stringValue)
    public var csvFields: [String] {
        [id, customerId, invoiceId, decisionId ?? "", contactPointId ?? "", channel.rawValue, template, tone.rawValue,
         scheduledLocal.description, UTCTimestamp.format(scheduledAt), status.rawValue, providerId ?? "", idempotencyKey,
         String(costMinor)]
    }
}
