import Crypto
import Foundation
import Logging
import Vocabulary
import Yams

/// An error in the service's configuration: the file (or environment variable), the line, the
/// field and what is wrong.
public struct ServiceConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var source: String
    public var line: Int?
    public var field: String?
    public var message: String

    public init(source: String, line: Int? = nil, field: String? = nil, message: String) {
        self.source = source
        self.line = line
        self.field = field
        self.message = message
    }

    /// `config/service.yaml:7: webhooks.tolerance_seconds: ...`
    public var description: String {
        var s = source
        if let line { s += ":\(line)" }
        s += ": "
        if let field { s += field + ": " }
        return s + message
    }
}

/// An API key of the JSON API: its name (logged), the SHA-256 of the key (the key itself is never
/// stored) and what it may do.
public struct APIKey: Sendable, Hashable {
    public var name: String
    /// Lower-case hex SHA-256 of the key's UTF-8 bytes.
    public var sha256: String
    /// `decisions`, `outcomes`, or `*` for everything.
    public var scopes: Set<String>

    public init(name: String, sha256: String, scopes: Set<String>) {
        self.name = name
        self.sha256 = sha256.lowercased()
        self.scopes = scopes
    }

    /// The lower-case hex SHA-256 of `key`, as `sha256` holds it.
    public static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).lowercaseHex
    }

    /// Whether the key may use `scope`.
    public func allows(_ scope: String) -> Bool { scopes.contains(scope) || scopes.contains("*") }
}

