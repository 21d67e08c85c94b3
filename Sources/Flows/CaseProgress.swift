import Foundation
import Vocabulary

/// Something that happened to a case that the flow reacts to.
public struct CaseEvent: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Paid in full (or the remainder is within what the operator treats as paid): the flow ends.
        case paid
        /// The payer agreed a payment plan: the flow ends; the plan takes over.
        case paymentPlanAgreed = "payment_plan_agreed"
        /// A dispute was opened (pauses the flow once `pause_on_dispute` ran).
        case disputed
        case disputeResolved = "dispute_resolved"
        /// The payer opened the payment page (link or QR scan).
        case visited
        /// The payer clicked a link in a message.
        case clicked
        /// The payer replied (e-mail, SMS, WhatsApp, call-back).
        case replied
        /// An e-mail was opened.
        case opened
    }

    public var kind: Kind
    public var at: Date
    /// The step whose message the event belongs to, when known (for `opened`, `clicked`).
    public var step: StepRef?

    public init(_ kind: Kind, at: Date, step: StepRef? = nil) {
        self.kind = kind
        self.at = at
        self.step = step
    }
}

/// A condition raised for a step that ran, and when.
public struct RaisedCondition: Codable, Hashable, Sendable {
    public var condition: FlowCondition
    public var at: Date

    public init(_ condition: FlowCondition, at: Date) {
        self.condition = condition
        self.at = at
    }
}

/// That a step ran (or was skipped), when, and what it raised.
public struct StepRecord: Codable, Hashable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        /// The action was carried out (or attempted: see `raised`).
        case done
        /// Not carried out and never will be (overdue when the case joined the flow, or skipped on purpose).
        case skipped
    }

    public var ref: StepRef
    public var action: String
    public var at: Date
    public var outcome: Outcome
    /// Conditions raised for this step so far, at the time they were raised.
    public var raised: [RaisedCondition]

    public init(ref: StepRef, action: String, at: Date, outcome: Outcome, raised: [RaisedCondition] = []) {
        self.ref = ref
        self.action = action
        self.at = at
        self.outcome = outcome
        self.raised = raised
    }
}

/// A case's progress through one flow: what ran, what it raised, what happened, whether the flow
/// ended. A small `Codable` value the orchestrator stores as JSON next to the case (see
/// `jsonData()`); `FlowExecutor.plan` reads it and never changes it.
public struct CaseProgress: Codable, Hashable, Sendable {
    public var flow: String
    public var flowVersion: Int
    /// Every step that ran or was skipped, in the order recorded.
    public private(set) var records: [StepRecord]
    /// Every event of the case, in the order added.
    public private(set) var events: [CaseEvent]
    public private(set) var end: FlowEnd?
    public private(set) var endedAt: Date?
    /// The flow `switch_flow` moved the case to.
    public private(set) var switchedTo: String?

    /// A case at the start of `flow`, nothing run yet.
    public init(flow: FlowDefinition) {
        self.flow = flow.name
        self.flowVersion = flow.version
        self.records = []
        self.events = []
    }

    /// A progress from its parts, as a stored form other than `jsonData()` reads it back.
    public init(flow: String, flowVersion: Int, records: [StepRecord], events: [CaseEvent], end: FlowEnd?, endedAt: Date?,
                switchedTo: String?) {
        self.flow = flow
        self.flowVersion = flowVersion
        self.records = records
        self.events = events
        self.end = end
        self.endedAt = endedAt
        self.switchedTo = switchedTo
    }

    /// A case joining `flow` at `at` (e.g. after `switch_flow`): with `skipPast`, the processes
    /// whose day lies before the local day of `at` are recorded as skipped.
    public static func start(flow: FlowDefinition, schedule: DueSchedule, at: Date, skipPast: Bool) -> CaseProgress {
        var progress = CaseProgress(flow: flow)
        if skipPast {
            let today = schedule.dayOffset(of: at)
            for (i, p) in flow.processes.enumerated() where p.day < today {
                progress.records.append(StepRecord(ref: StepRef(process: i), action: p.action, at: at, outcome: .skipped))
            }
        }
        return progress
    }

    /// The record of `ref`, if it ran or was skipped.
    public func record(of ref: StepRef) -> StepRecord? { records.first { $0.ref == ref } }

    /// Records that `step` was carried out at `at`, with the conditions it raised at once.
    ///
    /// An action that ends a flow (`ActionSpec.endsFlow`: `stop_if_paid`, `switch_flow`,
    /// `escalate_to_agency`, ...) ends it here when it raised nothing; `stop_if_paid` raises
    /// `not_paid` when the case is not paid. Precondition: the step was not recorded before.
    public mutating func record(_ step: DueStep, at: Date, raised: [FlowCondition] = []) {
        precondition(record(of: step.ref) == nil, "CaseProgress: \(step.ref) recorded twice")
        precondition(end == nil, "CaseProgress: the flow has ended")
        records.append(StepRecord(ref: step.ref, action: step.action, at: at, outcome: .done,
                                  raised: raised.map { RaisedCondition($0, at: at) }))
        if raised.isEmpty, let ending = step.endsFlow {
            finish(ending, at: at)
            if ending == .switched { switchedTo = step.settings.string("flow") }
        }
    }

