import Foundation
import LinAlg
import Testing
@testable import Flows

let berlin = TimeZone(identifier: "Europe/Berlin")!

/// `2026-03-07T08:00:00Z` as a Date.
func utc(_ text: String) -> Date {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    guard let d = f.date(from: text) else { preconditionFailure("bad date \(text)") }
    return d
}

@Suite("Flow executor")
struct FlowExecutorTests {
    static let b2c = try! FlowParser.parse(text: """
        name: b2c
        version: 2
        processes:
          - day: -3
            action: send_email_pre_due_reminder
            backup:
              action: send_sms_pre_due_reminder
              on: [bounced]
              backup:
                action: send_letter_pre_due_reminder
                on: [no_contact_point, no_consent]
          - day: 0
            action: pause_on_dispute
          - day: 7
            action: send_email_first_dunning
            backup:
              action: send_sms_visit_follow_up
              on: [visited_not_paid]
              after_hours: 24
          - day: 14
            action: stop_if_paid
            backup: {action: escalate_to_agency, settings: {agency: acme}, on: [not_paid], after_hours: 0}
          - day: 21
            action: switch_flow
            settings: {flow: b2c-hard}
        """, file: "b2c.yaml")

    // Due 2026-03-10 in Berlin (CET, UTC+1): day d starts at 2026-03-(10+d) 00:00 local = the day before 23:00Z.
    let schedule = DueSchedule(year: 2026, month: 3, day: 10, timeZone: berlin)
    let executor = FlowExecutor()

    func plan(_ progress: CaseProgress, _ asOf: String) -> FlowPlan {
        executor.plan(flow: Self.b2c, schedule: schedule, asOf: utc(asOf), progress: progress)
    }

    @Test("days start at local midnight in the customer's time zone, across DST")
    func schedules() {
        #expect(schedule.startOfDay(0) == utc("2026-03-09T23:00:00Z"))
        #expect(schedule.startOfDay(-3) == utc("2026-03-06T23:00:00Z"))
        // Berlin moves to CEST (UTC+2) on 2026-03-29.
        #expect(schedule.startOfDay(19) == utc("2026-03-28T23:00:00Z"))
        #expect(schedule.startOfDay(20) == utc("2026-03-29T22:00:00Z"))
        let ny = DueSchedule(year: 2026, month: 3, day: 10, timeZone: TimeZone(identifier: "America/New_York")!)
        #expect(ny.startOfDay(0) == utc("2026-03-10T04:00:00Z"))  // EDT since 2026-03-08
        #expect(ny.startOfDay(-3) == utc("2026-03-07T05:00:00Z"))  // still EST
        #expect(schedule.dayOffset(of: utc("2026-03-09T22:59:59Z")) == -1)
        #expect(schedule.dayOffset(of: utc("2026-03-09T23:00:00Z")) == 0)
        #expect(schedule.dayOffset(of: utc("2026-03-29T22:30:00Z")) == 20)
        // A due instant late in the UTC day belongs to the next local day in Berlin.
        #expect(DueSchedule(dueDate: utc("2026-03-09T23:30:00Z"), timeZone: berlin).startOfDay(0) == utc("2026-03-09T23:00:00Z"))
    }

    @Test("day starts agree with Foundation's Calendar in zones with DST, also where midnight is skipped",
          arguments: ["Europe/Berlin", "America/New_York", "America/Santiago", "America/Havana", "Asia/Beirut",
                      "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata", "UTC"])
    func dayStarts(zone: String) throws {
        let tz = try #require(TimeZone(identifier: zone))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = tz
        let schedule = DueSchedule(year: 2026, month: 1, day: 15, timeZone: tz)
        for offset in stride(from: -40, through: 400, by: 1) {
            let start = schedule.startOfDay(offset)
            #expect(schedule.dayOffset(of: start) == offset, "\(zone) \(offset)")
            #expect(schedule.dayOffset(of: start.addingTimeInterval(-1)) == offset - 1, "\(zone) \(offset)")
            #expect(calendar.startOfDay(for: start.addingTimeInterval(12 * 3600)) == start, "\(zone) \(offset)")
        }
        #expect(DueSchedule.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(DueSchedule.daysFromCivil(year: 2000, month: 3, day: 1) == 11_017)
        #expect(DueSchedule.daysFromCivil(year: 1969, month: 12, day: 31) == -1)
    }

