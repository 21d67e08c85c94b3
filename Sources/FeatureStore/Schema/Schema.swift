import Vocabulary

/// The tables of the store (SPEC §3) that are exchanged as record files, in dependency order
/// (a table only references tables before it). Every large table is keyed by
/// `(customer_id, <id>)` so that PostgreSQL/Citus can distribute it by customer (SPEC §7).
///
/// The SQL of each backend's migrations must create exactly these columns (`StoreColumn.sqlName`);
/// the schema test checks it against the live database.
public enum Schema {
    public static let customers = StoreTable(
        name: "customers", file: Customer.fileName,
        columns: [
            StoreColumn("id", .text),
            StoreColumn("locale", .text),
            StoreColumn("country", .text),
            StoreColumn("time_zone", .text),
            StoreColumn("preferred_channel", .channel, optional: true),
            StoreColumn("created_at", .instant),
        ],
        key: ["id"], idColumn: "id")

    public static let contactPoints = StoreTable(
        name: "contact_points", file: ContactPoint.fileName,
        columns: [
            StoreColumn("id", .text),
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("kind", .word(ContactKind.allCases.map(\.rawValue))),
            StoreColumn("value", .text),
            StoreColumn("phone_type", .word(PhoneType.allCases.map(\.rawValue)), optional: true),
            StoreColumn("validation", .word(ValidationState.allCases.map(\.rawValue))),
            StoreColumn("consent", .boolean),
            StoreColumn("source", .text),
            StoreColumn("updated_at", .instant),
        ],
        key: ["customer_id", "id"], idColumn: "id")

    /// Every version of every contact point that was imported, keyed by its `updated_at`: the
    /// record file holds only a point's final state, so without these versions a later change
    /// would overwrite what was known at an earlier decision. Written with `contact_points`;
    /// read by the point-in-time features. No record file of its own.
    public static let contactPointVersions: StoreTable = {
        var t = contactPoints
        t.name = "contact_point_versions"
        t.file = ""
        t.columns = t.columns.map { var c = $0; c.references = nil; return c }
        t.key = ["customer_id", "id", "updated_at"]
        return t
    }()

    public static let invoices = StoreTable(
        name: "invoices", file: Invoice.fileName,
        columns: [
            StoreColumn("id", .text),
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("amount_minor", .integer, check: .nonNegative),
            StoreColumn("currency", .text),
            StoreColumn("issue_date", .date),
            StoreColumn("due_date", .date),
            StoreColumn("status", .word(InvoiceStatus.allCases.map(\.rawValue))),
            StoreColumn("flow_name", .text, optional: true),
            StoreColumn("flow_version", .integer, optional: true),
            StoreColumn("step", .integer, optional: true),
        ],
        key: ["customer_id", "id"], idColumn: "id")

    public static let decisions = StoreTable(
        name: "decisions", file: Decision.fileName,
        columns: [
            StoreColumn("id", .text),
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("invoice_id", .text, references: "invoices"),
            StoreColumn("decided_at", .instant),
            StoreColumn("candidates", .actionSet),
            StoreColumn("channel", .channel),
            StoreColumn("tone", .tone),
            StoreColumn("weekday", .integer, check: .oneOf(Weekday.allCases.map { Int64($0.rawValue) })),
            StoreColumn("hour", .integer, check: .oneOf(HourBucket.allCases.map { Int64($0.rawValue) })),
            StoreColumn("propensity", .real, check: .probability),
            StoreColumn("propensity_is_exact", .boolean),
            StoreColumn("propensity_draws", .integer, optional: true, check: .positive),
            StoreColumn("policy", .text),
            StoreColumn("policy_version", .text),
            StoreColumn("experiment", .text, optional: true),
            StoreColumn("arm", .text, optional: true),
            StoreColumn("context_ref", .text, optional: true),
        ],
        key: ["customer_id", "id"], idColumn: "id")

    public static let messages = StoreTable(
        name: "messages", file: Message.fileName,
        columns: [
            StoreColumn("id", .text),
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("invoice_id", .text, references: "invoices"),
            StoreColumn("decision_id", .text, optional: true, references: "decisions"),
            StoreColumn("contact_point_id", .text, optional: true, references: "contact_points"),
            StoreColumn("channel", .channel),
            StoreColumn("template", .text),
            StoreColumn("tone", .tone),
            StoreColumn("scheduled_local", .localTime),
            StoreColumn("scheduled_at", .instant),
            StoreColumn("status", .word(MessageStatus.allCases.map(\.rawValue))),
            StoreColumn("provider_id", .text, optional: true),
            StoreColumn("idempotency_key", .text),
            StoreColumn("cost_minor", .integer, check: .nonNegative),
        ],
        key: ["customer_id", "id"], idColumn: "id", unique: [["customer_id", "idempotency_key"]])

    /// The event log. The kind-specific `payload` object of `events.jsonl` is held in its own
    /// columns (`EventPayload`'s fields), so features can be computed in SQL or Swift alike.
    public static let events = StoreTable(
        name: "events", file: Event.fileName, format: .jsonLines,
        columns: [
            StoreColumn("id", .text),
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("invoice_id", .text, references: "invoices"),
            StoreColumn("kind", .word(EventKind.allCases.map(\.rawValue))),
            StoreColumn("message_id", .text, optional: true, references: "messages"),
            StoreColumn("occurred_at", .instant),
            StoreColumn("amount_minor", .integer, optional: true, check: .nonNegative, group: "payload"),
            StoreColumn("channel", .channel, optional: true, group: "payload"),
            StoreColumn("contact_point_id", .text, optional: true, group: "payload"),
            StoreColumn("currency", .text, optional: true, group: "payload"),
            StoreColumn("installments", .integer, optional: true, check: .positive, group: "payload"),
            StoreColumn("payment_id", .text, optional: true, group: "payload"),
            StoreColumn("reason", .text, optional: true, group: "payload"),
            StoreColumn("via", .text, optional: true, group: "payload"),
        ],
        key: ["customer_id", "id"], idColumn: "id")

    public static let payments = StoreTable(
        name: "payments", file: Payment.fileName,
        columns: [
            StoreColumn("id", .text),
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("invoice_id", .text, references: "invoices"),
            StoreColumn("amount_minor", .integer, check: .positive),
            StoreColumn("currency", .text),
            StoreColumn("paid_at", .instant),
        ],
        key: ["customer_id", "id"], idColumn: "id")

    /// The record-file tables in dependency order.
    public static let tables: [StoreTable] = [customers, contactPoints, invoices, decisions, messages, events, payments]

    /// The table called `name`, if it is one of `tables`.
    public static func table(named name: String) -> StoreTable? { tables.first { $0.name == name } }
}
