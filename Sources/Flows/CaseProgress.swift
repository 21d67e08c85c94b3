import Foundation

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
public struct DueSchedule: Hashable, Sendable {
    public let dueDate: Date
    public let timeZone: TimeZone
    let calendar: Calendar
    /// Local noon of the due day (noon exists on every day, whatever DST does at midnight).
    let dueNoon: Date

    public init(dueDate: Date, timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.dueDate = dueDate
        self.timeZone = timeZone
        self.calendar = calendar
        self.dueNoon = calendar.date(bySettingHour: 12, minute: 0, second: 0, of: dueDate)!
    }

    /// The due date given as a local calendar date.
    public init(year: Int, month: Int, day: Int, timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 12)) else {
            preconditionFailure("DueSchedule: no date \(year)-\(month)-\(day)")
        }
        self.init(dueDate: date, timeZone: timeZone)
    }

    public static func == (a: DueSchedule, b: DueSchedule) -> Bool { a.dueNoon == b.dueNoon && a.timeZone == b.timeZone }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(dueNoon)
        hasher.combine(timeZone)
    }

    /// The instant local day `offset` (relative to the due day) begins.
    public func startOfDay(_ offset: Int) -> Date {
        let noon = calendar.date(byAdding: .day, value: offset, to: dueNoon)!
        return calendar.startOfDay(for: noon)
    }

    /// The flow day (relative to the due day) that `instant` falls on in the customer's time zone.
    public func dayOffset(of instant: Date) -> Int {
        calendar.dateComponents([.day], from: calendar.startOfDay(for: dueDate), to: calendar.startOfDay(for: instant)).day!
    }
}
