import Vocabulary

/// One option the bandit can pick for a case: a delivery action or, where the flow allows it,
/// "no contact now".
///
/// Candidates have a dense index: `0..<756` are `DeliveryAction` indices (channel-major, as
/// `DeliveryAction.index`), and `756` is "no contact now".
public enum Candidate: Hashable, Sendable, CustomStringConvertible, Codable {
    case deliver(DeliveryAction)
    case noContact

    /// Number of candidate indices: every delivery action plus "no contact now".
    public static let count = DeliveryAction.count + 1
    /// The dense index of "no contact now".
    public static let noContactIndex = DeliveryAction.count

    /// The dense index in `0..<Candidate.count`.
    public var index: Int {
        switch self {
        case .deliver(let action): return action.index
        case .noContact: return Candidate.noContactIndex
        }
    }

    /// The candidate with dense index `index`.
    public init(index: Int) {
        precondition(index >= 0 && index < Candidate.count, "Candidate: index \(index) outside 0..<\(Candidate.count)")
        self = index == Candidate.noContactIndex ? .noContact : .deliver(DeliveryAction.all[index])
    }

    /// The delivery action, or `nil` for "no contact now".
    public var action: DeliveryAction? {
        if case .deliver(let a) = self { return a }
        return nil
    }

    /// `email/friendly/tuesday/10-12` or `no-contact`.
    public var description: String { action?.description ?? "no-contact" }
}

/// The candidates allowed for one decision, as a fixed-size bitset over `Candidate` indices.
///
/// Membership, insertion and counting are O(1)/O(words); iteration visits set bits in
/// index order using trailing-zero counts (12 words for 757 candidates).
public struct CandidateSet: Hashable, Sendable, Sequence {
    /// Number of 64-bit words.
    static let wordCount = (Candidate.count + 63) / 64
    /// The bits, candidate `i` at bit `i % 64` of word `i / 64`.
    public private(set) var words: [UInt64]

    /// The empty set.
    public init() { words = [UInt64](repeating: 0, count: CandidateSet.wordCount) }

    /// Every delivery action, and "no contact now" when `includingNoContact`.
    public static func all(includingNoContact: Bool = false) -> CandidateSet {
        var s = CandidateSet()
        for i in 0..<DeliveryAction.count { s.insert(i) }
        if includingNoContact { s.insert(Candidate.noContactIndex) }
        return s
    }

    /// The set of the given candidate indices.
    public init<S: Sequence>(indices: S) where S.Element == Int {
        self.init()
        for i in indices { insert(i) }
    }

    /// Whether candidate `index` is allowed.
    @inlinable
    public func contains(_ index: Int) -> Bool {
        precondition(index >= 0 && index < Candidate.count, "CandidateSet: index \(index) outside 0..<\(Candidate.count)")
        return words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// Whether `candidate` is allowed.
    public func contains(_ candidate: Candidate) -> Bool { contains(candidate.index) }

    /// Allows candidate `index`.
    public mutating func insert(_ index: Int) {
        precondition(index >= 0 && index < Candidate.count, "CandidateSet: index \(index) outside 0..<\(Candidate.count)")
        words[index >> 6] |= 1 << UInt64(index & 63)
    }

    /// Disallows candidate `index`.
    public mutating func remove(_ index: Int) {
        precondition(index >= 0 && index < Candidate.count, "CandidateSet: index \(index) outside 0..<\(Candidate.count)")
        words[index >> 6] &= ~(1 << UInt64(index & 63))
    }

    /// Number of allowed candidates.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    /// Whether nothing is allowed.
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Candidates in both sets.
    public func intersection(_ other: CandidateSet) -> CandidateSet {
        var s = self
        for w in 0..<words.count { s.words[w] &= other.words[w] }
        return s
    }

    /// Calls `body` with every index in the set, in increasing order.
    @inlinable
    public func forEachIndex(_ body: (Int) throws -> Void) rethrows {
        for w in 0..<words.count {
            var bits = words[w]
            while bits != 0 {
                try body(w << 6 | bits.trailingZeroBitCount)
                bits &= bits &- 1
            }
        }
    }

    /// Visits the allowed indices in increasing order.
    public struct Iterator: IteratorProtocol {
        let words: [UInt64]
        var word = 0
        var bits: UInt64
        init(words: [UInt64]) { self.words = words; bits = words.first ?? 0 }
        public mutating func next() -> Int? {
            while bits == 0 {
                word += 1
                if word >= words.count { return nil }
                bits = words[word]
            }
            let i = word << 6 | bits.trailingZeroBitCount
            bits &= bits &- 1
            return i
        }
    }

    public func makeIterator() -> Iterator { Iterator(words: words) }
}

/// Validation state of a contact point (SPEC §3).
public enum ContactState: String, Codable, Sendable, CaseIterable {
    case unverified, valid, invalid, bounced

    /// Whether a message may be sent to a contact point in this state.
    public var isUsable: Bool { self == .unverified || self == .valid }
}

/// One way to reach a customer: an e-mail address, a mobile number, a postal address, a push
/// token, a WhatsApp opt-in, a landline for robocalls.
public struct ContactPoint: Hashable, Codable, Sendable {
    /// The channel this contact point reaches.
    public var channel: Channel
    /// Its validation state; invalid and bounced points are never used.
    public var state: ContactState
    /// Whether the customer consented to messages over it.
    public var consent: Bool

    public init(channel: Channel, state: ContactState = .valid, consent: Bool = true) {
        self.channel = channel
        self.state = state
        self.consent = consent
    }
}

/// A customer-local quiet period, `[startHour, endHour)` on a 24-hour clock, wrapping past
/// midnight when `startHour > endHour` (e.g. 20 → 9). A send window is allowed only if it lies
/// entirely outside the quiet period.
public struct QuietHours: Hashable, Codable, Sendable {
    public var startHour: Int
    public var endHour: Int