    @Test("nothing before the first day; then the first process, with its key")
    func firstProcess() throws {
        let progress = CaseProgress(flow: Self.b2c)
        let early = plan(progress, "2026-03-06T22:59:59Z")
        #expect(early.due.isEmpty && early.end == nil && !early.paused)
        #expect(early.nextCheck == utc("2026-03-06T23:00:00Z"))
        let now = plan(progress, "2026-03-07T08:00:00Z")
        let step = try #require(now.due.first)
        #expect(now.due.count == 1)
        #expect(step.ref == StepRef(process: 0))
        #expect(step.action == "send_email_pre_due_reminder")
        #expect(step.kind == .send(.email, .preDueReminder))
        #expect(step.trigger == .scheduled(day: -3))
        #expect(step.dueAt == utc("2026-03-06T23:00:00Z"))
        #expect(step.disposition == .run)
        #expect(step.key == "b2c@2/processes[0]")
        #expect(step.settings.string("tone") == "friendly")
        #expect(now.nextCheck == utc("2026-03-09T23:00:00Z"))
    }

    @Test("seed scenario 1: e-mail bounces -> SMS at once -> letter when there is no mobile; the chain ends")
    func bounceChain() throws {
        var progress = CaseProgress(flow: Self.b2c)
        let email = try #require(plan(progress, "2026-03-07T08:00:00Z").due.first)
        progress.record(email, at: utc("2026-03-07T08:00:00Z"))
        #expect(plan(progress, "2026-03-07T08:05:00Z").due.isEmpty)
        progress.raise(.bounced, for: email.ref, at: utc("2026-03-07T08:10:00Z"))
        let afterBounce = plan(progress, "2026-03-07T08:10:00Z")
        let sms = try #require(afterBounce.due.first)
        #expect(afterBounce.due.count == 1)
        #expect(sms.ref == StepRef(process: 0, depth: 1))
        #expect(sms.action == "send_sms_pre_due_reminder")
        #expect(sms.trigger == .backup(of: email.ref, condition: .bounced))
        #expect(sms.dueAt == utc("2026-03-07T08:10:00Z"))
        #expect(sms.key == "b2c@2/processes[0].backup")
        // No usable mobile number: the SMS step raises no_contact_point when carried out.
        progress.record(sms, at: utc("2026-03-07T08:10:00Z"), raised: [.noContactPoint])
        let afterSMS = plan(progress, "2026-03-07T08:10:00Z")
        let letter = try #require(afterSMS.due.first)
        #expect(afterSMS.due.count == 1)
        #expect(letter.action == "send_letter_pre_due_reminder")
        #expect(letter.trigger == .backup(of: sms.ref, condition: .noContactPoint))
        #expect(letter.settings.bool("attach_qr") == true)
        progress.record(letter, at: utc("2026-03-07T08:10:00Z"))
        // Even a returned letter has nowhere further to go.
        progress.raise(.bounced, for: letter.ref, at: utc("2026-03-08T10:00:00Z"))
        let end = plan(progress, "2026-03-08T12:00:00Z")
        #expect(end.due.isEmpty)
        #expect(end.nextCheck == utc("2026-03-09T23:00:00Z"))
        // A condition the backup does not listen for does nothing.
        var other = CaseProgress(flow: Self.b2c)
        other.record(email, at: utc("2026-03-07T08:00:00Z"), raised: [.providerError])
        #expect(plan(other, "2026-03-07T09:00:00Z").due.isEmpty)
    }

    @Test("with a mobile number the SMS goes out and the letter never does")
    func smsDelivered() throws {
        var progress = CaseProgress(flow: Self.b2c)
        let email = try #require(plan(progress, "2026-03-07T08:00:00Z").due.first)
        progress.record(email, at: utc("2026-03-07T08:00:00Z"), raised: [.bounced])
        let sms = try #require(plan(progress, "2026-03-07T08:00:00Z").due.first)
        progress.record(sms, at: utc("2026-03-07T08:00:00Z"))
        #expect(plan(progress, "2026-03-08T08:00:00Z").due.isEmpty)
    }

