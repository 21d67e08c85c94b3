import Foundation
import Optimizer
import Testing
import Yams
@testable import Service

/// Checks a decoded JSON value against an OpenAPI 3.0 schema: `$ref`, `type`, `required`,
/// `properties`, `enum`, `items`, `oneOf`, `minimum`, `maximum` — the keywords the document uses.
struct SchemaCheck {
    let document: [String: Any]

    func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String else { return schema }
        var node: Any = document
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as! [String: Any])[String(part)]! }
        return resolve(node as! [String: Any])
    }

    /// The problems of `value` against `schema`, each with its JSON path.
    func problems(_ value: JSONValue, _ raw: [String: Any], path: String = "$") -> [String] {
        let schema = resolve(raw)
        if let options = schema["oneOf"] as? [[String: Any]] {
            let fits = options.filter { problems(value, $0, path: path).isEmpty }.count
            return fits == 1 ? [] : ["\(path): fits \(fits) of the oneOf schemas, not exactly one"]
        }
        var out: [String] = []
        if let allowed = schema["enum"] as? [Any] {
            let text: String?
            switch value {
            case .string(let s): text = s
            case .number(let d): text = String(d)
            default: text = nil
            }
            if let text, !allowed.map({ "\($0)" }).contains(text) { out.append("\(path): '\(text)' is not one of \(allowed)") }
        }
        switch (schema["type"] as? String, value) {
        case (nil, _): break
        case ("object", .object(let o)):
            for key in schema["required"] as? [String] ?? [] where o[key] == nil { out.append("\(path).\(key): required but missing") }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, v) in o {
                guard let p = properties[key] as? [String: Any] else { out.append("\(path).\(key): not in the schema"); continue }
                out += problems(v, p, path: "\(path).\(key)")
            }
        case ("array", .array(let items)):
            if let item = schema["items"] as? [String: Any] {
                for (i, v) in items.enumerated() { out += problems(v, item, path: "\(path)[\(i)]") }
            }
        case ("string", .string): break
        case ("boolean", .bool): break
        case ("number", .number(let d)), ("integer", .number(let d)):
            if schema["type"] as? String == "integer" && d != d.rounded() { out.append("\(path): \(d) is not an integer") }
            if let min = (schema["minimum"] as? NSNumber)?.doubleValue ?? (schema["minimum"] as? Int).map(Double.init), d < min { out.append("\(path): \(d) < \(min)") }
            if let max = (schema["maximum"] as? NSNumber)?.doubleValue ?? (schema["maximum"] as? Int).map(Double.init), d > max { out.append("\(path): \(d) > \(max)") }
        case (let t?, _):
            out.append("\(path): expected \(t), got \(value)")
        }
        return out
    }
}

@Suite("The OpenAPI document matches the server", .serialized)
struct OpenAPITests {
    static let documentURL = repositoryRoot.appendingPathComponent("Sources/Service/Resources/openapi.yaml")

