import Foundation
import Vocabulary
import FeatureStore

/// Something that hands messages of one or more channels to the outside world: a delivery
/// provider's HTTP API, a spool directory, a dry-run log or the simulated world.
///
/// Adapters are idempotent where they can know it: sending a message whose `idempotencyKey` was
/// sent before returns the first receipt (with `replayed == true`) and sends nothing. The spool and
/// dry-run adapters remember keys on disk, across process restarts; the HTTP adapter passes the key
/// to the provider in a header so the provider dedupes.
///
/// ```swift
/// let adapter = DryRunAdapter()
/// let receipt = try await adapter.send(message)
/// ```
public protocol ChannelAdapter: Sendable {
    /// A short name for logs and decisions (`http:sms`, `spool`, `dry_run`, `simulated`).
    var name: String { get }

    /// Hands `message` over.
    /// - Returns: the provider's receipt (the first one again when the key was sent before).
    /// - Throws: `ChannelError.retryable` when trying again later may succeed (the outbox keeps the
    ///   message), `ChannelError.permanent` when it will not (the flow's backup chain runs).
    func send(_ message: OutgoingMessage) async throws -> SendReceipt

    /// Completes whatever `send` left for later (the spool seals its open batches). Sent messages
    /// are durable before `send` returns whether or not `flush` runs; the default does nothing.
    func flush() async throws
}

extension ChannelAdapter {
    public func flush() async throws {}
}

/// Where a message goes: one variant per kind of contact point.
public enum Recipient: Sendable, Hashable, Codable, CustomStringConvertible {
    /// An e-mail address.
    case email(String)
    /// A phone number in E.164 (`+4915112345678`), for SMS, WhatsApp and robocalls.
    case phone(String)
    /// A postal address, one line per element (name, street, postcode and town, country).
    case postal([String])
    /// A push token of the customer's app installation.
    case pushToken(String)

    /// The address of `point`: e-mail, phone (and WhatsApp) numbers and push tokens as they are;
    /// a one-line postal address split into lines at `, ` (`"12 Hauptstraße, DE-10115"`).
    public init(_ point: ContactPoint) {
        switch point.kind {
        case .email: self = .email(point.value)
        case .phone, .whatsapp: self = .phone(point.value)
        case .push: self = .pushToken(point.value)
        case .postal:
            self = .postal(point.value.components(separatedBy: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
    }

    /// The lines of a postal address; empty for any other recipient.
    public var postalLines: [String] {
        if case .postal(let lines) = self { return lines }
        return []
    }

    /// The kind of contact point this recipient is.
    public var contactKind: ContactKind {
        switch self {
        case .email: .email
        case .phone: .phone
        case .postal: .postal
        case .pushToken: .push
        }
    }

    /// The address as one line (postal lines joined with `, `).
    public var description: String {
        switch self {
        case .email(let s), .phone(let s), .pushToken(let s): s
        case .postal(let lines): lines.joined(separator: ", ")
        }
    }

    /// Whether a message over `channel` can go to this recipient (WhatsApp goes to a phone).
    public func fits(_ channel: Channel) -> Bool {
        switch (channel, self) {
        case (.email, .email), (.sms, .phone), (.robocall, .phone), (.whatsapp, .phone), (.letter, .postal), (.push, .pushToken): true
        default: false
        }
    }

    enum CodingKeys: String, CodingKey { case kind, address, lines }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(String.self, forKey: .kind)
        switch kind {
        case "email": self = .email(try c.decode(String.self, forKey: .address))
        case "phone": self = .phone(try c.decode(String.self, forKey: .address))
        case "push": self = .pushToken(try c.decode(String.self, forKey: .address))
        case "postal": self = .postal(try c.decode([String].self, forKey: .lines))
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c,
                                                   debugDescription: "recipient kind '\(kind)' is not one of email, phone, postal, push")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .email(let a): try c.encode("email", forKey: .kind); try c.encode(a, forKey: .address)
        case .phone(let a): try c.encode("phone", forKey: .kind); try c.encode(a, forKey: .address)
        case .pushToken(let a): try c.encode("push", forKey: .kind); try c.encode(a, forKey: .address)
        case .postal(let l): try c.encode("postal", forKey: .kind); try c.encode(l, forKey: .lines)
        }
    }
}

/// The case facts a message carries beside its text, for providers and print shops.
public struct MessageMetadata: Sendable, Hashable, Codable {
    /// The amount due in minor units of `currency`.
    public var amountMinor: Int64
    /// ISO 4217 currency code.
    public var currency: String
    public var dueDate: CalendarDate
    /// The payment page link of the case, if it has one.
    public var paymentLink: String?

