import Foundation
import Testing
import Vocabulary
@testable import Flows

/// The errors of `text` read as flow file `t.yaml`, as `line field` strings.
func errorSites(_ text: String) -> [String] {
    FlowValidator.validate(text: text, file: "t.yaml").map { "\($0.line) \($0.field)" }
}

/// The one error of `text`; fails the test when there is not exactly one.
func singleError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> FlowError {
    let errors = FlowValidator.validate(text: text, file: "t.yaml")
    #expect(errors.count == 1, "errors: \(errors)", sourceLocation: sourceLocation)
    return try #require(errors.first, sourceLocation: sourceLocation)
}

@Suite("Flow files: parsing")
struct FlowParserTests {
    static let consumer = """
        name: consumer-dunning
        version: 3
        description: Consumer dunning with e-mail first.
        segment:
          customer_kind: consumer
          country: [DE, AT]
          min_amount: 0
          max_amount: 5000
          priority: 10
        processes:
          - day: -3                      # relative to the due date
            action: send_email_pre_due_reminder
            settings: {tone: friendly, template: pre_due}
            backup:
              action: send_sms_reminder
              on: [bounced, no_contact_point]
              backup:
                action: send_letter_reminder
                on: [no_contact_point, no_consent]
          - day: 7
            action: send_email_first_dunning
            settings:
              tone: neutral
              deadline_days: 10
            backup:
              action: send_sms_visit_follow_up
              on: [visited_not_paid]
              after_hours: 24
          - day: 14
            action: add_late_fee
            settings: {amount: "2.50 EUR"}
          - day: 21
            action: optimise
            settings: {purpose: final_dunning, channels: [email, sms, letter], horizon_days: 7, default_channel: letter}
        """

    @Test("a full flow reads with its values, defaults and lines")
    func readsFlow() throws {
        let flow = try FlowParser.parse(text: Self.consumer, file: "flows/consumer.yaml")
        #expect(flow.name == "consumer-dunning")
        #expect(flow.version == 3)
        #expect(flow.description == "Consumer dunning with e-mail first.")
        #expect(flow.file == "flows/consumer.yaml")
        #expect(flow.nameLine == 1)
        let segment = try #require(flow.segment)
        #expect(segment.customerKind == .consumer)
        #expect(segment.countries == ["DE", "AT"])
        #expect(segment.minAmount == 0)
        #expect(segment.maxAmount == 5000)
        #expect(segment.priority == 10)
        #expect(flow.processes.map(\.day) == [-3, 7, 14, 21])
        #expect(flow.processes.map(\.line) == [11, 20, 29, 32])

        let first = flow.processes[0]
        #expect(first.action == "send_email_pre_due_reminder")
        #expect(first.settings.string("tone") == "friendly")
        #expect(first.settings.string("template") == "pre_due")
        #expect(first.settings.bool("payment_link") == true)  // default filled in
        #expect(first.settings.bool("attach_invoice") == false)
        #expect(first.settings["locale"] == nil)  // optional without default
        #expect(first.settingLines == ["tone": 13, "template": 13])
        let sms = try #require(first.backup)
        #expect(sms.action == "send_sms_reminder")
        #expect(sms.on == [.bounced, .noContactPoint])
        #expect(sms.line == 15)
        #expect(sms.onLine == 16)
        #expect(sms.afterHours == nil)
        #expect(sms.settings.string("tone") == "friendly")
        let letter = try #require(sms.backup)
        #expect(letter.action == "send_letter_reminder")
        #expect(letter.on == [.noContactPoint, .noConsent])
        #expect(letter.settings.bool("attach_qr") == true)
        #expect(letter.backup == nil)
        #expect(first.backup(atDepth: 2) == letter)
        #expect(first.chain.map(\.action) == ["send_email_pre_due_reminder", "send_sms_reminder", "send_letter_reminder"])

        let second = flow.processes[1]
        #expect(second.settings.int("deadline_days") == 10)
        #expect(second.settings.string("tone") == "neutral")
        #expect(second.settingLines == ["tone": 23, "deadline_days": 24])
        #expect(second.backup?.afterHours == 24)
        #expect(second.backup?.on == [.visitedNotPaid])

        #expect(flow.processes[2].settings.money("amount") == Money(amount: Decimal(string: "2.5")!, currency: "EUR"))
        let optimise = flow.processes[3].settings
        #expect(optimise.strings("channels") == ["email", "sms", "letter"])
        #expect(optimise.strings("tones") == ["friendly", "neutral", "firm"])
        #expect(optimise.string("objective") == "paid_within_horizon")
        #expect(optimise.int("horizon_days") == 7)
        #expect(optimise.bool("allow_no_contact") == false)
        #expect(optimise.string("default_channel") == "letter")

        #expect(flow.step(StepRef(process: 0, depth: 2))?.action == "send_letter_reminder")
        #expect(flow.step(StepRef(process: 0, depth: 3)) == nil)
        #expect(flow.step(StepRef(process: 4)) == nil)
    }

