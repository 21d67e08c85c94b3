// FeatureStore: schema, storage (SQLite embedded, PostgreSQL at scale), import/export, event
// ingest and point-in-time feature extraction into LinAlg matrices.
@_exported import LinAlg
@_exported import Tabular

import Crypto
import Foundation
import Vocabulary

/// Lower-case hex SHA-256 of `bytes` (schema, migration and feature-definition hashes).
func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).lowercaseHex
}
