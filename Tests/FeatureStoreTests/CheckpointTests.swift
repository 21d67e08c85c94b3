import FeatureStore
import Foundation
import Testing
@testable import FeatureStoreSQLite

@Suite("SQLite write-ahead log checkpoints beside the writer")
struct CheckpointTests {
    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    @Test("Commits past 1,000 log pages are checkpointed on the checkpoint thread, past 8,000 by the writer: the log stays short, every row is kept")
    func logStaysShort() async throws {
        let path = try temporaryDirectory("checkpoint") + "/pom.sqlite"
        let store = try await SQLiteStore(path: path)
        try store.executeRaw("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        // 6,000 commits of a 4 kB row each: about 12,000 log pages (47 MB) without checkpoints.
        for i in 0..<6_000 { try store.executeRaw("INSERT INTO blobs (id, body) VALUES (\(i), randomblob(4000))") }
        let (count, error) = store.checkpointer.checkpoints
        #expect(count >= 5 && error == nil, "\(count) checkpoints, last error \(error ?? "none")")
        // At most about 8,000 pages (33 MB with frame headers) however fast the writer commits.
        #expect(Self.size(path + "-wal") < 36 << 20, "log \(Self.size(path + "-wal")) bytes")
        // Most pages were copied into the database file (the last ones may wait in the log for the next checkpoint).
        #expect(Self.size(path) > 3_000 * 4_000, "database file \(Self.size(path)) bytes")
        // Reads on the pool's readers, so that a read-only connection is among the last to close.
        _ = try await store.count(StoreTable(name: "blobs", file: "blobs", columns: [StoreColumn("id", .integer)], key: ["id"], idColumn: "id"))
        try #require(Self.size(path + "-wal") > 0)
        try await store.close()
        // A closed store is one file: the log was copied in and emptied.
        #expect(Self.size(path + "-wal") == 0, "log \(Self.size(path + "-wal")) bytes after closing")
        #expect(Self.size(path) > 6_000 * 4_000, "database file \(Self.size(path)) bytes after closing")

        let again = try await SQLiteStore(path: path)
        #expect(try await again.count(StoreTable(name: "blobs", file: "blobs", columns: [StoreColumn("id", .integer)], key: ["id"], idColumn: "id"))
                == 6_000)
        try await again.close()
    }

    @Test("Stopping is idempotent; requests after the stop are ignored")
    func stop() async throws {
        let path = try temporaryDirectory("checkpoint-stop") + "/pom.sqlite"
        let store = try await SQLiteStore(path: path)
        store.checkpointer.stop()
        store.checkpointer.stop()
        store.checkpointer.request()
        // Past 1,000 log pages (below the writer's own 8,000): a running thread would checkpoint here.
        try store.executeRaw("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        for i in 0..<1_500 { try store.executeRaw("INSERT INTO blobs (id, body) VALUES (\(i), randomblob(4000))") }
        try await Task.sleep(for: .milliseconds(100))
        #expect(store.checkpointer.checkpoints.count == 0)
        #expect(Self.size(path + "-wal") > 1_000 * 4_096)
        try await store.close()
    }
}
