import Foundation
import FeatureStoreBackends
import FeatureStorePostgres
import FeatureStoreSQLite
import LinAlg
import Tabular
import Testing
@testable import FeatureStore

@Suite("Bulk import paths")
struct BulkWriteTests {
    /// Texts that stress the packed comparison: shared 16-byte prefixes, lengths around 16, a NUL
    /// byte, bytes above 0x7F, prefixes of one another.
    static let stems = ["", "C", "C0000001", "C000000100000000", "C0000001000000001", "C00000010000000012",
                        "é", "C\u{0}", "C\u{0}\u{0}", "Z", "C0000001\u{0}"]

    @Test("Key order is the byte order of texts and the numeric order of numbers, equal keys in input order; nil when in order already")
    func keyOrderMatchesAPlainSort() {
        var rng = Xoshiro256(seed: 11)
        func text() -> String {
            Self.stems[Int(rng.next() % UInt64(Self.stems.count))] + (rng.uniform() < 0.5 ? "" : String(rng.next() % 5))
        }
        let textFirst = StoreTable(name: "t", file: "t.csv",
                                   columns: [StoreColumn("x", .text), StoreColumn("a", .text), StoreColumn("b", .text), StoreColumn("n", .integer)],
                                   key: ["a", "b", "n"], idColumn: "x")
        let numberFirst = StoreTable(name: "u", file: "u.csv",
                                     columns: [StoreColumn("x", .text), StoreColumn("a", .text), StoreColumn("b", .text), StoreColumn("n", .integer)],
                                     key: ["n", "a"], idColumn: "x")
        func less(_ p: [Value], _ q: [Value]) -> Bool? {
            switch (p.first, q.first) {
            case (nil, _): return nil
            case (.text(let x), .text(let y)) where x != y: return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
            case (.integer(let x), .integer(let y)) where x != y: return x < y
            default: return less(Array(p.dropFirst()), Array(q.dropFirst()))
            }
        }
        for table in [textFirst, numberFirst] {
            for _ in 0..<20 {
                let rows: [[Value]] = (0..<400).map { k in
                    [.text(String(k)), .text(text()), .text(text()), .integer(Int64(rng.next() % 7) - 3 + (rng.uniform() < 0.1 ? Int64.min / 2 : 0))]
                }
                let key = table.keyIndices
                let reference = rows.indices.sorted { i, j in less(key.map { rows[i][$0] }, key.map { rows[j][$0] }) ?? (i < j) }
                let order = TableRows(table: table, rows: rows).keyOrder()
                #expect(order == reference, "\(table.name)")
                #expect(TableRows(table: table, rows: reference.map { rows[$0] }).keyOrder() == nil)
            }
        }
    }

    @Test("Key order of a large write (two halves sorted on two cores, then merged) is the plain sort's order, equal keys in input order")
    func largeKeyOrderMatchesAPlainSort() {
        var rng = Xoshiro256(seed: 12)
        let table = StoreTable(name: "t", file: "t.csv", columns: [StoreColumn("x", .text), StoreColumn("a", .text), StoreColumn("b", .text)],
                               key: ["a", "b"], idColumn: "x")
        // Customers with ids longer than 16 bytes now and then, many rows per key and repeated keys.
        let rows: [[Value]] = (0..<70_000).map { k in
            let c = Int(rng.next() % 3_000)
            let customer = c % 97 == 0 ? "C\(c)-with-a-long-suffix-\(c % 3)" : "C\(c)"
            return [.text(String(k)), .text(customer), .text("E\(rng.next() % 40)")]
        }
        let keys = rows.map { (Array($0[1].text!.utf8), Array($0[2].text!.utf8)) }
        let reference = rows.indices.sorted { i, j in
            if keys[i].0 != keys[j].0 { return keys[i].0.lexicographicallyPrecedes(keys[j].0) }
            if keys[i].1 != keys[j].1 { return keys[i].1.lexicographicallyPrecedes(keys[j].1) }
            return i < j
        }
        #expect(TableRows(table: table, rows: rows).keyOrder() == reference)
    }

    @Test("Importing files of which half the rows are stored adds the others and updates the stored ones that changed",
          arguments: Backend.allCases)
    func reimportHalfStored(_ backend: Backend) async throws {
        let full = SyntheticHistory(customers: 20, seed: 7)
        var half = full
        half.events = full.events.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        half.payments = full.payments.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        // The full files change two rows that the first import stores.
        var changed = full
        changed.events[0].occurredAt = full.events[0].occurredAt.addingTimeInterval(61)
        changed.customers[3].locale = "fr-FR"

        let store = try await freshStore(backend)
        try await RecordImport.run(directory: try half.directory(), into: store)
        #expect(try await store.count(Schema.events) == half.events.count)
        try await RecordImport.run(directory: try changed.directory(), into: store)

        let reference = try await freshStore(backend)
        try await RecordImport.run(directory: try changed.directory(), into: reference)
        #expect(try await store.counts() == reference.counts())
        for table in Schema.tables {
            #expect(try await store.allRows(of: table) == reference.allRows(of: table), "\(table.name)")
        }
        let events = try await store.allRows(of: Schema.events)
        let first = try #require(events.first { $0[0] == .text(full.events[0].id) })
        #expect(first[Schema.events.index("occurred_at")] == .integer(Int64(changed.events[0].occurredAt.timeIntervalSince1970) * 1_000_000))
        try await store.close()
        try await reference.close()
    }

