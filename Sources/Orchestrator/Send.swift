import Channels
import ContactData
import FeatureStore
import Flows
import Foundation
import Optimizer
import Vocabulary
import Decisioning

/// Local calendar arithmetic in a customer's time zone.
enum LocalClock {
    nonisolated(unsafe) static var zones: [String: TimeZone] = [:]
    static let lock = NSLock()

    /// The zone of an IANA name (UTC for an unknown one: customers are validated on import).
    static func zone(_ id: String) -> TimeZone {
        lock.lock()
        defer { lock.unlock() }
        if let z = zones[id] { return z }
        let z = TimeZone(identifier: id) ?? TimeZone(identifier: "UTC")!
        zones[id] = z
        return z
    }

    /// The local calendar date of `instant`.
    static func date(_ instant: Date, in zone: TimeZone) -> CalendarDate {
        let local = instant.timeIntervalSince1970 + Double(ZoneOffsets.secondsFromGMT(zone, for: instant))
        return CalendarDate(daysSinceEpoch: Int((local / 86_400).rounded(.down)))
    }

    /// The local wall-clock time of `instant`.
    static func local(_ instant: Date, in zone: TimeZone) -> (date: CalendarDate, hour: Int, minute: Int) {
        let local = Int64((instant.timeIntervalSince1970 + Double(ZoneOffsets.secondsFromGMT(zone, for: instant))).rounded(.down))
        let day = Int((Double(local) / 86_400).rounded(.down))
        let second = Int(local - Int64(day) * 86_400)
        return (CalendarDate(daysSinceEpoch: day), second / 3600, second % 3600 / 60)
    }

    /// The instant of local `date` at `hour`:00 (the later instant when a DST change repeats it,
    /// the hour after when it skips it).
    static func instant(_ date: CalendarDate, hour: Int, in zone: TimeZone) -> Date {
        instant(date, hour: hour) { ZoneOffsets.secondsFromGMT(zone, at: $0) }
    }

    /// `instant(_:hour:in:)` with the zone's offsets at hand.
    static func instant(_ date: CalendarDate, hour: Int, offsets: ZoneOffsets.Span) -> Date {
        instant(date, hour: hour) { offsets.secondsFromGMT(at: $0) }
    }

    private static func instant(_ date: CalendarDate, hour: Int, offset: (Double) -> Int) -> Date {
        let naive = Double(date.daysSinceEpoch) * 86_400 + Double(hour) * 3600
        let guess = naive - Double(offset(naive))
        return Date(timeIntervalSince1970: naive - Double(offset(guess)))
    }

    /// Noon of local `date` (a safe instant for "that day").
    static func noon(_ date: CalendarDate, in zone: TimeZone) -> Date { instant(date, hour: 12, in: zone) }

    /// ISO weekday of a calendar date (1970-01-01 was a Thursday).
    static func weekday(_ date: CalendarDate) -> Weekday {
        Weekday(rawValue: ((date.daysSinceEpoch % 7 + 7) % 7 + 3) % 7 + 1)!
    }
}

/// Positions of the `contact_points` columns the channel checks read, looked up once: runs and
/// decisions check every channel of every case.
enum ContactColumns {
    static let kind = Schema.contactPoints.index("kind")
    static let phoneType = Schema.contactPoints.index("phone_type")
    static let validation = Schema.contactPoints.index("validation")
    static let updatedAt = Schema.contactPoints.index("updated_at")
    static let consent = Schema.contactPoints.index("consent")
}

