import Vocabulary

extension Schema {
    /// One row per case (invoice) the orchestrator runs a flow for: the flow and its version, the
    /// experiment arm the customer was assigned at enrolment, the flow's progress (`progress`, the
    /// orchestrator's compact text of it; JSON in rows of earlier versions), when the case next
    /// needs attention (`next_due_at`, NULL when the flow has nothing more to do) and the lease of
    /// the worker handling it now.
    public static let caseStates = StoreTable(
        name: "case_states", file: "",
        columns: [
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("invoice_id", .text, references: "invoices"),
            StoreColumn("flow_name", .text),
            StoreColumn("flow_version", .integer),
            StoreColumn("experiment", .text, optional: true),
            StoreColumn("arm", .text, optional: true),
            StoreColumn("progress", .text),
            StoreColumn("next_due_at", .instant, optional: true),
            StoreColumn("lease_owner", .text, optional: true),
            StoreColumn("lease_until", .instant, optional: true),
            StoreColumn("updated_at", .instant),
        ],
        key: ["customer_id", "invoice_id"], idColumn: "invoice_id")

    /// The transactional outbox: one row per message that is written (status `queued`) but not yet
    /// handed to its channel. Written in the same transaction as the message and its decision;
    /// deleted in the same transaction that marks the message `sent` (or `failed`).
    public static let outbox = StoreTable(
        name: "outbox", file: "",
        columns: [
            StoreColumn("customer_id", .text, references: "customers"),
            StoreColumn("message_id", .text, references: "messages"),
            StoreColumn("due_at", .instant),
            StoreColumn("attempts", .integer, check: .nonNegative),
            StoreColumn("last_error", .text, optional: true),
            StoreColumn("lease_owner", .text, optional: true),
            StoreColumn("lease_until", .instant, optional: true),
        ],
        key: ["customer_id", "message_id"], idColumn: "message_id")

    /// A/B experiments: the salt of the deterministic assignment hash and the treatment share,
    /// fixed when the experiment is first used so that every run assigns alike.
    public static let experiments = StoreTable(
        name: "experiments", file: "",
        columns: [
            StoreColumn("name", .text),
            StoreColumn("salt", .text),
            StoreColumn("treatment_share", .real),
            StoreColumn("model", .text, optional: true),
            StoreColumn("created_at", .instant),
        ],
        key: ["name"], idColumn: "name")

    /// One row per orchestrator run and worker: what it did.
    public static let runs = StoreTable(
        name: "runs", file: "",
        columns: [
            StoreColumn("id", .text),
            StoreColumn("worker", .text),
            StoreColumn("as_of", .instant),
            StoreColumn("started_at", .instant),
            StoreColumn("finished_at", .instant, optional: true),
            StoreColumn("enrolled", .integer),
            StoreColumn("cases", .integer),
            StoreColumn("decisions", .integer),
            StoreColumn("queued", .integer),
            StoreColumn("sent", .integer),
            StoreColumn("failed", .integer),
        ],
        key: ["id"], idColumn: "id")

    /// The orchestrator's own tables (not record files), in dependency order.
    public static let orchestrationTables: [StoreTable] = [caseStates, outbox, experiments, runs]
}

extension Schema {
    /// The names of the flows ever loaded.
    public static let flows = StoreTable(
        name: "flows", file: "",
        columns: [StoreColumn("name", .text), StoreColumn("created_at", .instant)],
        key: ["name"], idColumn: "name")

    /// Every version of every flow: the definition file's text and its SHA-256. A version is never
    /// changed once stored.
    public static let flowVersions = StoreTable(
        name: "flow_versions", file: "",
        columns: [
            StoreColumn("name", .text, references: "flows"),
            StoreColumn("version", .integer),
            StoreColumn("definition", .text),
            StoreColumn("checksum", .text),
            StoreColumn("created_at", .instant),
        ],
        key: ["name", "version"], idColumn: "name")
}