    @Test("Instants written by COPY or by binding read back to the microsecond, before 1970 and with fractions",
          arguments: Backend.allCases)
    func instantsRoundTrip(_ backend: Backend) async throws {
        let instants: [Int64] = [0, -1, -86_400_000_001, 1_772_612_100_000_001, 1_772_612_100_120_000, -62_135_596_800_000_000,
                                 253_402_300_799_999_999]
        let rows: [[Value]] = instants.enumerated().map { k, micros in
            [.text("C\(k)"), .text("de-DE"), .text("DE"), .text("Europe/Berlin"), .null, .integer(micros)]
        }
        let store = try await freshStore(backend)
        try await store.write([TableRows(table: Schema.customers, rows: rows)])
        #expect(try await store.allRows(of: Schema.customers) == rows)
        try await store.close()
    }

    @Test("A JSON Lines file read in parts gives the rows and lines of the whole; the first bad line is the one reported")
    func jsonLinesInParts() throws {
        let table = Schema.events
        var rows: [[Value]] = []
        for e in 0..<9_000 {
            let payment = e % 5 == 0
            rows.append([.text(String(format: "E%07d", e)), .text("C\(e % 97)"), .text("C\(e % 97)-I0"),
                         .text(payment ? "payment" : "opened"), payment ? .null : .text("M\(e)"),
                         .integer(1_772_612_100_000_000 + Int64(e) * 1_000_001),
                         payment ? .integer(Int64(100 + e)) : .null, .null, .null, payment ? .text("EUR") : .null,
                         .null, payment ? .text("P\(e)") : .null, e % 7 == 0 ? .text("tab\there \"quoted\" é") : .null, .null])
        }
        let dir = try temporaryDirectory("jsonl")
        let path = dir + "/events.jsonl"
        try RecordFiles.write(table, rows: rows, to: path)
        // Blank lines here and there shift the line numbers; one key is spelled with an escape.
        var text = try lines(path).dropLast()
        text[5] = text[5].replacingOccurrences(of: #""customer_id""#, with: #""customer\u005fid""#)
        var expectedLines: [Int] = []
        var out: [String] = []
        for (k, line) in text.enumerated() {
            if k % 1_000 == 3 { out += ["", "  "] }
            out.append(line)
            expectedLines.append(out.count)
        }
        try (out.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count > 1 << 20)
        let loaded = try RecordFiles.read(table, path: path)
        #expect(loaded.rows == rows)
        #expect(rows.indices.allSatisfy { loaded.line($0) == expectedLines[$0] })

        // Two bad lines far apart: the earlier one is reported, whichever part it is read in.
        var bad = out
        let early = expectedLines[2_501] - 1, late = expectedLines[8_001] - 1
        bad[late] = bad[late].replacingOccurrences(of: #""kind":"opened""#, with: #""kind":"fax""#)
        bad[early] = bad[early].replacingOccurrences(of: #""kind":"opened""#, with: #""kind":"telegram""#)
        try (bad.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CSVError(file: path, line: early + 1, column: "kind", value: "telegram",
                                 message: "unknown kind; expected one of: " + EventKind.allCases.map(\.rawValue).joined(separator: ", "))) {
            try RecordFiles.read(table, path: path)
        }
    }

    @Test("A bulk write to PostgreSQL checks foreign keys once, at its end: a bad reference refuses the whole write, and the keys stay in force")
    func bulkForeignKeys() async throws {
        guard let url = ProcessInfo.processInfo.environment["POM_TEST_POSTGRES_URL"], !url.isEmpty else { throw MissingTestServer() }
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        guard case .postgres(let location) = try StoreLocation(url + (url.contains("?") ? "&" : "?") + "schema=\(schema)") else {
            Issue.record("not a PostgreSQL URL: \(url)")
            return
        }
        let store = try await PostgresStore(location, bulkRows: 10)
        let customers = (0..<3).map { c -> [Value] in [.text("C\(c)"), .text("de-DE"), .text("DE"), .text("Europe/Berlin"), .null, .integer(0)] }
        let invoices = (0..<3).map { c -> [Value] in
            [.text("C\(c)-I0"), .text("C\(c)"), .integer(10_000), .text("EUR"), .text("2026-01-05"), .text("2026-01-19"), .text("open"), .null, .null, .null]
        }
        func event(_ e: Int, invoice: String? = nil) -> [Value] {
            let c = e % 3
            return [.text("E\(e)"), .text("C\(c)"), .text(invoice ?? "C\(c)-I0"), .text("opened"), .null, .integer(Int64(e) * 1_000_000),
                    .null, .null, .null, .null, .null, .null, .null, .null]
        }
        func refused(_ rows: [[Value]]) async -> Bool {
            do {
                try await store.write([TableRows(table: Schema.events, rows: rows)])
                return false
            } catch let StoreError.database(_, code, _, _) {
                return code == "23503"
            } catch {
                return false
            }
        }
        try await store.write([TableRows(table: Schema.customers, rows: customers), TableRows(table: Schema.invoices, rows: invoices)])
        #expect(await refused((0..<40).map { event($0, invoice: $0 == 17 ? "C2-I9" : nil) }))
        #expect(try await store.count(Schema.events) == 0)
        try await store.write([TableRows(table: Schema.events, rows: (0..<40).map { event($0) })])
        #expect(try await store.count(Schema.events) == 40)
        // Below the bulk size the row-by-row check refuses a bad reference: the key is back.
        #expect(await refused([event(99, invoice: "C0-I7")]))
        // A bulk write of rows partly stored (the upsert path) with a bad reference is refused too.
        #expect(await refused((20..<60).map { event($0, invoice: $0 == 50 ? "C1-I3" : nil) }))
        try await store.write([TableRows(table: Schema.events, rows: (20..<60).map { event($0) })])
        #expect(try await store.count(Schema.events) == 60)
        try await store.close()
    }

    @Test("A bulk write to SQLite checks foreign keys per distinct parent: a bad reference refuses the whole write, naming the row and the parent")
    func sqliteBulkForeignKeys() async throws {
        let store = try await SQLiteStore(path: try temporaryDirectory("bulk") + "/pom.sqlite", bulkRows: 10)
        let customers = (0..<3).map { c -> [Value] in [.text("C\(c)"), .text("de-DE"), .text("DE"), .text("Europe/Berlin"), .null, .integer(0)] }
        let invoices = (0..<3).map { c -> [Value] in
            [.text("C\(c)-I0"), .text("C\(c)"), .integer(10_000), .text("EUR"), .text("2026-01-05"), .text("2026-01-19"), .text("open"), .null, .null, .null]
        }
        func event(_ e: Int, invoice: String? = nil, message: String? = nil) -> [Value] {
            let c = e % 3
            return [.text("E\(e)"), .text("C\(c)"), .text(invoice ?? "C\(c)-I0"), .text("opened"), message.map(Value.text) ?? .null,
                    .integer(Int64(e) * 1_000_000), .null, .null, .null, .null, .null, .null, .null, .null]
        }
        func refusal(_ rows: [[Value]]) async -> String? {
            do {
                try await store.write([TableRows(table: Schema.events, rows: rows)])
                return nil
            } catch let StoreError.database(_, code, message, _) {
                return code.hasPrefix("787") ? message : "code \(code)"
            } catch {
                return "\(error)"
            }
        }
        try await store.write([TableRows(table: Schema.customers, rows: customers), TableRows(table: Schema.invoices, rows: invoices)])
        #expect(await refusal((0..<40).map { event($0, invoice: $0 == 17 ? "C2-I9" : nil) })
                == "FOREIGN KEY constraint failed: events row (customer_id = C2, id = E17) refers to invoices (customer_id = C2, id = C2-I9), which does not exist")
        #expect(try await store.count(Schema.events) == 0)
        // The second foreign key (to messages) is checked too; NULL message ids have nothing to check.
        #expect(await refusal((0..<40).map { event($0, message: $0 == 5 ? "M1" : nil) })?.contains("refers to messages (customer_id = C2, id = M1)") == true)
        try await store.write([TableRows(table: Schema.events, rows: (0..<40).map { event($0) })])
        #expect(try await store.count(Schema.events) == 40)
        // Below the bulk size SQLite's own row-by-row check refuses a bad reference: the keys are back in force.
        #expect(await refusal([event(99, invoice: "C0-I7")]) != nil)
        // A bulk write of rows partly stored (the upsert path) with a bad reference is refused too.
        #expect(await refusal((20..<60).map { event($0, invoice: $0 == 50 ? "C1-I3" : nil) }) != nil)
        try await store.write([TableRows(table: Schema.events, rows: (20..<60).map { event($0) })])
        #expect(try await store.count(Schema.events) == 60)
        try await store.close()
    }

    @Test("SQLite's bulk path (many rows per INSERT, foreign keys per parent) stores exactly what the row-by-row path stores",
          arguments: [false, true])
    func sqliteBulkEqualsRowByRow(_ reimport: Bool) async throws {
        let history = SyntheticHistory(customers: 60, seed: 23)
        let dir = try temporaryDirectory("bulk-equal")
        try history.write(to: dir)
        var stored: [[String: [[Value]]]] = []
        for bulkRows in [1, Int.max] {
            let store = try await SQLiteStore(path: try temporaryDirectory("bulk") + "/pom.sqlite", bulkRows: bulkRows)
            try await RecordImport.run(directory: dir, into: store)
            if reimport { try await RecordImport.run(directory: dir, into: store) }
            var tables: [String: [[Value]]] = [:]
            for table in Schema.tables { tables[table.name] = try await store.allRows(of: table) }
            stored.append(tables)
            try await store.close()
        }
        #expect(stored[0] == stored[1])
        #expect((stored[0][Schema.events.name]?.count ?? 0) == history.events.count && history.events.count > 200)
    }
}