extension Orchestrator {
    /// The contact points that can carry `channel`, best first (validated before unverified, newest first).
    func carriers(of channel: Channel, in points: [[Value]]) -> [[Value]] {
        typealias C = ContactColumns
        var fitting = points.filter { row in
            let kind = row[C.kind].text
            switch channel {
            case .email: return kind == "email"
            case .sms: return kind == "phone" && row[C.phoneType].text == "mobile"
            case .robocall: return kind == "phone"
            case .letter: return kind == "postal"
            case .push: return kind == "push"
            case .whatsapp: return kind == "whatsapp"
            }
        }
        if fitting.count > 1 {
            fitting.sort { a, b in
                let va = a[C.validation].text == "valid", vb = b[C.validation].text == "valid"
                if va != vb { return va }
                return (a[C.updatedAt].integer ?? 0) > (b[C.updatedAt].integer ?? 0)
            }
        }
        return fitting
    }

    /// The usable contact point for `channel`, or the condition that stops the send.
    func contactPoint(for channel: Channel, in points: [[Value]]) -> Result<[Value], ConditionError> {
        typealias C = ContactColumns
        let all = carriers(of: channel, in: points)
        let usable = all.filter { ValidationState(rawValue: $0[C.validation].text!)?.isUsable ?? false }
        if usable.isEmpty { return .failure(ConditionError(condition: .noContactPoint)) }
        guard let consented = usable.first(where: { $0[C.consent].integer == 1 }) else {
            return .failure(ConditionError(condition: .noConsent))
        }
        return .success(consented)
    }

    /// The optimiser's view of the customer's contact points.
    func banditContactPoints(_ points: [[Value]]) -> [Optimizer.ContactPoint] {
        typealias C = ContactColumns
        var out: [Optimizer.ContactPoint] = []
        for channel in Channel.allCases {
            for row in carriers(of: channel, in: points) {
                let state = ContactState(rawValue: row[C.validation].text!) ?? .unverified
                out.append(Optimizer.ContactPoint(channel: channel, state: state, consent: row[C.consent].integer == 1))
            }
        }
        return out
    }

    /// When a flow's own send step goes out: its day at the configured hour, or now when that has
    /// passed (a backup "at once"), moved out of quiet hours.
    func sendTime(for step: DueStep, asOf: Date, zone: TimeZone) -> Date {
        var t = asOf
        if case .scheduled = step.trigger {
            let day = LocalClock.date(max(step.dueAt, asOf), in: zone)
            t = max(asOf, LocalClock.instant(day, hour: configuration.defaultSendHour, in: zone))
        }
        return outOfQuietHours(t, zone: zone)
    }

    /// `t`, or the end of the quiet hours it falls into.
    func outOfQuietHours(_ t: Date, zone: TimeZone) -> Date {
        guard let q = configuration.quietHours else { return t }
        let local = LocalClock.local(t, in: zone)
        guard q.isQuiet(hour: local.hour) else { return t }
        let day = local.hour >= q.endHour ? local.date.adding(days: 1) : local.date
        return LocalClock.instant(day, hour: q.endHour, in: zone)
    }

    /// When a model-chosen action goes out: the start of its window on the next local occurrence of
    /// its weekday whose window starts after the current local hour (within 7 days) — the schedule
    /// the simulator and the training data use (`DecisionClock.sendDelayDays`).
    func sendTime(for action: DeliveryAction, asOf: Date, zone: TimeZone) -> Date {
        SendSlots.start(weekday: action.weekday, hour: action.hour, now: LocalClock.local(asOf, in: zone),
                        offsets: ZoneOffsets.span(zone, around: asOf.timeIntervalSince1970))
    }

    /// The delivery action a message at `t` over `channel` in `tone` amounts to.
    func action(channel: Channel, tone: Tone, at t: Date, zone: TimeZone) -> DeliveryAction {
        let local = LocalClock.local(t, in: zone)
        let bucket = HourBucket(hour: local.hour) ?? (local.hour < 8 ? .h08 : .h18)
        return DeliveryAction(channel: channel, tone: tone, weekday: LocalClock.weekday(local.date), hour: bucket)
    }

