import FeatureStore

/// The SQLite schema, one migration per version. Never edit a migration that has landed on main;
/// add a new one. Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC), dates TEXT
/// `YYYY-MM-DD`, money INTEGER minor units (`*_cents`), booleans INTEGER 0/1.
public let sqliteMigrations: [Migration] = [
    Migration(version: 1, name: "domain schema", sql: """
        CREATE TABLE customers (
            customer_id TEXT NOT NULL PRIMARY KEY,
            locale TEXT NOT NULL,
            country TEXT NOT NULL,
            time_zone TEXT NOT NULL,
            preferred_channel TEXT,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE contact_points (
            customer_id TEXT NOT NULL REFERENCES customers (customer_id),
            contact_point_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            address TEXT NOT NULL,
            validation TEXT NOT NULL CHECK (validation IN ('unverified', 'valid', 'invalid', 'bounced')),
            consent INTEGER NOT NULL CHECK (consent IN (0, 1)),
            created_at INTEGER NOT NULL,
            PRIMARY KEY (customer_id, contact_point_id)
        ) WITHOUT ROWID;

        CREATE TABLE flows (
            flow TEXT NOT NULL PRIMARY KEY,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE flow_versions (
            flow TEXT NOT NULL REFERENCES flows (flow),
            version INTEGER NOT NULL,
            definition TEXT NOT NULL,
            checksum TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (flow, version)
        ) WITHOUT ROWID;

        CREATE TABLE invoices (
            customer_id TEXT NOT NULL REFERENCES customers (customer_id),
            invoice_id TEXT NOT NULL,
            amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
            currency TEXT NOT NULL,
            issue_date TEXT NOT NULL,
            due_date TEXT NOT NULL,
            status TEXT NOT NULL,
            flow TEXT,
            flow_step INTEGER,
            PRIMARY KEY (customer_id, invoice_id)
        ) WITHOUT ROWID;

        CREATE TABLE decisions (
            customer_id TEXT NOT NULL,
            decision_id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            decided_at INTEGER NOT NULL,
            candidates TEXT NOT NULL,
            channel TEXT NOT NULL,
            tone TEXT NOT NULL,
            weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
            hour INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
            propensity REAL NOT NULL CHECK (propensity > 0 AND propensity <= 1),
            propensity_draws INTEGER,
            policy_version TEXT NOT NULL,
            experiment TEXT,
            arm TEXT,
            PRIMARY KEY (customer_id, decision_id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, invoice_id)
        ) WITHOUT ROWID;

        CREATE TABLE messages (
            customer_id TEXT NOT NULL,
            message_id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            decision_id TEXT,
            channel TEXT NOT NULL,
            template TEXT NOT NULL,
            tone TEXT NOT NULL,
            scheduled_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'bounced', 'failed')),
            provider_id TEXT,
            idempotency_key TEXT NOT NULL,
            cost_cents INTEGER NOT NULL CHECK (cost_cents >= 0),
            PRIMARY KEY (customer_id, message_id),
            UNIQUE (customer_id, idempotency_key),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, invoice_id)
        ) WITHOUT ROWID;

        CREATE TABLE events (
            customer_id TEXT NOT NULL REFERENCES customers (customer_id),
            event_id TEXT NOT NULL,
            invoice_id TEXT,
            message_id TEXT,
            type TEXT NOT NULL,
            channel TEXT,
            occurred_at INTEGER NOT NULL,
            detail TEXT,
            PRIMARY KEY (customer_id, event_id)
        ) WITHOUT ROWID;

        CREATE TABLE payments (
            customer_id TEXT NOT NULL,
            payment_id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
            paid_at INTEGER NOT NULL,
            PRIMARY KEY (customer_id, payment_id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, invoice_id)
        ) WITHOUT ROWID;

        CREATE TABLE model_artifacts (
            artifact_id TEXT NOT NULL PRIMARY KEY,
            model TEXT NOT NULL,
            version INTEGER NOT NULL,
            format_version INTEGER NOT NULL,
            feature_schema_hash TEXT NOT NULL,
            checksum TEXT NOT NULL,
            trained_from INTEGER,
            trained_to INTEGER,
            metrics TEXT NOT NULL,
            body BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (model, version)
        ) WITHOUT ROWID;

        CREATE TABLE model_promotions (
            model TEXT NOT NULL PRIMARY KEY,
            artifact_id TEXT NOT NULL REFERENCES model_artifacts (artifact_id),
            promoted_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """),
]
