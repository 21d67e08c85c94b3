import Foundation
import AsyncHTTPClient
import Vocabulary

/// Which adapter sends each channel, read from a YAML (or JSON) file; secrets come from
/// environment variables written `${NAME}` in the `url`, `headers` and `auth` values.
/// The format is documented in `docs/channels.md`, with `config/channels.example.yaml`.
///
/// Relative paths (`spool.directory`, `dry_run.file`) are taken relative to the configuration
/// file's directory. Every error names the file, the line and the field.
///
/// ```swift
/// let config = try ChannelConfiguration.load(URL(fileURLWithPath: "config/channels.yaml"))
/// let router = try config.makeRouter(simulated: nil)
/// let receipt = try await router.send(message)
/// ```
public struct ChannelConfiguration: Sendable {
    /// The adapter chosen for a channel.
    public enum AdapterChoice: Sendable {
        case http(HTTPProviderConfiguration)
        case spool
        case dryRun
        case simulated
    }

    /// The file the configuration came from (for errors).
    public var file: String
    public var adapters: [Channel: AdapterChoice]
    /// The line of each channel's entry (for errors raised when adapters are made).
    public var lines: [Channel: Int]
    /// The spool directory shared by every `spool` channel.
    public var spoolDirectory: URL?
    public var spoolOptions: SpoolAdapter.Options
    /// The dry-run log shared by every `dry_run` channel (`nil`: in memory).
    public var dryRunFile: URL?