    /// The allowed delivery actions for the case (contact points, consent, quiet hours, channel rules,
    /// the step's own restrictions).
    func candidates(_ facts: CaseFacts, channels: Set<Channel>?, tones: Set<Tone>?) -> CandidateSet {
        ActionConstraints(contactPoints: banditContactPoints(facts.points), quietHours: configuration.quietHours,
                          channelRules: configuration.channelRules, flow: FlowRestrictions(channels: channels, tones: tones)).candidates
    }

    /// Writes a decision, a queued message and its outbox row for a send.
    func send(_ step: DueStep, channel: Channel, tone: Tone, purpose: SendPurpose, choice: (ModelChoice, CandidateSet)?,
              _ facts: inout CaseFacts, _ stored: inout StoredProgress, asOf: Date, runId: String, writes: inout PlanWrites,
              summary: inout RunSummary) throws -> StepOutcome {
        let point: [Value]
        switch contactPoint(for: channel, in: facts.points) {
        case .success(let p): point = p
        case .failure(let e): return .done(raised: [e.condition])
        }
        let capStart = micros(asOf) - Int64(configuration.contactCapDays) * 86_400_000_000
        let recent = facts.sends.filter { $0 >= capStart }.sorted()
        if recent.count >= configuration.contactCap {
            // The cap frees up when the oldest send in the window leaves it.
            let free = recent[recent.count - configuration.contactCap] + Int64(configuration.contactCapDays) * 86_400_000_000
            return .postponed(until: date(micros: free + 1))
        }
        let zone = facts.timeZone
        let at: Date
        let chosen: DeliveryAction
        var candidates: CandidateSet
        if let (model, set) = choice, let a = model.action {
            chosen = a
            candidates = set
            at = sendTime(for: a, asOf: asOf, zone: zone)
        } else {
            at = sendTime(for: step, asOf: asOf, zone: zone)
            chosen = action(channel: channel, tone: tone, at: at, zone: zone)
            candidates = self.candidates(facts, channels: nil, tones: nil)
        }
        candidates.insert(chosen.index)
        let key = facts.key
        let id = key.invoiceId + "/" + step.key
        let local = LocalClock.local(at, in: zone)
        let arm = facts.arm
        let policy: (name: String, version: String, propensity: Double, exact: Bool, draws: Int?)
        if let (m, _) = choice, let model {
            policy = (model.name, model.version, m.propensity, m.propensityIsExact, m.propensityDraws)
        } else {
            policy = ("flow:" + facts.flow.name, String(facts.flow.version), 1, true, nil)
        }
        let actionSet = ActionSet(candidates.compactMap { i in i < DeliveryAction.count ? DeliveryAction(index: i) : nil })
        writes.decisions.append([
            .text("D/" + id), .text(key.customerId), .text(key.invoiceId), .integer(micros(asOf)), .text(actionSet.description),
            .text(chosen.channel.rawValue), .text(chosen.tone.rawValue), .integer(Int64(chosen.weekday.rawValue)),
            .integer(Int64(chosen.hour.rawValue)), .real(policy.propensity), .integer(policy.exact ? 1 : 0),
            policy.draws.map { .integer(Int64($0)) } ?? .null, .text(policy.name), .text(policy.version),
            configuration.experiment.map { .text($0.name) } ?? .null, arm.map { .text($0.rawValue) } ?? .null, .text(runId),
        ])
        let template = step.settings.string("template") ?? Self.templateName(purpose)
        let scheduledLocal = LocalDateTime(date: local.date, hour: local.hour, minute: local.minute)
        writes.messages.append([
            .text(id), .text(key.customerId), .text(key.invoiceId), .text("D/" + id), Schema.contactPoints.value(point, "id"),
            .text(chosen.channel.rawValue), .text(template), .text(chosen.tone.rawValue), .text(scheduledLocal.description),
            .integer(micros(at)), .text(MessageStatus.queued.rawValue), .null, .text(id),
            .integer(configuration.costMinor[chosen.channel] ?? 0),
        ])
        // A message due now is written leased to this worker when it goes out once the batch has
        // committed: no other worker's dispatch takes it meanwhile, and after a crash the
        // worker's next run releases it to its dispatch (`RunConfiguration.sendOnCommit`).
        let sendsOnCommit = configuration.sendOnCommit && at <= asOf
        writes.outbox.append([.text(key.customerId), .text(id), .integer(micros(at)), .integer(0), .null,
                              sendsOnCommit ? .text(configuration.worker) : .null,
                              sendsOnCommit ? .integer(micros(asOf.addingTimeInterval(configuration.leaseSeconds))) : .null])
        stored.messages[id] = step.ref
        facts.sends.append(micros(at))
        summary.decisions += 1
        summary.queued += 1
        summary.decisionsByArm[arm?.rawValue ?? "none", default: 0] += 1
        return .done(raised: [])
    }

