import AsyncHTTPClient
import Channels
import FeatureStoreBackends
import Flows
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Orchestrator
import Service
import ServiceLifecycle
import PaymentPage
import Testing
import Vocabulary

/// The two store backends the service's store-touching tests run against.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// SQLite always; PostgreSQL when `POM_TEST_POSTGRES_URL` is set (scripts/test sets it).
    static var available: [Backend] {
        (ProcessInfo.processInfo.environment["POM_TEST_POSTGRES_URL"] ?? "").isEmpty ? [.sqlite] : [.sqlite, .postgres]
    }
}

struct MissingTestServer: Error, CustomStringConvertible {
    var description: String {
        "POM_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts a PostgreSQL server"
    }
}

/// A new temporary directory.
func temporaryDirectory(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("pom-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A fresh, migrated store: a new SQLite file, or a new schema in the test server's database.
func freshStore(_ backend: Backend) async throws -> any CaseQueue {
    switch backend {
    case .sqlite:
        return try await openStore("sqlite:" + (try temporaryDirectory("service")) + "/pom.sqlite")
    case .postgres:
        guard let url = ProcessInfo.processInfo.environment["POM_TEST_POSTGRES_URL"], !url.isEmpty else { throw MissingTestServer() }
        let schema = "s_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        return try await openStore(url + (url.contains("?") ? "&" : "?") + "schema=\(schema)")
    }
}

/// The repository's root directory.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The example flows of the repository.
func exampleFlows() throws -> [(path: String, text: String)] {
    let dir = repositoryRoot.appendingPathComponent("flows")
    return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted().map { name in
        let path = dir.appendingPathComponent(name).path
        return (path, try String(contentsOfFile: path, encoding: .utf8))
    }
}

/// One customer with an e-mail address, a mobile number and a postal address and one open invoice
/// of 120.00 EUR due three days from now, so the consumer flow's pre-due e-mail (day -3) is due at
/// once. The customer's time zone is the fixed-offset zone in which it is about noon now, so no
/// quiet hours hold the messages back whenever the tests run.
struct LiveCase {
    let now = Date()
    var zone: String {
        let hour = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: now).hour!
        let offset = 12 - hour
        // POSIX sign convention: Etc/GMT-2 is two hours ahead of UTC.
        return offset == 0 ? "Etc/GMT" : offset > 0 ? "Etc/GMT-\(offset)" : "Etc/GMT+\(-offset)"
    }
    var points: [String] = ["C1-E", "C1-M", "C1-P"]

    func today() -> CalendarDate { CalendarDate(daysSinceEpoch: Int((now.timeIntervalSince1970 / 86_400).rounded(.down))) }

    func write(to store: any CaseQueue) async throws {
        let created = now.addingTimeInterval(-90 * 86_400)
        let customer = Customer(id: "C1", locale: "de-DE", country: "DE", timeZone: zone, preferredChannel: nil, createdAt: created)
        let all = [
            ContactPoint(id: "C1-E", customerId: "C1", kind: .email, value: "anna@example.org", phoneType: nil, validation: .valid,
                         consent: true, source: "import", updatedAt: created),
            ContactPoint(id: "C1-M", customerId: "C1", kind: .phone, value: "+4915112345678", phoneType: .mobile, validation: .unverified,
                         consent: true, source: "import", updatedAt: created),
            ContactPoint(id: "C1-P", customerId: "C1", kind: .postal, value: "Hauptstrasse 1, 10115 Berlin", phoneType: nil,
                         validation: .valid, consent: true, source: "import", updatedAt: created),
        ].filter { points.contains($0.id) }
        let invoice = Invoice(id: "I1", customerId: "C1", amountMinor: 12_000, currency: "EUR", issueDate: today().adding(days: -14),
                              dueDate: today().adding(days: 3), status: .open, flowName: nil, flowVersion: nil, step: nil)
        try await store.write([
            TableRows(table: Schema.customers, rows: [Schema.customers.row(customer)]),
            TableRows(table: Schema.contactPoints, rows: all.map(Schema.contactPoints.row)),
            TableRows(table: Schema.contactPointVersions, rows: all.map(Schema.contactPoints.row)),
            TableRows(table: Schema.invoices, rows: [Schema.invoices.row(invoice)]),
        ])
        _ = try await FlowLibrary.store(files: try exampleFlows(), into: store, now: now.addingTimeInterval(-86_400))
    }
}

/// The webhook secret and API keys of the test servers.
enum TestKeys {
    static let provider = "mailer"
    static let secret = "whsec-test-0123456789"
    static let decisionsKey = "pk-decisions-abc"
    static let outcomesKey = "pk-outcomes-def"
    static let allKey = "pk-all-ghi"
}

/// A service listening on a free loopback port, with an in-memory dry-run channel.
struct TestServer {
    let port: Int
    let runtime: ServiceRuntime
    let adapter: DryRunAdapter
    var store: any CaseQueue { runtime.store }
    var base: String { "http://127.0.0.1:\(port)" }

    /// Sends a request; returns the status and the body.
    func request(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws
        -> (status: Int, body: [UInt8], headers: HTTPHeaders) {
        var r = HTTPClientRequest(url: base + path)
        r.method = method
        for (k, v) in headers { r.headers.add(name: k, value: v) }
        if let body {
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(r, timeout: .seconds(30))
        var buffer = try await response.body.collect(upTo: 4 << 20)
        return (Int(response.status.code), buffer.readBytes(length: buffer.readableBytes) ?? [], response.headers)
    }

    /// Posts `event` (a JSON object) to the webhook, signed at `timestamp` (default now) with `secret`.
    func webhook(_ event: [String: Any], timestamp: Int64? = nil, secret: String = TestKeys.secret, provider: String = TestKeys.provider,
                 signature: String? = nil) async throws -> (status: Int, json: [String: Any]) {
        let body = try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])
        let t = timestamp ?? Int64(Date().timeIntervalSince1970)
        let header = signature ?? WebhookSignature.sign(body: body, secret: secret, timestamp: t)
        let r = try await request(.POST, "/v1/webhooks/\(provider)", body: Array(body), headers: [("Pom-Signature", header)])
        return (r.status, try jsonObject(r.body))
    }

    /// Posts a JSON body to the API with an API key.
    func api(_ path: String, _ body: [String: Any], key: String?) async throws -> (status: Int, json: [String: Any]) {
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let r = try await request(.POST, path, body: Array(data), headers: key.map { [("Authorization", "Bearer \($0)")] } ?? [])
        return (r.status, try jsonObject(r.body))
    }
}

func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], "not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
}

