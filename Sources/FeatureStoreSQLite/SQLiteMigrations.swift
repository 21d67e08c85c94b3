import FeatureStore

/// The SQLite schema, one migration per version. Never edit a migration that has landed on main;
/// add a new one. Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC), dates TEXT
/// and local times TEXT (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS`), booleans INTEGER 0/1.
public let sqliteMigrations: [Migration] = [
    Migration(version: 1, name: "domain schema", sql: """
        CREATE TABLE customers (
            id TEXT NOT NULL PRIMARY KEY,
            locale TEXT NOT NULL,
            country TEXT NOT NULL,
            time_zone TEXT NOT NULL,
            preferred_channel TEXT,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE contact_points (
            id TEXT NOT NULL,
            customer_id TEXT NOT NULL REFERENCES customers (id),
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            phone_type TEXT,
            validation TEXT NOT NULL CHECK (validation IN ('unverified', 'valid', 'invalid', 'bounced')),
            consent INTEGER NOT NULL CHECK (consent IN (0, 1)),
            source TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (customer_id, id)
        ) WITHOUT ROWID;

        CREATE TABLE contact_point_versions (
            id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            phone_type TEXT,
            validation TEXT NOT NULL CHECK (validation IN ('unverified', 'valid', 'invalid', 'bounced')),
            consent INTEGER NOT NULL CHECK (consent IN (0, 1)),
            source TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (customer_id, id, updated_at)
        ) WITHOUT ROWID;

        CREATE TABLE invoices (
            id TEXT NOT NULL,
            customer_id TEXT NOT NULL REFERENCES customers (id),
            amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
            currency TEXT NOT NULL,
            issue_date TEXT NOT NULL,
            due_date TEXT NOT NULL,
            status TEXT NOT NULL,
            flow_name TEXT,
            flow_version INTEGER,
            step INTEGER,
            PRIMARY KEY (customer_id, id)
        ) WITHOUT ROWID;

        CREATE TABLE decisions (
            id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            decided_at INTEGER NOT NULL,
            candidates TEXT NOT NULL,
            channel TEXT NOT NULL,
            tone TEXT NOT NULL,
            weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
            hour INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
            propensity REAL NOT NULL CHECK (propensity > 0 AND propensity <= 1),
            propensity_is_exact INTEGER NOT NULL CHECK (propensity_is_exact IN (0, 1)),
            propensity_draws INTEGER,
            policy TEXT NOT NULL,
            policy_version TEXT NOT NULL,
            experiment TEXT,
            arm TEXT,
            context_ref TEXT,
            PRIMARY KEY (customer_id, id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id)
        ) WITHOUT ROWID;

        CREATE TABLE messages (
            id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            decision_id TEXT,
            contact_point_id TEXT,
            channel TEXT NOT NULL,
            template TEXT NOT NULL,
            tone TEXT NOT NULL,
            scheduled_local TEXT NOT NULL,
            scheduled_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'bounced', 'failed')),
            provider_id TEXT,
            idempotency_key TEXT NOT NULL,
            cost_minor INTEGER NOT NULL CHECK (cost_minor >= 0),
            PRIMARY KEY (customer_id, id),
            UNIQUE (customer_id, idempotency_key),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id),
            FOREIGN KEY (customer_id, decision_id) REFERENCES decisions (customer_id, id),
            FOREIGN KEY (customer_id, contact_point_id) REFERENCES contact_points (customer_id, id)
        ) WITHOUT ROWID;

        CREATE TABLE events (
            id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            message_id TEXT,
            occurred_at INTEGER NOT NULL,
            amount_minor INTEGER CHECK (amount_minor >= 0),
            channel TEXT,
            contact_point_id TEXT,
            currency TEXT,
            installments INTEGER,
            payment_id TEXT,
            reason TEXT,
            via TEXT,
            PRIMARY KEY (customer_id, id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id),
            FOREIGN KEY (customer_id, message_id) REFERENCES messages (customer_id, id)
        ) WITHOUT ROWID;

        CREATE TABLE payments (
            id TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            currency TEXT NOT NULL,
            paid_at INTEGER NOT NULL,
            PRIMARY KEY (customer_id, id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id)
        ) WITHOUT ROWID;

        CREATE TABLE flows (
            name TEXT NOT NULL PRIMARY KEY,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE flow_versions (
            name TEXT NOT NULL REFERENCES flows (name),
            version INTEGER NOT NULL,
            definition TEXT NOT NULL,
            checksum TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (name, version)
        ) WITHOUT ROWID;

        CREATE TABLE model_artifacts (
            id TEXT NOT NULL PRIMARY KEY,
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
            artifact_id TEXT NOT NULL REFERENCES model_artifacts (id),
            promoted_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """),
    Migration(version: 2, name: "orchestration: case states, outbox, experiments, runs", sql: """
        CREATE TABLE case_states (
            customer_id TEXT NOT NULL,
            invoice_id TEXT NOT NULL,
            flow_name TEXT NOT NULL,
            flow_version INTEGER NOT NULL,
            experiment TEXT,
            arm TEXT,
            progress TEXT NOT NULL,
            next_due_at INTEGER,
            lease_owner TEXT,
            lease_until INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (customer_id, invoice_id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id)
        ) WITHOUT ROWID;
        CREATE INDEX case_states_due ON case_states (next_due_at) WHERE next_due_at IS NOT NULL;

        CREATE TABLE outbox (
            customer_id TEXT NOT NULL,
            message_id TEXT NOT NULL,
            due_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL CHECK (attempts >= 0),
            last_error TEXT,
            lease_owner TEXT,
            lease_until INTEGER,
            PRIMARY KEY (customer_id, message_id),
            FOREIGN KEY (customer_id, message_id) REFERENCES messages (customer_id, id)
        ) WITHOUT ROWID;
        CREATE INDEX outbox_due ON outbox (due_at);

        CREATE TABLE experiments (
            name TEXT NOT NULL PRIMARY KEY,
            salt TEXT NOT NULL,
            treatment_share REAL NOT NULL CHECK (treatment_share >= 0 AND treatment_share <= 1),
            model TEXT,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE runs (
            id TEXT NOT NULL PRIMARY KEY,
            worker TEXT NOT NULL,
            as_of INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            enrolled INTEGER NOT NULL,
            cases INTEGER NOT NULL,
            decisions INTEGER NOT NULL,
            queued INTEGER NOT NULL,
            sent INTEGER NOT NULL,
            failed INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE INDEX messages_invoice ON messages (customer_id, invoice_id);
        """),
]
