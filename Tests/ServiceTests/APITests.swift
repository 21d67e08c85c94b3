import Decisioning
import FeatureStoreBackends
import Foundation
import Simulator
import Testing
import Vocabulary
@testable import Service

/// A store with a simulated, randomly logged history, a logistic model trained on it and promoted
/// as `channel@1`, and the live case.
func preparedWithModel(_ store: any CaseQueue) async throws {
    let dir = try temporaryDirectory("service-history")
    let world = World(config: SimulationConfig(customers: 400, days: 90, seed: 2026))
    _ = try Simulation.writeHistory(world: world, policy: UniformRandomPolicy(), directory: dir)
    _ = try await RecordImport.run(directory: dir, into: store)
    let outcome = try await ModelTrainer.train(store: store, request: TrainingRequest(model: "channel", kind: "logistic"))
    #expect(outcome.registered?.version == 1)
    _ = try await store.modelRegistry().promoteModel(model: "channel", version: 1, at: LiveFeatures.micros(Date()))
    try await LiveCase().write(to: store)
}

@Suite("Decision and outcome API over loopback", .serialized)
struct APITests {
    let request: [String: Any] = ["customer_id": "C1", "invoice_id": "I1", "request_id": "req-1"]

    @Test("Decisions need an API key with the decisions scope: 401 without or with an unknown key, 403 with another scope")
    func keys() async throws {
        try await withServer { server in
            let none = try await server.api("/v1/decisions", request, key: nil)
            #expect(none.status == 401 && errorCode(none.json) == "missing_api_key")
            let unknown = try await server.api("/v1/decisions", request, key: "pk-guessed")
            #expect(unknown.status == 401 && errorCode(unknown.json) == "unknown_api_key")
            let scope = try await server.api("/v1/decisions", request, key: TestKeys.outcomesKey)
            #expect(scope.status == 403 && errorCode(scope.json) == "missing_scope")
            let headerKey = try await server.request(.POST, "/v1/decisions", body: Array(try JSONSerialization.data(withJSONObject: request)),
                                                     headers: [("X-API-Key", TestKeys.decisionsKey)])
            #expect(headerKey.status == 200)
            #expect(try await server.store.count(Schema.decisions) == 1)
            // A known key is hashed once; asked again it is still checked for its scope.
            let again = try await server.api("/v1/decisions", request, key: TestKeys.outcomesKey)
            #expect(again.status == 403 && errorCode(again.json) == "missing_scope")
        }
    }

    @Test("Authorization: the bearer scheme in any case, blanks around the token dropped; other schemes carry no key")
    func bearer() {
        #expect(ServiceApp.bearerToken("Bearer pk-1") == "pk-1")
        #expect(ServiceApp.bearerToken("bEARER \t pk-1 \t") == "pk-1")
        #expect(ServiceApp.bearerToken("Basic cGs6MQ==") == nil)
        #expect(ServiceApp.bearerToken("Bearer") == nil)
        #expect(ServiceApp.bearerToken("Bearerpk-1") == nil)
        #expect(ServiceApp.bearerToken("Bearer   ") == "")
    }

