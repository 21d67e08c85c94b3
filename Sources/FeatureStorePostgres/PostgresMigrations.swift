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
            id text COLLATE "C" NOT NULL PRIMARY KEY,
            locale text NOT NULL,
            country text NOT NULL,
            time_zone text NOT NULL,
            preferred_channel text,
            created_at timestamptz NOT NULL
        );

        CREATE TABLE contact_points (
            id text COLLATE "C" NOT NULL,
            customer_id text COLLATE "C" NOT NULL REFERENCES customers (id),
            kind text NOT NULL,
            value text NOT NULL,
            phone_type text,
            validation text NOT NULL CHECK (validation IN ('unverified', 'valid', 'invalid', 'bounced')),
            consent boolean NOT NULL,
            source text NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (customer_id, id)
        );

        CREATE TABLE contact_point_versions (
            id text COLLATE "C" NOT NULL,
            customer_id text COLLATE "C" NOT NULL,
            kind text NOT NULL,
            value text NOT NULL,
            phone_type text,
            validation text NOT NULL CHECK (validation IN ('unverified', 'valid', 'invalid', 'bounced')),
            consent boolean NOT NULL,
            source text NOT NULL,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (customer_id, id, updated_at)
        );

        CREATE TABLE invoices (
            id text COLLATE "C" NOT NULL,
            customer_id text COLLATE "C" NOT NULL REFERENCES customers (id),
            amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
            currency text NOT NULL,
            issue_date date NOT NULL,
            due_date date NOT NULL,
            status text NOT NULL,
            flow_name text,
            flow_version bigint,
            step bigint,
            PRIMARY KEY (customer_id, id)
        );

        CREATE TABLE decisions (
            id text COLLATE "C" NOT NULL,
            customer_id text COLLATE "C" NOT NULL,
            invoice_id text COLLATE "C" NOT NULL,
            decided_at timestamptz NOT NULL,
            candidates text NOT NULL,
            channel text NOT NULL,
            tone text NOT NULL,
            weekday bigint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
            hour bigint NOT NULL CHECK (hour BETWEEN 0 AND 23),
            propensity double precision NOT NULL CHECK (propensity > 0 AND propensity <= 1),
            propensity_is_exact boolean NOT NULL,
            propensity_draws bigint,
            policy text NOT NULL,
            policy_version text NOT NULL,
            experiment text,
            arm text,
            context_ref text,
            PRIMARY KEY (customer_id, id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id)
        );

        CREATE TABLE messages (
            id text COLLATE "C" NOT NULL,
            customer_id text COLLATE "C" NOT NULL,
            invoice_id text COLLATE "C" NOT NULL,
            decision_id text COLLATE "C",
            contact_point_id text COLLATE "C",
            channel text NOT NULL,
            template text NOT NULL,
            tone text NOT NULL,
            scheduled_local timestamp NOT NULL,
            scheduled_at timestamptz NOT NULL,
            status text NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'bounced', 'failed')),
            provider_id text,
            idempotency_key text COLLATE "C" NOT NULL,
            cost_minor bigint NOT NULL CHECK (cost_minor >= 0),
            PRIMARY KEY (customer_id, id),
            UNIQUE (customer_id, idempotency_key),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id),
            FOREIGN KEY (customer_id, decision_id) REFERENCES decisions (customer_id, id),
            FOREIGN KEY (customer_id, contact_point_id) REFERENCES contact_points (customer_id, id)
        );

        CREATE TABLE events (
            id text COLLATE "C" NOT NULL,
            customer_id text COLLATE "C" NOT NULL,
            invoice_id text COLLATE "C" NOT NULL,
            kind text NOT NULL,
            message_id text COLLATE "C",
            occurred_at timestamptz NOT NULL,
            amount_minor bigint CHECK (amount_minor >= 0),
            channel text,
            contact_point_id text COLLATE "C",
            currency text,
            installments bigint,
            payment_id text COLLATE "C",
            reason text,
            via text,
            PRIMARY KEY (customer_id, id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id),
            FOREIGN KEY (customer_id, message_id) REFERENCES messages (customer_id, id)
        );

        CREATE TABLE payments (
            id text COLLATE "C" NOT NULL,
            customer_id text COLLATE "C" NOT NULL,
            invoice_id text COLLATE "C" NOT NULL,
            amount_minor bigint NOT NULL CHECK (amount_minor > 0),
            currency text NOT NULL,
            paid_at timestamptz NOT NULL,
            PRIMARY KEY (customer_id, id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id)
        );

        CREATE TABLE flows (
            name text COLLATE "C" NOT NULL PRIMARY KEY,
            created_at timestamptz NOT NULL
        );

        CREATE TABLE flow_versions (
            name text COLLATE "C" NOT NULL REFERENCES flows (name),
            version bigint NOT NULL,
            definition text NOT NULL,
            checksum text NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (name, version)
        );

        CREATE TABLE model_artifacts (
            id text COLLATE "C" NOT NULL PRIMARY KEY,
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
            model text COLLATE "C" NOT NULL PRIMARY KEY,
            artifact_id text COLLATE "C" NOT NULL REFERENCES model_artifacts (id),
            promoted_at timestamptz NOT NULL
        );
        """),
    Migration(version: 2, name: "orchestration: case states, outbox, experiments, runs", sql: """
        CREATE TABLE case_states (
            customer_id text COLLATE "C" NOT NULL,
            invoice_id text COLLATE "C" NOT NULL,
            flow_name text NOT NULL,
            flow_version bigint NOT NULL,
            experiment text,
            arm text,
            progress text NOT NULL,
            next_due_at timestamptz,
            lease_owner text,
            lease_until timestamptz,
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (customer_id, invoice_id),
            FOREIGN KEY (customer_id, invoice_id) REFERENCES invoices (customer_id, id)
        );
        CREATE INDEX case_states_due ON case_states (next_due_at) WHERE next_due_at IS NOT NULL;

        CREATE TABLE outbox (
            customer_id text COLLATE "C" NOT NULL,
            message_id text COLLATE "C" NOT NULL,
            due_at timestamptz NOT NULL,
            attempts bigint NOT NULL CHECK (attempts >= 0),
            last_error text,
            lease_owner text,
            lease_until timestamptz,
            PRIMARY KEY (customer_id, message_id),
            FOREIGN KEY (customer_id, message_id) REFERENCES messages (customer_id, id)
        );
        CREATE INDEX outbox_due ON outbox (due_at);

        CREATE TABLE experiments (
            name text COLLATE "C" NOT NULL PRIMARY KEY,
            salt text NOT NULL,
            treatment_share double precision NOT NULL CHECK (treatment_share >= 0 AND treatment_share <= 1),
            model text,
            created_at timestamptz NOT NULL
        );

        CREATE TABLE runs (
            id text COLLATE "C" NOT NULL PRIMARY KEY,
            worker text NOT NULL,
            as_of timestamptz NOT NULL,
            started_at timestamptz NOT NULL,
            finished_at timestamptz,
            enrolled bigint NOT NULL,
            cases bigint NOT NULL,
            decisions bigint NOT NULL,
            queued bigint NOT NULL,
            sent bigint NOT NULL,
            failed bigint NOT NULL
        );

        CREATE INDEX messages_invoice ON messages (customer_id, invoice_id);
        """),
]
