import Foundation

/// A time zone's offset from GMT at an instant, read from a cached table of the zone's transitions:
/// Foundation's `TimeZone.secondsFromGMT(for:)` asks ICU at every call, and runs and feature
/// builders ask several times per case. Each zone's table covers twenty years around the instants
/// asked for and is rebuilt further out when an instant falls outside it.
public enum ZoneOffsets {
    /// Offsets from `starts[k]` (inclusive) to `starts[k + 1]`, for instants in `from..<to`.
    struct Table: Sendable {
        var from: Double
        var to: Double
        var starts: [Double]
        var offsets: [Int]
    }

    nonisolated(unsafe) private static var tables: [String: Table] = [:]
    private static let lock = NSLock()
    static let halfSpan: Double = 10 * 365.25 * 86_400

    /// Seconds `zone` is ahead of GMT at `seconds` after 1970-01-01 00:00 UTC; equal to
    /// `zone.secondsFromGMT(for:)`.
    public static func secondsFromGMT(_ zone: TimeZone, at seconds: Double) -> Int {
        offset(table(zone, around: seconds, margin: 0), seconds)
    }

    /// The cached table of `zone` if it covers `margin` seconds either side of `seconds`, else a new one built around `seconds`.
    private static func table(_ zone: TimeZone, around seconds: Double, margin: Double) -> Table {
        lock.lock()
        defer { lock.unlock() }
        let id = zone.identifier
        if let table = tables[id], seconds - margin >= table.from, seconds + margin < table.to { return table }
        let table = build(zone, around: seconds)
        tables[id] = table
        return table
    }

    /// A zone's offsets around an instant, read without the lock: for the many look-ups of one
    /// decision (the send instants of every weekday and window of the coming week).
    public struct Span: Sendable {
        let zone: TimeZone
        let table: Table

        /// Seconds `zone` is ahead of GMT at `seconds` (beyond the span's table, through `ZoneOffsets`).
        public func secondsFromGMT(at seconds: Double) -> Int {
            guard seconds >= table.from, seconds < table.to else { return ZoneOffsets.secondsFromGMT(zone, at: seconds) }
            return ZoneOffsets.offset(table, seconds)
        }
    }

    /// The offsets of `zone` for at least `margin` seconds either side of `seconds`.
    public static func span(_ zone: TimeZone, around seconds: Double, margin: Double = 31 * 86_400) -> Span {
        Span(zone: zone, table: table(zone, around: seconds, margin: margin))
    }

    /// `secondsFromGMT(_:at:)` for a `Date`.
    public static func secondsFromGMT(_ zone: TimeZone, for date: Date) -> Int {
        secondsFromGMT(zone, at: date.timeIntervalSince1970)
    }

    static func offset(_ table: Table, _ seconds: Double) -> Int {
        // The last transition at or before `seconds` (the table starts at `from` ≤ seconds).
        var lo = 0, hi = table.starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if table.starts[mid] <= seconds { lo = mid } else { hi = mid - 1 }
        }
        return table.offsets[lo]
    }

    static func build(_ zone: TimeZone, around seconds: Double) -> Table {
        let from = seconds - halfSpan, to = seconds + halfSpan
        var starts = [from], offsets = [zone.secondsFromGMT(for: Date(timeIntervalSince1970: from))]
        var cursor = Date(timeIntervalSince1970: from)
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < to, next > cursor {
            starts.append(next.timeIntervalSince1970)
            offsets.append(zone.secondsFromGMT(for: next))
            cursor = next
        }
        return Table(from: from, to: to, starts: starts, offsets: offsets)
    }
}
