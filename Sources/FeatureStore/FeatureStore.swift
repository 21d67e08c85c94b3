// FeatureStore: schema, storage (SQLite embedded, PostgreSQL at scale), import/export, event
// ingest and point-in-time feature extraction into LinAlg matrices.
@_exported import LinAlg
@_exported import Tabular