/// How `pom-orchestrate serve` runs: where it listens, what it reacts with, who may call it.
///
/// Read from a YAML file (`--config`, format in `docs/service.md`, example in
/// `config/service.example.yaml`), then environment variables `POM_*` override single keys, then
/// command-line flags override both. Secrets (webhook secrets, the link secret, API keys) come from
/// the environment or from files, never from the command line.
public struct ServiceConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port = 8080
    /// The channel configuration the reactions send through (`config/channels.example.yaml`); nil
    /// records events and decides, but a reaction that must send fails its messages.
    public var channelsFile: String?
    /// The registry name of the promoted model the decision API and the treatment arm use.
    public var model = "channel"
    /// `/readyz` fails while no promoted model is loaded.
    public var requireModel = true
    /// How often the promoted model is looked up again (a newly promoted version takes over).
    public var modelRefreshSeconds: Double = 60
    /// The A/B experiment (fixed in the store at its first use, as for `pom-orchestrate run`).
    public var experiment: String?
    public var treatmentShare: Double = 0.5
    /// The lease owner of the service's reaction runs.
    public var worker = "service"
    public var paymentLinkBase = "http://127.0.0.1:8080"
    /// The payment page's provider: `test` (every payment succeeds at once and is recorded: for
    /// demos and tests only) or nil, when the page offers contact enrichment and says that online
    /// payment is not available.
    public var paymentProvider: String?
    public var linkSecret = "pom-development-secret"
    /// A webhook whose timestamp is further than this from the server's clock is refused.
    public var webhookToleranceSeconds: Double = 300
    /// Webhook providers and their signing secrets, by the name in `/v1/webhooks/{provider}`.
    public var webhookSecrets: [String: String] = [:]
    /// Providers of the file whose secret the environment gives.
    var providersFromEnvironment: Set<String> = []
    public var apiKeys: [APIKey] = []
    /// Decision API defaults.
    public var decisionWindowHours: Double = 6
    public var defaultChannel: Channel = .email
    public var defaultTone: Tone = .neutral
    /// Events (and decisions) written per transaction at most.
    public var maxBatch = 1000
    /// Largest accepted request body.
    public var maxBodyBytes = 1 << 20
    public var logLevel: Logger.Level = .info
    /// `json` (one object a line) or `text`.
    public var logFormat = "json"

    public init() {}

    /// Keys of the file (top level and nested), for the "unknown key" error.
    static let fileKeys: Set<String> = [
        "version", "host", "port", "channels", "model", "require_model", "model_refresh_seconds", "experiment", "treatment_share",
        "worker", "payment_link_base", "payment_provider", "link_secret_file", "webhooks", "api_keys", "decisions", "max_batch", "max_body_bytes",
        "log_level", "log_format",
    ]

    /// Reads `file` (nil: defaults only), then applies `environment`.
    /// - Throws: `ServiceConfigurationError` naming the file and line or the variable.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServiceConfiguration {
        var c = ServiceConfiguration()
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ServiceConfigurationError(source: file, message: "cannot read the file")
            }
            try c.apply(yaml: String(decoding: data, as: UTF8.self), file: file, environment: environment)
        }
        try c.apply(environment: environment)
        return c
    }

    // MARK: File

    mutating func apply(yaml text: String, file: String, environment: [String: String]) throws {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw ServiceConfigurationError(source: file, line: 1, message: "the file is empty") }
            root = node
        } catch let e as YamlError {
            throw ServiceConfigurationError(source: file, message: "not valid YAML: \(e)")
        }
        let top = try Fields(root, file: file, path: "", allowed: Self.fileKeys)
        if let v = top["version"], try top.int(v, "version") != 1 { throw top.error(v, "version", "only version 1 is known") }
        if let v = top["host"] { host = try top.string(v, "host") }
        if let v = top["port"] { port = try top.int(v, "port", in: 0...65_535) }
        if let v = top["channels"] { channelsFile = Self.relative(try top.string(v, "channels"), to: file) }
        if let v = top["model"] { model = try top.string(v, "model") }
        if let v = top["require_model"] { requireModel = try top.bool(v, "require_model") }
        if let v = top["model_refresh_seconds"] { modelRefreshSeconds = try top.double(v, "model_refresh_seconds", positive: true) }
        if let v = top["experiment"] { experiment = try top.string(v, "experiment") }
        if let v = top["treatment_share"] {
            treatmentShare = try top.double(v, "treatment_share")
            guard (0...1).contains(treatmentShare) else { throw top.error(v, "treatment_share", "must lie in [0, 1], got \(treatmentShare)") }
        }
        if let v = top["worker"] { worker = try top.string(v, "worker") }
        if let v = top["payment_link_base"] { paymentLinkBase = try top.string(v, "payment_link_base") }
        if let v = top["payment_provider"] {
            paymentProvider = try top.string(v, "payment_provider")
            guard paymentProvider == "test" else { throw top.error(v, "payment_provider", "must be test (the built-in test provider), got '\(paymentProvider!)'") }
        }
        if let v = top["link_secret_file"] { linkSecret = try Self.secret(file: Self.relative(try top.string(v, "link_secret_file"), to: file), source: file, line: v.mark?.line, field: "link_secret_file") }
        if let v = top["max_batch"] { maxBatch = try top.int(v, "max_batch", in: 1...100_000) }
        if let v = top["max_body_bytes"] { maxBodyBytes = try top.int(v, "max_body_bytes", in: 1_024...(64 << 20)) }
        if let v = top["log_level"] { logLevel = try Self.level(try top.string(v, "log_level"), source: file, line: v.mark?.line, field: "log_level") }
        if let v = top["log_format"] {
            logFormat = try top.string(v, "log_format")
            guard ["json", "text"].contains(logFormat) else { throw top.error(v, "log_format", "must be json or text, got '\(logFormat)'") }
        }
        if let v = top["webhooks"] {
            let w = try Fields(v, file: file, path: "webhooks", allowed: ["tolerance_seconds", "providers"])
            if let t = w["tolerance_seconds"] { webhookToleranceSeconds = try w.double(t, "tolerance_seconds", positive: true) }
            if let p = w["providers"] {
                guard let map = p.mapping else { throw w.error(p, "providers", "must be a mapping of provider name to its secret") }
                for (k, value) in map {
                    guard let name = k.string, Self.isProviderName(name) else {
                        throw ServiceConfigurationError(source: file, line: k.mark.map { $0.line }, field: "webhooks.providers",
                                                        message: "provider names are letters, digits, '-' and '_', got '\(k.string ?? "")'")
                    }
                    let path = "webhooks.providers.\(name)"
                    let f = try Fields(value, file: file, path: path, allowed: ["secret_env", "secret_file"])
                    var secret: String?
                    if let s = f["secret_file"] {
                        secret = try Self.secret(file: Self.relative(try f.string(s, "secret_file"), to: file), source: file, line: s.mark?.line,
                                                 field: path + ".secret_file")
                    }
                    if let s = f["secret_env"] {
                        let variable = try f.string(s, "secret_env")
                        guard let value = environment[variable], !value.isEmpty else {
                            throw f.error(s, "secret_env", "environment variable \(variable) is not set")
                        }
                        secret = value
                    }
                    // Without either, the secret comes from POM_WEBHOOK_SECRET_<NAME> or POM_WEBHOOK_SECRET.
                    if let secret { webhookSecrets[name] = secret } else { providersFromEnvironment.insert(name) }
                }
            }
        }
        if let v = top["api_keys"] {
            guard let items = v.sequence else { throw top.error(v, "api_keys", "must be a list of {name, sha256, scopes}") }
            for (i, item) in items.enumerated() {
                let path = "api_keys[\(i)]"
                let f = try Fields(item, file: file, path: path, allowed: ["name", "sha256", "scopes"])
                guard let n = f["name"], let h = f["sha256"], let s = f["scopes"] else {
                    throw f.error(item, "", "every API key needs name, sha256 and scopes")
                }
                let hash = try f.string(h, "sha256").lowercased()
                guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
                    throw f.error(h, "sha256", "must be the 64 hex digits of the key's SHA-256 (printf %s KEY | sha256sum)")
                }
                guard let list = s.sequence, !list.isEmpty else { throw f.error(s, "scopes", "must be a non-empty list") }
                var scopes = Set<String>()
                for scope in list {
                    guard let text = scope.string, Self.isScope(text) else {
                        throw f.error(scope, "scopes", "unknown scope '\(scope.string ?? "")'; known: decisions, outcomes, *")
                    }
                    scopes.insert(text)
                }
                apiKeys.append(APIKey(name: try f.string(n, "name"), sha256: hash, scopes: scopes))
            }
        }
        if let v = top["decisions"] {
            let f = try Fields(v, file: file, path: "decisions", allowed: ["window_hours", "default_channel", "default_tone"])
            if let w = f["window_hours"] { decisionWindowHours = try f.double(w, "window_hours", positive: true) }
            if let d = f["default_channel"] {
                let text = try f.string(d, "default_channel")
                guard let ch = Channel(rawValue: text) else {
                    throw f.error(d, "default_channel", "unknown channel '\(text)'; one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                defaultChannel = ch
            }
            if let d = f["default_tone"] {
                let text = try f.string(d, "default_tone")
                guard let tone = Tone(rawValue: text) else {
                    throw f.error(d, "default_tone", "unknown tone '\(text)'; one of \(Tone.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                defaultTone = tone
            }
        }
    }

    // MARK: Environment

    /// Applies `POM_*` variables (documented in `docs/service.md`).
    mutating func apply(environment env: [String: String]) throws {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        func number(_ name: String) throws -> Double? {
            guard let text = value(name) else { return nil }
            guard let d = Double(text), d.isFinite else { throw ServiceConfigurationError(source: name, message: "must be a number, got '\(text)'") }
            return d
        }
        if let v = value("POM_HOST") { host = v }
        if let v = value("POM_PORT") {
            guard let p = Int(v), (0...65_535).contains(p) else { throw ServiceConfigurationError(source: "POM_PORT", message: "must be a port 0-65535, got '\(v)'") }
            port = p
        }
        if let v = value("POM_CHANNELS") { channelsFile = v }
        if let v = value("POM_MODEL") { model = v }
        if let v = value("POM_EXPERIMENT") { experiment = v }
        if let v = value("POM_REQUIRE_MODEL") {
            guard let b = ["true": true, "1": true, "false": false, "0": false][v.lowercased()] else {
                throw ServiceConfigurationError(source: "POM_REQUIRE_MODEL", message: "must be true or false, got '\(v)'")
            }
            requireModel = b
        }
        if let d = try number("POM_WEBHOOK_TOLERANCE_SECONDS") {
            guard d > 0 else { throw ServiceConfigurationError(source: "POM_WEBHOOK_TOLERANCE_SECONDS", message: "must be positive, got \(d)") }
            webhookToleranceSeconds = d
        }
        if let v = value("POM_PAYMENT_PAGE_URL") ?? value("POM_PAYMENT_LINK_BASE") { paymentLinkBase = v }
        if let v = value("POM_PAYMENT_PROVIDER") {
            guard v == "test" else { throw ServiceConfigurationError(source: "POM_PAYMENT_PROVIDER", message: "must be test (the built-in test provider), got '\(v)'") }
            paymentProvider = v
        }
        if let v = value("POM_LINK_SECRET") { linkSecret = v }
        if let v = value("POM_LINK_SECRET_FILE") { linkSecret = try Self.secret(file: v, source: "POM_LINK_SECRET_FILE", line: nil, field: nil) }
        if let v = value("POM_LOG_LEVEL") { logLevel = try Self.level(v, source: "POM_LOG_LEVEL", line: nil, field: nil) }
        if let v = value("POM_LOG_FORMAT") {
            guard ["json", "text"].contains(v) else { throw ServiceConfigurationError(source: "POM_LOG_FORMAT", message: "must be json or text, got '\(v)'") }
            logFormat = v
        }
        // Webhook providers named in POM_WEBHOOK_PROVIDERS take POM_WEBHOOK_SECRET_<NAME> or POM_WEBHOOK_SECRET.
        var providers = Set(webhookSecrets.keys).union(providersFromEnvironment)
        if let v = value("POM_WEBHOOK_PROVIDERS") {
            for name in v.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                guard Self.isProviderName(name) else {
                    throw ServiceConfigurationError(source: "POM_WEBHOOK_PROVIDERS", message: "provider names are letters, digits, '-' and '_', got '\(name)'")
                }
                providers.insert(name)
            }
        }
        for name in providers {
            let own = Self.providerVariable(name)
            if let s = value(own) { webhookSecrets[name] = s }
            else if let f = value(own + "_FILE") { webhookSecrets[name] = try Self.secret(file: f, source: own + "_FILE", line: nil, field: nil) }
            else if webhookSecrets[name] == nil {
                if let s = value("POM_WEBHOOK_SECRET") { webhookSecrets[name] = s }
                else if let f = value("POM_WEBHOOK_SECRET_FILE") { webhookSecrets[name] = try Self.secret(file: f, source: "POM_WEBHOOK_SECRET_FILE", line: nil, field: nil) }
                else { throw ServiceConfigurationError(source: own, message: "webhook provider '\(name)' has no secret: set \(own) or POM_WEBHOOK_SECRET") }
            }
        }
        // POM_API_KEYS: `name:sha256:scope+scope` entries separated by `;` (or POM_API_KEYS_FILE with one entry a line).
        var entries: [(String, String)] = []
        if let v = value("POM_API_KEYS") { entries += v.split(separator: ";").map { ("POM_API_KEYS", String($0)) } }
        if let f = value("POM_API_KEYS_FILE") {
            entries += try Self.secret(file: f, source: "POM_API_KEYS_FILE", line: nil, field: nil).split(separator: "\n").map { ("POM_API_KEYS_FILE", String($0)) }
        }
        for (source, entry) in entries {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts[1].count == 64, parts[1].allSatisfy(\.isHexDigit) else {
                throw ServiceConfigurationError(source: source, message: "an entry must read name:sha256-hex:scope+scope, got '\(trimmed.prefix(80))'")
            }
            let scopes = Set(parts[2].split(separator: "+").map(String.init))
            guard !scopes.isEmpty, scopes.allSatisfy(Self.isScope) else {
                throw ServiceConfigurationError(source: source, message: "entry '\(parts[0])': scopes must be decisions, outcomes or *, got '\(parts[2])'")
            }
            apiKeys.removeAll { $0.name == parts[0] }
            apiKeys.append(APIKey(name: parts[0], sha256: parts[1], scopes: scopes))
        }
    }

    // MARK: Helpers

    /// `POM_WEBHOOK_SECRET_<NAME>`: the provider name upper-cased, `-` as `_`.
    public static func providerVariable(_ name: String) -> String {
        "POM_WEBHOOK_SECRET_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    static func isProviderName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "-" || $0 == "_" }
    }

    static func isScope(_ s: String) -> Bool { ["decisions", "outcomes", "*"].contains(s) }

    static func relative(_ path: String, to file: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
    }

    /// A secret read from a file, surrounding white space (the trailing newline) removed.
    static func secret(file: String, source: String, line: Int?, field: String?) throws -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ServiceConfigurationError(source: source, line: line, field: field, message: "cannot read the secret file \(file)")
        }
        let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !s.isEmpty else { throw ServiceConfigurationError(source: source, line: line, field: field, message: "the secret file \(file) is empty") }
        return s
    }

    static func level(_ text: String, source: String, line: Int?, field: String?) throws -> Logger.Level {
        guard let l = Logger.Level(rawValue: text.lowercased()) else {
            throw ServiceConfigurationError(source: source, line: line, field: field,
                                            message: "unknown log level '\(text)'; one of trace, debug, info, notice, warning, error, critical")
        }
        return l
    }
}