    /// Reads the configuration in `url`.
    /// - Parameter environment: where `${NAME}` values come from.
    /// - Throws: `ChannelConfigurationError` naming the file, line and field.
    public static func load(_ url: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ChannelConfiguration {
        try parse(YAMLValue.load(url), baseDirectory: url.deletingLastPathComponent(), environment: environment)
    }

    /// Reads a configuration from `text`, named `file` in errors.
    public static func parse(_ text: String, file: String, baseDirectory: URL,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ChannelConfiguration {
        try parse(YAMLValue.parse(text, file: file), baseDirectory: baseDirectory, environment: environment)
    }

    static func parse(_ root: YAMLValue, baseDirectory: URL, environment: [String: String]) throws -> ChannelConfiguration {
        let f = try root.fields(allowed: ["version", "channels", "spool", "dry_run"])
        if let v = f["version"] {
            guard try v.int() == 1 else { throw v.error("only version 1 is known") }
        }
        func path(_ v: YAMLValue) throws -> URL {
            let p = try v.string()
            guard !p.isEmpty else { throw v.error("must not be empty") }
            return p.hasPrefix("/") ? URL(fileURLWithPath: p) : baseDirectory.appendingPathComponent(p)
        }
        var config = ChannelConfiguration(file: root.file, adapters: [:], lines: [:], spoolDirectory: nil,
                                          spoolOptions: SpoolAdapter.Options(), dryRunFile: nil)
        if let s = f["spool"] {
            let sf = try s.fields(allowed: ["directory", "email_from", "message_id_domain", "batch_size"])
            config.spoolDirectory = try path(sf.required("directory", in: s))
            var sizes: [Channel: Int] = [:]
            if let b = sf["batch_size"] {
                for (k, v) in try b.mapping() {
                    guard let c = Channel(rawValue: k) else { throw v.error("unknown channel '\(k)'; expected one of \(channelList)") }
                    let n = try v.int()
                    guard n > 0 else { throw v.error("must be a positive number of messages, found \(n)") }
                    sizes[c] = n
                }
            }
            config.spoolOptions = SpoolAdapter.Options(batchSize: sizes,
                                                       emailFrom: try sf["email_from"]?.string() ?? config.spoolOptions.emailFrom,
                                                       messageIdDomain: try sf["message_id_domain"]?.string() ?? config.spoolOptions.messageIdDomain)
        }
        if let d = f["dry_run"] {
            let df = try d.fields(allowed: ["file"])
            config.dryRunFile = try df["file"].map(path)
        }
        let channels = try f.required("channels", in: root)
        for (name, entry) in try channels.mapping() {
            guard let channel = Channel(rawValue: name) else {
                throw ChannelConfigurationError(file: entry.file, line: entry.keyLine, field: entry.path,
                                                message: "unknown channel; expected one of \(channelList)")
            }
            let ef = try entry.fields(allowed: ["adapter", "http"])
            let adapterValue = try ef.required("adapter", in: entry)
            let kind = try adapterValue.string()
            config.lines[channel] = entry.keyLine
            switch kind {
            case "http":
                config.adapters[channel] = .http(try http(ef.required("http", in: entry), environment: environment))
            case "spool", "dry_run", "simulated":
                if let h = ef["http"] { throw h.error("only an http adapter takes http settings") }
                if kind == "spool" && config.spoolDirectory == nil {
                    throw adapterValue.error("the spool adapter needs a top-level spool: {directory: ...} section")
                }
                config.adapters[channel] = kind == "spool" ? .spool : kind == "dry_run" ? .dryRun : .simulated
            default:
                throw adapterValue.error("unknown adapter '\(kind)'; expected http, spool, dry_run or simulated")
            }
        }
        return config
    }

    static var channelList: String { Channel.allCases.map(\.rawValue).joined(separator: ", ") }

    /// `text` with every `${NAME}` replaced from `environment`.
    static func interpolate(_ v: YAMLValue, _ environment: [String: String]) throws -> String {
        let text = try v.string()
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { throw v.error("'${' without a closing '}'") }
            let name = String(rest[open.upperBound..<close])
            guard let value = environment[name] else {
                throw v.error("the environment variable \(name) is not set (export it, e.g. \(name)=...)")
            }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func http(_ h: YAMLValue, environment: [String: String]) throws -> HTTPProviderConfiguration {
        let f = try h.fields(allowed: ["url", "method", "headers", "auth", "idempotency_header", "body", "provider_id_field",
                                       "timeout_seconds", "retry", "status_conditions", "status_field",
                                       "delivered_values"])
        let urlValue = try f.required("url", in: h)
        let urlText = try interpolate(urlValue, environment)
        guard let url = URL(string: urlText), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
            throw urlValue.error("expected an http:// or https:// URL with a host")
        }
        var headers: [HTTPProviderConfiguration.Header] = []
        if let hs = f["headers"] {
            for (k, v) in try hs.mapping() { headers.append(.init(name: k, value: try interpolate(v, environment))) }
        }
        var auth: HTTPProviderConfiguration.Header?
        if let a = f["auth"] {
            let af = try a.fields(allowed: ["header", "value"])
            auth = .init(name: try af.required("header", in: a).string(), value: try interpolate(af.required("value", in: a), environment))
        }
        let bodyValue = try f.required("body", in: h)
        let body: JSONBodyTemplate
        do {
            body = try JSONBodyTemplate(try bodyValue.string())
        } catch let p as JSONBodyTemplate.Problem {
            let first = (bodyValue.line ?? 1) + (bodyValue.isBlockScalar ? 1 : 0)
            throw ChannelConfigurationError(file: bodyValue.file, line: first + p.line - 1, field: bodyValue.path, message: p.message)
        }
        var timeout = Duration.seconds(10)
        if let t = f["timeout_seconds"] {
            let s = try t.double()
            guard s > 0 else { throw t.error("must be positive") }
            timeout = .milliseconds(Int64(s * 1000))
        }
        var retry = RetryPolicy()
        if let r = f["retry"] {
            let rf = try r.fields(allowed: ["max_attempts", "base_delay_ms", "max_delay_ms", "max_retry_after_seconds"])
            if let v = rf["max_attempts"] {
                retry.maxAttempts = try v.int()
                guard retry.maxAttempts >= 1 else { throw v.error("must be at least 1") }
            }
            if let v = rf["base_delay_ms"] { retry.baseDelay = .milliseconds(try v.int()) }
            if let v = rf["max_delay_ms"] { retry.maxDelay = .milliseconds(try v.int()) }
            if let v = rf["max_retry_after_seconds"] { retry.maxRetryAfter = .seconds(try v.int()) }
            guard retry.baseDelay >= .zero, retry.maxDelay >= retry.baseDelay else {
                throw r.error("need 0 <= base_delay_ms <= max_delay_ms")
            }
        }
        var conditions: [Int: FailureCondition] = [:]
        if let sc = f["status_conditions"] {
            for (k, v) in try sc.mapping() {
                guard let code = Int(k), (400..<500).contains(code), code != 408, code != 429 else {
                    throw v.error("keys are 4xx status codes other than 408 and 429 (those are retried)")
                }
                guard let c = FailureCondition(rawValue: try v.string()) else {
                    throw v.error("unknown condition \(v.describe); expected one of \(FailureCondition.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                conditions[code] = c
            }
        }
        let providerIdField = try f["provider_id_field"]?.string()
        let statusField = try f["status_field"]?.string()
        let deliveredValues = try f["delivered_values"].map { try $0.sequence().map { try $0.string() } } ?? []
        if let d = f["delivered_values"], statusField == nil { throw d.error("needs status_field (where the answer says delivered)") }
        return HTTPProviderConfiguration(
            url: url, method: try f["method"]?.string().uppercased() ?? "POST", headers: headers, auth: auth,
            idempotencyHeader: try f["idempotency_header"]?.string() ?? "Idempotency-Key", body: body,
            providerIdField: providerIdField?.isEmpty == true ? nil : providerIdField ?? "id",
            timeout: timeout, retry: retry, statusConditions: conditions, statusField: statusField,
            deliveredValues: Set(deliveredValues))
    }

    /// Makes the adapters: one `HTTPProviderAdapter` per `http` channel, one `SpoolAdapter` and one
    /// `DryRunAdapter` shared by their channels, and `simulated` for the simulated channels.
    /// - Throws: `ChannelConfigurationError` when a channel wants the simulated world and none is given.
    public func makeRouter(client: HTTPClient = .shared, simulated: SimulatedChannel? = nil,
                           clock: @escaping @Sendable () -> Date = Date.init) throws -> ChannelRouter {
        var spool: SpoolAdapter?
        var dryRun: DryRunAdapter?
        var out: [Channel: any ChannelAdapter] = [:]
        for (channel, choice) in adapters.sorted(by: { $0.key < $1.key }) {
            switch choice {
            case .http(let h):
                out[channel] = HTTPProviderAdapter(name: "http:" + channel.rawValue, configuration: h, client: client, clock: clock)
            case .spool:
                if spool == nil { spool = try SpoolAdapter(directory: spoolDirectory!, options: spoolOptions, clock: clock) }
                out[channel] = spool
            case .dryRun:
                if dryRun == nil { dryRun = try dryRunFile.map { try DryRunAdapter(file: $0, clock: clock) } ?? DryRunAdapter(clock: clock) }
                out[channel] = dryRun
            case .simulated:
                guard let simulated else {
                    throw ChannelConfigurationError(file: file, line: lines[channel], field: "channels.\(channel.rawValue).adapter",
                                                    message: "the simulated adapter needs a simulated world (closed-loop runs only)")
                }
                out[channel] = simulated
            }
        }
        return ChannelRouter(adapters: out)
    }
}

/// The adapter of each channel, and sending through it.
public struct ChannelRouter: Sendable {
    public let adapters: [Channel: any ChannelAdapter]

    public init(adapters: [Channel: any ChannelAdapter]) {
        self.adapters = adapters
    }

    /// Sends `message` through its channel's adapter.
    /// - Throws: `ChannelError.permanent(_, .providerError)` when no adapter serves the channel,
    ///   else whatever the adapter throws.
    public func send(_ message: OutgoingMessage) async throws -> SendReceipt {
        guard let adapter = adapters[message.channel] else {
            throw ChannelError.permanent("no adapter is configured for channel \(message.channel.rawValue)", .providerError)
        }
        return try await adapter.send(message)
    }

    /// Flushes every adapter once (shared adapters once only).
    public func flush() async throws {
        var seen = Set<ObjectIdentifier>()
        for c in Channel.allCases {
            guard let a = adapters[c] else { continue }
            if !seen.insert(ObjectIdentifier(a as AnyObject)).inserted { continue }
            try await a.flush()
        }
    }
}