/// The error code of an error answer.
func errorCode(_ json: [String: Any]) -> String? { (json["error"] as? [String: Any])?["code"] as? String }
func errorField(_ json: [String: Any]) -> String? { (json["error"] as? [String: Any])?["field"] as? String }

/// Runs `body` against a service on `backend` whose store `prepare` filled, then stops the service.
func withServer(_ backend: Backend = .sqlite, configure: (inout ServiceConfiguration) -> Void = { _ in },
                prepare: (any CaseQueue) async throws -> Void = { try await LiveCase().write(to: $0) },
                _ body: (TestServer) async throws -> Void) async throws {
    let store = try await freshStore(backend)
    try await prepare(store)
    var config = ServiceConfiguration()
    config.port = 0
    config.requireModel = false
    config.webhookSecrets = [TestKeys.provider: TestKeys.secret]
    config.apiKeys = [
        APIKey(name: "crm", sha256: APIKey.hash(TestKeys.decisionsKey), scopes: ["decisions"]),
        APIKey(name: "ledger", sha256: APIKey.hash(TestKeys.outcomesKey), scopes: ["outcomes"]),
        APIKey(name: "ops", sha256: APIKey.hash(TestKeys.allKey), scopes: ["*"]),
    ]
    configure(&config)
    let adapter = DryRunAdapter()
    let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }))
    var logger = Logger(label: "pom.service.test")
    logger.logLevel = .warning
    let runtime = try await ServiceRuntime.start(configuration: config, store: store, channels: router, logger: logger)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = ServiceApp.application(router: ServiceApp.router(runtime: runtime), runtime: runtime) { continuation.yield($0) }
    // The server runs in a service group that the test shuts down gracefully, as SIGTERM would.
    let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        var failure: (any Error)?
        do {
            try await body(TestServer(port: port, runtime: runtime, adapter: adapter))
        } catch {
            failure = error
        }
        await services.triggerGracefulShutdown()
        try await group.waitForAll()
        if let failure { throw failure }
    }
    try await store.close()
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(within seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// The orchestrator run that enrols the live case and sends its first e-mail through `adapter`.
func sendFirstEmail(_ server: TestServer) async throws -> String {
    var config = RunConfiguration()
    config.worker = "setup"
    let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, server.adapter as any ChannelAdapter) }))
    let o = Orchestrator(store: server.store, flows: try await FlowLibrary.load(from: server.store), router: router, model: nil,
                         templates: try TemplateCatalogue.bundled(), configuration: config)
    let run = try await o.run(asOf: Date())
    #expect(run.enrolled == 1 && run.sent == 1, "setup run: \(run)")
    let sent = await server.adapter.records
    #expect(sent.map(\.message.channel) == [.email])
    return try #require(sent.first?.message.messageId)
}

/// The messages of the store as (id, channel, status).
func messages(_ store: any CaseQueue) async throws -> [(id: String, channel: String, status: String)] {
    let t = Schema.messages
    return try await store.allRows(of: t).map { (t.value($0, "id").text!, t.value($0, "channel").text!, t.value($0, "status").text!) }
}

/// A provider event for message `message` of customer C1.
func providerEvent(_ id: String, _ type: String, message: String, at: Date = Date(), detail: [String: Any]? = nil) -> [String: Any] {
    var e: [String: Any] = ["id": id, "type": type, "message_id": message, "customer_id": "C1",
                            "occurred_at": CivilTime.formatInstant(micros: Int64(at.timeIntervalSince1970) * 1_000_000)]
    if let detail { e["detail"] = detail }
    return e
}