    public init(amountMinor: Int64, currency: String, dueDate: CalendarDate, paymentLink: String?) {
        self.amountMinor = amountMinor
        self.currency = currency
        self.dueDate = dueDate
        self.paymentLink = paymentLink
    }

    enum CodingKeys: String, CodingKey {
        case amountMinor = "amount_minor", currency
        case dueDate = "due_date"
        case paymentLink = "payment_link"
    }
}

/// A rendered message ready to go out over one channel.
public struct OutgoingMessage: Sendable, Hashable, Codable {
    /// The orchestrator's message id (`Message.id`).
    public var messageId: String
    /// The key that makes sending idempotent: a key is sent at most once.
    public var idempotencyKey: String
    public var customerId: String
    public var invoiceId: String
    public var channel: Channel
    /// The contact point the recipient address came from, if known (bounces refer to it).
    public var contactPointId: String?
    public var recipient: Recipient
    /// Template name (a `MessagePurpose` raw value such as `first_dunning`).
    public var template: String
    public var tone: Tone
    /// BCP 47 locale of the text, e.g. `de-DE`.
    public var locale: String
    /// Subject line (e-mail, letter, push title); `nil` for channels without one.
    public var subject: String?
    /// The plain-text body (the SMS text, the letter body, the robocall script ...).
    public var bodyText: String
    /// The HTML body of an e-mail; `nil` for other channels.
    public var bodyHTML: String?
    /// When the message is meant to go out (UTC).
    public var scheduledAt: Date
    public var metadata: MessageMetadata

    public init(messageId: String, idempotencyKey: String, customerId: String, invoiceId: String, channel: Channel,
                contactPointId: String? = nil, recipient: Recipient, template: String, tone: Tone, locale: String,
                subject: String?, bodyText: String, bodyHTML: String?, scheduledAt: Date, metadata: MessageMetadata) {
        self.messageId = messageId
        self.idempotencyKey = idempotencyKey
        self.customerId = customerId
        self.invoiceId = invoiceId
        self.channel = channel
        self.contactPointId = contactPointId
        self.recipient = recipient
        self.template = template
        self.tone = tone
        self.locale = locale
        self.subject = subject
        self.bodyText = bodyText
        self.bodyHTML = bodyHTML
        self.scheduledAt = scheduledAt
        self.metadata = metadata
    }

    /// A message whose texts come from `rendered` (see `TemplateCatalogue.render`).
    public init(messageId: String, idempotencyKey: String, customerId: String, invoiceId: String, channel: Channel,
                contactPointId: String? = nil, recipient: Recipient, rendered: RenderedMessage, scheduledAt: Date,
                metadata: MessageMetadata) {
        self.init(messageId: messageId, idempotencyKey: idempotencyKey, customerId: customerId, invoiceId: invoiceId,
                  channel: channel, contactPointId: contactPointId, recipient: recipient, template: rendered.purpose.rawValue,
                  tone: rendered.tone, locale: rendered.locale, subject: rendered.subject, bodyText: rendered.text,
                  bodyHTML: rendered.html, scheduledAt: scheduledAt, metadata: metadata)
    }

