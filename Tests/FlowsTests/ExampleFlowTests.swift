import Foundation
import Testing
@testable import Flows

/// The example flows in the repository's flows/ directory.
func exampleFlows() throws -> [FlowDefinition] {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("flows")
    return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted().map {
        try FlowParser.parse(text: String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8), file: "flows/\($0)")
    }
}

@Suite("Example flows")
struct ExampleFlowTests {
    @Test("the examples are valid as a set and are assigned as their segments say")
    func valid() throws {
        let flows = try exampleFlows()
        #expect(flows.map(\.name) == ["b2b-invoice-reminders", "b2c-consumer-dunning", "b2c-model-delivery", "contact-data-enrichment"])
        #expect(FlowValidator.validate(set: flows).isEmpty)
        func pick(_ kind: CustomerKind, _ country: String, tags: Set<String> = []) -> String? {
            FlowAssignment.assign(customer: .init(kind: kind, country: country, tags: tags),
                                  invoice: .init(amountMinor: 25_000, currency: "EUR"), flows: flows)?.name
        }
        #expect(pick(.consumer, "DE") == "b2c-consumer-dunning")
        #expect(pick(.business, "DE") == "b2b-invoice-reminders")
        #expect(pick(.consumer, "DE", tags: ["needs-contact-data"]) == "contact-data-enrichment")
        #expect(pick(.consumer, "NL", tags: ["model-delivery"]) == "b2c-model-delivery")
        #expect(pick(.consumer, "FR") == nil)
    }

    @Test("an unpaid case without any event runs every process in order until the flow ends",
          arguments: ["b2b-invoice-reminders", "b2c-consumer-dunning", "contact-data-enrichment"])
    func quietCase(name: String) throws {
        let flow = try #require(try exampleFlows().first { $0.name == name })
        let schedule = DueSchedule(year: 2026, month: 5, day: 4, timeZone: TimeZone(identifier: "Europe/Vienna")!)
        let executor = FlowExecutor()
        var progress = CaseProgress(flow: flow)
        var ran: [String] = []
        var now = schedule.startOfDay(-20).addingTimeInterval(9 * 3600)
        while progress.end == nil, now < schedule.startOfDay(120) {
            var plan = executor.plan(flow: flow, schedule: schedule, asOf: now, progress: progress)
            while let step = plan.due.first {
                // The agency declines nothing; stop_if_paid finds the case unpaid.
                progress.record(step, at: now, raised: step.action == "stop_if_paid" ? [.notPaid] : [])
                ran.append(step.action)
                plan = executor.plan(flow: flow, schedule: schedule, asOf: now, progress: progress)
            }
            if let end = plan.end { progress.finish(end, at: now) }
            now = now.addingTimeInterval(3600)
        }
        let processes = flow.processes.map(\.action)
        #expect(ran.filter { processes.contains($0) }.count >= processes.count - 1)
        switch name {
        case "contact-data-enrichment":
            #expect(progress.end == .switched && progress.switchedTo == "b2c-consumer-dunning")
            // Nobody opens the e-mail: after 72 h its SMS backup (not_opened) goes out.
            #expect(ran == ["validate_contact_data", "send_letter_contact_data_request", "send_email_contact_data_request",
                            "send_sms_contact_data_request", "send_letter_reminder", "switch_flow"])
        case "b2c-consumer-dunning":
            // Unpaid after day 52: the agency notice (not_paid backup), then the agency.
            #expect(progress.end == .escalated)
            #expect(ran.suffix(3) == ["stop_if_paid", "send_letter_agency_notice", "escalate_to_agency"])
        default:
            #expect(progress.end == .escalated)
            #expect(ran.contains("schedule_agent_call"))  // the manual task's not_paid follow-up after 120 h
            #expect(ran.last == "escalate_to_agency")
        }
    }
}
