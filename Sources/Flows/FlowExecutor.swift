import Foundation

/// A step that is due: a process whose day has come, or a backup whose condition was raised.
public struct DueStep: Hashable, Sendable {
    /// Why the step is due.
    public enum Trigger: Hashable, Sendable {
        /// A process on its flow day (after any dispute-pause shift).
        case scheduled(day: Int)
        /// A backup: `condition` was raised for the step at `of`.
        case backup(of: StepRef, condition: FlowCondition)
    }

    /// What the orchestrator does with the step.
    public enum Disposition: Hashable, Sendable {
        /// Carry it out, then `CaseProgress.record`.
        case run
        /// It sends a message more than `FlowExecutor.maxLateDays` late: `CaseProgress.skip` it.
        case skipOverdue
    }

    public var ref: StepRef
    public var action: String
    public var kind: ActionKind
    public var settings: ActionSettings
    /// When it became due (local midnight of its day, a condition's time, or a deadline).
    public var dueAt: Date
    public var trigger: Trigger
    public var disposition: Disposition
    /// How the flow ends when this step is recorded without conditions.
    public var endsFlow: FlowEnd?
    /// `consumer-dunning@3/processes[0].backup`: unique within a case; the orchestrator's
    /// idempotency key is the case id plus this.
    public var key: String
}

/// What to do for a case now.
public struct FlowPlan: Hashable, Sendable {
    /// The due steps in order (by due time, then position in the flow). The list stops after a
    /// step that can change what follows (`wait`, or an action that ends the flow): carry the
    /// steps out in order, record each, and ask for a new plan until it is empty.
    public var due: [DueStep]
    /// Set when the flow has ended (before, or now: then `CaseProgress.finish(end, at: asOf)`).
    public var end: FlowEnd?
    /// An open dispute pauses the flow (after `pause_on_dispute` ran).
    public var paused: Bool
    /// The earliest later instant at which something may become due without a new event; `nil`
    /// when only an event (a bounce, a visit, a dispute resolution) can move the case.
    public var nextCheck: Date?
}

/// The pure flow executor: from a flow, the case's due date, the time now and its progress,
/// which steps are due. No I/O, no clock, no randomness: the same inputs give the same plan.
///
/// Rules (docs/flows.md has the full text):
/// - A process is due from local midnight (customer's time zone) of its day relative to the due
///   day, shifted by dispute pauses and held back by a `wait` that ran (no earlier than
///   `days` after it).
/// - A backup is due when its parent step ran and one of its `on` conditions holds: an
///   immediate condition at the time it was raised; `not_paid` at `after_hours` after the parent
///   ran; `visited_not_paid` at `after_hours` after the first visit since the parent ran;
///   `no_response` and `not_opened` at `after_hours` after the parent ran unless a reaction
///   (visit, click, reply / open, click) came first. Each backup runs at most once.
/// - A process's backup chain is open until a process with a later day runs; conditions raised
///   and deadlines falling after that are ignored.
/// - A payment ends the flow (`.paid`), an agreed payment plan too (`.paymentPlan`). Once
///   `pause_on_dispute` ran, an open dispute pauses everything; afterwards the processes not yet
///   run shift by the pause in whole days (rounded up), or the flow ends under
///   `on_resolution: stop`.
/// - A flow whose processes all ran, with no deadline pending and nothing due, completes
///   `completionGraceHours` after its last step.
public struct FlowExecutor: Sendable {
    public var catalogue: ActionCatalogue
    /// A step that sends a message and is due more than this many days ago is returned as
    /// `.skipOverdue` (a case that joined late gets no pile of old reminders); `nil`: never.
    public var maxLateDays: Int?
    /// Hours after the last step before a flow with nothing pending counts as completed.
    public var completionGraceHours: Double

    public init(catalogue: ActionCatalogue = .standard, maxLateDays: Int? = nil, completionGraceHours: Double = 7 * 24) {
        precondition(maxLateDays.map { $0 >= 0 } ?? true, "FlowExecutor: negative maxLateDays")
        precondition(completionGraceHours >= 0, "FlowExecutor: negative completionGraceHours")
        self.catalogue = catalogue
        self.maxLateDays = maxLateDays
        self.completionGraceHours = completionGraceHours
    }

