import ArgumentParser
import FeatureStoreBackends
import Foundation

/// The `--store` option shared by every command that reads or writes the store.
public struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The store: sqlite:PATH (embedded, the default) or postgres://user[:password]@host[:port]/database.",
        valueName: "url"))
    public var store: String = "sqlite:pom.sqlite"

    public init() {}

    public func validate() throws {
        do { _ = try StoreLocation(store) } catch let error as StoreError { throw ValidationError(error.description) }
    }

    /// Opens the store and brings its schema up to date.
    public func open() async throws -> any CaseQueue { try await openStore(store) }
}

/// `import`: loads a directory of record files into the store, all or nothing.
public struct Import: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load record files (customers.csv, contact_points.csv, invoices.csv, decisions.csv, messages.csv, events.jsonl, payments.csv) into the store in one transaction.",
        discussion: "A bad row rejects the whole import with its file, line, column and value; importing the same files again changes nothing.")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "Directory holding the record files (datasets/README.md describes them).")
    var directory: String

    @Option(help: "Write the row counts as JSON to this file.")
    var out: String?

    public init() {}

    public func run() async throws {
        let store = try await storeOptions.open()
        do {
            let summary = try await RecordImport.run(directory: directory, into: store)
            try await store.close()
            try report(summary, verb: "imported", out: out)
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// `export`: writes every table of the store back as record files.
public struct Export: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the store's records as record files in the import format, one file per table, rows in key order.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Directory to write the record files into (created if needed).")
    var out: String

    public init() {}

    public func run() async throws {
        let store = try await storeOptions.open()
        do {
            let summary = try await RecordExport.run(from: store, to: out)
            try await store.close()
            try report(summary, verb: "exported", out: nil)
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// Prints per-table row counts and, when `out` is given, writes them as JSON.
func report(_ summary: TransferSummary, verb: String, out: String?) throws {
    for (table, n) in summary.rows.sorted(by: { $0.key < $1.key }) { print("\(verb) \(n) \(table)") }
    if let out {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(try encoder.encode(summary), to: out)
    }
}
