import Foundation
import Testing
import Vocabulary
@testable import Flows

/// A value of `type` as a flow file would write it.
func sampleText(_ type: SettingType) -> String {
    switch type {
    case .string: "x"
    case let .int(lo, _): String(lo ?? 1)
    case let .double(lo, _): String(lo ?? 1)
    case .bool: "true"
    case let .enumeration(words): words[0]
    case .duration: "24h"
    case .money: "5.00"
    case let .list(element): "[\(sampleText(element))]"
    case .flow: "other-flow"
    case .timeOfDay: "\"09:00\""
    case .locale: "de"
    }
}

@Suite("Action catalogue")
struct ActionCatalogueTests {
    let catalogue = ActionCatalogue.standard

    @Test("at least 50 actions, names unique, a send action for every channel and purpose")
    func coverage() throws {
        #expect(catalogue.actions.count == 81)
        #expect(Set(catalogue.actions.map(\.name)).count == catalogue.actions.count)
        for channel in Channel.allCases {
            for purpose in SendPurpose.allCases {
                let spec = catalogue.sendAction(channel: channel, purpose: purpose)
                #expect(spec.kind == .send(channel, purpose))
                #expect(spec.channel == channel && spec.purpose == purpose)
                #expect(spec.name == "send_\(channel.rawValue)_\(purpose.rawValue)")
            }
        }
        #expect(catalogue["send_email_reminder"] != nil)
        #expect(catalogue["send_sms_first_dunning"] != nil)
        #expect(catalogue["send_letter_final_dunning"] != nil)
        let control = catalogue.actions.filter { $0.kind == .control }.map(\.name)
        for name in ["wait", "stop_if_paid", "escalate_to_agency", "add_late_fee", "add_interest", "offer_payment_plan",
                     "create_manual_task", "pause_on_dispute", "switch_flow", "validate_contact_data",
                     "request_enrichment", "optimise"] {
            #expect(control.contains(name), "\(name)")
        }
        #expect(control.count == 21)
    }

    @Test("every action is documented and its defaults fit its own schema")
    func documented() {
        for spec in catalogue.actions {
            #expect(spec.summary.hasSuffix("."), "\(spec.name)")
            #expect(spec.summary.count > 15, "\(spec.name)")
            for setting in spec.settings {
                #expect(!setting.doc.isEmpty, "\(spec.name).\(setting.name)")
                if let d = setting.defaultValue { #expect(setting.type.admits(d), "\(spec.name).\(setting.name) default \(d)") }
                #expect(!(setting.required && setting.defaultValue != nil))
            }
        }
    }

    @Test("send actions: tone, template, locale for all; attach_qr for letters only; their conditions")
    func sendSchemas() throws {
        for spec in catalogue.actions {
            guard let channel = spec.channel, let purpose = spec.purpose else { continue }
            #expect(spec.setting("tone")?.defaultValue == .string(purpose.defaultTone.rawValue))
            #expect(spec.setting("template")?.defaultValue == .string(purpose.rawValue))
            #expect(spec.setting("locale")?.required == false)
            #expect((spec.setting("attach_qr") != nil) == (channel == .letter), "\(spec.name)")
            #expect(spec.conditions.contains(.bounced))
            #expect(spec.conditions.contains(.noConsent) == (channel != .letter))
            #expect(spec.conditions.contains(.notOpened) == (channel == .email))
            #expect(spec.conditions.contains(.notAnswered) == (channel == .robocall))
            #expect(spec.conditions.contains(.visitedNotPaid) == (purpose != .paymentConfirmation))
            #expect((spec.setting("deadline_days") != nil) == purpose.isDunningNotice)
            #expect(spec.endsFlow == nil)
        }
        let letter = try #require(catalogue["send_letter_final_dunning"])
        #expect(letter.settings.map(\.name) == ["tone", "template", "locale", "send_at", "attach_qr", "attach_invoice", "postage",
                                                "deadline_days", "include_fees"])
        #expect(letter.setting("tone")?.defaultValue == .string("firm"))
        #expect(letter.setting("attach_invoice")?.defaultValue == .bool(true))
    }

    @Test("control actions that end a flow", arguments: [
        ("stop_if_paid", FlowEnd.paid), ("stop_flow", .stopped), ("escalate_to_agency", .escalated),
        ("start_legal_proceedings", .legal), ("write_off", .writtenOff), ("switch_flow", .switched),
    ])
    func terminal(name: String, end: FlowEnd) {
        #expect(catalogue[name]?.endsFlow == end)
    }

    @Test("each action reads in a flow with its required settings", arguments: ActionCatalogue.standard.actions.map(\.name))
    func eachAction(name: String) throws {
        let spec = try #require(catalogue[name])
        let required = spec.settings.filter(\.required)
        let settings = required.map { "\($0.name): \(sampleText($0.type))" }.joined(separator: ", ")
        let text = "name: t\nversion: 1\nprocesses:\n  - day: 0\n    action: \(name)\n    settings: {\(settings)}\n"
        let flow = try FlowParser.parse(text: text, file: "t.yaml")
        let values = flow.processes[0].settings
        for setting in spec.settings {
            if setting.required {
                #expect(values[setting.name].map(setting.type.admits) == true, "\(name).\(setting.name)")
            } else {
                #expect(values[setting.name] == setting.defaultValue, "\(name).\(setting.name)")
            }
        }
        // Leaving a required setting out names it.
        if let first = required.first {
            let missing = FlowValidator.validate(text: "name: t\nversion: 1\nprocesses:\n  - day: 0\n    action: \(name)\n", file: "t.yaml")
            #expect(missing.first?.field == "processes[0].settings.\(first.name)")
            #expect(missing.first?.line == 4)
        }
        // Every condition the action raises is accepted by a backup's on.
        if !spec.conditions.isEmpty {
            let on = spec.conditions.sorted().map(\.rawValue).joined(separator: ", ")
            let withBackup = text + "    backup:\n      action: create_manual_task\n      settings: {title: check}\n      on: [\(on)]\n"
            #expect(FlowValidator.validate(text: withBackup, file: "t.yaml").isEmpty, "\(name)")
        }
    }

    @Test("settings summary and JSON")
    func summaries() throws {
        let wait = try #require(catalogue["wait"])
        #expect(wait.settingsSummary == "days=int 1...365 (required)")
        let stop = try #require(catalogue["stop_if_paid"])
        #expect(stop.settingsSummary == "tolerance=money (5.00 or \"5.00 EUR\") (default 0)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(catalogue["add_late_fee"]!), as: UTF8.self)
        #expect(json == #"{"conditions":["rejected","not_paid"],"ends_flow":false,"kind":"control","name":"add_late_fee","settings":[{"doc":"the fee","name":"amount","required":true,"type":"money (5.00 or \"5.00 EUR\")"},{"doc":"cap on all fees of the case; beyond it rejected is raised","name":"max_total","required":false,"type":"money (5.00 or \"5.00 EUR\")"},{"default":"dunning fee","doc":"the text on the statement","name":"reason","required":false,"type":"text"}],"summary":"Add a dunning fee to the case."}"#)
        let sms = String(decoding: try encoder.encode(catalogue["send_sms_reminder"]!), as: UTF8.self)
        #expect(sms.contains(#""channel":"sms","conditions":["bounced","undeliverable","no_contact_point","invalid_contact_point","no_consent","provider_error","visited_not_paid","not_paid","no_response"]"#))
        #expect(sms.contains(#""purpose":"reminder""#))
    }
}
