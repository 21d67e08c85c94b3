import Foundation
import Testing
import Vocabulary
import FeatureStore
import QRCodes
@testable import Channels

@Suite("Dry-run adapter")
struct DryRunTests {
    @Test("records in memory and replays a repeated key")
    func inMemory() async throws {
        let a = DryRunAdapter(clock: { fixedNow })
        let r1 = try await a.send(message(1))
        let r2 = try await a.send(message(2))
        let again = try await a.send(message(1))
        #expect(r1.providerId == "dry-run:" + Files.sha256Hex("I1/D1").prefix(16))
        #expect(r1.acceptedAt == fixedNow && r1.status == .accepted && !r1.replayed)
        #expect(r1.providerId != r2.providerId)
        #expect(again.replayed && again.providerId == r1.providerId)
        let records = await a.records
        #expect(records.map(\.message.messageId) == ["M1", "M2"])
    }

    @Test("a JSON Lines file dedupes across adapter instances and survives a half-written line")
    func file() async throws {
        let dir = try temporaryDirectory()
        defer { cleanUp(dir) }
        let file = dir.appendingPathComponent("dry-run.jsonl")
        let first = try DryRunAdapter(file: file, clock: { fixedNow })
        let r1 = try await first.send(message(1, channel: .email))
        _ = try await first.send(message(2, channel: .letter))
        // A crash in the middle of a third append.
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"message\":{\"mess".utf8))
        try handle.close()

        let second = try DryRunAdapter(file: file, clock: { fixedNow.addingTimeInterval(3600) })
        let replay = try await second.send(message(1, channel: .email))
        #expect(replay.replayed && replay.providerId == r1.providerId && replay.acceptedAt == fixedNow)
        _ = try await second.send(message(3))
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let decoded = try lines.map { try ChannelJSON.decoder().decode(DryRunRecord.self, from: Data($0.utf8)) }
        #expect(decoded.map(\.message) == [message(1, channel: .email), message(2, channel: .letter), message(3)])
        #expect(decoded[2].receipt.acceptedAt == fixedNow.addingTimeInterval(3600))
    }

    @Test("a recipient that cannot carry the channel is a permanent no_contact_point failure")
    func wrongRecipient() async throws {
        var m = message(1, channel: .sms)
        m.recipient = .email("a@example.org")
        await #expect(throws: ChannelError.permanent("message M1: a sms message cannot go to a email address", .noContactPoint)) {
            try await DryRunAdapter().send(m)
        }
        m.recipient = .phone("  ")
        let e = await #expect(throws: ChannelError.self) { try await DryRunAdapter().send(m) }
        #expect(e?.condition == .noContactPoint)
    }
}

