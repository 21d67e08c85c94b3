import Foundation
import LinAlg
import Testing
@testable import Vocabulary

/// The cached transition tables against Foundation's own answer.
@Suite struct ZoneOffsetsTests {
    /// The customers' zones, and zones with half-hour DST, negative and fractional offsets, and
    /// changes of their standard offset (Moscow 2011 and 2014, Apia 2011, Caracas 2007 and 2016).
    static let zones = ["Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/Amsterdam", "Europe/London", "Europe/Paris",
                        "Europe/Lisbon", "America/New_York", "UTC", "Australia/Lord_Howe", "America/St_Johns", "Asia/Kolkata",
                        "Asia/Kathmandu", "Europe/Moscow", "Pacific/Apia", "America/Caracas", "America/Sao_Paulo", "Africa/Casablanca"]

    @Test("offsets equal TimeZone.secondsFromGMT at random instants 1975–2045 and a second either side of every transition",
          arguments: zones)
    func offsetsMatchFoundation(_ id: String) throws {
        let zone = try #require(TimeZone(identifier: id))
        var rng = Xoshiro256(seed: 5)
        let from = -157_766_400.0, to = 2_366_841_600.0  // 1965 .. 2045
        for _ in 0..<3000 {
            let t = (from + rng.uniform() * (to - from)).rounded(.down)
            #expect(ZoneOffsets.secondsFromGMT(zone, at: t) == zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)), "\(id) at \(t)")
        }
        var cursor = Date(timeIntervalSince1970: from)
        var transitions = 0
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < to {
            for t in [next.timeIntervalSince1970 - 1, next.timeIntervalSince1970, next.timeIntervalSince1970 + 1] {
                #expect(ZoneOffsets.secondsFromGMT(zone, at: t) == zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)), "\(id) at \(t)")
            }
            transitions += 1
            cursor = next
        }
        if id.hasPrefix("Europe/") && id != "Europe/Moscow" { #expect(transitions > 100, "\(id): \(transitions) transitions") }
    }

    @Test("a span answers as Foundation within its margin and beyond it, for centres 1965–2045", arguments: zones)
    func spanMatchesFoundation(_ id: String) throws {
        let zone = try #require(TimeZone(identifier: id))
        var rng = Xoshiro256(seed: 11)
        for _ in 0..<200 {
            let centre = (-157_766_400.0 + rng.uniform() * 2_524_608_000).rounded(.down)
            let span = ZoneOffsets.span(zone, around: centre)
            for _ in 0..<20 {
                // Mostly the coming week (what a decision asks), sometimes past the margin.
                let t = (centre + (rng.uniform() < 0.8 ? rng.uniform() * 8 * 86_400 : (rng.uniform() - 0.5) * 4e8)).rounded(.down)
                #expect(span.secondsFromGMT(at: t) == zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)), "\(id) centre \(centre) at \(t)")
            }
        }
    }
}