    /// The message of the outbox row `message` to `point`, with the texts of `rendered` and the
    /// case facts of `invoice` (the outbox's message id, idempotency key, channel, template, tone
    /// and scheduled instant are kept).
    /// - Precondition: `message` belongs to `invoice`.
    public init(message: Message, point: ContactPoint, invoice: Invoice, rendered: RenderedMessage, paymentLink: String?) {
        precondition(message.invoiceId == invoice.id, "OutgoingMessage: message \(message.id) is not of invoice \(invoice.id)")
        self.init(messageId: message.id, idempotencyKey: message.idempotencyKey, customerId: message.customerId, invoiceId: message.invoiceId,
                  channel: message.channel, contactPointId: point.id, recipient: Recipient(point), template: message.template,
                  tone: message.tone, locale: rendered.locale, subject: rendered.subject, bodyText: rendered.text, bodyHTML: rendered.html,
                  scheduledAt: message.scheduledAt,
                  metadata: MessageMetadata(amountMinor: invoice.amountMinor, currency: invoice.currency, dueDate: invoice.dueDate,
                                            paymentLink: paymentLink))
    }

    /// Throws `ChannelError.permanent(_, .noContactPoint)` when the recipient cannot carry the
    /// message's channel (an e-mail address for an SMS) or its address is empty.
    public func checkRecipient() throws {
        guard recipient.fits(channel) else {
            throw ChannelError.permanent("message \(messageId): a \(channel.rawValue) message cannot go to a \(recipient.contactKind.rawValue) address",
                                         .noContactPoint)
        }
        let empty: Bool
        switch recipient {
        case .email(let a), .phone(let a), .pushToken(let a): empty = a.trimmingCharacters(in: .whitespaces).isEmpty
        case .postal(let lines): empty = lines.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        }
        if empty { throw ChannelError.permanent("message \(messageId): the recipient address is empty", .noContactPoint) }
    }

    enum CodingKeys: String, CodingKey {
        case messageId = "message_id"
        case idempotencyKey = "idempotency_key"
        case customerId = "customer_id"
        case invoiceId = "invoice_id"
        case channel
        case contactPointId = "contact_point_id"
        case recipient, template, tone, locale, subject
        case bodyText = "body_text"
        case bodyHTML = "body_html"
        case scheduledAt = "scheduled_at"
        case metadata
    }
}

/// What an adapter answers for a message it took.
public struct SendReceipt: Sendable, Hashable, Codable {
    /// The state a provider reports right after taking a message.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Taken for delivery; delivery reports (if any) arrive later as events.
        case accepted
        /// Already delivered (providers that deliver synchronously).
        case delivered
    }

    /// The provider's id of the message (for matching delivery reports).
    public var providerId: String
    /// When the provider took the message (UTC).
    public var acceptedAt: Date
    public var status: Status
    /// `true` when the idempotency key had been sent before and this is the first receipt again.
    public var replayed: Bool

    public init(providerId: String, acceptedAt: Date, status: Status, replayed: Bool = false) {
        self.providerId = providerId
        self.acceptedAt = acceptedAt
        self.status = status
        self.replayed = replayed
    }

    enum CodingKeys: String, CodingKey {
        case providerId = "provider_id"
        case acceptedAt = "accepted_at"
        case status, replayed
    }
}

/// Why a message could not go out for good, named as the flow conditions that start a backup
/// action (SPEC §3).
public enum FailureCondition: String, Sendable, Hashable, Codable, CaseIterable {
    /// The provider refused the message (a 4xx answer, a malformed request, an account problem).
    case providerError = "provider_error"
    /// The address cannot be delivered to (unknown number, rejected address).
    case undeliverable
    /// There is no usable address for the channel.
    case noContactPoint = "no_contact_point"
    /// The customer did not consent to the channel.
    case noConsent = "no_consent"
}

/// A failure to send.
public enum ChannelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Trying again later may succeed (timeouts, 5xx, 429, connection errors after the adapter's
    /// own retries); the outbox keeps the message.
    case retryable(String)
    /// Trying again will not help; `condition` tells the flow which backup chain to run.
    case permanent(String, FailureCondition)

    /// Whether trying again later may succeed.
    public var isRetryable: Bool { if case .retryable = self { true } else { false } }

    /// The flow condition of a permanent failure; `nil` for a retryable one.
    public var condition: FailureCondition? { if case .permanent(_, let c) = self { c } else { nil } }

    public var description: String {
        switch self {
        case .retryable(let reason): "retryable: \(reason)"
        case .permanent(let reason, let condition): "permanent (\(condition.rawValue)): \(reason)"
        }
    }
}