@Suite("Spool adapter")
struct SpoolTests {
    @Test("the same key is spooled once across two adapter instances, before and after sealing")
    func dedupeAcrossInstances() async throws {
        let dir = try temporaryDirectory()
        defer { cleanUp(dir) }
        let a = try SpoolAdapter(directory: dir, clock: { fixedNow })
        let r1 = try await a.send(message(1))
        let b = try SpoolAdapter(directory: dir, clock: { fixedNow.addingTimeInterval(60) })
        let r1b = try await b.send(message(1))
        #expect(!r1.replayed && r1b.replayed && r1b.providerId == r1.providerId && r1b.acceptedAt == fixedNow)
        #expect(try await b.pendingCount(.sms) == 1)
        _ = try await b.send(message(2))
        try await b.flush()
        // After sealing, a third instance still knows both keys.
        let c = try SpoolAdapter(directory: dir, clock: { fixedNow })
        #expect(try await c.send(message(2)).replayed)
        #expect(try await c.send(message(1)).replayed)
        try await c.flush()
        let batches = try await c.batches(.sms)
        #expect(batches.count == 1)
        #expect(batches.first?.messageCount == 2)
        let lines = try String(contentsOf: batches[0].content, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(first["message_id"] as? String == "M1")
        #expect(first["to"] as? String == "+4915112345001")
        #expect(first["encoding"] as? String == "gsm7")
        #expect(first["segments"] as? Int == 1)
        #expect(first["text"] as? String == "Bitte zahlen Sie 12,34 €.")
    }

    @Test("letters become a print batch with a manifest CSV")
    func letters() async throws {
        let dir = try temporaryDirectory()
        defer { cleanUp(dir) }
        let spool = try SpoolAdapter(directory: dir, options: .init(batchSize: [.letter: 3]), clock: { fixedNow })
        for n in 1...4 { _ = try await spool.send(message(n, channel: .letter, key: n == 2 ? "key, with \"comma\"" : nil)) }
        // The third letter sealed batch 1; the fourth waits for flush.
        #expect(try await spool.batches(.letter).map(\.messageCount) == [3])
        #expect(try await spool.pendingCount(.letter) == 1)
        let batch = try #require(try await spool.seal(.letter))
        #expect(batch.sequence == 2 && batch.messageCount == 1)
        #expect(try await spool.seal(.letter) == nil)
        let print1 = try String(contentsOf: dir.appendingPathComponent("letter/batch-000001.txt"), encoding: .utf8)
        let letters = print1.components(separatedBy: "\u{0C}\n")
        #expect(letters.count == 3)
        #expect(letters[0] == "Erika Mustermann\nHauptstraße 1\n10115 Berlin\nDE\n\nErinnerung 1\n\nBitte zahlen Sie 12,34 €.\n\n[ref M1]\n")
        let manifest = try String(contentsOf: dir.appendingPathComponent("letter/batch-000001.manifest.csv"), encoding: .utf8)
        let rows = Manifest.parse(manifest)
        #expect(rows[0] == Manifest.columns)
        #expect(rows.count == 4)
        #expect(rows[2][1] == "M2" && rows[2][2] == "key, with \"comma\"")
        #expect(rows[2][3] == Files.sha256Hex("key, with \"comma\""))
        #expect(rows[1][11] == "Erika Mustermann; Hauptstraße 1; 10115 Berlin; DE")
        #expect(rows[1][12] == "2026-03-02T08:16:00Z" && rows[1][13] == "1234" && rows[1][15] == "2026-02-20")
    }

    @Test("e-mails become .eml files with text and HTML parts")
    func emails() async throws {
        let dir = try temporaryDirectory()
        defer { cleanUp(dir) }
        let spool = try SpoolAdapter(directory: dir, options: .init(emailFrom: "Stadtwerke <billing@stadtwerke.example>"), clock: { fixedNow })
        var m = message(7, channel: .email)
        m.subject = "Zahlungserinnerung für Rechnung I7"
        _ = try await spool.send(m)
        let batch = try #require(try await spool.seal(.email))
        let files = try FileManager.default.contentsOfDirectory(atPath: batch.content.path)
        #expect(files == ["0001-" + Files.sha256Hex("I7/D1").prefix(16) + ".eml"])
        let eml = try String(contentsOf: batch.content.appendingPathComponent(files[0]), encoding: .utf8)
        #expect(eml.contains("From: Stadtwerke <billing@stadtwerke.example>\r\nTo: erika7@example.org\r\n"))
        #expect(eml.contains("Subject: =?UTF-8?B?" + Data("Zahlungserinnerung für Rechnung I7".utf8).base64EncodedString() + "?=\r\n"))
        #expect(eml.contains("Date: Mon, 02 Mar 2026 08:22:00 +0000\r\n"))
        #expect(eml.contains("X-Pom-Idempotency-Key: I7/D1\r\n"))
        #expect(eml.contains("Content-Type: multipart/alternative;"))
        #expect(eml.contains(Data("Bitte zahlen Sie 12,34 €.".utf8).base64EncodedString()))
        #expect(eml.contains(Data("<p>Bitte zahlen Sie 12,34 €.</p>".utf8).base64EncodedString()))
    }

    @Test("a crash after the manifest is repaired by the next seal; a batch file without manifest is rewritten")
    func crashRecovery() async throws {
        let dir = try temporaryDirectory()
        defer { cleanUp(dir) }
        let spool = try SpoolAdapter(directory: dir, clock: { fixedNow })
        for n in 1...2 { _ = try await spool.send(message(n)) }
        let pending = dir.appendingPathComponent("pending/sms")
        let saved = try FileManager.default.contentsOfDirectory(atPath: pending.path).sorted()
        let copies = try saved.map { try Data(contentsOf: pending.appendingPathComponent($0)) }
        try await spool.flush()
        // Put the pending records back: as if the process died after writing the manifest.
        for (name, data) in zip(saved, copies) { try data.write(to: pending.appendingPathComponent(name)) }
        // And a half-sealed batch 2 (batch file, no manifest) from another crash.
        try Data("garbage\n".utf8).write(to: dir.appendingPathComponent("sms/batch-000002.jsonl"))

        let again = try SpoolAdapter(directory: dir, clock: { fixedNow })
        #expect(try await again.send(message(1)).replayed)
        _ = try await again.send(message(3))
        try await again.flush()
        let batches = try await again.batches(.sms)
        #expect(batches.map(\.messageCount) == [2, 1])
        let second = try String(contentsOf: batches[1].content, encoding: .utf8)
        #expect(!second.contains("garbage") && second.contains("\"message_id\":\"M3\""))
        #expect(try FileManager.default.contentsOfDirectory(atPath: pending.path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("sent/sms").path).count == 3)
    }
}

@Suite("Spool under concurrency and rendered letters")
struct SpoolConcurrencyTests {
    @Test("two instances sending the same keys at once spool each key exactly once")
    func concurrentInstances() async throws {
        let dir = try temporaryDirectory()
        defer { cleanUp(dir) }
        let a = try SpoolAdapter(directory: dir, options: .init(batchSize: [.sms: 7]), clock: { fixedNow })
        let b = try SpoolAdapter(directory: dir, options: .init(batchSize: [.sms: 7]), clock: { fixedNow })
        let receipts = try await withThrowingTaskGroup(of: SendReceipt.self) { group in
            for n in 0..<40 {
                let adapter = n % 2 == 0 ? a : b
                group.addTask { try await adapter.send(message(n / 2 + 1)) }  // keys 1...20, each sent twice
            }
            var out: [SendReceipt] = []
            for try await r in group { out.append(r) }
            return out
        }
        #expect(receipts.filter { !$0.replayed }.count == 20)
        #expect(Set(receipts.map(\.providerId)).count == 20)
        try await a.flush()
        let batches = try await b.batches(.sms)
        #expect(batches.map(\.messageCount).reduce(0, +) == 20)
        var ids: [String] = []
        for batch in batches {
            for line in try String(contentsOf: batch.content, encoding: .utf8).split(separator: "\n") {
                let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                ids.append(json["message_id"] as! String)
            }
        }
        #expect(ids.sorted() == (1...20).map { "M\($0)" }.sorted())
    }

