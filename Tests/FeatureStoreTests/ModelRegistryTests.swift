import Foundation
import FeatureStoreBackends
import Testing
@testable import FeatureStore
@testable import FeatureStorePostgres
@testable import FeatureStoreSQLite

/// Damages the stored body of `id` behind the registry's back.
func corruptBody(of id: String, in store: any Store) async throws {
    let sql = "UPDATE model_artifacts SET body = body || " + (store is SQLiteStore ? "X'20'" : "'\\x20'::bytea") + " WHERE id = '\(id)'"
    if let s = store as? SQLiteStore { try s.executeRaw(sql) }
    if let s = store as? PostgresStore { try await s.executeRaw(sql) }
}

func newModel(_ name: String, version: Int, body: String, metrics: [String: Double] = ["auc": 0.71, "log_loss": 0.52],
              from: Int64? = 1_767_571_200_000_000, to: Int64? = 1_770_000_000_123_456) -> NewModel {
    NewModel(model: name, version: version, kind: "logistic", formatVersion: 1, featureSchemaHash: "ab12", trainedFrom: from,
             trainedTo: to, metrics: metrics, createdAt: 1_771_000_000_654_321, body: Data(body.utf8))
}

@Suite("Model registry")
struct ModelRegistryTests {
    @Test("Versions count up per model name; list, load and promote round-trip every field", arguments: Backend.allCases)
    func roundTrip(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        let registry = try store.modelRegistry()
        #expect(try await registry.nextModelVersion(model: "reminders") == 1)
        let first = try await registry.saveModel(newModel("reminders", version: 1, body: "{\"a\": 1}"))
        #expect(first.id == "reminders@1")
        #expect(first.kind == "logistic")
        #expect(first.metrics == ["auc": 0.71, "log_loss": 0.52])
        #expect(first.trainedFrom == 1_767_571_200_000_000)
        #expect(first.trainedTo == 1_770_000_000_123_456)
        #expect(first.createdAt == 1_771_000_000_654_321)
        #expect(first.checksum == NewModel.checksumOf("{\"a\": 1}"))
        #expect(first.promotedAt == nil)
        #expect(try await registry.nextModelVersion(model: "reminders") == 2)
        _ = try await registry.saveModel(newModel("reminders", version: 2, body: "{\"a\": 2}", from: nil, to: nil))
        _ = try await registry.saveModel(newModel("other", version: 1, body: "{}"))
        await #expect(throws: ModelRegistryError.versionTaken(model: "reminders", version: 2)) {
            try await registry.saveModel(newModel("reminders", version: 2, body: "{}"))
        }
        await #expect(throws: ModelRegistryError.versionNotNext(model: "reminders", version: 5, next: 3)) {
            try await registry.saveModel(newModel("reminders", version: 5, body: "{}"))
        }
        await #expect(throws: ModelRegistryError.invalidName("no spaces")) {
            try await registry.saveModel(newModel("no spaces", version: 1, body: "{}"))
        }

        let all = try await registry.listModels(model: nil)
        #expect(all.map(\.id) == ["other@1", "reminders@1", "reminders@2"])
        #expect(try await registry.listModels(model: "reminders").map(\.version) == [1, 2])
        #expect(all[2].trainedFrom == nil && all[2].trainedTo == nil)

        let (record, body) = try await registry.loadModel(model: "reminders", version: 2)
        #expect(record.version == 2)
        #expect(String(decoding: body, as: UTF8.self) == "{\"a\": 2}")
        #expect(try await registry.loadModel(id: "reminders@1").1 == Data("{\"a\": 1}".utf8))
        await #expect(throws: ModelRegistryError.notFound("reminders@9")) { try await registry.loadModel(model: "reminders", version: 9) }

        #expect(try await registry.promotedModel(model: "reminders") == nil)
        let promoted = try await registry.promoteModel(model: "reminders", version: 1, at: 1_772_000_000_000_001)
        #expect(promoted.promotedAt == 1_772_000_000_000_001)
        #expect(try await registry.promotedModel(model: "reminders")?.0.version == 1)
        try await registry.promoteModel(model: "reminders", version: 2, at: 1_772_000_000_000_002)
        let live = try #require(try await registry.promotedModel(model: "reminders"))
        #expect(live.0.id == "reminders@2" && live.0.promotedAt == 1_772_000_000_000_002)
        #expect(live.1 == Data("{\"a\": 2}".utf8))
        #expect(try await registry.listModels(model: "reminders").map(\.promotedAt) == [nil, 1_772_000_000_000_002])
        await #expect(throws: ModelRegistryError.notFound("reminders@7")) {
            try await registry.promoteModel(model: "reminders", version: 7, at: 0)
        }
        // A failed promotion leaves the previous one in place.
        #expect(try await registry.promotedModel(model: "reminders")?.0.version == 2)
        try await store.close()
    }

    @Test("A body altered in the database is refused with a clear error", arguments: Backend.allCases)
    func corruption(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        let registry = try store.modelRegistry()
        _ = try await registry.saveModel(newModel("m", version: 1, body: "{\"coefficients\": [1, 2]}"))
        try await registry.promoteModel(model: "m", version: 1, at: 5)
        try await corruptBody(of: "m@1", in: store)
        do {
            _ = try await registry.loadModel(model: "m", version: 1)
            Issue.record("a corrupted body loaded")
        } catch let error as ModelRegistryError {
            guard case .corrupted(let id, let reason) = error else { Issue.record("\(error)"); return }
            #expect(id == "m@1")
            #expect(reason.contains("recorded checksum"))
            #expect(error.description.contains("corrupted"))
        }
        await #expect(throws: ModelRegistryError.self) { try await registry.promotedModel(model: "m") }
        try await store.close()
    }

    @Test("Registry ids parse back into name and version")
    func ids() throws {
        #expect(try SQLiteStore.parseID("a.b-c@12") == ("a.b-c", 12))
        #expect(throws: ModelRegistryError.self) { try SQLiteStore.parseID("nothing") }
        #expect(RegisteredModel.isValidName("reminders_v2.eu-west"))
        #expect(!RegisteredModel.isValidName("") && !RegisteredModel.isValidName("a@b"))
    }
}

extension NewModel {
    static func checksumOf(_ text: String) -> String {
        newModel("x", version: 1, body: text).checksum
    }
}

@Suite("Customer ranges")
struct CustomerRangeTests {
    @Test("rows(of:customers:) selects customers by id and other tables by customer_id", arguments: Backend.allCases)
    func customersByRange(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        let history = SyntheticHistory(customers: 12, seed: 5)
        try await RecordImport.run(directory: try history.directory(), into: store)
        let rows = try await store.rows(of: Schema.customers, customers: "C00003"..."C00005")
        #expect(rows.map { $0[Schema.customers.index("id")].text! } == ["C00003", "C00004", "C00005"])
        let invoices = try await store.rows(of: Schema.invoices, customers: "C00004"..."C00004")
        #expect(!invoices.isEmpty && invoices.allSatisfy { $0[Schema.invoices.index("customer_id")].text == "C00004" })
        try await store.close()
    }
}
