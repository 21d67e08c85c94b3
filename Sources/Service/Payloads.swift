import FeatureStore
import Foundation
import Hummingbird
import Optimizer
import Vocabulary

/// An error answer of the JSON API: `{"error": {"code", "message", "field"}}` with an HTTP status.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A stable machine-readable code (`bad_signature`, `missing_field`, ...).
    public var code: String
    public var message: String
    /// The JSON field (dotted path) that is wrong, if one is.
    public var field: String?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { "\(status.code) \(code): \(field.map { $0 + ": " } ?? "")\(message)" }

    static func badField(_ field: String, _ message: String) -> APIError { APIError(.badRequest, "invalid_field", message, field: field) }
    static func missing(_ field: String) -> APIError { APIError(.badRequest, "missing_field", "required", field: field) }
}

/// A JSON object with typed readers whose errors name the field.
struct JSONObject {
    let values: [String: JSONValue]
    let path: String

    init(_ value: JSONValue?, path: String) throws {
        guard case .object(let v)? = value else {
            throw path.isEmpty ? APIError(.badRequest, "invalid_json", "the body must be a JSON object")
                               : APIError.badField(path, "must be a JSON object")
        }
        values = v
        self.path = path
    }

    /// Parses a request body.
    static func parse(_ body: [UInt8]) throws -> JSONValue {
        guard !body.isEmpty else { throw APIError(.badRequest, "invalid_json", "the body is empty; send a JSON object") }
        do { return try JSONValue(parsing: body) } catch let e as JSONValue.ParseError {
            throw APIError(.badRequest, "invalid_json", "the body is not valid JSON (\(e))")
        }
    }

    func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func has(_ key: String) -> Bool {
        if case .null? = values[key] { return false }
        return values[key] != nil
    }

    func string(_ key: String) throws -> String {
        guard has(key) else { throw APIError.missing(name(key)) }
        return try optionalString(key)!
    }

    func optionalString(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard case .string(let s)? = values[key] else { throw APIError.badField(name(key), "must be a string") }
        guard !s.isEmpty, s.utf8.count <= 256 else { throw APIError.badField(name(key), "must be 1 to 256 bytes long") }
        return s
    }

    func optionalInt(_ key: String) throws -> Int64? {
        guard has(key) else { return nil }
        guard case .number(let d)? = values[key], let i = Int64(exactly: d) else { throw APIError.badField(name(key), "must be an integer") }
        return i
    }

    func optionalDouble(_ key: String) throws -> Double? {
        guard has(key) else { return nil }
        guard case .number(let d)? = values[key], d.isFinite else { throw APIError.badField(name(key), "must be a number") }
        return d
    }

    func optionalStrings(_ key: String) throws -> [String]? {
        guard has(key) else { return nil }
        guard case .array(let items)? = values[key], !items.isEmpty else { throw APIError.badField(name(key), "must be a non-empty list of strings") }
        return try items.map { item in
            guard case .string(let s) = item else { throw APIError.badField(name(key), "must be a non-empty list of strings") }
            return s
        }
    }

    func optionalObject(_ key: String) throws -> JSONObject? {
        guard has(key) else { return nil }
        return try JSONObject(values[key], path: name(key))
    }

    /// An instant: an ISO 8601 string (`2026-03-02T09:05:00Z`, offsets and fractions allowed) or Unix seconds.
    func optionalInstant(_ key: String) throws -> Date? {
        guard has(key) else { return nil }
        switch values[key] {
        case .number(let d)? where d.isFinite: return Date(timeIntervalSince1970: d)
        case .string(let s)?:
            if let micros = CivilTime.parseInstant(Array(s.utf8)) { return Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
        default: break
        }
        throw APIError.badField(name(key), "must be an ISO 8601 instant such as 2026-03-02T09:05:00Z, or Unix seconds")
    }
}

/// A delivery provider's event as `POST /v1/webhooks/{provider}` takes it (one object, or
/// `{"events": [...]}` for a batch):
///
/// ```json
/// {"id": "evt_123", "type": "bounced_hard", "message_id": "I1/0/0", "customer_id": "C1",
///  "occurred_at": "2026-03-02T09:05:00Z", "detail": {"reason": "550 unknown user"}}
/// ```
/// `message_id` is the message's idempotency key (the adapters send it to the provider, which
/// echoes it with `customer_id` as metadata); `invoice_id` is looked up from the message when left out.
struct ProviderEvent: Sendable {
    /// The webhook types and the event kinds they are stored as (`failed`: the provider gave up on
    /// the message — the flow sees it like a soft bounce, `undeliverable`).
    static let types: [String: EventKind] = [
        "delivered": .delivered, "bounced_hard": .bouncedHard, "bounced_soft": .bouncedSoft, "opened": .opened, "clicked": .clicked,
        "failed": .bouncedSoft,
    ]

    var id: String
    var type: String
    var kind: EventKind
    var messageId: String
    var customerId: String
    var invoiceId: String?
    var occurredAt: Date
    var reason: String?
    var contactPointId: String?