    @Test("JSON is read as YAML, with the same lines")
    func readsJSON() throws {
        let json = """
            {
              "name": "json-flow",
              "version": 1,
              "processes": [
                {"day": 0, "action": "send_email_reminder",
                 "settings": {"tone": "firm", "send_at": "09:30"},
                 "backup": {"action": "send_letter_reminder", "on": ["bounced"]}}
              ]
            }
            """
        let flow = try FlowParser.parse(text: json, file: "f.json")
        #expect(flow.name == "json-flow")
        #expect(flow.processes[0].line == 5)
        #expect(flow.processes[0].settings.string("tone") == "firm")
        #expect(flow.processes[0].settings.timeOfDay("send_at") == 9 * 60 + 30)
        #expect(flow.processes[0].backup?.line == 7)
        #expect(flow.processes[0].backup?.on == [.bounced])
    }

    @Test("a backup without on runs on every failure its parent can raise")
    func defaultOn() throws {
        let flow = try FlowParser.parse(text: """
            name: x
            version: 1
            processes:
              - day: 0
                action: send_sms_reminder
                backup: {action: send_letter_reminder}
            """, file: "t.yaml")
        let backup = try #require(flow.processes[0].backup)
        #expect(backup.on == [.bounced, .undeliverable, .noContactPoint, .invalidContactPoint, .noConsent, .providerError])
        #expect(backup.onLine == 0)
    }

    @Test("the error names file, line, field and what would be right")
    func errorDescription() throws {
        let text = Self.consumer.replacingOccurrences(of: "tone: neutral", with: "tone: rude")
        let error = try singleError(text)
        #expect(error.line == 23)
        #expect(error.field == "processes[1].settings.tone")
        #expect(error.message == "'rude' is not one of friendly, neutral, firm")
        #expect(error.description == "t.yaml:23: processes[1].settings.tone: 'rude' is not one of friendly, neutral, firm")
        #expect(throws: error) { try FlowParser.parse(text: text, file: "t.yaml") }
    }

    // MARK: Structure

    @Test("YAML syntax errors carry the parser's line")
    func syntaxError() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: [unclosed\n")
        #expect(error.field == "yaml")
        #expect(error.line == 6)
        #expect(error.message.hasPrefix("not valid YAML"))
    }

    @Test("an empty file and a file that is not a mapping")
    func emptyFile() throws {
        let empty = try singleError("")
        #expect(empty.line == 1 && empty.field == "flow")
        let list = try singleError("- a\n- b\n")
        #expect(list.line == 1 && list.field == "flow")
        #expect(list.message == "a flow file is a mapping with name, version and processes; found a list")
    }

    @Test("missing top-level fields are each reported")
    func missingTop() {
        #expect(errorSites("description: nothing else\n") == ["1 name", "1 processes", "1 version"])
    }