    /// Records that `step` will not be carried out (e.g. `DueStep.disposition == .skipOverdue`).
    public mutating func skip(_ step: DueStep, at: Date) {
        precondition(record(of: step.ref) == nil, "CaseProgress: \(step.ref) recorded twice")
        records.append(StepRecord(ref: step.ref, action: step.action, at: at, outcome: .skipped))
    }

    /// Records a condition that arrived later for a step that ran (a bounce report, a provider
    /// error after retries). Precondition: the step ran.
    public mutating func raise(_ condition: FlowCondition, for ref: StepRef, at: Date) {
        guard let i = records.firstIndex(where: { $0.ref == ref }) else {
            preconditionFailure("CaseProgress: \(condition.rawValue) raised for \(ref), which has not run")
        }
        if !records[i].raised.contains(where: { $0.condition == condition }) {
            records[i].raised.append(RaisedCondition(condition, at: at))
        }
    }

    /// Adds an event of the case.
    public mutating func add(_ event: CaseEvent) { events.append(event) }

    /// Ends the flow (when `FlowPlan.end` says so, or for a reason outside the flow).
    public mutating func finish(_ end: FlowEnd, at: Date) {
        guard self.end == nil else { return }
        self.end = end
        self.endedAt = at
    }

    /// The progress as JSON (dates as seconds since 1970, sorted keys): what the orchestrator stores.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// Reads what `jsonData()` wrote.
    public init(json: Data) throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        self = try decoder.decode(CaseProgress.self, from: json)
    }

    enum CodingKeys: String, CodingKey {
        case flow
        case flowVersion = "flow_version"
        case records, events, end
        case endedAt = "ended_at"
        case switchedTo = "switched_to"
    }
}

/// Where a case's flow days fall: day 0 is the local calendar day of the due date in the
/// customer's time zone, and day `d` starts at local midnight `d` days later (DST-aware).
///
/// Works on day numbers and the zone's UTC offsets instead of `Calendar`, so a plan costs a few
/// offset look-ups: the orchestrator plans every open case on every run.
public struct DueSchedule: Hashable, Sendable {
    public let timeZone: TimeZone
    /// The due day as days since 1970-01-01 in local time.
    public let dueDay: Int

    /// The due date as an instant; its local calendar day in `timeZone` is day 0.
    public init(dueDate: Date, timeZone: TimeZone) {
        self.timeZone = timeZone
        self.dueDay = DueSchedule.localDay(of: dueDate, in: timeZone)
    }

    /// The due date given as a local calendar date (proleptic Gregorian).
    public init(year: Int, month: Int, day: Int, timeZone: TimeZone) {
        precondition((1...12).contains(month) && (1...31).contains(day), "DueSchedule: no date \(year)-\(month)-\(day)")
        self.timeZone = timeZone
        self.dueDay = DueSchedule.daysFromCivil(year: year, month: month, day: day)
    }

    /// The instant local day `offset` (relative to the due day) begins: local midnight, or the
    /// first instant of the day where a DST change skips midnight.
    public func startOfDay(_ offset: Int) -> Date {
        let day = dueDay + offset
        let wall = Double(day) * 86_400  // local midnight read as if it were UTC
        let first = wall - Double(ZoneOffsets.secondsFromGMT(timeZone, for: Date(timeIntervalSince1970: wall)))
        let second = wall - Double(ZoneOffsets.secondsFromGMT(timeZone, for: Date(timeIntervalSince1970: first)))
        let candidates = [first, second].filter { Self.localDay(of: Date(timeIntervalSince1970: $0), in: timeZone) == day }
        if let earliest = candidates.min() { return Date(timeIntervalSince1970: earliest) }
        // Midnight does not exist (the clock jumps over it): the day starts at the jump.
        return Date(timeIntervalSince1970: max(first, second))
    }

    /// The flow day (relative to the due day) that `instant` falls on in the customer's time zone.
    public func dayOffset(of instant: Date) -> Int {
        Self.localDay(of: instant, in: timeZone) - dueDay
    }

    static func localDay(of instant: Date, in zone: TimeZone) -> Int {
        let local = instant.timeIntervalSince1970 + Double(ZoneOffsets.secondsFromGMT(zone, for: instant))
        return Int((local / 86_400).rounded(.down))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
