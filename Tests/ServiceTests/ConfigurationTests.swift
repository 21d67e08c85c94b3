import Foundation
import Testing
import Vocabulary
@testable import Service

@Suite("Service configuration")
struct ConfigurationTests {
    func write(_ text: String) throws -> String {
        let path = try temporaryDirectory("service-config") + "/service.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("The example configuration loads; the environment overrides the file; secrets come from the environment or files")
    func example() throws {
        let example = repositoryRoot.appendingPathComponent("config/service.example.yaml").path
        let env = ["POM_WEBHOOK_SECRET_MAILER": "s-mailer", "POM_WEBHOOK_SECRET": "s-any"]
        let c = try ServiceConfiguration.load(file: example, environment: env)
        #expect(c.port == 8080 && c.host == "127.0.0.1")
        #expect(c.webhookSecrets == ["mailer": "s-mailer", "sms-gateway": "s-any"])
        #expect(c.apiKeys.map(\.name) == ["crm"])
        #expect(c.apiKeys[0].allows("decisions") && !c.apiKeys[0].allows("outcomes"))
        #expect(c.webhookToleranceSeconds == 300)

        let dir = try temporaryDirectory("service-secret")
        try "file-secret\n".write(toFile: dir + "/link", atomically: true, encoding: .utf8)
        let keyHash = APIKey.hash("k-1")
        let o = try ServiceConfiguration.load(file: example, environment: env.merging([
            "POM_PORT": "9090", "POM_HOST": "0.0.0.0", "POM_WEBHOOK_TOLERANCE_SECONDS": "60", "POM_LINK_SECRET_FILE": dir + "/link",
            "POM_API_KEYS": "ledger:\(keyHash):outcomes+decisions", "POM_WEBHOOK_PROVIDERS": "postal",
        ]) { $1 })
        #expect(o.port == 9090 && o.host == "0.0.0.0" && o.webhookToleranceSeconds == 60)
        #expect(o.linkSecret == "file-secret")
        #expect(o.webhookSecrets["postal"] == "s-any")
        #expect(o.apiKeys.first { $0.name == "ledger" } == APIKey(name: "ledger", sha256: keyHash, scopes: ["outcomes", "decisions"]))
    }

    @Test("Errors name the file, line and field, or the variable")
    func errors() throws {
        let unknown = try write("port: 8080\nwebhooks:\n  tolerance: 5\n")
        #expect(throws: ServiceConfigurationError(source: unknown, line: 3, field: "webhooks.tolerance",
                                                  message: "unknown key; known: providers, tolerance_seconds")) {
            try ServiceConfiguration.load(file: unknown, environment: [:])
        }
        let port = try write("port: eighty\n")
        #expect(throws: ServiceConfigurationError(source: port, line: 1, field: "port", message: "must be an integer, got 'eighty'")) {
            try ServiceConfiguration.load(file: port, environment: [:])
        }
        let hash = try write("api_keys:\n  - name: crm\n    sha256: abc\n    scopes: [decisions]\n")
        #expect(throws: ServiceConfigurationError(source: hash, line: 3, field: "api_keys[0].sha256",
                                                  message: "must be the 64 hex digits of the key's SHA-256 (printf %s KEY | sha256sum)")) {
            try ServiceConfiguration.load(file: hash, environment: [:])
        }
        let noSecret = try write("webhooks:\n  providers:\n    mailer: {secret_env: MAILER_SECRET}\n")
        #expect(throws: ServiceConfigurationError(source: noSecret, line: 3, field: "webhooks.providers.mailer.secret_env",
                                                  message: "environment variable MAILER_SECRET is not set")) {
            try ServiceConfiguration.load(file: noSecret, environment: [:])
        }
        #expect(throws: ServiceConfigurationError(source: "POM_PORT", message: "must be a port 0-65535, got '99999'")) {
            try ServiceConfiguration.load(file: nil, environment: ["POM_PORT": "99999"])
        }
        #expect(throws: ServiceConfigurationError(source: "POM_WEBHOOK_SECRET_SMS_GATEWAY",
                                                  message: "webhook provider 'sms-gateway' has no secret: set POM_WEBHOOK_SECRET_SMS_GATEWAY or POM_WEBHOOK_SECRET")) {
            try ServiceConfiguration.load(file: nil, environment: ["POM_WEBHOOK_PROVIDERS": "sms-gateway"])
        }
    }
}