    @Test("a bounce reported after the next process ran is too late for the chain")
    func chainCloses() throws {
        var progress = CaseProgress(flow: Self.b2c)
        let email = try #require(plan(progress, "2026-03-07T08:00:00Z").due.first)
        progress.record(email, at: utc("2026-03-07T08:00:00Z"))
        let pause = try #require(plan(progress, "2026-03-10T08:00:00Z").due.first)
        #expect(pause.action == "pause_on_dispute")
        progress.record(pause, at: utc("2026-03-10T08:00:00Z"))
        progress.raise(.bounced, for: email.ref, at: utc("2026-03-10T09:00:00Z"))
        #expect(plan(progress, "2026-03-10T10:00:00Z").due.isEmpty)
    }

    @Test("seed scenario 2: a payment-page visit without payment triggers the follow-up after_hours later")
    func visitedNotPaid() throws {
        var progress = caseAt(process: 2)
        let dunning = try #require(plan(progress, "2026-03-17T09:00:00Z").due.first)
        #expect(dunning.action == "send_email_first_dunning")
        progress.record(dunning, at: utc("2026-03-17T09:00:00Z"))
        #expect(plan(progress, "2026-03-18T09:00:00Z").nextCheck == utc("2026-03-23T23:00:00Z"))  // day 14
        progress.add(CaseEvent(.visited, at: utc("2026-03-18T12:00:00Z")))
        let waiting = plan(progress, "2026-03-19T11:59:59Z")
        #expect(waiting.due.isEmpty)
        #expect(waiting.nextCheck == utc("2026-03-19T12:00:00Z"))
        let followUp = try #require(plan(progress, "2026-03-19T12:00:00Z").due.first)
        #expect(followUp.action == "send_sms_visit_follow_up")
        #expect(followUp.trigger == .backup(of: dunning.ref, condition: .visitedNotPaid))
        #expect(followUp.dueAt == utc("2026-03-19T12:00:00Z"))
        // Paid before the deadline: the flow ends instead.
        var paid = progress
        paid.add(CaseEvent(.paid, at: utc("2026-03-19T08:00:00Z")))
        let end = plan(paid, "2026-03-19T12:00:00Z")
        #expect(end.due.isEmpty && end.end == .paid && end.nextCheck == nil)
        // A visit before the message ran does not count.
        var early = caseAt(process: 2)
        early.add(CaseEvent(.visited, at: utc("2026-03-16T12:00:00Z")))
        early.record(dunning, at: utc("2026-03-17T09:00:00Z"))
        #expect(plan(early, "2026-03-20T09:00:00Z").due.isEmpty)
    }

    @Test("stop_if_paid ends the flow when paid; not_paid runs its backup, which ends the flow too")
    func stopIfPaid() throws {
        var paid = caseAt(process: 3)
        let stop = try #require(plan(paid, "2026-03-24T08:00:00Z").due.first)
        #expect(stop.action == "stop_if_paid" && stop.endsFlow == .paid)
        paid.record(stop, at: utc("2026-03-24T08:00:00Z"))
        #expect(paid.end == .paid && paid.endedAt == utc("2026-03-24T08:00:00Z"))
        #expect(plan(paid, "2026-04-30T08:00:00Z") == FlowPlan(due: [], end: .paid, paused: false, nextCheck: nil))

        var unpaid = caseAt(process: 3)
        unpaid.record(stop, at: utc("2026-03-24T08:00:00Z"), raised: [.notPaid])
        #expect(unpaid.end == nil)
        let escalate = try #require(plan(unpaid, "2026-03-24T08:00:00Z").due.first)
        #expect(escalate.action == "escalate_to_agency")
        #expect(escalate.settings.string("agency") == "acme")
        #expect(escalate.trigger == .backup(of: stop.ref, condition: .notPaid))
        #expect(escalate.endsFlow == .escalated)
        // The agency declines: the flow goes on to day 21.
        var declined = unpaid
        declined.record(escalate, at: utc("2026-03-24T08:00:00Z"), raised: [.rejected])
        #expect(plan(declined, "2026-03-25T08:00:00Z").nextCheck == utc("2026-03-30T22:00:00Z"))
        unpaid.record(escalate, at: utc("2026-03-24T08:00:00Z"))
        #expect(unpaid.end == .escalated)
    }

