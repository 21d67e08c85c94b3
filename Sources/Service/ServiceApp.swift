import FeatureStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Optimizer
import Orchestrator
import ServiceLifecycle
import Vocabulary

extension APIError: HTTPResponseError {
    /// `{"error": {"code", "message", "field"}}`.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [String: String] = ["code": code, "message": message]
        if let field { error["field"] = field }
        var response = ServiceApp.json(.object(["error": .object(error.mapValues(JSONValue.string))]), status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}

/// The HTTP service of `pom-orchestrate serve` (Hummingbird): delivery webhooks, the decision and
/// outcome API, health, readiness, metrics and the OpenAPI document (`docs/service.md`).
///
/// ```swift
/// let runtime = try await ServiceRuntime.start(configuration: config, store: store)
/// let router = ServiceApp.router(runtime: runtime)
/// let app = ServiceApp.application(router: router, runtime: runtime)
/// try await app.runService()   // until SIGINT or SIGTERM
/// ```
public enum ServiceApp {
    /// The request context of every route.
    public typealias Context = BasicRequestContext

    /// A router with every route of the service; further routes (the payment page) can be added
    /// to it before the application is built.
    public static func router(runtime: ServiceRuntime) -> Router<Context> {
        let router = Router(context: Context.self)
        addOperationRoutes(to: router, runtime: runtime)
        addWebhookRoutes(to: router, runtime: runtime)
        addAPIRoutes(to: router, runtime: runtime)
        return router
    }