    /// The plan for a case at `asOf`.
    /// - Parameters:
    ///   - flow: the flow the case runs in (the version `progress` names).
    ///   - schedule: the invoice's due date and the customer's time zone.
    ///   - asOf: now; events after it are ignored.
    ///   - progress: what ran so far.
    /// - Returns: the due steps, whether the flow ended or is paused, and when to look again.
    /// Complexity: O(s·r + e log e) for s steps, r records and e events.
    public func plan(flow: FlowDefinition, schedule: DueSchedule, asOf: Date, progress: CaseProgress) -> FlowPlan {
        precondition(progress.flow == flow.name && progress.flowVersion == flow.version,
                     "FlowExecutor: progress of \(progress.flow)@\(progress.flowVersion) with flow \(flow.name)@\(flow.version)")
        if let end = progress.end { return FlowPlan(due: [], end: end, paused: false, nextCheck: nil) }
        let events = progress.events.isEmpty ? [] : progress.events.enumerated().filter { $0.element.at <= asOf }
            .sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        if events.contains(where: { $0.kind == .paid }) { return FlowPlan(due: [], end: .paid, paused: false, nextCheck: nil) }
        if events.contains(where: { $0.kind == .paymentPlanAgreed }) {
            return FlowPlan(due: [], end: .paymentPlan, paused: false, nextCheck: nil)
        }
        let pause = pauseState(flow: flow, progress: progress, events: events, asOf: asOf)
        if pause.stopped { return FlowPlan(due: [], end: .stopped, paused: false, nextCheck: nil) }
        if pause.pausedNow { return FlowPlan(due: [], end: nil, paused: true, nextCheck: pause.resumesAt) }

        var due: [DueStep] = []
        var future: [Date] = []
        let done = progress.records.filter { $0.outcome == .done }
        let recorded = Set(progress.records.map(\.ref))
        // When each process's backup chain closed: the first run of a process with a later day.
        var firstRunAfterDay: [(day: Int, at: Date)] = done.filter { $0.ref.depth == 0 }
            .map { (flow.processes[$0.ref.process].day, $0.at) }
        firstRunAfterDay.sort { $0.day < $1.day }
        func closeTime(of process: Int) -> Date? {
            let day = flow.processes[process].day
            var earliest: Date?
            for run in firstRunAfterDay.reversed() {
                if run.day <= day { break }
                earliest = min(earliest ?? run.at, run.at)
            }
            return earliest
        }

        // Scheduled processes.
        var holdUntil: Date?
        for record in done where record.action == "wait" {
            guard let days = flow.stepAt(record.ref)?.settings.int("days") else { continue }
            let until = record.at.addingTimeInterval(Double(days) * 86_400)
            holdUntil = max(holdUntil ?? until, until)
        }
        for (i, process) in flow.processes.enumerated() where !recorded.contains(StepRef(process: i)) {
            let day = process.day + pause.shiftDays
            var dueAt = schedule.startOfDay(day)
            if let holdUntil, holdUntil > dueAt { dueAt = holdUntil }
            guard dueAt <= asOf else {
                future.append(dueAt)
                break  // days are non-decreasing: later processes are not due either
            }
            due.append(step(flow, StepRef(process: i), process.action, process.settings, dueAt: dueAt,
                            trigger: .scheduled(day: day), asOf: asOf))
        }

        // Backups.
        for record in done {
            guard let parent = flow.stepAt(record.ref), let backup = parent.backup else { continue }
            let ref = StepRef(process: record.ref.process, depth: record.ref.depth + 1)
            guard !recorded.contains(ref) else { continue }
            let close = closeTime(of: record.ref.process)
            var best: (at: Date, condition: FlowCondition)?
            func consider(_ at: Date, _ condition: FlowCondition) {
                if let b = best, (b.at, b.condition) <= (at, condition) { return }
                best = (at, condition)
            }
            for condition in backup.on.sorted() {
                if !condition.isTimed {
                    if let raised = record.raised.first(where: { $0.condition == condition }),
                       close.map({ raised.at < $0 }) ?? true, raised.at <= asOf {
                        consider(raised.at, condition)
                    }
                    continue
                }
                let wait = backup.waitHours(for: condition) * 3600
                let deadline: Date
                switch condition {
                case .visitedNotPaid:
                    guard let visit = events.first(where: { $0.kind == .visited && $0.at >= record.at }),
                          close.map({ visit.at < $0 }) ?? true else { continue }
                    deadline = visit.at.addingTimeInterval(wait)
                case .noResponse:
                    deadline = record.at.addingTimeInterval(wait)
                    let reacted = events.contains {
                        [.visited, .clicked, .replied].contains($0.kind) && $0.at >= record.at && $0.at < deadline
                    }
                    if reacted { continue }
                case .notOpened:
                    deadline = record.at.addingTimeInterval(wait)
                    let opened = events.contains {
                        ($0.kind == .opened || $0.kind == .clicked) && ($0.step == nil || $0.step == record.ref)
                            && $0.at >= record.at && $0.at < deadline
                    }
                    if opened { continue }
                default:  // .notPaid: the flow would have ended on payment
                    deadline = record.at.addingTimeInterval(wait)
                }
                if let close, deadline >= close { continue }
                if deadline <= asOf { consider(deadline, condition) } else { future.append(deadline) }
            }
            if let best {
                due.append(step(flow, ref, backup.action, backup.settings, dueAt: best.at,
                                trigger: .backup(of: record.ref, condition: best.condition), asOf: asOf))
            }
        }

        due.sort { ($0.dueAt, $0.ref) < ($1.dueAt, $1.ref) }
        if let cut = due.firstIndex(where: { $0.action == "wait" || $0.endsFlow != nil }) {
            due.removeSubrange((cut + 1)...)
        }
        var end: FlowEnd?
        if due.isEmpty, future.isEmpty,
           flow.processes.indices.allSatisfy({ recorded.contains(StepRef(process: $0)) }) {
            let last = progress.records.map(\.at).max() ?? asOf
            let completeAt = last.addingTimeInterval(completionGraceHours * 3600)
            if completeAt <= asOf { end = .completed } else { future.append(completeAt) }
        }
        return FlowPlan(due: due, end: end, paused: false, nextCheck: end == nil ? future.min() : nil)
    }