    @Test("switch_flow ends this flow and names the next; the next skips its past days")
    func switchFlow() throws {
        var progress = caseAt(process: 4)
        let step = try #require(plan(progress, "2026-03-31T06:00:00Z").due.first)
        #expect(step.action == "switch_flow" && step.endsFlow == .switched)
        progress.record(step, at: utc("2026-03-31T06:00:00Z"))
        #expect(progress.end == .switched)
        #expect(progress.switchedTo == "b2c-hard")

        let hard = try FlowParser.parse(text: """
            name: b2c-hard
            version: 1
            processes:
              - {day: 14, action: send_letter_second_dunning}
              - {day: 21, action: send_letter_final_dunning}
              - {day: 28, action: escalate_to_agency, settings: {agency: acme}}
            """, file: "hard.yaml")
        let next = CaseProgress.start(flow: hard, schedule: schedule, at: utc("2026-03-31T06:00:00Z"), skipPast: true)
        #expect(next.records.map(\.ref) == [StepRef(process: 0)])
        #expect(next.records.first?.outcome == .skipped)
        let due = executor.plan(flow: hard, schedule: schedule, asOf: utc("2026-03-31T06:00:00Z"), progress: next)
        #expect(due.due.map(\.action) == ["send_letter_final_dunning"])
        let keep = CaseProgress.start(flow: hard, schedule: schedule, at: utc("2026-03-31T06:00:00Z"), skipPast: false)
        #expect(executor.plan(flow: hard, schedule: schedule, asOf: utc("2026-03-31T06:00:00Z"), progress: keep).due.count == 2)
    }

    @Test("pause_on_dispute: an open dispute pauses; the rest shifts by the pause in whole days")
    func disputePause() throws {
        var progress = caseAt(process: 2)  // pause_on_dispute ran on day 0 at 08:00 local
        progress.add(CaseEvent(.disputed, at: utc("2026-03-12T09:00:00Z")))
        let paused = plan(progress, "2026-03-17T09:00:00Z")
        #expect(paused.paused && paused.due.isEmpty && paused.nextCheck == nil)
        progress.add(CaseEvent(.disputeResolved, at: utc("2026-03-15T11:00:00Z")))  // 3 d 2 h -> 4 days
        let resumed = plan(progress, "2026-03-17T09:00:00Z")
        #expect(!resumed.paused && resumed.due.isEmpty)
        #expect(resumed.nextCheck == utc("2026-03-20T23:00:00Z"))  // day 7 + 4 = day 11
        let due = try #require(plan(progress, "2026-03-21T08:00:00Z").due.first)
        #expect(due.action == "send_email_first_dunning" && due.trigger == .scheduled(day: 11))

        // A dispute settled before pause_on_dispute ran does not pause or shift.
        var before = CaseProgress(flow: Self.b2c)
        before.add(CaseEvent(.disputed, at: utc("2026-03-08T09:00:00Z")))
        before.add(CaseEvent(.disputeResolved, at: utc("2026-03-09T09:00:00Z")))
        for p in 0...1 { before.record(step(p), at: utc("2026-03-10T08:00:00Z")) }
        #expect(plan(before, "2026-03-11T08:00:00Z").nextCheck == utc("2026-03-16T23:00:00Z"))
    }

    @Test("pause_on_dispute settings: on_resolution stop and max_pause_days")
    func disputeSettings() throws {
        let flow = try FlowParser.parse(text: """
            name: d
            version: 1
            processes:
              - {day: 0, action: pause_on_dispute, settings: {on_resolution: stop, max_pause_days: 10}}
              - {day: 5, action: send_email_reminder}
            """, file: "d.yaml")
        var progress = CaseProgress(flow: flow)
        let arm = try #require(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-10T08:00:00Z"), progress: progress).due.first)
        progress.record(arm, at: utc("2026-03-10T08:00:00Z"))
        progress.add(CaseEvent(.disputed, at: utc("2026-03-11T08:00:00Z")))
        let paused = executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-15T08:00:00Z"), progress: progress)
        #expect(paused.paused && paused.nextCheck == utc("2026-03-21T08:00:00Z"))
        // Still open after 10 days: the flow resumes, shifted by 10 days.
        let resumed = executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-21T08:00:00Z"), progress: progress)
        #expect(!resumed.paused && resumed.due.isEmpty && resumed.nextCheck == utc("2026-03-24T23:00:00Z"))
        // Resolved within the 10 days: on_resolution stop ends the flow.
        var resolved = progress
        resolved.add(CaseEvent(.disputeResolved, at: utc("2026-03-13T08:00:00Z")))
        #expect(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-13T09:00:00Z"), progress: resolved).end == .stopped)
    }

