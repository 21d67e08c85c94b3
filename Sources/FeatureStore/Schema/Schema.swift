/// The tables of the store (SPEC §3) that are exchanged as record files, in dependency order
/// (a table only references tables before it). Every large table is keyed by
/// `(customer_id, <id>)` so that PostgreSQL/Citus can distribute it by customer (SPEC §7).
///
/// The SQL of each backend's migrations must create exactly these columns (`StoreColumn.sqlName`);
/// the schema test checks it against the live database.
public enum Schema {
    public static let customers = StoreTable(
        name: "customers", file: "customers.csv",
        columns: [
            StoreColumn("customer_id", .text),
            StoreColumn("locale", .text),
            StoreColumn("country", .text),
            StoreColumn("time_zone", .text),
            StoreColumn("preferred_channel", .channel, optional: true),
            StoreColumn("created_at", .instant),
        ],
        key: ["customer_id"], idColumn: "customer_id")

    public static let contactPoints = StoreTable(
        name: "contact_points", file: "contact_points.csv",
        columns: [
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("contact_point_id", .text),
            StoreColumn("channel", .channel),
            StoreColumn("address", .text),
            StoreColumn("validation", .word(["unverified", "valid", "invalid", "bounced"])),
            StoreColumn("consent", .boolean),
            StoreColumn("created_at", .instant),
        ],
        key: ["customer_id", "contact_point_id"], idColumn: "contact_point_id")

    public static let invoices = StoreTable(
        name: "invoices", file: "invoices.csv",
        columns: [
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("invoice_id", .text),
            StoreColumn("amount", .money, nonNegative: true),
            StoreColumn("currency", .text),
            StoreColumn("issue_date", .date),
            StoreColumn("due_date", .date),
            StoreColumn("status", .word(["open", "partially_paid", "paid", "disputed", "payment_plan", "agency", "written_off"])),
            StoreColumn("flow", .text, optional: true),
            StoreColumn("flow_step", .integer, optional: true),
        ],
        key: ["customer_id", "invoice_id"], idColumn: "invoice_id")

    public static let messages = StoreTable(
        name: "messages", file: "messages.csv",
        columns: [
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("message_id", .text),
            StoreColumn("invoice_id", .text, references: "invoices"),
            StoreColumn("decision_id", .text, optional: true),
            StoreColumn("channel", .channel),
            StoreColumn("template", .text),
            StoreColumn("tone", .tone),
            StoreColumn("scheduled_at", .instant),
            StoreColumn("status", .word(["queued", "sent", "delivered", "bounced", "failed"])),
            StoreColumn("provider_id", .text, optional: true),
            StoreColumn("idempotency_key", .text),
            StoreColumn("cost", .money, nonNegative: true),
        ],
        key: ["customer_id", "message_id"], idColumn: "message_id", unique: [["customer_id", "idempotency_key"]])

    public static let events = StoreTable(
        name: "events", file: "events.jsonl", format: .jsonLines,
        columns: [
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("event_id", .text),
            StoreColumn("invoice_id", .text, optional: true, references: "invoices"),
            StoreColumn("message_id", .text, optional: true, references: "messages"),
            StoreColumn("type", .word(EventType.allCases.map(\.rawValue))),
            StoreColumn("channel", .channel, optional: true),
            StoreColumn("occurred_at", .instant),
            StoreColumn("detail", .text, optional: true),
        ],
        key: ["customer_id", "event_id"], idColumn: "event_id")

    public static let payments = StoreTable(
        name: "payments", file: "payments.csv",
        columns: [
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("payment_id", .text),
            StoreColumn("invoice_id", .text, references: "invoices"),
            StoreColumn("amount", .money, nonNegative: true),
            StoreColumn("paid_at", .instant),
        ],
        key: ["customer_id", "payment_id"], idColumn: "payment_id")

    public static let decisions = StoreTable(
        name: "decisions", file: "decisions.csv",
        columns: [
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("decision_id", .text),
            StoreColumn("invoice_id", .text, references: "invoices"),
            StoreColumn("decided_at", .instant),
            StoreColumn("candidates", .text),
            StoreColumn("channel", .channel),
            StoreColumn("tone", .tone),
            StoreColumn("weekday", .integer),
            StoreColumn("hour", .integer),
            StoreColumn("propensity", .real),
            StoreColumn("propensity_draws", .integer, optional: true),
            StoreColumn("policy_version", .text),
            StoreColumn("experiment", .text, optional: true),
            StoreColumn("arm", .text, optional: true),
        ],
        key: ["customer_id", "decision_id"], idColumn: "decision_id")

    /// The record-file tables in dependency order.
    public static let tables: [StoreTable] = [customers, contactPoints, invoices, decisions, messages, events, payments]

    /// The table called `name`, if it is one of `tables`.
    public static func table(named name: String) -> StoreTable? { tables.first { $0.name == name } }
}

/// The kinds of event (SPEC §3).
public enum EventType: String, CaseIterable, Sendable, Codable {
    case delivered, bounced_hard, bounced_soft, opened, clicked, page_visit, qr_scan
    case contact_submitted, preferred_channel_set, payment, payment_plan, dispute
}
