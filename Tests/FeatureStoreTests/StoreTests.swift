import Foundation
import FeatureStoreBackends
import LinAlg
import Testing
import Vocabulary
@testable import FeatureStore

@Suite("Store schema and migrations")
struct StoreSchemaTests {
    @Test("Migrations apply once, are recorded with their checksums, and the tables have exactly the schema's columns",
          arguments: Backend.allCases)
    func migrations(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        let known = FeatureStoreBackends.migrations(for: store.location)
        let applied = try await store.appliedMigrations()
        #expect(applied.map(\.version) == known.map(\.version))
        #expect(applied.map(\.checksum) == known.map(\.checksum))
        #expect(try await store.migrate() == [])
        for table in Schema.tables + [Schema.contactPointVersions] + Schema.orchestrationTables {
            #expect(try await store.databaseColumns(of: table.name) == table.columns.map(\.sqlName), "\(table.name)")
        }
        for table in ["flows", "flow_versions", "model_artifacts", "model_promotions"] {
            #expect(try await !store.databaseColumns(of: table).isEmpty, "\(table)")
        }
        try await store.close()
    }

    @Test("A store dropped without close() closes its connection (a failed test or an error path does not crash the process)",
          arguments: Backend.allCases)
    func droppedStoreCloses(_ backend: Backend) async throws {
        var store: (any CaseQueue)? = try await freshStore(backend)
        #expect(try await store!.count(Schema.customers) == 0)
        store = nil
        // postgres-nio asserts that a connection is closed when it is deinitialised; the store's deinit
        // closes it and keeps it alive until the socket is shut. A second store still works meanwhile.
        let other = try await freshStore(backend)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await other.count(Schema.customers) == 0)
        try await other.close()
        #expect(store == nil)
    }

    @Test("An edited or unknown migration is refused")
    func editedMigrations() throws {
        let known = [Migration(version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER)"),
                     Migration(version: 2, name: "b", sql: "CREATE TABLE b (x INTEGER)")]
        let first = AppliedMigration(version: 1, name: "a", checksum: known[0].checksum)
        #expect(try Migration.pending(known: known, applied: [first]).map(\.version) == [2])
        #expect(throws: StoreError.migrationChanged(version: 1, name: "a")) {
            try Migration.pending(known: known, applied: [AppliedMigration(version: 1, name: "a", checksum: "0")])
        }
        #expect(throws: StoreError.newerSchema(version: 3, known: 2)) {
            try Migration.pending(known: known, applied: [first, AppliedMigration(version: 3, name: "c", checksum: "0")])
        }
    }

    @Test("Store URLs: SQLite paths and PostgreSQL connection URLs")
    func locations() throws {
        #expect(try StoreLocation("sqlite:data/pom.sqlite") == .sqlite(path: "data/pom.sqlite"))
        #expect(try StoreLocation("sqlite:///tmp/x.sqlite") == .sqlite(path: "/tmp/x.sqlite"))
        let pg = try StoreLocation("postgres://pom:s%40cret@db.example:6432/pom?schema=tenant_1")
        #expect(pg == .postgres(PostgresLocation(user: "pom", password: "s@cret", host: "db.example", port: 6432,
                                                 database: "pom", schema: "tenant_1")))
        #expect(try StoreLocation("postgresql://u@h/d") == .postgres(PostgresLocation(user: "u", host: "h", port: 5432, database: "d")))
        #expect(throws: StoreError.self) { try StoreLocation("mysql://x") }
        #expect(throws: StoreError.self) { try StoreLocation("postgres://u@h:99999/d") }
        #expect(throws: StoreError.self) { try StoreLocation("postgres://u@h:5432") }
        #expect(throws: StoreError.self) { try StoreLocation("sqlite:") }
    }

    @Test("Instants and dates parse and format in their canonical spelling")
    func values() {
        #expect(CivilTime.parseInstant(Array("2026-03-02T08:15:00Z".utf8)) == 1_772_439_300_000_000)
        #expect(CivilTime.parseInstant(Array("2026-03-02T09:15:00+01:00".utf8)) == 1_772_439_300_000_000)
        #expect(CivilTime.parseInstant(Array("2026-03-02T08:15:00.25Z".utf8)) == 1_772_439_300_250_000)
        #expect(CivilTime.parseInstant(Array("2026-02-30T08:15:00Z".utf8)) == nil)
        #expect(CivilTime.parseInstant(Array("2026-03-02T08:15:00".utf8)) == nil)
        #expect(CivilTime.formatInstant(micros: 1_772_439_300_000_000) == "2026-03-02T08:15:00Z")
        #expect(CivilTime.formatInstant(micros: 1_772_439_300_250_000) == "2026-03-02T08:15:00.25Z")
        #expect(CivilTime.formatInstant(micros: -1_000_000) == "1969-12-31T23:59:59Z")
        #expect(CivilTime.isoWeekday(days: CivilTime.days(year: 2026, month: 3, day: 2)) == 1)
        #expect(ColumnType.channel.parse("fax") == nil)
        #expect(ColumnType.boolean.parse("true") == .integer(1))
        #expect(ColumnType.integer.parse("1.5") == nil)
    }
}