    @Test("The promoted model decides channel, tone and send time with its propensity; the decision is logged and reproducible")
    func decisions() async throws {
        try await withServer(configure: { $0.requireModel = true }, prepare: preparedWithModel) { server in
            let ready = try await server.request(.GET, "/readyz")
            #expect(ready.status == 200)
            #expect(try jsonObject(ready.body)["model"] as? String == "channel@1")
            let before = Date()
            let r = try await server.api("/v1/decisions", request, key: TestKeys.decisionsKey)
            #expect(r.status == 200, "\(r.json)")
            let d = r.json
            #expect(d["decision_id"] as? String == "API/req-1")
            #expect(d["model"] as? String == "channel" && d["model_version"] as? String == "1")
            let channel = try #require(d["channel"] as? String)
            #expect(["email", "sms", "letter", "robocall"].contains(channel))
            let propensity = try #require(d["propensity"] as? Double)
            #expect(propensity > 0 && propensity <= 1)
            #expect(d["propensity_is_exact"] as? Bool == true)
            #expect(d["arm"] == nil && d["experiment"] == nil)
            #expect(!(d["explanation"] as? String ?? "").isEmpty)
            // The send time lies within the six-hour send window.
            let sendAt = try #require((d["send_at"] as? String).flatMap { CivilTime.parseInstant(Array($0.utf8)) })
            #expect(Double(sendAt) / 1e6 >= before.timeIntervalSince1970 - 1)
            #expect(Double(sendAt) / 1e6 <= Date().timeIntervalSince1970 + 6 * 3600)
            // Logged as the orchestrator logs its decisions.
            let rows = try await server.store.rows(of: Schema.decisions, keys: [["C1", "API/req-1"]])
            let row = try #require(rows.first)
            let t = Schema.decisions
            #expect(t.value(row, "channel").text == channel)
            #expect(t.value(row, "tone").text == d["tone"] as? String)
            #expect(t.value(row, "propensity").real == propensity)
            #expect(t.value(row, "policy").text == "channel" && t.value(row, "policy_version").text == "1")
            #expect(t.value(row, "context_ref").text == "api")
            // The same request id gives the same choice and one log entry.
            var same = request
            same["now"] = CivilTime.formatInstant(micros: LiveFeatures.micros(before))
            let a = try await server.api("/v1/decisions", same, key: TestKeys.decisionsKey)
            let b = try await server.api("/v1/decisions", same, key: TestKeys.decisionsKey)
            #expect(a.json["channel"] as? String == b.json["channel"] as? String)
            #expect(a.json["propensity"] as? Double == b.json["propensity"] as? Double)
            #expect(a.json["send_at"] as? String == b.json["send_at"] as? String)
            #expect(try await server.store.rows(of: Schema.decisions, customerIds: ["C1"]).count == 1)
            // Constraints restrict the candidates.
            var sms = request
            sms["request_id"] = "req-2"
            sms["constraints"] = ["channels": ["sms"], "tones": ["firm"]]
            let s = try await server.api("/v1/decisions", sms, key: TestKeys.decisionsKey)
            #expect(s.json["channel"] as? String == "sms" && s.json["tone"] as? String == "firm")
            let metrics = String(decoding: try await server.request(.GET, "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("pom_decision_duration_seconds_count 4"))
            #expect(metrics.contains(#"pom_decisions_total{arm="none",channel="sms"}"#))
            #expect(metrics.contains("pom_model_loaded 1"))
        }
    }

    @Test("The control arm of an experiment gets the default channel and tone with propensity 1")
    func controlArm() async throws {
        try await withServer(configure: { $0.experiment = "spring"; $0.treatmentShare = 0 }, prepare: preparedWithModel) { server in
            let r = try await server.api("/v1/decisions", request, key: TestKeys.allKey)
            #expect(r.status == 200)
            #expect(r.json["arm"] as? String == "control" && r.json["experiment"] as? String == "spring")
            #expect(r.json["channel"] as? String == "email" && r.json["tone"] as? String == "neutral")
            #expect(r.json["propensity"] as? Double == 1 && r.json["model"] as? String == "default")
        }
    }

    @Test("A case enrolled in the treatment arm keeps it when the split changes: the model decides from its features")
    func storedTreatmentArm() async throws {
        try await withServer(configure: { $0.experiment = "spring"; $0.treatmentShare = 0 }, prepare: { store in
            try await preparedWithModel(store)
            // Enrolled while the split still sent half of the customers to the treatment.
            var state = [Value](repeating: .null, count: Schema.caseStates.columns.count)
            for (column, value) in [("customer_id", Value.text("C1")), ("invoice_id", .text("I1")), ("flow_name", .text("b2c-consumer-dunning")),
                                    ("flow_version", .integer(1)), ("experiment", .text("spring")), ("arm", .text("treatment")),
                                    ("progress", .text("~1|")), ("updated_at", .integer(0))] {
                state[Schema.caseStates.index(column)] = value
            }
            try await store.apply([.upsert(TableRows(table: Schema.caseStates, rows: [state]))])
        }) { server in
            let r = try await server.api("/v1/decisions", request, key: TestKeys.allKey)
            #expect(r.status == 200, "\(r.json)")
            #expect(r.json["arm"] as? String == "treatment" && r.json["experiment"] as? String == "spring")
            #expect(r.json["model"] as? String == "channel" && r.json["model_version"] as? String == "1")
            #expect(!(r.json["explanation"] as? String ?? "").isEmpty)
        }
    }

    @Test("Unknown cases, closed invoices and bad requests are answered with the field")
    func decisionErrors() async throws {
        try await withServer { server in
            let unknown = try await server.api("/v1/decisions", ["customer_id": "C1", "invoice_id": "I9"], key: TestKeys.decisionsKey)
            #expect(unknown.status == 404 && errorCode(unknown.json) == "unknown_case" && errorField(unknown.json) == "invoice_id")
            let missing = try await server.api("/v1/decisions", ["customer_id": "C1"], key: TestKeys.decisionsKey)
            #expect(missing.status == 400 && errorField(missing.json) == "invoice_id")
            let channel = try await server.api("/v1/decisions", ["customer_id": "C1", "invoice_id": "I1", "constraints": ["channels": ["fax"]]],
                                               key: TestKeys.decisionsKey)
            #expect(channel.status == 400 && errorField(channel.json) == "constraints.channels")
            let push = try await server.api("/v1/decisions", ["customer_id": "C1", "invoice_id": "I1", "constraints": ["channels": ["push"]]],
                                            key: TestKeys.decisionsKey)
            #expect(push.status == 422 && errorCode(push.json) == "no_reachable_channel")
        }
    }

    @Test("Outcomes are stored as events, idempotently; a full payment closes the invoice")
    func outcomes() async throws {
        try await withServer { server in
            let payment: [String: Any] = ["event_id": "pay-1", "type": "payment", "customer_id": "C1", "invoice_id": "I1",
                                          "occurred_at": "2026-11-29T10:00:00Z", "amount_minor": 12_000, "currency": "EUR"]
            let wrong = try await server.api("/v1/outcomes", payment, key: TestKeys.decisionsKey)
            #expect(wrong.status == 403)
            let first = try await server.api("/v1/outcomes", payment, key: TestKeys.outcomesKey)
            #expect(first.status == 200 && first.json["status"] as? String == "processed" && first.json["id"] as? String == "pay-1")
            let again = try await server.api("/v1/outcomes", payment, key: TestKeys.outcomesKey)
            #expect(again.json["status"] as? String == "duplicate")
            let invoice = try await server.store.rows(of: Schema.invoices, keys: [["C1", "I1"]])[0]
            #expect(Schema.invoices.value(invoice, "status").text == "paid")
            #expect(try await server.store.count(Schema.payments) == 1)
            #expect(try await server.store.count(Schema.events) == 1)
            var noAmount = payment
            noAmount["amount_minor"] = nil
            noAmount["event_id"] = "pay-2"
            let bad = try await server.api("/v1/outcomes", noAmount, key: TestKeys.outcomesKey)
            #expect(bad.status == 400 && errorField(bad.json) == "amount_minor")
            var other = payment
            other["invoice_id"] = "I7"
            let unknown = try await server.api("/v1/outcomes", other, key: TestKeys.outcomesKey)
            #expect(unknown.status == 404 && errorField(unknown.json) == "invoice_id")
            // A decision for the paid invoice is refused.
            let closed = try await server.api("/v1/decisions", ["customer_id": "C1", "invoice_id": "I1"], key: TestKeys.decisionsKey)
            #expect(closed.status == 409 && errorCode(closed.json) == "closed_invoice")
        }
    }
}

@Suite("Health, readiness and metrics over loopback", .serialized)
struct OperationsTests {
    @Test("healthz answers; readyz needs the store and, when required, a promoted model")
    func health() async throws {
        try await withServer(configure: { $0.requireModel = true }) { server in
            let h = try await server.request(.GET, "/healthz")
            #expect(try h.status == 200 && (jsonObject(h.body)["status"] as? String) == "ok")
            let r = try await server.request(.GET, "/readyz")
            #expect(r.status == 503)
            let body = try jsonObject(r.body)
            #expect(body["status"] as? String == "not_ready" && body["store"] as? String == "ok" && body["model"] as? String == "none")
            let doc = try await server.request(.GET, "/openapi.yaml")
            #expect(doc.status == 200)
            #expect(doc.body == Array(try Data(contentsOf: repositoryRoot.appendingPathComponent("Sources/Service/Resources/openapi.yaml"))))
        }
        try await withServer { server in
            let r = try await server.request(.GET, "/readyz")
            #expect(try r.status == 200 && (jsonObject(r.body)["store"] as? String) == "ok")
        }
    }

    @Test("metrics count webhook events by type and result, requests by status, and latencies")
    func metrics() async throws {
        try await withServer { server in
            let email = try await sendFirstEmail(server)
            _ = try await server.webhook(providerEvent("e1", "delivered", message: email))
            _ = try await server.webhook(providerEvent("e1", "delivered", message: email))
            _ = try await server.webhook(providerEvent("e2", "opened", message: email), secret: "wrong")
            let m = try await server.request(.GET, "/metrics")
            #expect(m.status == 200)
            #expect(m.headers["Content-Type"].first?.hasPrefix("text/plain") == true)
            let text = String(decoding: m.body, as: UTF8.self)
            #expect(text.contains(#"pom_webhook_events_total{provider="mailer",type="delivered",result="processed"} 1"#))
            #expect(text.contains(#"pom_webhook_events_total{provider="mailer",type="delivered",result="duplicate"} 1"#))
            #expect(text.contains(#"pom_webhook_requests_total{provider="mailer",status="200"} 2"#))
            #expect(text.contains(#"pom_webhook_requests_total{provider="mailer",status="401"} 1"#))
            #expect(text.contains("pom_webhook_duration_seconds_count 3"))
            #expect(text.contains(#"pom_webhook_duration_seconds_bucket{le="+Inf"} 3"#))
            #expect(text.contains("pom_model_loaded 0"))
        }
    }
}
