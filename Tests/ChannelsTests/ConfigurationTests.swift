import Foundation
import Testing
import Vocabulary
import Simulator
@testable import Channels

@Suite("Channel configuration")
struct ConfigurationTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/channels.example.yaml")
    static let env = ["POM_MAIL_API_KEY": "mk-1", "POM_SMS_ACCOUNT": "AC42", "POM_SMS_API_KEY": "sk-2"]

    func line(of needle: String) throws -> Int {
        let lines = try String(contentsOf: Self.example, encoding: .utf8).components(separatedBy: "\n")
        return try #require(lines.firstIndex { $0.contains(needle) }) + 1
    }

    @Test("the example configuration loads with secrets from the environment")
    func example() throws {
        let c = try ChannelConfiguration.load(Self.example, environment: Self.env)
        guard case .http(let email) = c.adapters[.email], case .http(let sms) = c.adapters[.sms] else {
            Issue.record("email and sms should be http")
            return
        }
        #expect(email.url.absoluteString == "https://api.mail.example.com/v3/messages")
        #expect(email.auth == .init(name: "Authorization", value: "Bearer mk-1"))
        #expect(email.headers == [.init(name: "Accept", value: "application/json")])
        #expect(email.providerIdField == "data.id")
        #expect(email.retry == RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(250), maxDelay: .milliseconds(8000),
                                           maxRetryAfter: .seconds(60)))
        #expect(email.statusConditions == [422: .undeliverable])
        #expect(email.timeout == .seconds(10))
        #expect(sms.url.absoluteString == "https://sms.example.net/accounts/AC42/messages")
        #expect(sms.auth?.value == "sk-2" && sms.idempotencyHeader == "X-Idempotency-Key")
        #expect(sms.timeout == .seconds(5) && sms.providerIdField == "messages.0.id")
        #expect(c.adapters[.robocall] == nil)
        if case .spool = c.adapters[.letter] {} else { Issue.record("letters should be spooled") }
        if case .dryRun = c.adapters[.push] {} else { Issue.record("push should be a dry run") }
        let configDir = Self.example.deletingLastPathComponent()
        #expect(c.spoolDirectory?.standardized == configDir.appendingPathComponent("../var/spool").standardized)
        #expect(c.spoolOptions.batchSize == [.letter: 500])
        #expect(c.spoolOptions.messageIdDomain == "stadtwerke.example")
        #expect(c.dryRunFile?.lastPathComponent == "dry-run.jsonl")
        // The e-mail body renders to valid JSON for a real message.
        let json = try JSONSerialization.jsonObject(with: Data(email.body.render(message(1, channel: .email)).utf8)) as? [String: Any]
        #expect(json?["tags"] as? [String] == ["pom", "reminder", "friendly"])
    }

    @Test("a missing environment variable names the file, line and field")
    func missingSecret() throws {
        var env = Self.env
        env["POM_MAIL_API_KEY"] = nil
        let e = #expect(throws: ChannelConfigurationError.self) { try ChannelConfiguration.load(Self.example, environment: env) }
        #expect(e?.file == Self.example.path)
        #expect(e?.line == (try line(of: "Bearer ${POM_MAIL_API_KEY}")))
        #expect(e?.field == "channels.email.http.auth.value")
        #expect(e?.message.hasPrefix("the environment variable POM_MAIL_API_KEY is not set") == true)
    }

    func parseError(_ yaml: String) -> ChannelConfigurationError? {
        #expect(throws: ChannelConfigurationError.self) {
            try ChannelConfiguration.parse(yaml, file: "channels.yaml", baseDirectory: URL(fileURLWithPath: "/srv/pom"), environment: [:])
        }
    }

    @Test("unknown fields, channels, adapters and body placeholders are errors with their lines")
    func errors() {
        let unknownField = parseError("channels:\n  sms:\n    adapter: http\n    http:\n      url: https://x.example\n      body: '{}'\n      retries: 3\n")
        #expect(unknownField?.description.hasPrefix("channels.yaml:7: channels.sms.http.retries: unknown field; expected one of auth, body,") == true)
        let channel = parseError("channels:\n  fax:\n    adapter: spool\n")
        #expect(channel?.line == 2 && channel?.field == "channels.fax")
        let adapter = parseError("channels:\n  sms:\n    adapter: carrier-pigeon\n")
        #expect(adapter?.description == "channels.yaml:3: channels.sms.adapter: unknown adapter 'carrier-pigeon'; expected http, spool, dry_run or simulated")
        let body = parseError("channels:\n  sms:\n    adapter: http\n    http:\n      url: https://x.example\n      body: |\n        {\n          \"to\": \"{{to}}\",\n          \"text\": \"{{text}}\"\n        }\n")
        #expect(body?.line == 9 && body?.field == "channels.sms.http.body")
        #expect(body?.message.hasPrefix("unknown placeholder {{text}}") == true)
        let spool = parseError("channels:\n  letter:\n    adapter: spool\n")
        #expect(spool?.line == 3 && spool?.message.contains("spool: {directory: ...}") == true)
        let url = parseError("channels:\n  sms:\n    adapter: http\n    http:\n      url: ftp://x.example\n      body: '{}'\n")
        #expect(url?.line == 5 && url?.field == "channels.sms.http.url")
        let delivered = parseError("channels:\n  sms:\n    adapter: http\n    http:\n      url: https://x.example\n      body: '{}'\n      delivered_values: [delivered]\n")
        #expect(delivered?.line == 7 && delivered?.field == "channels.sms.http.delivered_values")
        let yaml = parseError("channels:\n  sms: [unclosed\n")
        #expect(yaml?.line != nil && yaml?.message.hasPrefix("not valid YAML") == true)
    }

    @Test("the router sends through the configured adapter; missing adapters and worlds are errors")
    func router() async throws {
        let dir = try temporaryDirectory()
        defer { cleanUp(dir) }
        let config = try ChannelConfiguration.parse(
            "channels:\n  sms: {adapter: dry_run}\n  letter: {adapter: spool}\n  email: {adapter: simulated}\nspool: {directory: spool}\ndry_run: {file: out/dry.jsonl}\n",
            file: "c.yaml", baseDirectory: dir, environment: [:])
        let e = #expect(throws: ChannelConfigurationError.self) { try config.makeRouter() }
        #expect(e?.description == "c.yaml:4: channels.email.adapter: the simulated adapter needs a simulated world (closed-loop runs only)")
        let world = SimulatedChannel(world: World(config: SimulationConfig(customers: 2, days: 10, seed: 1)))
        let router = try config.makeRouter(simulated: world, clock: { fixedNow })
        #expect(router.adapters[.email]?.name == "simulated")
        _ = try await router.send(message(1, channel: .sms))
        _ = try await router.send(message(2, channel: .letter))
        await #expect(throws: ChannelError.permanent("no adapter is configured for channel push", .providerError)) {
            try await router.send(message(3, channel: .push))
        }
        try await router.flush()
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("spool/letter/batch-000001.manifest.csv").path))
        #expect(try String(contentsOf: dir.appendingPathComponent("out/dry.jsonl"), encoding: .utf8).split(separator: "\n").count == 1)
    }
}