/// A YAML mapping's fields with typed readers whose errors name the file, line and dotted field.
struct Fields {
    let file: String
    let path: String
    let values: [String: Node]

    init(_ node: Node, file: String, path: String, allowed: Set<String>) throws {
        self.file = file
        self.path = path
        guard let map = node.mapping else {
            throw ServiceConfigurationError(source: file, line: node.mark.map { $0.line }, field: path.isEmpty ? nil : path, message: "must be a mapping")
        }
        var values: [String: Node] = [:]
        for (k, v) in map {
            let key = k.string ?? ""
            guard allowed.contains(key) else {
                throw ServiceConfigurationError(source: file, line: k.mark.map { $0.line }, field: path.isEmpty ? key : path + "." + key,
                                                message: "unknown key; known: \(allowed.sorted().joined(separator: ", "))")
            }
            values[key] = v
        }
        self.values = values
    }

    subscript(key: String) -> Node? { values[key] }

    func error(_ node: Node, _ key: String, _ message: String) -> ServiceConfigurationError {
        let field = [path, key].filter { !$0.isEmpty }.joined(separator: ".")
        return ServiceConfigurationError(source: file, line: node.mark.map { $0.line }, field: field.isEmpty ? nil : field, message: message)
    }

    func string(_ node: Node, _ key: String) throws -> String {
        guard let s = node.scalar?.string, !s.isEmpty else { throw error(node, key, "must be a non-empty string") }
        return s
    }

    func int(_ node: Node, _ key: String, in range: ClosedRange<Int>? = nil) throws -> Int {
        guard let text = node.scalar?.string, let i = Int(text) else { throw error(node, key, "must be an integer, got '\(node.scalar?.string ?? "?")'") }
        if let range, !range.contains(i) { throw error(node, key, "must lie in \(range.lowerBound)...\(range.upperBound), got \(i)") }
        return i
    }

    func double(_ node: Node, _ key: String, positive: Bool = false) throws -> Double {
        guard let text = node.scalar?.string, let d = Double(text), d.isFinite else {
            throw error(node, key, "must be a number, got '\(node.scalar?.string ?? "?")'")
        }
        if positive && d <= 0 { throw error(node, key, "must be positive, got \(d)") }
        return d
    }

    func bool(_ node: Node, _ key: String) throws -> Bool {
        guard let b = node.bool else { throw error(node, key, "must be true or false, got '\(node.scalar?.string ?? "?")'") }
        return b
    }
}