    public init(startHour: Int, endHour: Int) {
        precondition((0...24).contains(startHour) && (0...24).contains(endHour), "QuietHours: hours must lie in 0...24")
        self.startHour = startHour
        self.endHour = endHour
    }

    /// Whether local hour `h` (0..<24) is quiet.
    public func isQuiet(hour h: Int) -> Bool {
        if startHour == endHour { return false }
        return startHour < endHour ? (h >= startHour && h < endHour) : (h >= startHour || h < endHour)
    }

    /// Whether any hour of the two-hour window `bucket` is quiet.
    public func overlaps(_ bucket: HourBucket) -> Bool {
        isQuiet(hour: bucket.startHour) || isQuiet(hour: bucket.startHour + 1)
    }
}

/// A standing rule for one channel: days it never sends on and (optionally) the only send
/// windows it may use. The default rule set forbids robocalls on Sundays.
public struct ChannelRule: Hashable, Codable, Sendable {
    /// The channel the rule applies to.
    public var channel: Channel
    /// Customer-local days the channel never sends on.
    public var forbiddenWeekdays: Set<Weekday>
    /// `nil`: every window the other constraints allow.
    public var allowedHours: Set<HourBucket>?

    public init(channel: Channel, forbiddenWeekdays: Set<Weekday> = [], allowedHours: Set<HourBucket>? = nil) {
        self.channel = channel
        self.forbiddenWeekdays = forbiddenWeekdays
        self.allowedHours = allowedHours
    }

    /// No robocalls on Sundays.
    public static let standard: [ChannelRule] = [ChannelRule(channel: .robocall, forbiddenWeekdays: [.sunday])]
}

/// What a flow step lets the optimiser choose from (the settings of an `optimise` action).
/// `nil` fields allow everything.
public struct FlowRestrictions: Hashable, Codable, Sendable {
    /// Allowed channels, tones, send days and send windows (`nil`: all).
    public var channels: Set<Channel>?
    public var tones: Set<Tone>?
    public var weekdays: Set<Weekday>?
    public var hours: Set<HourBucket>?
    /// Whether "no contact now" may compete with the delivery actions.
    public var allowsNoContact: Bool

    public init(channels: Set<Channel>? = nil, tones: Set<Tone>? = nil, weekdays: Set<Weekday>? = nil,
                hours: Set<HourBucket>? = nil, allowsNoContact: Bool = false) {
        self.channels = channels
        self.tones = tones
        self.weekdays = weekdays
        self.hours = hours
        self.allowsNoContact = allowsNoContact
    }
}

/// The constraints of one decision (SPEC §4): reachable channels (a usable contact point with
/// consent), quiet hours in the customer's time zone, standing channel rules and the flow's
/// restrictions. `candidates` turns them into the allowed `CandidateSet`.
///
/// ```swift
/// let constraints = ActionConstraints(
///     contactPoints: [ContactPoint(channel: .email), ContactPoint(channel: .letter)],
///     quietHours: QuietHours(startHour: 20, endHour: 9),
///     flow: FlowRestrictions(tones: [.friendly, .neutral], allowsNoContact: true))
/// let allowed = constraints.candidates      // bitset over 757 candidates
/// ```
/// Complexity: O(756) simple tests, a few microseconds.
public struct ActionConstraints: Hashable, Codable, Sendable {
    public var contactPoints: [ContactPoint]
    public var quietHours: QuietHours?
    public var channelRules: [ChannelRule]
    public var flow: FlowRestrictions

    public init(contactPoints: [ContactPoint], quietHours: QuietHours? = nil,
                channelRules: [ChannelRule] = ChannelRule.standard, flow: FlowRestrictions = FlowRestrictions()) {
        self.contactPoints = contactPoints
        self.quietHours = quietHours
        self.channelRules = channelRules
        self.flow = flow
    }

    /// Channels with at least one contact point that is not invalid or bounced and has consent.
    public var reachableChannels: Set<Channel> {
        Set(contactPoints.filter { $0.state.isUsable && $0.consent }.map(\.channel))
    }

    /// The allowed candidates.
    public var candidates: CandidateSet {
        var set = CandidateSet()
        let reachable = reachableChannels
        let nt = Tone.allCases.count, nd = Weekday.allCases.count, nh = HourBucket.allCases.count
        var hourOK = [Bool](repeating: true, count: nh)
        for h in HourBucket.allCases {
            hourOK[h.index] = !(quietHours?.overlaps(h) ?? false) && (flow.hours?.contains(h) ?? true)
        }
        let dayOK = Weekday.allCases.map { flow.weekdays?.contains($0) ?? true }
        let toneOK = Tone.allCases.map { flow.tones?.contains($0) ?? true }
        for channel in Channel.allCases where reachable.contains(channel) && (flow.channels?.contains(channel) ?? true) {
            var cDay = dayOK, cHour = hourOK
            for rule in channelRules where rule.channel == channel {
                for d in rule.forbiddenWeekdays { cDay[d.index] = false }
                if let allowed = rule.allowedHours {
                    for h in HourBucket.allCases where !allowed.contains(h) { cHour[h.index] = false }
                }
            }
            for t in 0..<nt where toneOK[t] {
                for d in 0..<nd where cDay[d] {
                    let base = ((channel.index * nt + t) * nd + d) * nh
                    for h in 0..<nh where cHour[h] { set.insert(base + h) }
                }
            }
        }
        if flow.allowsNoContact { set.insert(Candidate.noContactIndex) }
        return set
    }
}