    func step(_ flow: FlowDefinition, _ ref: StepRef, _ action: String, _ settings: ActionSettings, dueAt: Date,
              trigger: DueStep.Trigger, asOf: Date) -> DueStep {
        guard let spec = catalogue[action] else {
            preconditionFailure("FlowExecutor: \(flow.name) uses \(action), which the catalogue lacks")
        }
        var disposition = DueStep.Disposition.run
        let sends: Bool
        if case .send = spec.kind { sends = true } else { sends = action == "optimise" }
        if sends, let maxLateDays, asOf.timeIntervalSince(dueAt) > Double(maxLateDays) * 86_400 { disposition = .skipOverdue }
        return DueStep(ref: ref, action: action, kind: spec.kind, settings: settings, dueAt: dueAt, trigger: trigger,
                       disposition: disposition, endsFlow: spec.endsFlow, key: "\(flow.name)@\(flow.version)/\(ref)")
    }

    struct PauseState {
        var pausedNow = false
        var resumesAt: Date?
        var shiftDays = 0
        var stopped = false
    }

    /// Dispute pauses after `pause_on_dispute` ran: whether the flow is paused now, the whole
    /// days finished pauses shift the schedule by, and whether a resolution stops the flow.
    func pauseState(flow: FlowDefinition, progress: CaseProgress, events: [CaseEvent], asOf: Date) -> PauseState {
        var state = PauseState()
        var armed: StepRecord?
        for record in progress.records where record.outcome == .done && record.action == "pause_on_dispute" {
            if armed == nil || record.at < armed!.at { armed = record }
        }
        guard let armed, let settings = flow.stepAt(armed.ref)?.settings else { return state }
        let maxPause = settings.int("max_pause_days").map { Double($0) * 86_400 }
        let stopOnResolution = settings.string("on_resolution") == "stop"
        var finished: [(start: Date, end: Date, resolved: Bool)] = []
        func close(_ opened: Date, _ resolved: Date) {
            let start = max(opened, armed.at)
            guard resolved > start else { return }
            if let maxPause, resolved.timeIntervalSince(start) > maxPause {
                finished.append((start, start.addingTimeInterval(maxPause), false))
            } else {
                finished.append((start, resolved, true))
            }
        }
        var openSince: Date?
        for event in events {
            switch event.kind {
            case .disputed: if openSince == nil { openSince = event.at }
            case .disputeResolved:
                if let opened = openSince { close(opened, event.at) }
                openSince = nil
            default: break
            }
        }
        if let opened = openSince {
            let start = max(opened, armed.at)
            if let maxPause, start.addingTimeInterval(maxPause) <= asOf {
                finished.append((start, start.addingTimeInterval(maxPause), false))
            } else if start <= asOf {
                state.pausedNow = true
                state.resumesAt = maxPause.map { start.addingTimeInterval($0) }
            }
        }
        state.shiftDays = finished.reduce(0) { $0 + Int(($1.end.timeIntervalSince($1.start) / 86_400).rounded(.up)) }
        state.stopped = stopOnResolution && finished.contains { $0.resolved }
        return state
    }
}