@Suite("Import and export")
struct ImportExportTests {
    @Test("Import then export gives the same files up to row order; a second round trip is byte-identical",
          arguments: Backend.allCases)
    func roundTrip(_ backend: Backend) async throws {
        let history = SyntheticHistory(customers: 40, seed: 1)
        let input = try history.directory()
        let store = try await freshStore(backend)
        let summary = try await RecordImport.run(directory: input, into: store)
        #expect(summary.rows["events"] == history.events.count)
        #expect(try await store.counts() == [
            "customers": history.customers.count, "contact_points": history.contactPoints.count,
            "invoices": history.invoices.count, "decisions": history.decisions.count, "messages": history.messages.count,
            "events": history.events.count, "payments": history.payments.count,
        ])
        let output = try temporaryDirectory("export")
        try await RecordExport.run(from: store, to: output)
        for table in Schema.tables {
            let a = try lines(input + "/" + table.file), b = try lines(output + "/" + table.file)
            if table.format == .csv { #expect(a.first == b.first, "\(table.file) header") }
            #expect(a.sorted() == b.sorted(), "\(table.file)")
        }
        // The export, imported into another store and exported again, comes back byte for byte.
        let second = try await freshStore(backend)
        try await RecordImport.run(directory: output, into: second)
        let again = try temporaryDirectory("export")
        try await RecordExport.run(from: second, to: again)
        for table in Schema.tables {
            #expect(try Data(contentsOf: URL(fileURLWithPath: output + "/" + table.file))
                == Data(contentsOf: URL(fileURLWithPath: again + "/" + table.file)), "\(table.file)")
        }
        try await store.close()
        try await second.close()
    }

    @Test("Re-importing the same files changes nothing", arguments: Backend.allCases)
    func idempotent(_ backend: Backend) async throws {
        let input = try SyntheticHistory(customers: 15, seed: 2).directory()
        let store = try await freshStore(backend)
        try await RecordImport.run(directory: input, into: store)
        let counts = try await store.counts()
        let first = try temporaryDirectory("export")
        try await RecordExport.run(from: store, to: first)
        try await RecordImport.run(directory: input, into: store)
        #expect(try await store.counts() == counts)
        let second = try temporaryDirectory("export")
        try await RecordExport.run(from: store, to: second)
        for table in Schema.tables {
            #expect(try lines(first + "/" + table.file) == lines(second + "/" + table.file))
        }
        try await store.close()
    }

    /// A bad row of each kind the importer must refuse, with the error it must give.
    struct BadRow: CustomTestStringConvertible, Sendable {
        var name: String
        var file: String
        var line: Int
        var column: String
        var value: String
        var message: String
        var edit: @Sendable (String) -> String
        var testDescription: String { name }
    }

    static let badRows: [BadRow] = [
        BadRow(name: "unknown customer", file: "invoices.csv", line: 3, column: "customer_id", value: "C99999",
               message: "unknown customer: not in customers.csv nor in the store") { line in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init); f[1] = "C99999"; return f.joined(separator: ",")
        },
        BadRow(name: "unparsable date", file: "invoices.csv", line: 2, column: "due_date", value: "2026-02-30",
               message: "unparsable date; expected a date YYYY-MM-DD") { line in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init); f[5] = "2026-02-30"; return f.joined(separator: ",")
        },
        BadRow(name: "negative amount", file: "payments.csv", line: 2, column: "amount_minor", value: "-500",
               message: "negative amount; expected more than 0") { line in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init); f[3] = "-500"; return f.joined(separator: ",")
        },
        BadRow(name: "negative invoice amount", file: "invoices.csv", line: 4, column: "amount_minor", value: "-1",
               message: "negative amount; expected 0 or more") { line in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init); f[2] = "-1"; return f.joined(separator: ",")
        },
        BadRow(name: "unknown channel", file: "decisions.csv", line: 3, column: "channel", value: "fax",
               message: "unknown channel; expected one of: email, sms, letter, push, robocall, whatsapp") { line in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init); f[5] = "fax"; return f.joined(separator: ",")
        },
        BadRow(name: "duplicate id", file: "customers.csv", line: 3, column: "id", value: "C00000",
               message: "duplicate id; first on line 2; ids must be unique") { line in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init); f[0] = "C00000"; return f.joined(separator: ",")
        },
        BadRow(name: "unparsable event time", file: "events.jsonl", line: 2, column: "occurred_at", value: "yesterday",
               message: "unparsable time; expected an ISO 8601 instant such as 2026-03-02T09:15:00Z") { line in
            line.replacingOccurrences(of: #""occurred_at":"[^"]*""#, with: #""occurred_at":"yesterday""#, options: .regularExpression)
        },
    ]

    @Test("A bad row rejects the whole import, naming file, line, column and value; nothing is written",
          arguments: Backend.allCases, badRows)
    func rejectsBadRows(_ backend: Backend, _ bad: BadRow) async throws {
        let store = try await freshStore(backend)
        // Some data already in the store must survive untouched.
        let before = try SyntheticHistory(customers: 3, seed: 3).directory()
        try await RecordImport.run(directory: before, into: store)
        let counts = try await store.counts()
        let input = try SyntheticHistory(customers: 12, seed: 4).directory()
        try editLine(input + "/" + bad.file, bad.line, bad.edit)
        await #expect(throws: CSVError(file: input + "/" + bad.file, line: bad.line, column: bad.column, value: bad.value,
                                       message: bad.message)) {
            try await RecordImport.run(directory: input, into: store)
        }
        #expect(try await store.counts() == counts)
        try await store.close()
    }

    @Test("A row the database refuses rolls back everything written before it in the same import",
          arguments: Backend.allCases)
    func databaseRefusalRollsBack(_ backend: Backend) async throws {
        let store = try await freshStore(backend)
        let first = SyntheticHistory(customers: 5, seed: 5)
        try await RecordImport.run(directory: try first.directory(), into: store)
        let counts = try await store.counts()
        // A new message reusing an idempotency key already in the store passes the file checks, but
        // the store's unique constraint refuses it — after customers, invoices ... were written.
        var second = SyntheticHistory(customers: 8, seed: 6)
        second.customers = first.customers.map { c in var c = c; c.locale = "fr-FR"; return c }
            + second.customers.filter { c in !first.customers.contains { $0.id == c.id } }
        let secondIDs = Set(second.messages.map(\.id))
        let (victim, clash) = try #require(first.messages.lazy.compactMap { v -> (Message, Int)? in
            guard !secondIDs.contains(v.id) else { return nil }
            return second.messages.firstIndex { $0.customerId == v.customerId }.map { (v, $0) }
        }.first)
        second.messages[clash].idempotencyKey = victim.idempotencyKey
        let dir = try second.directory()
        await #expect(throws: StoreError.self) { try await RecordImport.run(directory: dir, into: store) }
        #expect(try await store.counts() == counts)
        let customers = try await store.allRows(of: Schema.customers)
        #expect(customers.allSatisfy { $0[Schema.customers.index("locale")] == .text("de-DE") })
        try await store.close()
    }
}