    @Test("a rendered German dunning letter goes into the print batch with its QR note")
    func renderedLetter() async throws {
        let dir = try temporaryDirectory()
        defer { cleanUp(dir) }
        let catalogue = try TemplateCatalogue.bundled()
        let invoice = Invoice(id: "RE-77", customerId: "C9", amountMinor: 4_990, currency: "EUR", issueDate: CalendarDate(year: 2026, month: 1, day: 20),
                              dueDate: CalendarDate(year: 2026, month: 2, day: 3), status: .open, flowName: nil, flowVersion: nil, step: nil)
        let data = CaseData(invoice: invoice, customerName: "Jana Schmidt", asOf: CalendarDate(year: 2026, month: 2, day: 24),
                            paymentLink: "https://pay.example.com/p/77", creditorName: "Stadtwerke Musterstadt")
        let rendered = catalogue.render(.letter, purpose: .firstDunning, tone: .neutral, locale: "de-DE", data: data)
        let m = OutgoingMessage(messageId: "M77", idempotencyKey: "RE-77/first_dunning", customerId: "C9", invoiceId: "RE-77", channel: .letter,
                                recipient: .postal(["Jana Schmidt", "Lindenweg 4", "04109 Leipzig"]), rendered: rendered, scheduledAt: fixedNow,
                                metadata: MessageMetadata(amountMinor: 4_990, currency: "EUR", dueDate: invoice.dueDate, paymentLink: data.paymentLink))
        #expect(m.template == "first_dunning" && m.locale == "de" && m.tone == .neutral)
        let spool = try SpoolAdapter(directory: dir)
        _ = try await spool.send(m)
        let batch = try #require(try await spool.seal(.letter))
        let text = try String(contentsOf: batch.content, encoding: .utf8)
        #expect(text.hasPrefix("""
            Jana Schmidt
            Lindenweg 4
            04109 Leipzig

            1. Mahnung: Rechnung RE-77

            Guten Tag Jana Schmidt,

            die Rechnung RE-77 über 49,90 € war am 03.02.2026 fällig und ist weiterhin offen. Bitte bezahlen Sie den Betrag bis zum 10.03.2026.

            Mit dem QR-Code auf diesem Brief bezahlen Sie bequem online
            """))
        #expect(text.hasSuffix("Mit freundlichen Grüßen\nStadtwerke Musterstadt\n\n[ref M77]\n"))
        // The printable document beside the batch: address field, text, and the QR code of the link.
        let folder = batch.content.deletingPathExtension()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(files.count == 1 && files[0].hasPrefix("0001-") && files[0].hasSuffix(".html"))
        let document = try String(contentsOf: folder.appendingPathComponent(files[0]), encoding: .utf8)
        #expect(document == rendered.html)
        #expect(document.contains("<html lang=\"de\">"))
        #expect(document.contains("<div class=\"address\"></div>"))
        let qr = try QRCode(text: "https://pay.example.com/p/77?src=qr")
        #expect(document.contains(qr.svg(moduleSize: 4, margin: 4, title: "Jetzt bezahlen")))
        #expect(document.contains("<figcaption><strong>Jetzt bezahlen</strong><br>https://pay.example.com/p/77</figcaption>"))
        #expect(document.contains("<h1>1. Mahnung: Rechnung RE-77</h1>"))
        // With the recipient's address in the case data, the address field holds it.
        var addressed = data
        addressed.postalAddress = ["Jana Schmidt", "Lindenweg 4", "04109 Leipzig"]
        let withAddress = catalogue.render(.letter, purpose: .firstDunning, tone: .neutral, locale: "de-DE", data: addressed)
        #expect(withAddress.html!.contains("<div class=\"address\">Jana Schmidt<br>Lindenweg 4<br>04109 Leipzig<br></div>"))
        #expect(withAddress.text == rendered.text)
    }
}

@Suite("Outgoing messages from store records")
struct OutgoingMessageTests {
    @Test("contact points become recipients; an outbox row, its invoice and a rendering become a message")
    func fromRecords() throws {
        func point(_ kind: ContactKind, _ value: String) -> ContactPoint {
            ContactPoint(id: "K1", customerId: "C1", kind: kind, value: value, phoneType: kind == .phone ? .mobile : nil, validation: .valid,
                         consent: true, source: "import", updatedAt: fixedNow)
        }
        #expect(Recipient(point(.email, "a@example.org")) == .email("a@example.org"))
        #expect(Recipient(point(.whatsapp, "+4915112345678")) == .phone("+4915112345678"))
        #expect(Recipient(point(.push, "pt_1")) == .pushToken("pt_1"))
        #expect(Recipient(point(.postal, "12 Hauptstraße, DE-10115 ,")) == .postal(["12 Hauptstraße", "DE-10115"]))

        let invoice = Invoice(id: "I1", customerId: "C1", amountMinor: 990, currency: "EUR", issueDate: CalendarDate(year: 2026, month: 1, day: 1),
                              dueDate: CalendarDate(year: 2026, month: 1, day: 15), status: .open, flowName: nil, flowVersion: nil, step: nil)
        let row = Message(id: "M1", customerId: "C1", invoiceId: "I1", decisionId: "D1", contactPointId: "K1", channel: .sms, template: "reminder",
                          tone: .firm, scheduledLocal: LocalDateTime(date: CalendarDate(year: 2026, month: 1, day: 20), hour: 10),
                          scheduledAt: fixedNow, status: .queued, providerId: nil, idempotencyKey: "I1/D1", costMinor: 0)
        let rendered = try TemplateCatalogue.bundled().render(.sms, purpose: .reminder, tone: .firm, locale: "en-US",
                                                              data: CaseData(invoice: invoice, customerName: nil, asOf: CalendarDate(year: 2026, month: 1, day: 20),
                                                                             paymentLink: "https://p.example/1", creditorName: "ACME"))
        let m = OutgoingMessage(message: row, point: point(.phone, "+4915112345678"), invoice: invoice, rendered: rendered,
                                paymentLink: "https://p.example/1")
        #expect(m.recipient == .phone("+4915112345678") && m.contactPointId == "K1" && m.idempotencyKey == "I1/D1")
        #expect(m.bodyText == "ACME: invoice I1 (€9.90) is overdue since 15 January 2026. Pay now: https://p.example/1")
        #expect(m.metadata == MessageMetadata(amountMinor: 990, currency: "EUR", dueDate: invoice.dueDate, paymentLink: "https://p.example/1"))
        try m.checkRecipient()
    }
}