    init(_ o: JSONObject) throws {
        id = try o.string("id")
        type = try o.string("type")
        guard let k = Self.types[type] else {
            throw APIError.badField(o.name("type"), "unknown type '\(type.prefix(40))'; one of \(Self.types.keys.sorted().joined(separator: ", "))")
        }
        kind = k
        messageId = try o.string("message_id")
        customerId = try o.string("customer_id")
        invoiceId = try o.optionalString("invoice_id")
        guard let at = try o.optionalInstant("occurred_at") else { throw APIError.missing(o.name("occurred_at")) }
        occurredAt = at
        let detail = try o.optionalObject("detail")
        reason = try detail?.optionalString("reason")
        if type == "failed" { reason = "failed" + (reason.map { ": " + $0 } ?? "") }
        contactPointId = try detail?.optionalString("contact_point_id")
    }

    /// The stored event: its id is `<provider>:<id>`, so two providers' ids never collide.
    func event(provider: String, invoiceId: String) -> Event {
        Event(id: provider + ":" + id, kind: kind, customerId: customerId, invoiceId: invoiceId, messageId: messageId, occurredAt: occurredAt,
              payload: EventPayload(contactPointId: contactPointId, reason: reason))
    }
}

/// An outcome as `POST /v1/outcomes` takes it: a payment, a visit, a dispute ... of a case, from a
/// system that sends itself. Stored with the id `api:<event_id>`.
struct OutcomeRequest: Sendable {
    static let types: Set<EventKind> = [.payment, .paymentPlanAgreed, .dispute, .pageVisit, .qrScan, .delivered, .opened, .clicked,
                                        .bouncedHard, .bouncedSoft, .preferredChannelSet]
    var event: Event
    var decisionId: String?

    init(_ o: JSONObject) throws {
        let id = try o.string("event_id")
        let typeName = try o.string("type")
        guard let kind = EventKind(rawValue: typeName), Self.types.contains(kind) else {
            throw APIError.badField("type", "unknown type '\(typeName.prefix(40))'; one of \(Self.types.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        let customer = try o.string("customer_id"), invoice = try o.string("invoice_id")
        guard let at = try o.optionalInstant("occurred_at") else { throw APIError.missing("occurred_at") }
        var payload = EventPayload()
        payload.amountMinor = try o.optionalInt("amount_minor")
        payload.currency = try o.optionalString("currency")
        payload.paymentId = try o.optionalString("payment_id")
        payload.reason = try o.optionalString("reason")
        payload.via = try o.optionalString("via")
        payload.contactPointId = try o.optionalString("contact_point_id")
        if let n = try o.optionalInt("installments") { payload.installments = Int(n) }
        if let c = try o.optionalString("channel") {
            guard let ch = Channel(rawValue: c) else {
                throw APIError.badField("channel", "unknown channel '\(c)'; one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            payload.channel = ch
        }
        switch kind {
        case .payment:
            guard let a = payload.amountMinor else { throw APIError.missing("amount_minor") }
            guard a > 0 else { throw APIError.badField("amount_minor", "must be positive (minor units, e.g. cents), got \(a)") }
        case .preferredChannelSet:
            guard payload.channel != nil else { throw APIError.missing("channel") }
        default: break
        }
        if let c = payload.currency, !(c.count == 3 && c.allSatisfy { $0.isASCII && $0.isUppercase }) {
            throw APIError.badField("currency", "must be an ISO 4217 code such as EUR, got '\(c.prefix(10))'")
        }
        decisionId = try o.optionalString("decision_id")
        event = Event(id: "api:" + id, kind: kind, customerId: customer, invoiceId: invoice, messageId: try o.optionalString("message_id"),
                      occurredAt: at, payload: payload)
    }
}

/// A decision request as `POST /v1/decisions` takes it.
struct DecisionRequest: Sendable {
    var customerId: String
    var invoiceId: String
    var requestId: String?
    var now: Date?
    var channels: Set<Channel>?
    var tones: Set<Tone>?
    var windowHours: Double?

    init(_ o: JSONObject) throws {
        customerId = try o.string("customer_id")
        invoiceId = try o.string("invoice_id")
        requestId = try o.optionalString("request_id")
        now = try o.optionalInstant("now")
        if let c = try o.optionalObject("constraints") {
            if let list = try c.optionalStrings("channels") {
                channels = Set(try list.map { s in
                    guard let ch = Channel(rawValue: s) else {
                        throw APIError.badField(c.name("channels"), "unknown channel '\(s.prefix(20))'; one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return ch
                })
            }
            if let list = try c.optionalStrings("tones") {
                tones = Set(try list.map { s in
                    guard let t = Tone(rawValue: s) else {
                        throw APIError.badField(c.name("tones"), "unknown tone '\(s.prefix(20))'; one of \(Tone.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return t
                })
            }
            if let w = try c.optionalDouble("window_hours") {
                guard w > 0, w <= 24 * 14 else { throw APIError.badField(c.name("window_hours"), "must lie in (0, 336], got \(w)") }
                windowHours = w
            }
        }
    }
}