    @Test("an unknown top-level field suggests the near one")
    func unknownTop() throws {
        let error = try singleError("name: x\nversoin: 1\nversion: 1\nprocesses:\n  - {day: 0, action: wait, settings: {days: 3}}\n")
        #expect(error.line == 2 && error.field == "versoin")
        #expect(error.message.hasPrefix("unknown field; did you mean 'version'?"))
    }

    @Test("a key given twice is reported at its second line")
    func duplicateKey() throws {
        let error = try singleError("name: x\nversion: 1\nname: y\nprocesses:\n  - {day: 0, action: wait, settings: {days: 3}}\n")
        #expect(error.line == 3 && error.field == "name")
        #expect(error.message == "given twice (first at line 1); keep one")
    }

    @Test("name and version are checked")
    func nameVersion() {
        #expect(errorSites("name: 'a b'\nversion: 0\nprocesses:\n  - {day: 0, action: wait, settings: {days: 1}}\n")
                == ["1 name", "2 version"])
        #expect(errorSites("name: x\nversion: \"2\"\nprocesses:\n  - {day: 0, action: wait, settings: {days: 1}}\n") == ["2 version"])
        let quoted = FlowValidator.validate(text: "name: x\nversion: \"2\"\nprocesses:\n  - {day: 0, action: wait, settings: {days: 1}}\n", file: "t.yaml")
        #expect(quoted.first?.message == "'2' is not a whole number; write it without quotes")
    }

    @Test("processes must be a non-empty list of mappings with day and action")
    func processShape() {
        #expect(errorSites("name: x\nversion: 1\nprocesses: {day: 0}\n") == ["3 processes"])
        #expect(errorSites("name: x\nversion: 1\nprocesses: []\n") == ["3 processes"])
        #expect(errorSites("name: x\nversion: 1\nprocesses:\n  - action: wait\n    settings: {days: 2}\n") == ["4 processes[0].day"])
        #expect(errorSites("name: x\nversion: 1\nprocesses:\n  - day: 1\n") == ["4 processes[0].action"])
        #expect(errorSites("name: x\nversion: 1\nprocesses:\n  - day: 1\n    action: wait\n    settings: {days: 2}\n    dya: 3\n")
                == ["7 processes[0].dya"])
        #expect(errorSites("name: x\nversion: 1\nprocesses:\n  - day: soon\n    action: wait\n    settings: {days: 2}\n")
                == ["4 processes[0].day"])
        #expect(errorSites("name: x\nversion: 1\nprocesses:\n  - day: 4000\n    action: wait\n    settings: {days: 2}\n")
                == ["4 processes[0].day"])
    }

    // MARK: Actions and settings

    @Test("an unknown action suggests the near one")
    func unknownAction() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: send_emial_reminder\n")
        #expect(error.line == 5 && error.field == "processes[0].action")
        #expect(error.message == "unknown action 'send_emial_reminder'; did you mean send_email_reminder? (pom-orchestrate actions lists them all)")
    }

    @Test("an unknown setting names the action's settings")
    func unknownSetting() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: send_email_reminder\n    settings:\n      tone: firm\n      attach_qr: true\n")
        #expect(error.line == 8 && error.field == "processes[0].settings.attach_qr")
        #expect(error.message == "unknown setting for send_email_reminder; its settings are tone, template, locale, send_at, payment_link, attach_invoice")
        let typo = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: send_email_reminder\n    settings: {tnoe: firm}\n")
        #expect(typo.message.hasPrefix("unknown setting for send_email_reminder; did you mean 'tone'?"))
        let none = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: stop_flow\n    settings: {colour: red}\n")
        #expect(none.field == "processes[0].settings.colour")
    }

    @Test("a missing required setting is named with its type")
    func missingSetting() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 30\n    action: escalate_to_agency\n")
        #expect(error.line == 4 && error.field == "processes[0].settings.agency")
        #expect(error.message == "missing; escalate_to_agency requires it (text: the agency's id in the adapter configuration)")
        let inBackup = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 30\n    action: send_letter_final_dunning\n    backup:\n      action: add_late_fee\n      on: [bounced]\n      settings: {reason: x}\n")
        #expect(inBackup.line == 9 && inBackup.field == "processes[0].backup.settings.amount")
    }

    @Test("ill-typed settings: each type says what it wants", arguments: [
        ("send_email_reminder", "tone: 3", "'3' is not one of friendly, neutral, firm"),
        ("send_email_reminder", "tone: frim", "'frim' is not one of friendly, neutral, firm; did you mean firm?"),
        ("send_email_reminder", "payment_link: yes", "'yes' is not true or false"),
        ("send_email_reminder", "payment_link: \"true\"", "'true' is quoted text; write true or false without quotes"),
        ("send_email_reminder", "locale: German", "'German' is not a locale; write a language code such as de or en, optionally with a region: de-AT"),
        ("send_email_reminder", "send_at: 9:30", "'9:30' is not a time of day; write HH:MM on the 24-hour clock, e.g. \"09:30\""),
        ("send_email_reminder", "send_at: \"24:00\"", "'24:00' is not a time of day; write HH:MM on the 24-hour clock, e.g. \"09:30\""),
        ("send_email_reminder", "template: [a, b]", "expected a single value, found a list"),
        ("send_email_reminder", "template: null", "has no value"),
        ("send_email_first_dunning", "deadline_days: 0", "0 is below the smallest allowed value 1"),
        ("send_email_first_dunning", "deadline_days: 61", "61 is above the largest allowed value 60"),
        ("send_email_first_dunning", "deadline_days: 1.5", "'1.5' is not a whole number"),
        ("add_interest", "annual_rate: high", "'high' is not a number"),
        ("schedule_agent_call", "within: soon", "'soon' is not a duration; write a number with a unit: 90m, 24h, 3d, 2w"),
        ("schedule_agent_call", "within: 24", "'24' is not a duration; write a number with a unit: 90m, 24h, 3d, 2w"),
        ("add_interest", "annual_rate: 120", "120 is above the largest allowed value 100.0"),
        ("add_late_fee", "amount: -5", "'-5' is not an amount; write 5.00 or \"5.00 EUR\" (no sign, '.' for decimals)"),
        ("add_late_fee", "amount: \"5,00 EUR\"", "'5,00 EUR' is not an amount; write 5.00 or \"5.00 EUR\" (no sign, '.' for decimals)"),
        ("optimise", "purpose: reminder, channels: email", "expected a list (list of one of email|sms|letter|push|robocall|whatsapp), found a single value; write [a, b]"),
        ("optimise", "purpose: reminder, channels: []", "is an empty list; name at least one"),
        ("switch_flow", "flow: \"b c\"", "'b c' is not a flow name; use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit)"),
    ])
    func illTyped(action: String, setting: String, message: String) throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: \(action)\n    settings: {\(setting)}\n")
        #expect(error.line == 6)
        let key = String(setting.matches(of: #/[a-z_]+(?=:)/#).last!.output)
        #expect(error.field == "processes[0].settings.\(key)")
        #expect(error.message == message)
    }

    @Test("shapes: keys, segment, process, settings and backup that are not what they should be")
    func shapes() throws {
        let base = "name: x\nversion: 1\nprocesses:\n"
        #expect(errorSites(base + "  - {day: 0, action: wait, settings: {days: 1}}\n? [a, b]\n: 1\n") == ["5 flow"])
        #expect(errorSites(base + "  - {day: 0, action: wait, settings: {days: 1}}\nsegment: [a]\n") == ["5 segment"])
        #expect(errorSites(base + "  - 3\n") == ["4 processes[0]"])
        #expect(errorSites(base + "  - day: 0\n    action: wait\n    settings: [3]\n") == ["6 processes[0].settings"])
        #expect(errorSites(base + "  - day: 0\n    action: send_email_reminder\n    backup: send_sms_reminder\n") == ["6 processes[0].backup"])
        #expect(errorSites(base + "  - day: 0\n    action: send_email_reminder\n    backup:\n      on: [bounced]\n") == ["7 processes[0].backup.action"])
        #expect(errorSites(base + "  - day: 0\n    action: send_email_reminder\n    backup:\n      action: send_sms_reminder\n      when: [bounced]\n")
                == ["8 processes[0].backup.when"])
        #expect(errorSites(base + "  - day: 0\n    action: send_email_reminder\n    backup:\n      action: send_sms_reminder\n      on: []\n")
                == ["8 processes[0].backup.on"])
        #expect(errorSites(base + "  - day: 0\n    action: send_email_reminder\n    backup:\n      action: send_sms_reminder\n      on: [bounced, bounced]\n")
                == ["8 processes[0].backup.on[1]"])
        let flow = try FlowParser.parse(text: base + "  - day: 0\n    action: schedule_agent_call\n    settings: {within: 1d12h}\n", file: "t.yaml")
        #expect(flow.processes[0].settings.duration("within") == 129_600)
        #expect(flow.processes[0].settings["within"]?.description == "1d12h")
    }

    @Test("list elements are checked one by one, with their index")
    func listElements() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: optimise\n    settings:\n      purpose: reminder\n      channels:\n        - email\n        - fax\n")
        #expect(error.line == 10 && error.field == "processes[0].settings.channels[1]")
        #expect(error.message == "'fax' is not one of email, sms, letter, push, robocall, whatsapp")
        let twice = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: optimise\n    settings: {purpose: reminder, tones: [firm, firm]}\n")
        #expect(twice.field == "processes[0].settings.tones[1]" && twice.message == "'firm' is listed twice")
    }

    @Test("settings values of every type read correctly")
    func typedValues() throws {
        let flow = try FlowParser.parse(text: """
            name: x
            version: 1
            processes:
              - day: 0
                action: add_interest
                settings: {annual_rate: 9, from: today}
              - day: 0
                action: offer_payment_plan
                settings: {installments: 6, min_installment: 25, down_payment_percent: 12.5}
              - day: 1
                action: request_enrichment
                settings: {provider: acme, fields: [mobile], max_cost: "0.40 EUR"}
            """, file: "t.yaml")
        #expect(flow.processes[0].settings.double("annual_rate") == 9)
        #expect(flow.processes[0].settings.string("from") == "today")
        #expect(flow.processes[1].settings.int("installments") == 6)
        #expect(flow.processes[1].settings.money("min_installment") == Money(amount: 25))
        #expect(flow.processes[1].settings.double("down_payment_percent") == 12.5)
        #expect(flow.processes[1].settings.int("interval_days") == 30)
        #expect(flow.processes[2].settings.strings("fields") == ["mobile"])
        #expect(flow.processes[2].settings.money("max_cost")?.minorUnits() == 40)
    }

    // MARK: Backups

    @Test("an unknown condition suggests the near one and lists all")
    func unknownCondition() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: send_email_reminder\n    backup:\n      action: send_sms_reminder\n      on: [bounced, bouncd]\n")
        #expect(error.line == 8 && error.field == "processes[0].backup.on[1]")
        #expect(error.message.hasPrefix("unknown condition 'bouncd'; did you mean bounced?"))
    }

    @Test("on names a condition the parent never raises")
    func foreignCondition() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: stop_if_paid\n    backup:\n      action: send_sms_reminder\n      on: [bounced]\n")
        #expect(error.line == 8 && error.field == "processes[0].backup.on")
        #expect(error.message == "stop_if_paid never raises 'bounced'; it can raise not_paid")
        let letter = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: send_letter_reminder\n    backup:\n      action: send_sms_reminder\n      on: [not_opened, no_consent]\n")
        #expect(letter.message.hasPrefix("send_letter_reminder never raises 'no_consent', 'not_opened'; it can raise bounced,"))
        // Deeper in the chain the parent is the previous backup.
        let deep = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: send_email_reminder\n    backup:\n      action: create_manual_task\n      settings: {title: call}\n      on: [bounced]\n      backup:\n        action: send_letter_reminder\n        on: [bounced]\n")
        #expect(deep.line == 12 && deep.field == "processes[0].backup.backup.on")
        #expect(deep.message == "create_manual_task never raises 'bounced'; it can raise not_paid")
    }

    @Test("a backup after an action that raises nothing never runs")
    func backupAfterSilentAction() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: stop_flow\n    backup:\n      action: send_sms_reminder\n      on: [not_paid]\n")
        #expect(error.line == 7 && error.field == "processes[0].backup.action")
        #expect(error.message == "stop_flow raises no conditions, so a backup after it never runs; remove the backup")
        let noFailure = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: wait\n    settings: {days: 2}\n    backup:\n      action: send_sms_reminder\n")
        #expect(noFailure.line == 8 && noFailure.field == "processes[0].backup.on")
        #expect(noFailure.message == "wait raises no failure conditions, so this backup never runs; name the conditions in on (it can raise not_paid)")
    }

    @Test("after_hours needs a timed condition")
    func afterHoursNeedsTimed() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: send_email_reminder\n    backup:\n      action: send_sms_reminder\n      on: [bounced]\n      after_hours: 12\n")
        #expect(error.line == 9 && error.field == "processes[0].backup.after_hours")
        #expect(error.message == "applies only to the timed conditions (visited_not_paid, not_paid, no_response, not_opened) and on names none; remove it or add one of them to on")
        let range = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: send_email_reminder\n    backup:\n      action: send_sms_reminder\n      on: [not_paid]\n      after_hours: -1\n")
        #expect(range.line == 9 && range.message == "-1 is below the smallest allowed value 0.0")
    }

    @Test("a backup chain that repeats a step is a cycle")
    func backupCycle() throws {
        let error = try singleError("""
            name: x
            version: 1
            processes:
              - day: 0
                action: send_email_reminder
                backup:
                  action: send_sms_reminder
                  on: [bounced]
                  backup:
                    action: send_letter_reminder
                    on: [no_contact_point]
                    backup:
                      action: send_sms_reminder
                      settings: {tone: friendly}
                      on: [bounced]
            """)
        #expect(error.line == 13 && error.field == "processes[0].backup.backup.backup.action")
        #expect(error.message == "backup cycle: send_sms_reminder with the same settings already runs at processes[0].backup (line 7); a chain must not repeat a step")
        // The same action with other settings is not a cycle.
        let otherTone = """
            name: x
            version: 1
            processes:
              - day: 0
                action: send_email_reminder
                backup:
                  action: send_email_reminder
                  settings: {template: reminder_retry}
                  on: [provider_error]
            """
        #expect(errorSites(otherTone).isEmpty)
        // Back to the process itself.
        let toProcess = try singleError("name: x\nversion: 1\nprocesses:\n  - day: 0\n    action: send_email_reminder\n    backup:\n      action: send_email_reminder\n      on: [provider_error]\n")
        #expect(toProcess.line == 7 && toProcess.message.contains("already runs at processes[0] (line 4)"))
    }

    @Test("days out of order are reported at the later process")
    func dayOrder() throws {
        let error = try singleError("name: x\nversion: 1\nprocesses:\n  - {day: 5, action: tag_case, settings: {tag: a}}\n  - {day: 5, action: tag_case, settings: {tag: b}}\n  - {day: -3, action: tag_case, settings: {tag: c}}\n")
        #expect(error.line == 6 && error.field == "processes[2].day")
        #expect(error.message == "day -3 comes after day 5 of processes[1]; processes must be in non-decreasing day order")
    }

    @Test("optimise defaults must be among the allowed channels and tones")
    func optimiseDefaults() {
        let errors = FlowValidator.validate(text: """
            name: x
            version: 1
            processes:
              - day: 0
                action: optimise
                settings:
                  purpose: reminder
                  channels: [sms, letter]
                  tones: [firm]
            """, file: "t.yaml")
        #expect(errors.map { "\($0.line) \($0.field)" } == ["8 processes[0].settings.default_channel", "9 processes[0].settings.default_tone"])
        #expect(errors.first?.message == "'email' is not among channels [sms, letter]; the default must be a channel the model may choose")
    }

    // MARK: Segment

    @Test("segment rules are checked")
    func segmentErrors() {
        let base = "name: x\nversion: 1\nprocesses:\n  - {day: 0, action: wait, settings: {days: 1}}\nsegment:\n"
        #expect(errorSites(base + "  customer_kind: company\n") == ["6 segment.customer_kind"])
        #expect(errorSites(base + "  country: [DE, Germany]\n") == ["6 segment.country[1]"])
        #expect(errorSites(base + "  country: []\n") == ["6 segment.country"])
        #expect(errorSites(base + "  currency: [EUR, eur]\n") == ["6 segment.currency[1]"])
        #expect(errorSites(base + "  min_amount: lots\n") == ["6 segment.min_amount"])
        #expect(errorSites(base + "  min_amount: 500\n  max_amount: 100\n") == ["7 segment.max_amount"])
        #expect(errorSites(base + "  priorty: 3\n") == ["6 segment.priorty"])
        #expect(errorSites(base + "  tags: vip\n") == ["6 segment.tags"])
    }

    @Test("country NO (Norway) is a code, not YAML's false")
    func norway() throws {
        let flow = try FlowParser.parse(text: "name: x\nversion: 1\nsegment: {country: [NO, SE], customer_kind: any}\nprocesses:\n  - {day: 0, action: wait, settings: {days: 1}}\n", file: "t.yaml")
        #expect(flow.segment?.countries == ["NO", "SE"])
        #expect(flow.segment?.customerKind == nil)
    }

    @Test("many mistakes in one file are all reported in line order")
    func manyErrors() {
        let text = """
            name: x
            version: 1
            processes:
              - day: 3
                action: send_email_reminder
                settings: {tone: loud}
              - day: 1
                action: add_late_fee
              - day: 2
                action: nothing
            """
        #expect(errorSites(text) == ["6 processes[0].settings.tone", "7 processes[1].settings.amount", "10 processes[2].action"])
    }
}

