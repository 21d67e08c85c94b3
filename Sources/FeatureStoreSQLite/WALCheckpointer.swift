import FeatureStore
import Foundation
import GRDBSQLite

/// Checkpoints the store's write-ahead log on a thread and connection of its own.
///
/// SQLite's automatic checkpoint runs inside the commit that pushes the log past 1,000 pages: that
/// commit copies the log into the database file and syncs it, and every request waiting for it
/// waits too (the service's p99 latency doubled with it). Here the writer's commit hook only
/// signals; this thread runs a PASSIVE checkpoint, which never blocks writers or readers, and the
/// log stays as short as before, which keeps reads cheap (a long log costs every read a longer
/// search of the log's index). Installing the hook turns SQLite's own automatic checkpoint off.
final class WALCheckpointer: @unchecked Sendable {
    let path: String
    /// Log pages from which a commit asks for a checkpoint (SQLite's automatic default).
    let pages: Int32
    /// Log pages from which the committing connection checkpoints at once, as SQLite would: a
    /// passive checkpoint beside a writer that commits faster than it copies never catches up,
    /// and the log restarts only once it has been copied whole.
    let limit: Int32
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var requested = false
    private var stopping = false
    private var started = false
    private var _checkpoints = 0
    private var _lastError: String?

    init(path: String, pages: Int32 = 1_000, limit: Int32 = 8_000) {
        self.path = path
        self.pages = pages
        self.limit = limit
    }

    /// Checkpoints run so far, and the last one's error (none: nil).
    var checkpoints: (count: Int, lastError: String?) { lock.withLock { (_checkpoints, _lastError) } }

    /// Installs the commit hook on `connection` (every connection of the pool: only the writer commits).
    func install(on connection: OpaquePointer) {
        sqlite3_wal_hook(connection, { context, db, name, pages in
            let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context!).takeUnretainedValue()
            if pages >= checkpointer.limit {
                // SQLite's own automatic checkpoint does the same here; busy (the thread is at it) is no error.
                sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } else if pages >= checkpointer.pages {
                checkpointer.request()
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Opens the checkpoint connection (the database file must exist, in WAL mode) and starts the thread.
    /// - Throws: `StoreError.database` when the file cannot be opened.
    func start() throws {
        var db: OpaquePointer?
        let opened = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        guard opened == SQLITE_OK, let db else {
            sqlite3_close_v2(db)
            throw StoreError.database(backend: "sqlite", code: "SQLITE_CANTOPEN",
                                      message: "cannot open \(path) for WAL checkpoints: \(String(cString: sqlite3_errstr(opened)))", sql: "")
        }
        // A new connection knows the file is in WAL mode only once it has read it: until then a checkpoint is a no-op.
        var mode: String?
        var statement: OpaquePointer?
        if sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &statement, nil) == SQLITE_OK, sqlite3_step(statement) == SQLITE_ROW,
           let text = sqlite3_column_text(statement, 0) {
            mode = String(cString: text)
        }
        sqlite3_finalize(statement)
        guard mode == "wal" else {
            sqlite3_close_v2(db)
            throw StoreError.database(backend: "sqlite", code: "SQLITE_ERROR",
                                      message: "\(path) is not in WAL mode (journal_mode \(mode ?? "unreadable"))", sql: "PRAGMA journal_mode")
        }
        lock.withLock { started = true }
        // The connection moves to the thread, which alone uses it from here on.
        nonisolated(unsafe) let connection = db
        let thread = Thread { [self] in run(connection) }
        thread.name = "pom.sqlite.checkpoint"
        thread.start()
    }

    /// Asks for a checkpoint (at most one waits; a request during a checkpoint runs another after it).
    func request() {
        let signal = lock.withLock {
            guard !requested, !stopping else { return false }
            requested = true
            return true
        }
        if signal { wake.signal() }
    }

    /// Stops the thread after the checkpoint under way, if any; later requests are ignored.
    func stop() {
        let wait = lock.withLock {
            defer { stopping = true }
            return started && !stopping
        }
        guard wait else { return }
        wake.signal()
        finished.wait()
    }

    private func run(_ db: OpaquePointer) {
        defer {
            sqlite3_close_v2(db)
            finished.signal()
        }
        while true {
            wake.wait()
            let go = lock.withLock {
                requested = false
                return !stopping
            }
            guard go else { return }
            let code = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            lock.withLock {
                _checkpoints += 1
                _lastError = code == SQLITE_OK ? nil : String(cString: sqlite3_errmsg(db))
            }
        }
    }
}
