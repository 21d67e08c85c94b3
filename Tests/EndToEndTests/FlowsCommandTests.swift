import Foundation
import Testing

/// The repository root (two levels above this file).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite("pom-orchestrate flows, actions, contact")
struct FlowsCommandTests {
    func exampleFlows() throws -> [String] {
        let dir = repositoryRoot.appendingPathComponent("flows")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }
            .sorted().map { dir.appendingPathComponent($0).path }
    }

    @Test("every flow in flows/ validates, as a set")
    func examples() throws {
        let files = try exampleFlows()
        #expect(files.count >= 3)
        let out = try Binaries.run("pom-orchestrate", ["flows", "validate"] + files)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stderr.isEmpty)
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == files.count)
        #expect(lines.contains { $0.hasSuffix("flows/b2c-consumer-dunning.yaml: b2c-consumer-dunning v1, 11 processes, 9 backup steps, days -3 to 60") })
        #expect(lines.contains { $0.hasSuffix("flows/b2b-invoice-reminders.yaml: b2b-invoice-reminders v1, 12 processes, 5 backup steps, days -5 to 56") })
        #expect(lines.contains { $0.hasSuffix("flows/contact-data-enrichment.yaml: contact-data-enrichment v1, 5 processes, 4 backup steps, days -14 to 7") })
    }

    @Test("mistakes go to stderr as file:line: field: message, exit status 1")
    func errors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-flows-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.yaml")
        try """
            name: bad
            version: 1
            processes:
              - day: 7
                action: send_email_reminder
                settings: {tone: rude}
              - day: 3
                action: switch_flow
                settings: {flow: elsewhere}
            """.write(to: bad, atomically: true, encoding: .utf8)
        let good = dir.appendingPathComponent("good.yaml")
        try "name: good\nversion: 2\nprocesses:\n  - {day: 0, action: send_sms_reminder}\n".write(to: good, atomically: true, encoding: .utf8)
        let out = try Binaries.run("pom-orchestrate", ["flows", "validate", good.path, bad.path])
        #expect(out.status == 1)
        #expect(out.stdout == "\(good.path): good v2, 1 process, 0 backup steps, days 0 to 0\n")
        #expect(out.stderr == "\(bad.path):6: processes[0].settings.tone: 'rude' is not one of friendly, neutral, firm\n")
        // With the tone fixed, the day order and the unknown switch_flow target are reported.
        try String(contentsOf: bad, encoding: .utf8).replacingOccurrences(of: "rude", with: "firm").write(to: bad, atomically: true, encoding: .utf8)
        let again = try Binaries.run("pom-orchestrate", ["flows", "validate", bad.path, good.path])
        #expect(again.status == 1)
        #expect(again.stderr.split(separator: "\n").map(String.init) == [
            "\(bad.path):7: processes[1].day: day 3 comes after day 7 of processes[0]; processes must be in non-decreasing day order",
        ])
        let missing = try Binaries.run("pom-orchestrate", ["flows", "validate", dir.appendingPathComponent("none.yaml").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("\(dir.appendingPathComponent("none.yaml").path):0: file: cannot read the file"))
    }

    @Test("actions: one line per action; --json lists them with settings")
    func actions() throws {
        let out = try Binaries.run("pom-orchestrate", ["actions"])
        #expect(out.status == 0)
        let lines = out.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 81)
        #expect(lines.contains("wait: Hold the flow: later processes run no earlier than this many days after this one. Settings: days=int 1...365 (required). Raises: not_paid."))
        #expect(lines.contains { $0.hasPrefix("send_letter_final_dunning: Send the final dunning notice before agency or court by letter. Settings: tone=one of friendly|neutral|firm (default firm), template=text (default final_dunning), locale=locale (de, en, de-AT) (optional), send_at=time HH:MM (optional), attach_qr=true|false (default true)") })
        #expect(lines.contains("stop_flow: End the flow here. Settings: reason=text (optional)."))
        let json = try Binaries.run("pom-orchestrate", ["actions", "--json"])
        #expect(json.status == 0)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(parsed.count == 81)
        let optimise = try #require(parsed.first { $0["name"] as? String == "optimise" })
        #expect(optimise["kind"] as? String == "control")
        let settings = try #require(optimise["settings"] as? [[String: Any]])
        #expect(settings.map { $0["name"] as! String } == ["purpose", "channels", "tones", "objective", "horizon_days",
                                                           "allow_no_contact", "default_channel", "default_tone", "template"])
        #expect(settings[4]["default"] as? Int == 7)
    }

    @Test("contact check: e-mail and phone, text and JSON, exit status")
    func contact() throws {
        let ok = try Binaries.run("pom-orchestrate", ["contact", "check", "--email", "Anna@Web.DE"])
        #expect(ok.status == 0 && ok.stdout == "valid Anna@web.de\n")
        let typo = try Binaries.run("pom-orchestrate", ["contact", "check", "--email", "anna@gmial.com"])
        #expect(typo.status == 0 && typo.stdout == "risky: gmial.com looks like a typo; did you mean anna@gmail.com?\n")
        let bad = try Binaries.run("pom-orchestrate", ["contact", "check", "--email", "anna@example.com"])
        #expect(bad.status == 1 && bad.stdout == "invalid: example.com is an example domain (RFC 2606), so no mail can reach it\n")
        let phone = try Binaries.run("pom-orchestrate", ["contact", "check", "--phone", "0151 23456789", "--country", "DE"])
        #expect(phone.status == 0 && phone.stdout == "valid mobile number +4915123456789 (DE)\n")
        let short = try Binaries.run("pom-orchestrate", ["contact", "check", "--phone", "+49 1512345678"])
        #expect(short.status == 1)
        #expect(short.stdout == "invalid: the number has 10 digits after +49; German mobile numbers (+49 151…) have 11\n")
        let json = try Binaries.run("pom-orchestrate", ["contact", "check", "--phone", "+44 (0)20 7946 0958", "--json"])
        #expect(json.status == 0)
        #expect(json.stdout == #"{"country":"GB","e164":"+442079460958","input":"+44 (0)20 7946 0958","kind":"phone","message":"valid landline number +442079460958","notes":"dropped the (0)","type":"landline","verdict":"valid"}"# + "\n")
        let both = try Binaries.run("pom-orchestrate", ["contact", "check", "--email", "a@b.de", "--phone", "1"])
        #expect(both.status != 0 && both.stderr.contains("give exactly one of --email and --phone"))
    }
}