    /// `optimise`: the model chooses in the treatment arm; the step's defaults elsewhere. A channel
    /// the customer preferred (on the payment page) wins when the step lists it and a valid,
    /// consented contact point carries it: the model then chooses only tone and time.
    func optimise(_ step: DueStep, _ facts: inout CaseFacts, _ stored: inout StoredProgress, asOf: Date, runId: String,
                  context: LiveContext?, writes: inout PlanWrites, summary: inout RunSummary) throws -> StepOutcome {
        let s = step.settings
        let purpose = s.string("purpose").flatMap(SendPurpose.init(rawValue:)) ?? .reminder
        let channels = Set((s.strings("channels") ?? Channel.allCases.map(\.rawValue)).compactMap(Channel.init(rawValue:)))
        let tones = Set((s.strings("tones") ?? Tone.allCases.map(\.rawValue)).compactMap(Tone.init(rawValue:)))
        // The channel the customer asked for (payment page), when the step allows it and it can be reached.
        var wish = Schema.customers.value(facts.customer, "preferred_channel").text.flatMap(Channel.init(rawValue:))
        if let w = wish, !channels.contains(w) { wish = nil }
        if let w = wish, case .failure = contactPoint(for: w, in: facts.points) { wish = nil }
        if facts.arm == .treatment, let model, let context {
            // The model chooses tone and time within the preferred channel.
            var set = candidates(facts, channels: wish.map { [$0] } ?? channels, tones: tones)
            // The step's message goes out within the send window, which opens at the earliest time any
            // allowed action can go out (a step that falls due at night waits for the morning's
            // windows instead of finding none): the model chooses when within it.
            let slots = SendSlots(asOf: asOf, zone: facts.timeZone)
            let times = Array(set).filter { $0 < DeliveryAction.count }.map { ($0, slots.start(of: DeliveryAction(index: $0))) }
            guard let opens = times.map(\.1).min() else { return .done(raised: [.noContactPoint]) }
            let latest = opens.addingTimeInterval(configuration.sendWindowHours * 3600)
            for (index, at) in times where at > latest { set.remove(index) }
            let runKey = PolicyRuntime.key(runId)
            let amount = Double(Schema.invoices.value(facts.invoice, "amount_minor").integer!) / 100
            let choice = try model.decide(context: context, candidates: set, amountDue: amount, runKey: runKey,
                                          customerId: facts.key.customerId)
            if let a = choice.action {
                return try send(step, channel: a.channel, tone: a.tone, purpose: purpose, choice: (choice, set), &facts, &stored,
                                asOf: asOf, runId: runId, writes: &writes, summary: &summary)
            }
            return .done(raised: [])
        }
        // The flow's default: the customer's preferred channel, else the default channel when it can be
        // reached, else the first allowed one that can.
        let fallback = s.string("default_channel").flatMap(Channel.init(rawValue:)) ?? .email
        let tone = s.string("default_tone").flatMap(Tone.init(rawValue:)) ?? .neutral
        let first = wish.map { [$0] } ?? []
        let order = first + [fallback].filter { !first.contains($0) } + Channel.allCases.filter { $0 != fallback && !first.contains($0) && channels.contains($0) }
        for channel in order {
            if case .success = contactPoint(for: channel, in: facts.points) {
                return try send(step, channel: channel, tone: tone, purpose: purpose, choice: nil, &facts, &stored, asOf: asOf,
                                runId: runId, writes: &writes, summary: &summary)
            }
        }
        return .done(raised: [.noContactPoint])
    }

