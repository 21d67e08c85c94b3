import FeatureStoreBackends
import Foundation
import Testing
import Vocabulary
@testable import Service

@Suite("Webhook signatures")
struct SignatureTests {
    @Test("The signature is HMAC-SHA256 over \"t.body\", as Python's hmac module computes it")
    func reference() throws {
        // hmac.new(b"whsec-test-0123456789", b'1772442300.{"id":"evt_1"}', hashlib.sha256).hexdigest()
        let body = Array(#"{"id":"evt_1"}"#.utf8)
        let header = WebhookSignature.sign(body: body, secret: TestKeys.secret, timestamp: 1_772_442_300)
        #expect(header == "t=1772442300,v1=ee21562cef957758787d793b8d1d4a961c28955a85f9f6d4f5da3b3c3525d5e2")
        let now = Date(timeIntervalSince1970: 1_772_442_300 + 299)
        #expect(try WebhookSignature.verify(header: header, body: body, secret: TestKeys.secret, now: now, toleranceSeconds: 300) == 1_772_442_300)
        // A rotated secret: one of several v1 entries matching suffices.
        let other = WebhookSignature.sign(body: body, secret: "old", timestamp: 1_772_442_300).dropFirst("t=1772442300,".count)
        #expect(throws: Never.self) {
            try WebhookSignature.verify(header: header + "," + other, body: body, secret: TestKeys.secret, now: now, toleranceSeconds: 300)
        }
        // Blanks around entries, upper-case hex, other schemes and empty entries are read as Stripe's parser reads them.
        let spaced = " t = 1772442300 , v0=abc,, v1= EE21562CEF957758787D793B8D1D4A961C28955A85F9F6D4F5DA3B3C3525D5E2\t"
        #expect(try WebhookSignature.verify(header: spaced, body: body, secret: TestKeys.secret, now: now, toleranceSeconds: 300) == 1_772_442_300)
    }

    @Test("Tampered bodies, other secrets, stale or future timestamps and malformed headers are refused")
    func refusals() {
        let body = Array(#"{"id":"evt_1"}"#.utf8)
        let header = WebhookSignature.sign(body: body, secret: TestKeys.secret, timestamp: 1_772_442_300)
        let now = Date(timeIntervalSince1970: 1_772_442_300)
        #expect(throws: WebhookSignature.Failure.mismatch) {
            try WebhookSignature.verify(header: header, body: Array(#"{"id":"evt_2"}"#.utf8), secret: TestKeys.secret, now: now, toleranceSeconds: 300)
        }
        #expect(throws: WebhookSignature.Failure.mismatch) {
            try WebhookSignature.verify(header: header, body: body, secret: "another", now: now, toleranceSeconds: 300)
        }
        #expect(throws: WebhookSignature.Failure.outsideWindow(timestamp: 1_772_442_300, now: 1_772_442_601, tolerance: 300)) {
            try WebhookSignature.verify(header: header, body: body, secret: TestKeys.secret, now: now.addingTimeInterval(301), toleranceSeconds: 300)
        }
        #expect(throws: WebhookSignature.Failure.outsideWindow(timestamp: 1_772_442_300, now: 1_772_441_999, tolerance: 300)) {
            try WebhookSignature.verify(header: header, body: body, secret: TestKeys.secret, now: now.addingTimeInterval(-301), toleranceSeconds: 300)
        }
        #expect(throws: WebhookSignature.Failure.missing) {
            try WebhookSignature.verify(header: nil, body: body, secret: TestKeys.secret, now: now, toleranceSeconds: 300)
        }
        #expect(throws: WebhookSignature.Failure.malformed("no v1=")) {
            try WebhookSignature.verify(header: "t=1772442300", body: body, secret: TestKeys.secret, now: now, toleranceSeconds: 300)
        }
        #expect(throws: WebhookSignature.Failure.malformed("v1 is not 64 hex digits")) {
            try WebhookSignature.verify(header: "t=1772442300,v1=zz", body: body, secret: TestKeys.secret, now: now, toleranceSeconds: 300)
        }
        let sixtyFour = String(repeating: "0", count: 63) + "g"
        #expect(throws: WebhookSignature.Failure.malformed("v1 is not 64 hex digits")) {
            try WebhookSignature.verify(header: "t=1772442300,v1=" + sixtyFour, body: body, secret: TestKeys.secret, now: now, toleranceSeconds: 300)
        }
        #expect(throws: WebhookSignature.Failure.malformed("'v1' is not key=value")) {
            try WebhookSignature.verify(header: "t=1772442300,v1", body: body, secret: TestKeys.secret, now: now, toleranceSeconds: 300)
        }
        #expect(throws: WebhookSignature.Failure.malformed("t='soon' is not whole seconds")) {
            try WebhookSignature.verify(header: "t=soon," + header.dropFirst("t=1772442300,".count), body: body, secret: TestKeys.secret, now: now,
                                        toleranceSeconds: 300)
        }
        #expect(throws: WebhookSignature.Failure.malformed("no t=")) {
            try WebhookSignature.verify(header: String(header.dropFirst("t=1772442300,".count)), body: body, secret: TestKeys.secret, now: now,
                                        toleranceSeconds: 300)
        }
    }
}

