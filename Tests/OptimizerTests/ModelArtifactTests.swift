import Foundation
import Testing
@testable import Optimizer

@Suite struct ModelArtifactTests {
    struct State: Codable, Equatable {
        var intercept: Double
        var coefficients: [Double]
    }

    let schema = FeatureSchemaReference(names: ["amount_log", "days_overdue"])

    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("pom-artifact-\(UUID().uuidString).json").path
    }

    func artifact() throws -> ModelArtifact {
        try ModelArtifact(kind: "logistic", version: "logistic-test-1", createdAt: Date(timeIntervalSince1970: 1_800_000_000.1234),
                          featureSchema: schema,
                          trainingWindow: TrainingWindow(from: Date(timeIntervalSince1970: 1.7e9), to: Date(timeIntervalSince1970: 1.8e9)),
                          hyperparameters: ["l2": .number(1), "solver": .string("newton")],
                          metrics: ["log_loss": 0.512, "auc": 0.73],
                          state: State(intercept: -0.3, coefficients: [0.1, 1 / 3]))
    }

    @Test func roundTripsExactly() throws {
        let original = try artifact()
        let path = temporaryPath()
        try original.write(to: path)
        let loaded = try ModelArtifact.read(from: path, expecting: "logistic", schema: schema)
        #expect(loaded == original)
        #expect(try loaded.state(as: State.self) == State(intercept: -0.3, coefficients: [0.1, 1 / 3]))
        #expect(loaded.checksum.count == 64)
        // Same content, same checksum: the encoding is canonical.
        #expect(try artifact().checksum == original.checksum)
    }

    @Test func schemaHashIsStableAndOrderSensitive() {
        #expect(FeatureSchemaReference(names: ["a", "b"]).hash == FeatureSchemaReference(names: ["a", "b"]).hash)
        #expect(FeatureSchemaReference(names: ["a", "b"]).hash != FeatureSchemaReference(names: ["b", "a"]).hash)
        // printf 'a\nb' | sha256sum
        #expect(FeatureSchemaReference(names: ["a", "b"]).hash == "7e18f737311b2dc3b2f269dd78396b0351f14fb66efa879f768cb23181883c78")
        #expect(sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func tamperedTruncatedAndMismatchedArtifactsAreClearErrors() throws {
        let path = temporaryPath()
        try artifact().write(to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)

        let tampered = temporaryPath()
        try text.replacingOccurrences(of: "0.512", with: "0.412").write(toFile: tampered, atomically: true, encoding: .utf8)
        #expect {
            try ModelArtifact.read(from: tampered)
        } throws: { error in
            guard case ArtifactError.checksumMismatch(let p, _, _) = error else { return false }
            return p == tampered
        }

        let truncated = temporaryPath()
        try String(text.prefix(text.count / 2)).write(toFile: truncated, atomically: true, encoding: .utf8)
        #expect(throws: ArtifactError.notAnArtifact(path: truncated, reason: "not valid JSON")) {
            try ModelArtifact.read(from: truncated)
        }

        let newer = temporaryPath()
        try text.replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 9")
            .write(toFile: newer, atomically: true, encoding: .utf8)
        #expect(throws: ArtifactError.unsupportedFormat(path: newer, found: 9, supported: 1)) {
            try ModelArtifact.read(from: newer)
        }

        #expect(throws: ArtifactError.wrongKind(path: path, expected: "linucb", found: "logistic")) {
            try ModelArtifact.read(from: path, expecting: "linucb")
        }

        let otherData = FeatureSchemaReference(names: ["amount_log", "channel_email"])
        #expect {
            try ModelArtifact.read(from: path, schema: otherData)
        } throws: { error in
            guard case ArtifactError.schemaMismatch(_, _, _, let missing, let unexpected) = error else { return false }
            return missing == ["days_overdue"] && unexpected == ["channel_email"]
                && "\(error)".contains("the data lacks: days_overdue")
        }

        #expect(throws: ArtifactError.self) { try ModelArtifact.read(from: path + ".missing") }
    }
}
