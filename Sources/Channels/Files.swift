import Foundation
import Vocabulary
import Crypto
import FeatureStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File helpers of the spool and dry-run adapters: atomic writes (temporary file, `fsync`,
/// `rename`, `fsync` of the directory), appends of whole lines, advisory locks.
enum Files {
    /// Writes `data` to `url` atomically: readers see the old file or the whole new one, never a
    /// part, and the new file survives a power cut once this returns.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fileError("cannot create", temp) }
        do {
            try writeAll(fd, data, temp)
            guard fsync(fd) == 0 else { throw fileError("cannot sync", temp) }
            close(fd)
        } catch {
            close(fd)
            unlink(temp.path)
            throw error
        }
        guard rename(temp.path, url.path) == 0 else {
            let e = fileError("cannot rename into place", url)
            unlink(temp.path)
            throw e
        }
        syncDirectory(dir)
    }

    /// Moves `from` to `to` (same file system) and syncs the target directory.
    static func move(_ from: URL, to: URL) throws {
        try FileManager.default.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard rename(from.path, to.path) == 0 else { throw fileError("cannot move \(from.path) to", to) }
        syncDirectory(to.deletingLastPathComponent())
    }

    /// Appends `line` (which must end in a newline) to `url` with one `write` on an `O_APPEND`
    /// descriptor, then syncs. A crash can leave at most a partial last line, which readers drop.
    static func appendLine(_ line: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fileError("cannot open for appending", url) }
        defer { close(fd) }
        try writeAll(fd, line, url)
        guard fsync(fd) == 0 else { throw fileError("cannot sync", url) }
    }

    /// Runs `body` holding an exclusive `flock` on `url` (created when missing), so several
    /// adapter instances and processes sharing a directory take turns.
    static func withLock<T>(_ url: URL, _ body: () throws -> T) throws -> T {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fileError("cannot open lock file", url) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw fileError("cannot lock", url) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    static func writeAll(_ fd: Int32, _ data: Data, _ url: URL) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw fileError("cannot write", url)
                }
                offset += n
            }
        }
    }

    static func syncDirectory(_ dir: URL) {
        let fd = open(dir.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    static func fileError(_ what: String, _ url: URL) -> ChannelError {
        .retryable("\(what) \(url.path): \(String(cString: strerror(errno)))")
    }

    /// Lower-case hexadecimal SHA-256 of `text` (file names for idempotency keys).
    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).lowercaseHex
    }

    /// The complete lines of a JSON Lines file (a partial last line, left by a crash, is dropped);
    /// empty when the file does not exist.
    static func completeLines(of url: URL) throws -> [Data] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data = try Data(contentsOf: url)
        var lines: [Data] = []
        var start = data.startIndex
        for i in data.indices where data[i] == UInt8(ascii: "\n") {
            if i > start { lines.append(data[start..<i]) }
            start = i + 1
        }
        return lines
    }
}

/// JSON encoding shared by the adapters: sorted keys, UTC timestamps as `2026-03-02T08:15:00Z`.
enum ChannelJSON {
    static func encoder() -> JSONEncoder { UTCTimestamp.jsonEncoder() }
    static func decoder() -> JSONDecoder { UTCTimestamp.jsonDecoder() }
}

/// A value behind a lock (`NSLock`, so it runs wherever Foundation does, macOS 14 included).
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