    /// The application: the router's server on the configured host and port, with the runtime as
    /// a service of its group (model refresh; queued writes drained on shutdown).
    /// - Parameter onServerRunning: called with the bound port once the server listens (port 0 picks a free one).
    public static func application(router: Router<Context>, runtime: ServiceRuntime,
                                   onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let c = runtime.configuration
        return Application(router: router, configuration: .init(address: .hostname(c.host, port: c.port), serverName: "pom"),
                           services: [runtime],
                           onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? c.port) },
                           logger: runtime.logger)
    }

    // MARK: Operations

    static func addOperationRoutes(to router: Router<Context>, runtime: ServiceRuntime) {
        router.get("/healthz") { _, _ in json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            let store = await runtime.storeReachable()
            let model = runtime.orchestrator.model.map { "\($0.name)@\($0.version)" }
            let ready = store && (model != nil || !runtime.configuration.requireModel)
            var body: [String: String] = ["status": ready ? "ready" : "not_ready", "store": store ? "ok" : "unreachable",
                                          "model": model ?? "none"]
            if !ready {
                body["reason"] = !store ? "the store does not answer" : "no promoted '\(runtime.configuration.model)' model (pom-train models promote)"
            }
            return json(body, status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: runtime.metrics.exposition())))
        }
        router.get("/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: openAPIDocument)))
        }
    }

    /// The OpenAPI 3 document of the JSON API (`Sources/Service/Resources/openapi.yaml`).
    public static let openAPIDocument: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let data = try? Data(contentsOf: url) else {
            preconditionFailure("ServiceApp: the openapi.yaml resource is missing from the bundle")
        }
        return Array(data)
    }()

    // MARK: Webhooks

    static func addWebhookRoutes(to router: Router<Context>, runtime: ServiceRuntime) {
        router.post("/v1/webhooks/:provider") { request, context -> Response in
            let started = ContinuousClock.now
            let provider = context.parameters.get("provider") ?? ""
            do {
                let response = try await webhook(request, provider: provider, runtime: runtime)
                runtime.metrics.webhookRequest(provider: provider, status: Int(response.status.code))
                runtime.metrics.webhookDuration.record(ContinuousClock.now - started)
                return response
            } catch let error as APIError {
                runtime.metrics.webhookRequest(provider: provider, status: error.status.code)
                runtime.metrics.webhookDuration.record(ContinuousClock.now - started)
                runtime.logger.notice("webhook refused", metadata: ["provider": .string(provider), "status": .stringConvertible(error.status.code),
                                                                    "code": .string(error.code), "detail": .string(error.message)])
                throw error
            }
        }
    }

    static func webhook(_ request: Request, provider: String, runtime: ServiceRuntime) async throws -> Response {
        guard let secret = runtime.configuration.webhookSecrets[provider] else {
            throw APIError(.notFound, "unknown_provider", "no webhook provider '\(provider.prefix(64))' is configured (webhooks.providers in the service configuration)")
        }
        let body = try await collect(request, limit: runtime.configuration.maxBodyBytes)
        do {
            try WebhookSignature.verify(header: request.headers[signatureHeader], body: body, secret: secret, now: Date(),
                                        toleranceSeconds: runtime.configuration.webhookToleranceSeconds)
        } catch let failure as WebhookSignature.Failure {
            let code: String
            switch failure {
            case .missing: code = "missing_signature"
            case .malformed: code = "malformed_signature"
            case .outsideWindow: code = "replayed_or_stale"
            case .mismatch: code = "bad_signature"
            }
            throw APIError(.unauthorized, code, failure.description)
        }
        let root = try JSONObject.parse(body)
        var items: [(ProviderEvent, String)] = []
        if case .object(let o) = root, case .array(let list)? = o["events"] {
            guard !list.isEmpty, list.count <= runtime.configuration.maxBatch else {
                throw APIError.badField("events", "must hold 1 to \(runtime.configuration.maxBatch) events")
            }
            for (i, item) in list.enumerated() { items.append((try ProviderEvent(JSONObject(item, path: "events[\(i)]")), "events[\(i)]")) }
        } else {
            items.append((try ProviderEvent(JSONObject(root, path: "")), ""))
        }
        // The invoice of each event is its message's; an unknown message is refused.
        let invoices: [String?]
        do { invoices = try await runtime.invoices(ofMessages: items.map { [$0.0.customerId, $0.0.messageId] }) } catch {
            throw storeFailure(error, runtime: runtime)
        }
        var events: [Event] = []
        for ((e, path), invoice) in zip(items, invoices) {
            guard let invoice else {
                runtime.metrics.webhookEvent(provider: provider, type: e.type, result: "rejected")
                throw APIError(.unprocessableContent, "unknown_message", "no message '\(e.messageId)' of customer '\(e.customerId)' in the store",
                               field: path.isEmpty ? "message_id" : path + ".message_id")
            }
            if let given = e.invoiceId, given != invoice {
                throw APIError(.unprocessableContent, "invoice_mismatch", "message '\(e.messageId)' belongs to invoice '\(invoice)', not '\(given)'",
                               field: path.isEmpty ? "invoice_id" : path + ".invoice_id")
            }
            events.append(e.event(provider: provider, invoiceId: invoice))
        }
        let results = await runtime.submit(events)
        var answers: [[String: String]] = []
        for ((e, _), result) in zip(items, results) {
            switch result {
            case .success(let outcome):
                runtime.metrics.webhookEvent(provider: provider, type: e.type, result: outcome.rawValue)
                answers.append(["id": e.id, "status": outcome.rawValue])
            case .failure(let error):
                runtime.metrics.webhookEvent(provider: provider, type: e.type, result: "rejected")
                throw storeFailure(error, runtime: runtime)
            }
        }
        return json(.object(["events": .array(answers.map { .object($0.mapValues(JSONValue.string)) })]))
    }

    // MARK: Decision and outcome API

    static func addAPIRoutes(to router: Router<Context>, runtime: ServiceRuntime) {
        router.post("/v1/decisions") { request, _ -> Response in
            let started = ContinuousClock.now
            defer { runtime.metrics.decisionDuration.record(ContinuousClock.now - started) }
            try authorize(request, scope: "decisions", runtime: runtime)
            let body = try await collect(request, limit: runtime.configuration.maxBodyBytes)
            let r = try DecisionRequest(JSONObject(JSONObject.parse(body), path: ""))
            let c = runtime.configuration
            let query = DecisionQuery(customerId: r.customerId, invoiceId: r.invoiceId, asOf: r.now ?? Date(),
                                      requestId: r.requestId ?? UUID().uuidString.lowercased(), channels: r.channels, tones: r.tones,
                                      windowHours: r.windowHours ?? c.decisionWindowHours, defaultChannel: c.defaultChannel, defaultTone: c.defaultTone)
            let answer: DecisionAnswer
            do {
                answer = try await runtime.decide(query)
            } catch let e as DecisionQueryError {
                switch e {
                case .unknownCase: throw APIError(.notFound, "unknown_case", e.description, field: "invoice_id")
                case .closedInvoice: throw APIError(.conflict, "closed_invoice", e.description, field: "invoice_id")
                case .noReachableChannel: throw APIError(.unprocessableContent, "no_reachable_channel", e.description)
                }
            } catch let e as APIError {
                throw e
            } catch {
                throw storeFailure(error, runtime: runtime)
            }
            return json(decisionBody(answer))
        }
        router.post("/v1/outcomes") { request, _ -> Response in
            try authorize(request, scope: "outcomes", runtime: runtime)
            let body = try await collect(request, limit: runtime.configuration.maxBodyBytes)
            let outcome = try OutcomeRequest(JSONObject(JSONObject.parse(body), path: ""))
            var e = outcome.event
            guard try await !runtime.store.rows(of: Schema.invoices, keys: [[e.customerId, e.invoiceId]]).isEmpty else {
                throw APIError(.notFound, "unknown_case", "no invoice '\(e.invoiceId)' of customer '\(e.customerId)' in the store", field: "invoice_id")
            }
            if let m = e.messageId, try await runtime.store.rows(of: Schema.messages, keys: [[e.customerId, m]]).isEmpty {
                throw APIError(.unprocessableContent, "unknown_message", "no message '\(m)' of customer '\(e.customerId)' in the store", field: "message_id")
            }
            if e.kind == .payment && e.payload.paymentId == nil { e.payload.paymentId = e.id }
            switch await runtime.submit([e])[0] {
            case .success(let result):
                runtime.metrics.outcome(type: e.kind.rawValue, result: result.rawValue)
                return json(["id": String(e.id.dropFirst(4)), "status": result.rawValue])
            case .failure(let error):
                runtime.metrics.outcome(type: e.kind.rawValue, result: "rejected")
                throw storeFailure(error, runtime: runtime)
            }
        }
    }

    /// The JSON answer of a decision (fields without a value are left out).
    static func decisionBody(_ a: DecisionAnswer) -> JSONValue {
        func two(_ h: Int) -> String { h < 10 ? "0\(h)" : "\(h)" }
        var o: [String: JSONValue] = [
            "decision_id": .string(a.decisionId),
            "customer_id": .string(Schema.decisions.value(a.row, "customer_id").text!),
            "invoice_id": .string(Schema.decisions.value(a.row, "invoice_id").text!),
            "channel": .string(a.action.channel.rawValue),
            "tone": .string(a.action.tone.rawValue),
            "send_at": .string(CivilTime.formatInstant(micros: LiveFeatures.micros(a.sendAt))),
            "send_local": .string(a.sendLocal),
            "time_zone": .string(a.timeZone),
            "weekday": .number(Double(a.action.weekday.rawValue)),
            "hour_window": .string(two(a.action.hour.startHour) + "-" + two(a.action.hour.startHour + 2)),
            "propensity": .number(a.propensity),
            "propensity_is_exact": .bool(a.propensityIsExact),
            "model": .string(a.policy),
            "model_version": .string(a.policyVersion),
            "candidates": .number(Double(a.candidateCount)),
        ]
        if let d = a.propensityDraws { o["propensity_draws"] = .number(Double(d)) }
        if let e = a.experiment { o["experiment"] = .string(e) }
        if let arm = a.arm { o["arm"] = .string(arm.rawValue) }
        if let x = a.explanation { o["explanation"] = .string(x) }
        return .object(o)
    }

    // MARK: Helpers

    static let signatureHeader = HTTPField.Name(WebhookSignature.header)!
    static let apiKeyHeader = HTTPField.Name("X-API-Key")!

    /// Checks the request's API key (`Authorization: Bearer KEY` or `X-API-Key: KEY`) for `scope`.
    static func authorize(_ request: Request, scope: String, runtime: ServiceRuntime) throws {
        var key = request.headers[apiKeyHeader]
        if key == nil, let auth = request.headers[.authorization] { key = bearerToken(auth) }
        guard let key, !key.isEmpty else {
            throw APIError(.unauthorized, "missing_api_key", "send the API key as Authorization: Bearer KEY (or X-API-Key: KEY)")
        }
        guard let found = runtime.apiKey(key) else {
            throw APIError(.unauthorized, "unknown_api_key", "the API key is not known (api_keys holds the SHA-256 of each key)")
        }
        guard found.allows(scope) else {
            throw APIError(.forbidden, "missing_scope", "API key '\(found.name)' lacks the scope '\(scope)' (it has: \(found.scopes.sorted().joined(separator: ", ")))")
        }
    }

    /// The token of `Authorization: Bearer TOKEN` (the scheme's name in any case, blanks around the token dropped).
    static func bearerToken(_ authorization: String) -> String? {
        guard authorization.utf8.count > 7, authorization.utf8.prefix(7).map({ $0 | 0x20 }).elementsEqual("bearer ".utf8) else { return nil }
        var token = authorization.dropFirst(7)
        while let c = token.first, c == " " || c == "\t" { token.removeFirst() }
        while let c = token.last, c == " " || c == "\t" { token.removeLast() }
        return String(token)
    }

    static func collect(_ request: Request, limit: Int) async throws -> [UInt8] {
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "body_too_large", "the body is larger than \(limit) bytes")
        }
    }

    /// A store error as an answer: a constraint the event breaks is the caller's (422), anything else the server's (503).
    static func storeFailure(_ error: any Error, runtime: ServiceRuntime) -> APIError {
        if let e = error as? APIError { return e }
        runtime.logger.error("store", metadata: ["error": .string("\(error)")])
        if let e = error as? StoreError, case .database(_, let code, let message, _) = e,
           code.contains("CONSTRAINT") || code.hasPrefix("23") || message.lowercased().contains("constraint") {
            return APIError(.unprocessableContent, "rejected_by_store", "the store refused the event: \(message)")
        }
        return APIError(.serviceUnavailable, "store_unavailable", "the store could not be written; retry later")
    }

    /// A JSON answer (`JSONValue.text`: compact, keys sorted).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: value.text)))
    }

    /// A JSON object of strings.
    static func json(_ fields: [String: String], status: HTTPResponse.Status = .ok) -> Response {
        json(.object(fields.mapValues(JSONValue.string)), status: status)
    }
}