@Suite("Money and durations")
struct SettingValueTests {
    @Test func money() {
        #expect(Money.parse("12.50") == Money(amount: Decimal(string: "12.5")!))
        #expect(Money.parse("12.50 EUR") == Money(amount: Decimal(string: "12.5")!, currency: "EUR"))
        #expect(Money.parse("CHF 7") == Money(amount: 7, currency: "CHF"))
        for bad in ["", "-1", "1e3", "12,50", "12.", ".5", "12 eur", "12 EUR x", "1.2.3"] { #expect(Money.parse(bad) == nil, "\(bad)") }
        #expect(Money(amount: Decimal(string: "0.005")!).minorUnits() == 1)
        #expect(Money(amount: Decimal(string: "19.99")!).minorUnits() == 1999)
        #expect(Money(amount: 1500).minorUnits(exponent: 0) == 1500)
        #expect(Money(amount: Decimal(string: "2.5")!, currency: "EUR").description == "2.5 EUR")
    }

    @Test func durations() {
        #expect(FlowDuration.seconds("90m") == 5400)
        #expect(FlowDuration.seconds("24h") == 86_400)
        #expect(FlowDuration.seconds("1d12h") == 129_600)
        #expect(FlowDuration.seconds("2w") == 1_209_600)
        for bad in ["", "24", "h", "1h1h", "1x", "-1h", "1.5h"] { #expect(FlowDuration.seconds(bad) == nil, "\(bad)") }
        #expect(FlowDuration.format(seconds: 129_600) == "1d12h")
        #expect(FlowDuration.format(seconds: 0) == "0m")
    }

    @Test func editDistances() {
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(editDistance("", "abc") == 3)
        #expect(suggestion(for: "gmial", among: ["gmail", "hotmail"]) == "gmail")
        #expect(suggestion(for: "zzzzzz", among: ["gmail"]) == nil)
    }
}