    @Test("catching up: every due process in order; maxLateDays skips stale messages, never control steps")
    func catchUp() {
        let progress = CaseProgress(flow: Self.b2c)
        let all = plan(progress, "2026-03-18T08:00:00Z")
        #expect(all.due.map(\.ref.process) == [0, 1, 2])
        #expect(all.due.allSatisfy { $0.disposition == .run })
        let strict = FlowExecutor(maxLateDays: 2).plan(flow: Self.b2c, schedule: schedule, asOf: utc("2026-03-18T08:00:00Z"), progress: progress)
        #expect(strict.due.map(\.disposition) == [.skipOverdue, .run, .run])
        var skipped = progress
        skipped.skip(strict.due[0], at: utc("2026-03-18T08:00:00Z"))
        #expect(skipped.records.first?.outcome == .skipped)
        // A skipped step has no backup chain.
        #expect(FlowExecutor(maxLateDays: 2).plan(flow: Self.b2c, schedule: schedule, asOf: utc("2026-03-18T08:00:00Z"), progress: skipped)
            .due.map(\.ref.process) == [1, 2])
    }

    @Test("wait holds later processes; the plan stops after a wait or a step that ends the flow")
    func waitAndCut() throws {
        let flow = try FlowParser.parse(text: """
            name: w
            version: 1
            processes:
              - {day: 0, action: wait, settings: {days: 3}}
              - {day: 1, action: send_email_reminder}
              - {day: 5, action: stop_if_paid}
              - {day: 5, action: send_letter_first_dunning}
            """, file: "w.yaml")
        var progress = CaseProgress(flow: flow)
        let first = executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-13T08:00:00Z"), progress: progress)
        #expect(first.due.map(\.action) == ["wait"])  // cut: what follows depends on it
        progress.record(first.due[0], at: utc("2026-03-13T08:00:00Z"))
        let held = executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-14T08:00:00Z"), progress: progress)
        #expect(held.due.isEmpty && held.nextCheck == utc("2026-03-16T08:00:00Z"))
        let email = try #require(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-16T08:00:00Z"), progress: progress).due.first)
        #expect(email.dueAt == utc("2026-03-16T08:00:00Z"))
        progress.record(email, at: utc("2026-03-16T08:00:00Z"))
        let day5 = executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-16T23:30:00Z"), progress: progress)
        #expect(day5.due.map(\.action) == ["stop_if_paid"])
        progress.record(day5.due[0], at: utc("2026-03-16T23:30:00Z"), raised: [.notPaid])
        #expect(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-16T23:30:00Z"), progress: progress)
            .due.map(\.action) == ["send_letter_first_dunning"])
    }

    @Test("not_opened and no_response wait for a reaction")
    func timedReactions() throws {
        let flow = try FlowParser.parse(text: """
            name: r
            version: 1
            processes:
              - day: 0
                action: send_email_reminder
                backup:
                  action: send_sms_reminder
                  on: [not_opened]
                  backup: {action: send_letter_reminder, on: [no_response], after_hours: 96}
            """, file: "r.yaml")
        var progress = CaseProgress(flow: flow)
        let email = try #require(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-10T08:00:00Z"), progress: progress).due.first)
        progress.record(email, at: utc("2026-03-10T08:00:00Z"))
        var opened = progress
        opened.add(CaseEvent(.opened, at: utc("2026-03-11T08:00:00Z"), step: email.ref))
        #expect(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-13T08:00:00Z"), progress: opened).due.isEmpty)
        // Not opened within the default 48 h.
        let sms = try #require(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-12T08:00:00Z"), progress: progress).due.first)
        #expect(sms.trigger == .backup(of: email.ref, condition: .notOpened))
        #expect(sms.dueAt == utc("2026-03-12T08:00:00Z"))
        progress.record(sms, at: utc("2026-03-12T09:00:00Z"))
        var clicked = progress
        clicked.add(CaseEvent(.clicked, at: utc("2026-03-14T08:00:00Z")))
        #expect(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-17T08:00:00Z"), progress: clicked).due.isEmpty)
        let letter = try #require(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-16T09:00:00Z"), progress: progress).due.first)
        #expect(letter.trigger == .backup(of: sms.ref, condition: .noResponse))
        progress.record(letter, at: utc("2026-03-16T09:00:00Z"))
        // Everything ran: the flow completes a week after its last step.
        let settling = executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-20T09:00:00Z"), progress: progress)
        #expect(settling.end == nil && settling.nextCheck == utc("2026-03-23T09:00:00Z"))
        #expect(executor.plan(flow: flow, schedule: schedule, asOf: utc("2026-03-23T09:00:00Z"), progress: progress).end == .completed)
    }

    @Test("a payment plan ends the flow; events after asOf are not seen")
    func paymentPlanAndFutureEvents() {
        var progress = CaseProgress(flow: Self.b2c)
        progress.add(CaseEvent(.paymentPlanAgreed, at: utc("2026-03-08T10:00:00Z")))
        #expect(plan(progress, "2026-03-08T09:00:00Z").due.map(\.ref.process) == [0])
        #expect(plan(progress, "2026-03-08T10:00:00Z").end == .paymentPlan)
    }

    @Test("progress round-trips through JSON and plans the same, over random histories")
    func randomHistories() throws {
        for seed in 0..<40 {
            var rng = Xoshiro256(seed: UInt64(seed))
            var progress = CaseProgress(flow: Self.b2c)
            var now = utc("2026-03-05T07:00:00Z")
            var ran = 0
            for _ in 0..<(24 * 30) {
                now = now.addingTimeInterval(3600)  // every hour
                if rng.uniform() < 0.008 { progress.add(CaseEvent(.visited, at: now)) }
                if rng.uniform() < 0.001 { progress.add(CaseEvent(.paid, at: now)) }
                var plan = executor.plan(flow: Self.b2c, schedule: schedule, asOf: now, progress: progress)
                let decoded = try CaseProgress(json: progress.jsonData())
                #expect(decoded == progress)
                #expect(executor.plan(flow: Self.b2c, schedule: schedule, asOf: now, progress: decoded) == plan)
                while let step = plan.due.first {
                    #expect(step.dueAt <= now)
                    if case let .backup(of: parent, condition: c) = step.trigger {
                        #expect(Self.b2c.step(parent)?.backup?.on.contains(c) == true)
                        #expect(progress.record(of: parent) != nil)
                    }
                    var raised: [FlowCondition] = []
                    switch step.action {
                    case "send_sms_pre_due_reminder": if rng.uniform() < 0.5 { raised = [.noContactPoint] }
                    case "stop_if_paid": if rng.uniform() < 0.7 { raised = [.notPaid] }
                    case "escalate_to_agency": if rng.uniform() < 0.5 { raised = [.rejected] }
                    default: if case .send = step.kind, rng.uniform() < 0.3 { raised = [.bounced] }
                    }
                    progress.record(step, at: now, raised: raised)
                    ran += 1
                    plan = executor.plan(flow: Self.b2c, schedule: schedule, asOf: now, progress: progress)
                }
                if let end = plan.end {
                    progress.finish(end, at: now)
                    break
                }
            }
            #expect(ran >= 1)
            #expect(Set(progress.records.map(\.ref)).count == progress.records.count)
            #expect(progress.end != nil, "seed \(seed)")
        }
    }

    // MARK: Helpers

    func step(_ process: Int) -> DueStep {
        let p = Self.b2c.processes[process]
        return executor.step(Self.b2c, StepRef(process: process), p.action, p.settings, dueAt: schedule.startOfDay(p.day),
                             trigger: .scheduled(day: p.day), asOf: schedule.startOfDay(p.day))
    }

    /// A case whose processes before `process` ran at 09:00 local time on their days, raising
    /// nothing but `not_paid` at `stop_if_paid`, whose agency backup was then rejected.
    func caseAt(process: Int) -> CaseProgress {
        var progress = CaseProgress(flow: Self.b2c)
        for p in 0..<process {
            let at = schedule.startOfDay(Self.b2c.processes[p].day).addingTimeInterval(9 * 3600)
            if Self.b2c.processes[p].action == "stop_if_paid" {
                progress.record(step(p), at: at, raised: [.notPaid])
                let escalate = executor.plan(flow: Self.b2c, schedule: schedule, asOf: at, progress: progress).due[0]
                progress.record(escalate, at: at, raised: [.rejected])
            } else {
                progress.record(step(p), at: at)
            }
        }
        return progress
    }
}