    @Test("Every documented operation is routed, answers with a documented status, and its JSON validates against the schema")
    func conformance() async throws {
        let text = try String(contentsOf: Self.documentURL, encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        let check = SchemaCheck(document: document)

        try await withServer { server in
            let email = try await sendFirstEmail(server)
            let decision: [String: Any] = ["customer_id": "C1", "invoice_id": "I1", "request_id": "r-1",
                                           "constraints": ["channels": ["email", "sms"], "window_hours": 6]]
            let outcome: [String: Any] = ["event_id": "o-1", "type": "page_visit", "customer_id": "C1", "invoice_id": "I1",
                                          "occurred_at": "2026-11-29T10:00:00Z", "via": "qr"]
            // Requests per operation: (description, expected status, perform).
            typealias Call = (String, Int, () async throws -> (Int, [UInt8], String?))
            func get(_ path: String) -> () async throws -> (Int, [UInt8], String?) {
                { let r = try await server.request(.GET, path); return (r.status, r.body, r.headers["Content-Type"].first) }
            }
            func post(_ path: String, _ body: Any, headers: [(String, String)]) -> () async throws -> (Int, [UInt8], String?) {
                {
                    let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
                    let r = try await server.request(.POST, path, body: Array(data), headers: headers)
                    return (r.status, r.body, r.headers["Content-Type"].first)
                }
            }
            func signed(_ event: [String: Any], secret: String = TestKeys.secret) throws -> [(String, String)] {
                let data = try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])
                return [("Pom-Signature", WebhookSignature.sign(body: data, secret: secret, timestamp: Int64(Date().timeIntervalSince1970)))]
            }
            // Sorted keys: the bytes signed are the bytes sent.
            let delivered = providerEvent("evt-1", "delivered", message: email)
            let batch: [String: Any] = ["events": [providerEvent("evt-2", "opened", message: email), providerEvent("evt-3", "clicked", message: email)]]
            let calls: [String: [Call]] = [
                "GET /healthz": [("up", 200, get("/healthz"))],
                "GET /readyz": [("ready", 200, get("/readyz"))],
                "GET /metrics": [("metrics", 200, get("/metrics"))],
                "GET /openapi.yaml": [("document", 200, get("/openapi.yaml"))],
                "POST /v1/webhooks/{provider}": [
                    ("one event", 200, post("/v1/webhooks/mailer", delivered, headers: try signed(delivered))),
                    ("a batch", 200, post("/v1/webhooks/mailer", batch, headers: try signed(batch))),
                    ("bad signature", 401, post("/v1/webhooks/mailer", delivered, headers: try signed(delivered, secret: "x"))),
                    ("unknown provider", 404, post("/v1/webhooks/nobody", delivered, headers: try signed(delivered))),
                    ("missing field", 400, post("/v1/webhooks/mailer", ["id": "x"], headers: try signed(["id": "x"]))),
                ],
                "POST /v1/decisions": [
                    ("decision", 200, post("/v1/decisions", decision, headers: [("Authorization", "Bearer \(TestKeys.decisionsKey)")])),
                    ("no key", 401, post("/v1/decisions", decision, headers: [])),
                    ("wrong scope", 403, post("/v1/decisions", decision, headers: [("X-API-Key", TestKeys.outcomesKey)])),
                    ("unknown case", 404, post("/v1/decisions", ["customer_id": "C9", "invoice_id": "I9"],
                                                headers: [("X-API-Key", TestKeys.decisionsKey)])),
                ],
                "POST /v1/outcomes": [
                    ("outcome", 200, post("/v1/outcomes", outcome, headers: [("X-API-Key", TestKeys.outcomesKey)])),
                    ("bad type", 400, post("/v1/outcomes", ["event_id": "o-2", "type": "telepathy"], headers: [("X-API-Key", TestKeys.outcomesKey)])),
                ],
            ]
            var documented = Set<String>()
            for (path, item) in paths {
                for (method, op) in try #require(item as? [String: Any]) {
                    let key = method.uppercased() + " " + path
                    documented.insert(key)
                    let operation = try #require(op as? [String: Any])
                    let responses = try #require(operation["responses"] as? [String: Any])
                    let samples = try #require(calls[key], "the documented operation \(key) has no request in this test")
                    for (label, expected, perform) in samples {
                        let (status, body, contentType) = try await perform()
                        #expect(status == expected, "\(key) \(label): status \(status), body \(String(decoding: body, as: UTF8.self))")
                        let response = try #require(responses[String(status)] as? [String: Any], "\(key) \(label): status \(status) is not documented")
                        let content = try #require(check.resolve(response)["content"] as? [String: Any])
                        let mediaType = try #require(contentType?.split(separator: ";").first.map(String.init))
                        let media = try #require(content[mediaType] as? [String: Any], "\(key) \(label): \(mediaType) is not documented")
                        if mediaType == "application/json" {
                            let value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
                            let problems = check.problems(value, try #require(media["schema"] as? [String: Any]))
                            #expect(problems.isEmpty, "\(key) \(label): \(problems)")
                        }
                    }
                }
            }
            #expect(documented == Set(calls.keys), "operations tested but not documented: \(Set(calls.keys).subtracting(documented))")
        }
    }

    @Test("The schema check itself finds missing fields, wrong types and values outside an enum")
    func checkerFindsProblems() throws {
        let document = try #require(try Yams.load(yaml: String(contentsOf: Self.documentURL, encoding: .utf8)) as? [String: Any])
        let check = SchemaCheck(document: document)
        let schema: [String: Any] = ["$ref": "#/components/schemas/EventResult"]
        #expect(check.problems(.object(["id": .string("a"), "status": .string("processed")]), schema).isEmpty)
        #expect(check.problems(.object(["id": .string("a")]), schema) == ["$.status: required but missing"])
        #expect(check.problems(.object(["id": .number(1), "status": .string("lost")]), schema).count == 2)
    }
}
