import FeatureStore

/// The PostgreSQL schema, one migration per version. Never edit a migration that has landed on
/// main; add a new one. Statements are separated by a `;` at the end of a line.
///
/// Every large table's primary key starts with `customer_id` and every foreign key and unique
/// constraint between them includes it, so the schema can be distributed by customer with Citus
/// (`SELECT create_distributed_table('<table>', 'customer_id')` for customers, contact_points,
/// invoices, decisions, messages, events and payments; flows, flow_versions and the model registry
/// become reference tables). Identifiers use the "C" collation, so key order is byte order on both
/// backends.
public let postgresMigrations: [Migration] = [
    Migration(version: 1, name: "domain schema", sql: """
        CREATE TABLE customers (
            customer_id text COLLATE "C" NOT NULL PRIMARY KEY,
            locale text NOT NULL,
            country text NOT NULL,
            time_zone text NOT NULL,
            preferred_channel text,
            created_at timestamptz NOT NULL
        );

        CREATE TABLE contact_points (
            customer_id text COLLATE "C" NOT NULL REFERENCES customers (customer_id),
            contact_point_id text COLLATE "C" NOT NULL,
            channel text NOT NULL,
            address text NOT NULL,
            validation text NOT NULL CHECK (validation IN ('unverified', 'valid', 'invalid', 'bounced')),
            consent boolean NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (customer_id, contact_point_id)
        );

        CREATE TABLE flows (
            flow text COLLATE "C" NOT NULL PRIMARY KEY,
            created_at timestamptz NOT NULL
        );

        CREATE TABLE flow_versions (
            flow text COLLATE "C" NOT NULL REFERENCES flows (flow),
            version integer NOT NULL,
            definition text NOT NULL,
            checksum text NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (flow, version)
        );

        CREATE TABLE invoices (
            customer_id text COLLATE "C" NOT NULL REFERENCES customers (customer_id),
            invoice_id text COLLATE "C" NOT NULL,
            amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
            currency text NOT NULL,
            issue_date date NOT NULL,
            due_date date NOT NULL,
            status text NOT NULL,
            flow text,
            flow_step bigint,
            PRIMARY KEY (customer_id, invoice_id)
        );

        CREATE TABLE decisions (
            customer_id text COLLATE "C" NOT NULL,
            decision_id text COLLATE "C" NOT NULL,
            invoice_id text COLLATE "C" NOT NULL,
            decided_at timestamptz NOT NULL,
            candidates text NOT NULL,
            channel text NOT NULL,
            tone text NOT NULL,
            weekday bigint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
            hour bigint NOT NULL CHECK (hour BETWEEN 0 AND 23),
            propensity double precision NOT NULL CHECK (propensity > 0 AND propensity <= 1),
            propensity_draws bigint,
            policy_version text NOT NULL,
            experiment text,
            arm text,
            PRIMARY KEY (customer_id, decision_id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, invoice_id)
        );

        CREATE TABLE messages (
            customer_id text COLLATE "C" NOT NULL,
            message_id text COLLATE "C" NOT NULL,
            invoice_id text COLLATE "C" NOT NULL,
            decision_id text COLLATE "C",
            channel text NOT NULL,
            template text NOT NULL,
            tone text NOT NULL,
            scheduled_at timestamptz NOT NULL,
            status text NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'bounced', 'failed')),
            provider_id text,
            idempotency_key text COLLATE "C" NOT NULL,
            cost_cents bigint NOT NULL CHECK (cost_cents >= 0),
            PRIMARY KEY (customer_id, message_id),
            UNIQUE (customer_id, idempotency_key),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, invoice_id)
        );

        CREATE TABLE events (
            customer_id text COLLATE "C" NOT NULL REFERENCES customers (customer_id),
            event_id text COLLATE "C" NOT NULL,
            invoice_id text COLLATE "C",
            message_id text COLLATE "C",
            type text NOT NULL,
            channel text,
            occurred_at timestamptz NOT NULL,
            detail text,
            PRIMARY KEY (customer_id, event_id)
        );

        CREATE TABLE payments (
            customer_id text COLLATE "C" NOT NULL,
            payment_id text COLLATE "C" NOT NULL,
            invoice_id text COLLATE "C" NOT NULL,
            amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
            paid_at timestamptz NOT NULL,
            PRIMARY KEY (customer_id, payment_id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, invoice_id)
        );

        CREATE TABLE model_artifacts (
            artifact_id text COLLATE "C" NOT NULL PRIMARY KEY,
            model text NOT NULL,
            version bigint NOT NULL,
            format_version bigint NOT NULL,
            feature_schema_hash text NOT NULL,
            checksum text NOT NULL,
            trained_from timestamptz,
            trained_to timestamptz,
            metrics text NOT NULL,
            body bytea NOT NULL,
            created_at timestamptz NOT NULL,
            UNIQUE (model, version)
        );

        CREATE TABLE model_promotions (
            model text NOT NULL PRIMARY KEY,
            artifact_id text COLLATE "C" NOT NULL REFERENCES model_artifacts (artifact_id),
            promoted_at timestamptz NOT NULL
        );
        """),
]