@Suite("Delivery webhooks over loopback", .serialized)
struct WebhookTests {
    @Test("A signed delivery report is stored and marks the message delivered")
    func accepted() async throws {
        try await withServer { server in
            let email = try await sendFirstEmail(server)
            let r = try await server.webhook(providerEvent("evt-1", "delivered", message: email))
            #expect(r.status == 200)
            #expect((r.json["events"] as? [[String: String]]) == [["id": "evt-1", "status": "processed"]])
            #expect(try await messages(server.store).first { $0.id == email }?.status == "delivered")
            let events = try await server.store.allRows(of: Schema.events)
            #expect(events.count == 1)
            #expect(Schema.events.value(events[0], "id").text == "mailer:evt-1")
            #expect(Schema.events.value(events[0], "invoice_id").text == "I1")
        }
    }

    @Test("A wrong signature, a missing one and an unknown provider are refused with a JSON error; nothing is stored")
    func rejected() async throws {
        try await withServer { server in
            let email = try await sendFirstEmail(server)
            let bad = try await server.webhook(providerEvent("evt-1", "delivered", message: email), secret: "not-the-secret")
            #expect(bad.status == 401)
            #expect(errorCode(bad.json) == "bad_signature")
            let missing = try await server.request(.POST, "/v1/webhooks/mailer", body: Array(#"{"id":"x"}"#.utf8))
            #expect(missing.status == 401)
            #expect(errorCode(try jsonObject(missing.body)) == "missing_signature")
            #expect(missing.headers["WWW-Authenticate"].first == "Bearer")
            let unknown = try await server.webhook(providerEvent("evt-1", "delivered", message: email), provider: "other")
            #expect(unknown.status == 404 && errorCode(unknown.json) == "unknown_provider")
            #expect(try await server.store.count(Schema.events) == 0)
        }
    }

    @Test("A replay outside the window (an old, validly signed request) is refused with 401")
    func replayed() async throws {
        try await withServer { server in
            let email = try await sendFirstEmail(server)
            let old = Int64(Date().timeIntervalSince1970) - 301
            let r = try await server.webhook(providerEvent("evt-1", "delivered", message: email), timestamp: old)
            #expect(r.status == 401)
            #expect(errorCode(r.json) == "replayed_or_stale")
            let message = try #require((r.json["error"] as? [String: Any])?["message"] as? String)
            #expect(message.contains("300 s allowed"))
            #expect(try await server.store.count(Schema.events) == 0)
        }
    }

    @Test("The same event id sent twice, and ten times at once, is processed once")
    func duplicates() async throws {
        try await withServer { server in
            let email = try await sendFirstEmail(server)
            let first = try await server.webhook(providerEvent("evt-1", "opened", message: email))
            let second = try await server.webhook(providerEvent("evt-1", "opened", message: email))
            #expect((first.json["events"] as? [[String: String]])?.first?["status"] == "processed")
            #expect((second.json["events"] as? [[String: String]])?.first?["status"] == "duplicate")
            let statuses = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<10 {
                    group.addTask { (try await server.webhook(providerEvent("evt-2", "clicked", message: email)).json["events"] as? [[String: String]])?.first?["status"] }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == "processed" }.count == 1)
            #expect(statuses.filter { $0 == "duplicate" }.count == 9)
            #expect(try await server.store.count(Schema.events) == 2)
        }
    }

    @Test("Bad payloads get 400 naming the field; an unknown message 422")
    func badPayloads() async throws {
        try await withServer { server in
            let email = try await sendFirstEmail(server)
            var e = providerEvent("evt-1", "delivered", message: email)
            e["type"] = nil
            var r = try await server.webhook(e)
            #expect(r.status == 400 && errorCode(r.json) == "missing_field" && errorField(r.json) == "type")
            e["type"] = "exploded"
            r = try await server.webhook(e)
            #expect(r.status == 400 && errorField(r.json) == "type")
            e["type"] = "delivered"
            e["occurred_at"] = "yesterday"
            r = try await server.webhook(e)
            #expect(r.status == 400 && errorField(r.json) == "occurred_at")
            r = try await server.webhook(["events": [providerEvent("a", "delivered", message: email), ["id": "b", "type": "opened"]]])
            #expect(r.status == 400 && errorField(r.json) == "events[1].message_id")
            r = try await server.webhook(providerEvent("evt-9", "delivered", message: "no-such-message"))
            #expect(r.status == 422 && errorCode(r.json) == "unknown_message" && errorField(r.json) == "message_id")
            let notJSON = try await server.request(.POST, "/v1/webhooks/mailer", body: Array("{".utf8),
                                                   headers: [("Pom-Signature", WebhookSignature.sign(body: Array("{".utf8), secret: TestKeys.secret,
                                                                                                     timestamp: Int64(Date().timeIntervalSince1970)))])
            #expect(try notJSON.status == 400 && errorCode(jsonObject(notJSON.body)) == "invalid_json")
            #expect(try await server.store.count(Schema.events) == 0)
        }
    }

    @Test("A hard e-mail bounce sends the SMS fallback within seconds, not at the next run", arguments: Backend.allCases)
    func bounceToSMS(_ backend: Backend) async throws {
        try await withServer(backend) { server in
            let email = try await sendFirstEmail(server)
            let started = Date()
            let r = try await server.webhook(providerEvent("evt-b1", "bounced_hard", message: email, detail: ["reason": "550 unknown user"]))
            #expect(r.status == 200)
            let sent = try await eventually { await server.adapter.records.count == 2 }
            #expect(sent, "no fallback after \(Date().timeIntervalSince(started)) s")
            #expect(Date().timeIntervalSince(started) < 5)
            let records = await server.adapter.records
            #expect(records.map(\.message.channel) == [.email, .sms])
            #expect(records.last?.message.recipient == .phone("+4915112345678"))
            // The reaction run marks the SMS sent in its own transaction right after the hand-over.
            let marked = try await eventually { try await messages(server.store).first { $0.channel == "sms" }?.status == "sent" }
            #expect(marked, "the SMS was handed over but not marked sent")
            #expect(Date().timeIntervalSince(started) < 5)
            let rows = try await messages(server.store)
            #expect(rows.first { $0.id == email }?.status == "bounced")
            #expect(try await server.store.count(Schema.outbox) == 0)
            let point = try await server.store.rows(of: Schema.contactPoints, keys: [["C1", "C1-E"]])[0]
            #expect(Schema.contactPoints.value(point, "validation").text == "bounced")
            // The same bounce again is a duplicate and sends nothing more.
            let again = try await server.webhook(providerEvent("evt-b1", "bounced_hard", message: email))
            #expect((again.json["events"] as? [[String: String]])?.first?["status"] == "duplicate")
            try await Task.sleep(for: .milliseconds(300))
            #expect(await server.adapter.records.count == 2)
            let metrics = String(decoding: try await server.request(.GET, "/metrics").body, as: UTF8.self)
            #expect(metrics.contains(#"pom_bounces_total{kind="hard"} 1"#))
            #expect(metrics.contains(#"pom_sends_total{channel="sms"} 1"#))
        }
    }

    @Test("Without a mobile number the bounce sends a letter", arguments: Backend.allCases)
    func bounceToLetter(_ backend: Backend) async throws {
        try await withServer(backend, prepare: { try await LiveCase(points: ["C1-E", "C1-P"]).write(to: $0) }) { server in
            let email = try await sendFirstEmail(server)
            let r = try await server.webhook(providerEvent("evt-b1", "bounced_hard", message: email))
            #expect(r.status == 200)
            #expect(try await eventually { await server.adapter.records.count == 2 })
            #expect(await server.adapter.records.map(\.message.channel) == [.email, .letter])
            #expect(try await eventually { try await messages(server.store).first { $0.channel == "letter" }?.status == "sent" })
        }
    }
}
