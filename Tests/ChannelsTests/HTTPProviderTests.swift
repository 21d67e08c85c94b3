import Foundation
import Testing
import AsyncHTTPClient
import LinAlg
import Vocabulary
import FeatureStore
@testable import Channels

/// Records the waits the adapter asks for instead of sleeping.
final class SleepRecorder: Sendable {
    let waits = Locked<[Duration]>([])
    var recorded: [Duration] { waits.withLock { $0 } }
    var sleep: @Sendable (Duration) async throws -> Void { { d in self.waits.withLock { $0.append(d) } } }
}

@Suite("HTTP provider adapter against a loopback server", .serialized)
struct HTTPProviderTests {
    static let body = #"""
    {"to": "{{to}}", "subject": "{{subject}}", "text": "{{body}}", "key": "{{idempotency_key}}",
     "amount_minor": {{amount_minor}}, "currency": "{{currency}}", "lines": {{address_lines}}, "html": {{html}}, "link": {{payment_link}}}
    """#

    func configuration(_ server: TestHTTPServer, retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(100), maxDelay: .seconds(1)),
                       timeout: Duration = .seconds(5), providerIdField: String? = "data.id",
                       conditions: [Int: FailureCondition] = [:]) throws -> HTTPProviderConfiguration {
        HTTPProviderConfiguration(url: server.url, headers: [.init(name: "X-Account", value: "acme")],
                                  auth: .init(name: "Authorization", value: "Bearer s3cret"), idempotencyHeader: "Idempotency-Key",
                                  body: try JSONBodyTemplate(Self.body), providerIdField: providerIdField, timeout: timeout, retry: retry,
                                  statusConditions: conditions)
    }

    func withServer(_ replies: [TestHTTPServer.Reply], _ body: (TestHTTPServer, HTTPClient) async throws -> Void) async throws {
        let server = try await TestHTTPServer(replies: replies)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await body(server, client)
        } catch {
            try await client.shutdown()
            try await server.shutdown()
            throw error
        }
        try await client.shutdown()
        try await server.shutdown()
    }

    @Test("sends the templated body, the auth and idempotency headers, and reads the provider id")
    func bodyAndHeaders() async throws {
        try await withServer([.init(status: 201, body: #"{"data": {"id": "prov-77", "status": "queued"}}"#)]) { server, client in
            let adapter = HTTPProviderAdapter(name: "http:email", configuration: try configuration(server), client: client, clock: { fixedNow })
            var m = message(3, channel: .email, key: "I3/D1 \"quoted\"", body: "Zeile 1\n\"Zitat\" \\ Tab\t€ – ü")
            m.subject = "Erinnerung: \"jetzt\""
            let receipt = try await adapter.send(m)
            #expect(receipt == SendReceipt(providerId: "prov-77", acceptedAt: fixedNow, status: .accepted))
            let requests = server.requests
            #expect(requests.count == 1)
            let r = requests[0]
            #expect(r.method == "POST" && r.uri == "/v1/messages")
            #expect(r.header("Authorization") == "Bearer s3cret")
            #expect(r.header("Idempotency-Key") == "I3/D1 \"quoted\"")
            #expect(r.header("X-Account") == "acme")
            #expect(r.header("Content-Type") == "application/json")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any])
            #expect(json["to"] as? String == "erika3@example.org")
            #expect(json["subject"] as? String == "Erinnerung: \"jetzt\"")
            #expect(json["text"] as? String == "Zeile 1\n\"Zitat\" \\ Tab\t€ – ü")
            #expect(json["key"] as? String == "I3/D1 \"quoted\"")
            #expect(json["amount_minor"] as? Int == 1234)
            #expect(json["lines"] as? [String] == ["erika3@example.org"])
            #expect(json["html"] as? String == "<p>Zeile 1\n\"Zitat\" \\ Tab\t€ – ü</p>")
            #expect(json["link"] as? String == "https://pay.example.com/p/3")
        }
    }

    @Test("retries 503 twice with jittered exponential backoff, then succeeds with the same key")
    func retryThenSuccess() async throws {
        try await withServer([.init(status: 503, body: "busy"), .init(status: 502), .init(status: 200, body: #"{"data": {"id": "p1"}}"#)]) { server, client in
            let sleeps = SleepRecorder()
            let adapter = HTTPProviderAdapter(name: "http:sms", configuration: try configuration(server), client: client, jitterSeed: 42,
                                              sleep: sleeps.sleep)
            let receipt = try await adapter.send(message(1))
            #expect(receipt.providerId == "p1")
            #expect(server.requests.count == 3)
            #expect(Set(server.requests.map { $0.header("Idempotency-Key") }) == ["I1/D1"])
            var rng = Xoshiro256(seed: 42)
            let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
            let expected = [policy.delay(afterAttempt: 1, u: rng.uniform()), policy.delay(afterAttempt: 2, u: rng.uniform())]
            #expect(sleeps.recorded == expected)
            #expect(sleeps.recorded[0] >= .milliseconds(50) && sleeps.recorded[0] <= .milliseconds(100))
            #expect(sleeps.recorded[1] >= .milliseconds(100) && sleeps.recorded[1] <= .milliseconds(200))
        }
    }

    @Test("Retry-After is honoured (seconds and HTTP date); one longer than the limit ends the attempts")
    func retryAfter() async throws {
        try await withServer([.init(status: 429, headers: [("Retry-After", "2")]), .init(status: 200, body: #"{"data": {"id": "p2"}}"#),
                              .init(status: 503, headers: [("Retry-After", "120")])]) { server, client in
            let sleeps = SleepRecorder()
            let adapter = HTTPProviderAdapter(name: "http:sms", configuration: try configuration(server), client: client, sleep: sleeps.sleep)
            #expect(try await adapter.send(message(1)).providerId == "p2")
            #expect(sleeps.recorded == [.seconds(2)])
            let e = await #expect(throws: ChannelError.self) { try await adapter.send(message(2)) }
            #expect(e?.isRetryable == true)
            #expect(e.map { "\($0)" }?.contains("asks to wait 120.0 seconds") == true, "\(String(describing: e))")
            #expect(server.requests.count == 3)
        }
        let date = HTTPProviderAdapter.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT")
        #expect(date == .zero)  // in the past: retry at once
        #expect(HTTPProviderAdapter.parseRetryAfter(" 17 ") == .seconds(17))
        #expect(HTTPProviderAdapter.parseRetryAfter("soon") == nil)
    }

    @Test("400 is a permanent provider_error without retries; a configured 422 is undeliverable")
    func permanent() async throws {
        try await withServer([.init(status: 400, body: #"{"error": "invalid number"}"#), .init(status: 422, body: "unknown recipient")]) { server, client in
            let sleeps = SleepRecorder()
            let adapter = HTTPProviderAdapter(name: "http:sms", configuration: try configuration(server, conditions: [422: .undeliverable]),
                                              client: client, sleep: sleeps.sleep)
            await #expect(throws: ChannelError.permanent(#"http:sms: message M1: HTTP 400 {"error": "invalid number"}"#, .providerError)) {
                try await adapter.send(message(1))
            }
            let e = await #expect(throws: ChannelError.self) { try await adapter.send(message(2)) }
            #expect(e?.condition == .undeliverable)
            #expect(server.requests.count == 2)
            #expect(sleeps.recorded.isEmpty)
        }
    }

    @Test("a server slower than the timeout is retried, then given up as retryable; 5xx to the end likewise")
    func timeouts() async throws {
        // The replies come a minute late (the server drops them when it stops): a 300 ms timeout
        // fires first even when a loaded machine stalls both processes for seconds.
        try await withServer([.init(status: 200, body: "{}", delay: .seconds(60)), .init(status: 200, body: "{}", delay: .seconds(60))]) { server, client in
            let sleeps = SleepRecorder()
            let adapter = HTTPProviderAdapter(name: "http:email", configuration: try configuration(
                server, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(10)), timeout: .milliseconds(300)),
                client: client, sleep: sleeps.sleep)
            let e = await #expect(throws: ChannelError.self) { try await adapter.send(message(1, channel: .email)) }
            #expect(e?.isRetryable == true)
            #expect(e.map { "\($0)" }?.contains("gave up after 2 attempts") == true, "\(String(describing: e))")
            #expect(server.requests.count == 2)
            #expect(sleeps.recorded.count == 1)
        }
        try await withServer([.init(status: 500), .init(status: 500), .init(status: 500)]) { server, client in
            let adapter = HTTPProviderAdapter(name: "http:email", configuration: try configuration(server), client: client, sleep: SleepRecorder().sleep)
            let e = await #expect(throws: ChannelError.self) { try await adapter.send(message(1, channel: .email)) }
            #expect(e == .retryable("http:email: message M1: gave up after 3 attempts: HTTP 500"))
        }
    }

    @Test("a refused connection is retryable; without a provider id field the key's hash is the id")
    func connectionRefused() async throws {
        let server = try await TestHTTPServer(replies: [])
        var config = try configuration(server)
        try await server.shutdown()
        config.retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(1))
        config.timeout = .milliseconds(500)  // the client keeps trying to connect until the deadline
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let adapter = HTTPProviderAdapter(name: "http:sms", configuration: config, client: client, sleep: SleepRecorder().sleep)
        let e = await #expect(throws: ChannelError.self) { try await adapter.send(message(1)) }
        #expect(e?.isRetryable == true)
        try await client.shutdown()

        try await withServer([.init(status: 202, body: "accepted"), .init(status: 200, body: #"{"data": {"id": 991, "state": "delivered"}}"#),
                              .init(status: 200, body: #"{"data": {"id": 992, "state": "queued"}}"#)]) { server, client in
            let adapter = HTTPProviderAdapter(name: "http:sms", configuration: try configuration(server, providerIdField: nil), client: client)
            #expect(try await adapter.send(message(5)).providerId == "http:" + Files.sha256Hex("I5/D1").prefix(16))
            var config = try configuration(server)
            config.statusField = "data.state"
            config.deliveredValues = ["delivered"]
            let sync = HTTPProviderAdapter(name: "http:sms", configuration: config, client: client, clock: { fixedNow })
            #expect(try await sync.send(message(6)) == SendReceipt(providerId: "991", acceptedAt: fixedNow, status: .delivered))
            #expect(try await sync.send(message(7)) == SendReceipt(providerId: "992", acceptedAt: fixedNow, status: .accepted))
        }
    }
}

@Suite("JSON body templates")
struct JSONBodyTemplateTests {
    @Test("placeholders inside strings are escaped, outside they become JSON values")
    func rendering() throws {
        let t = try JSONBodyTemplate(#"{"a": "<{{subject}}>", "b": {{subject}}, "n": {{amount_minor}}, "l": {{address_lines}}, "s": "{{address_lines}}"}"#)
        var m = message(1, channel: .letter)
        m.subject = nil
        let out = t.render(m)
        #expect(out == #"{"a": "<>", "b": null, "n": 1234, "l": ["Erika Mustermann","Hauptstraße 1","10115 Berlin","DE"], "s": "Erika Mustermann\nHauptstraße 1\n10115 Berlin\nDE"}"#)
        #expect(JSONBodyTemplate.escape("a\"b\\c\n\u{01}\u{2028}é") == #"a\"b\\c\n\u0001\u2028é"#)
    }

    @Test("an unknown placeholder names its line; a body that is not JSON is refused")
    func errors() {
        #expect(throws: JSONBodyTemplate.Problem(line: 3, message: "unknown placeholder {{recipient}}; bodies may use \(JSONBodyTemplate.placeholders.joined(separator: ", "))")) {
            try JSONBodyTemplate("{\n\"a\": 1,\n\"b\": \"{{recipient}}\"}")
        }
        #expect(throws: JSONBodyTemplate.Problem.self) { try JSONBodyTemplate(#"{"a": "{{body}}""#) }
        #expect(throws: JSONBodyTemplate.Problem.self) { try JSONBodyTemplate(#"{"a": {{body}"#) }
    }
}