@Suite("Event log reading")
struct EventLogReadingTests {
    @Test("Events written by the event-log writer read back field for field, escapes and nested payload included")
    func readsWhatTheWriterWrites() throws {
        let dir = try temporaryDirectory("events")
        let events = [
            Event(id: "E1", kind: .bouncedHard, customerId: "C1", invoiceId: "I1", messageId: "M1",
                  occurredAt: UTCTimestamp.parse("2026-03-02T08:15:00Z")!,
                  payload: EventPayload(contactPointId: "P1", reason: "unknown \"user\"\n\tü/€ \u{1}")),
            Event(id: "E2", kind: .payment, customerId: "C1", invoiceId: "I1", messageId: nil,
                  occurredAt: UTCTimestamp.parse("2026-03-03T08:15:00Z")!,
                  payload: EventPayload(amountMinor: 12950, currency: "EUR", paymentId: "P9")),
            Event(id: "E3", kind: .opened, customerId: "C1", invoiceId: "I1", messageId: "M1",
                  occurredAt: UTCTimestamp.parse("2026-03-04T08:15:00Z")!),
        ]
        try EventLogWriter.write(events, directory: dir)
        let loaded = try RecordFiles.read(Schema.events, path: dir + "/events.jsonl")
        let t = Schema.events
        #expect(loaded.rows.count == 3)
        #expect(loaded.rows[0][t.index("reason")] == .text("unknown \"user\"\n\tü/€ \u{1}"))
        #expect(loaded.rows[0][t.index("kind")] == .text("bounced_hard"))
        #expect(loaded.rows[1][t.index("amount_minor")] == .integer(12950))
        #expect(loaded.rows[1][t.index("message_id")] == .null)
        #expect(loaded.rows[2][t.index("occurred_at")] == .integer(1_772_612_100_000_000))
        #expect(loaded.line(2) == 3)
        // Written back, the lines are the writer's, byte for byte.
        try RecordFiles.write(t, rows: loaded.rows, to: dir + "/again.jsonl")
        #expect(try lines(dir + "/again.jsonl") == lines(dir + "/events.jsonl"))
    }

    @Test("Malformed lines and unknown keys are refused with the file and line")
    func refusesMalformedLines() throws {
        let dir = try temporaryDirectory("events")
        let path = dir + "/events.jsonl"
        let good = #"{"customer_id":"C1","id":"E1","invoice_id":"I1","kind":"opened","occurred_at":"2026-03-02T08:15:00Z","payload":{}}"#
        try (good + "\n\n" + #"{"customer_id":"C1","id":"E2""# + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CSVError.self) { try RecordFiles.read(Schema.events, path: path) }
        do {
            _ = try RecordFiles.read(Schema.events, path: path)
        } catch let error as CSVError {
            #expect(error.line == 3)
        }
        try (good.replacingOccurrences(of: #""payload":{}"#, with: #""payload":{"colour":"red"}"#) + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CSVError(file: path, line: 1, column: "payload.colour",
                                 message: "unknown key; events.jsonl has: " + Schema.events.columns.map(\.jsonKey).joined(separator: ", "))) {
            try RecordFiles.read(Schema.events, path: path)
        }
    }
}
