import Crypto
import FeatureStore
import Foundation
import Vocabulary

/// An A/B holdout: each customer is assigned to `control` (the flow's rule-based defaults) or
/// `treatment` (the promoted model) by a salted hash, so the assignment is deterministic, stable
/// across runs and workers, and unpredictable without the salt.
///
/// Assignment: `u = first 8 bytes of SHA-256("<salt>:<customer id>")` read big-endian, divided by
/// 2⁶⁴; the customer is in `treatment` when `u < treatmentShare`. The experiment's salt and share are
/// stored with it (table `experiments`) the first time it is used and never change afterwards.
public struct Experiment: Sendable, Hashable, Codable {
    /// The two arms.
    public enum Arm: String, Sendable, Codable, CaseIterable {
        case control, treatment
    }

    public var name: String
    public var salt: String
    /// Share of customers in `treatment`, in [0, 1].
    public var treatmentShare: Double
    /// The model whose promoted version decides in `treatment`.
    public var model: String?

    public init(name: String, salt: String, treatmentShare: Double, model: String?) {
        precondition((0...1).contains(treatmentShare), "Experiment: treatment share \(treatmentShare) outside [0, 1]")
        self.name = name
        self.salt = salt
        self.treatmentShare = treatmentShare
        self.model = model
    }

    /// The arm of `customerId`.
    public func arm(of customerId: String) -> Arm {
        Self.unit(salt: salt, key: customerId) < treatmentShare ? .treatment : .control
    }

    /// The hash of `key` under `salt` as a number in [0, 1).
    public static func unit(salt: String, key: String) -> Double {
        let digest = Array(SHA256.hash(data: Array((salt + ":" + key).utf8)))
        var v: UInt64 = 0
        for b in digest.prefix(8) { v = v << 8 | UInt64(b) }
        return Double(v >> 11) / Double(1 << 53)
    }

    /// The experiment called `name` as stored; when there is none yet, stores `proposed` (whose
    /// name must be `name`) and returns it, so the first run fixes salt and share for good.
    /// - Throws: `OrchestratorError.experimentChanged` when the stored share differs from the
    ///   proposed one (changing the split of a running experiment would bias it).
    public static func resolve(_ proposed: Experiment, in store: any CaseQueue, now: Date) async throws -> Experiment {
        let t = Schema.experiments
        if let row = try await store.rows(of: t, keys: [[proposed.name]]).first {
            let stored = Experiment(name: proposed.name, salt: t.value(row, "salt").text!,
                                    treatmentShare: t.value(row, "treatment_share").real ?? 0,
                                    model: t.value(row, "model").text)
            if abs(stored.treatmentShare - proposed.treatmentShare) > 1e-12 {
                throw OrchestratorError.experimentChanged(name: proposed.name, stored: stored.treatmentShare,
                                                          requested: proposed.treatmentShare)
            }
            return stored
        }
        try await store.apply([.upsert(TableRows(table: t, rows: [[
            .text(proposed.name), .text(proposed.salt), .real(proposed.treatmentShare),
            proposed.model.map(Value.text) ?? .null, .integer(micros(now)),
        ]]))])
        return proposed
    }

    /// Lower-case hex SHA-256 of `text`'s UTF-8 bytes.
    public static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).lowercaseHex
    }

    /// A fresh random salt (32 hex digits).
    public static func newSalt() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }.lowercaseHex
    }
}

/// Microseconds since the epoch, the store's instant unit.
func micros(_ d: Date) -> Int64 { LiveFeatures.micros(d) }

/// The instant of `micros` microseconds since the epoch.
func date(micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
