/// One change of a transaction: rows to insert or update by key, or keys to delete.
public enum TableChange: Sendable {
    /// Inserts the rows; a row whose key exists replaces the stored one.
    case upsert(TableRows)
    /// Inserts the rows whose key does not exist yet and leaves existing rows alone (e.g. two
    /// workers enrolling the same invoice: the first one wins).
    case insertNew(TableRows)
    /// Sets the named columns of the row with this key (text key parts, in `table.key` order),
    /// leaving its other columns as they are (so a concurrent change of another column survives).
    /// With `onlyIf`, only while the row's column holds one of the guard's values: the check and the
    /// change are one statement, so a status another process moved on meanwhile is not moved back.
    /// The `unguarded` columns are set whatever the guard says, in the same statement (a sent
    /// message's provider id always, its status only while it is still queued).
    case update(StoreTable, key: [String], set: [String: Value], onlyIf: RowGuard? = nil, unguarded: [String: Value] = [:])
    /// Deletes the rows with these keys (values of `table.key`, in order; text keys).
    case delete(StoreTable, keys: [[String]])
}

/// The condition of a guarded update: the text column `column` holds one of `values`.
public struct RowGuard: Sendable, Hashable {
    public var column: String
    public var values: [String]

    public init(_ column: String, in values: [String]) {
        precondition(!values.isEmpty, "a row guard on \(column) needs at least one value")
        self.column = column
        self.values = values
    }
}

/// The store operations of the orchestrator (SPEC §7): work is claimed with leases so that several
/// workers can share one PostgreSQL store (`FOR UPDATE SKIP LOCKED` there; SQLite has a single
/// writer), and everything a step decides is written in one transaction.
///
/// A lease is a pair (`lease_owner`, `lease_until`) on a `case_states` or `outbox` row. A worker
/// only claims rows that nobody holds or whose lease has expired; a restarted worker of the same
/// name takes its own unfinished leases back at once (`releaseLeases(owner:)`), so a process killed
/// mid-run loses nothing and the next run with that name resumes where it stopped.
public protocol CaseQueue: Store {
    /// Applies `changes` in one transaction, in order; nothing is written if any fails.
    func apply(_ changes: [TableChange]) async throws

    /// Clears every lease held by `owner`.
    func releaseLeases(owner: String) async throws

    /// Leases up to `limit` rows of `table` (`Schema.caseStates` or `Schema.outbox`) whose instant
    /// column `dueColumn` is at most `dueBy` and that nobody holds (or whose lease ended before
    /// `now`), earliest due first; sets their lease to (`owner`, `leaseUntil`) and returns them.
    /// With `customers`, only rows of those customers are claimed.
    func claim(_ table: StoreTable, dueColumn: String, dueBy: Int64, owner: String, leaseUntil: Int64, now: Int64,
               limit: Int, customers: [String]?) async throws -> [[Value]]

    /// Up to `limit` invoices (rows of `Schema.invoices`, key order, after key `after`) that are not
    /// closed, were issued between the dates `issuedFrom` and `issuedBy` (`YYYY-MM-DD`, both
    /// inclusive) and have no case state.
    func unenrolledInvoices(issuedFrom: String, issuedBy: String, after: [Value]?, limit: Int) async throws -> [[Value]]

    /// The rows of `table` whose key is one of `keys` (text keys, in `table.key` order).
    func rows(of table: StoreTable, keys: [[String]]) async throws -> [[Value]]

    /// The rows of `table` whose `customer_id` (or `id` for `customers`) is one of `customers`, in key order.
    func rows(of table: StoreTable, customerIds: [String]) async throws -> [[Value]]

    /// The instants (`scheduled_at`) of the customers' messages scheduled at or after `since` that
    /// did not fail, by customer, in no particular order: what the contact cap counts. Reads two
    /// columns of the window instead of every message a customer was ever sent.
    func sendTimes(customerIds: [String], since: Int64) async throws -> [String: [Int64]]
}

extension StoreTable {
    /// The same table with only the named columns (in the table's order): what a narrow read selects and decodes.
    public func projection(_ names: Set<String>) -> StoreTable {
        var t = self
        t.columns = columns.filter { names.contains($0.name) }
        return t
    }
}

extension Schema {
    /// `messages` read for the contact cap: customer and instant.
    public static let sendTimesColumns = Schema.messages.projection(["customer_id", "scheduled_at"])
}

extension Array where Element == [Value] {
    /// Claimed rows in the order work is done: earliest `due` (an instant column) first, then by key.
    public func sortedByDue(_ due: Int, key: [Int]) -> [[Value]] {
        sorted { a, b in
            let (x, y) = (a[due].integer ?? 0, b[due].integer ?? 0)
            if x != y { return x < y }
            for c in key {
                let d = Value.keyCompare(a[c], b[c])
                if d != 0 { return d < 0 }
            }
            return false
        }
    }
}

extension CaseQueue {
    /// `claim(_:dueColumn:dueBy:owner:leaseUntil:now:limit:customers:)` over every customer.
    public func claim(_ table: StoreTable, dueColumn: String, dueBy: Int64, owner: String, leaseUntil: Int64, now: Int64,
                      limit: Int) async throws -> [[Value]] {
        try await claim(table, dueColumn: dueColumn, dueBy: dueBy, owner: owner, leaseUntil: leaseUntil, now: now, limit: limit,
                        customers: nil)
    }
}