    /// `validate_contact_data`: checks every usable e-mail address and phone number again and marks
    /// the ones that fail `invalid` (never used again until revalidated).
    func validateContactData(_ facts: inout CaseFacts, asOf: Date, writes: inout PlanWrites) {
        let cp = Schema.contactPoints
        let country = Schema.customers.value(facts.customer, "country").text ?? "DE"
        for (i, row) in facts.points.enumerated() {
            guard ValidationState(rawValue: cp.value(row, "validation").text!)?.isUsable ?? false else { continue }
            let value = cp.value(row, "value").text!
            let ok: Bool
            switch cp.value(row, "kind").text! {
            case "email": ok = EmailValidator.validate(value).verdict != .invalid
            case "phone", "whatsapp": ok = PhoneValidator.parse(value, defaultCountry: country).isValid
            default: continue
            }
            var updated = row
            updated[cp.index("validation")] = .text(ok ? ValidationState.valid.rawValue : ValidationState.invalid.rawValue)
            updated[cp.index("updated_at")] = .integer(micros(asOf))
            if updated[cp.index("validation")] != row[cp.index("validation")] {
                facts.points[i] = updated
                writes.contactPoints.append(updated)
            }
        }
    }
}

extension Orchestrator {
    /// The message template of a send purpose (the flows' purposes and the templates' differ in two names).
    static func templateName(_ purpose: SendPurpose) -> String {
        switch purpose.rawValue {
        case "pre_due_reminder": return MessagePurpose.preDue.rawValue
        case "agency_notice": return MessagePurpose.finalDunning.rawValue
        default: return MessagePurpose(rawValue: purpose.rawValue)?.rawValue ?? MessagePurpose.reminder.rawValue
        }
    }
}

/// A flow condition that stopped a send.
struct ConditionError: Error {
    var condition: FlowCondition
}

/// The send instant of every (weekday, hour window) slot as seen from one decision instant in one
/// time zone: 42 zone conversions per decision instead of one per candidate action (hundreds).
struct SendSlots {
    private let starts: [Date]

    init(asOf: Date, zone: TimeZone) {
        let now = LocalClock.local(asOf, in: zone)
        // One look-up of the zone's table for all 42 instants (they lie within the coming 8 days).
        let offsets = ZoneOffsets.span(zone, around: asOf.timeIntervalSince1970)
        starts = Weekday.allCases.flatMap { weekday in
            HourBucket.allCases.map { hour in Self.start(weekday: weekday, hour: hour, now: now, offsets: offsets) }
        }
    }

    /// The start of the window `hour` on the next local occurrence of `weekday` after `now` (the
    /// customer's wall clock): today only when the window has not started yet, else within 7 days.
    static func start(weekday: Weekday, hour: HourBucket, now: (date: CalendarDate, hour: Int, minute: Int), offsets: ZoneOffsets.Span) -> Date {
        var ahead = (weekday.rawValue - LocalClock.weekday(now.date).rawValue + 7) % 7
        if ahead == 0 && hour.startHour <= now.hour { ahead = 7 }
        return LocalClock.instant(now.date.adding(days: ahead), hour: hour.startHour, offsets: offsets)
    }

    /// When `action` goes out: the start of its window on the next local occurrence of its weekday
    /// whose window starts after the current local hour (within 7 days).
    func start(of action: DeliveryAction) -> Date {
        starts[action.weekday.index * HourBucket.allCases.count + action.hour.index]
    }
}
