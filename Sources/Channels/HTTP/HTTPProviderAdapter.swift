import Foundation
import AsyncHTTPClient
import NIOCore
import Logging
import LinAlg

/// How the HTTP adapter retries.
///
/// Attempt `k` (1-based) that fails retryably waits `d/2 + u·d/2` before attempt `k + 1`, with
/// `d = min(maxDelay, baseDelay · 2^(k−1))` and `u` uniform in [0, 1) ("equal jitter": exponential
/// backoff that never collapses to zero and spreads clients apart), unless the provider sent
/// `Retry-After` (seconds or an HTTP date), which is waited instead. A `Retry-After` longer than
/// `maxRetryAfter` ends the attempts at once with a retryable error (the outbox tries later).
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts including the first (≥ 1).
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    public var maxRetryAfter: Duration

    public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(8),
                maxRetryAfter: Duration = .seconds(60)) {
        precondition(maxAttempts >= 1, "RetryPolicy: maxAttempts \(maxAttempts) must be at least 1")
        precondition(baseDelay >= .zero && maxDelay >= baseDelay, "RetryPolicy: need 0 ≤ baseDelay ≤ maxDelay")
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait after failed attempt `attempt` (1-based) for a uniform draw `u` in [0, 1).
    public func delay(afterAttempt attempt: Int, u: Double) -> Duration {
        let base = Double(baseDelay.components.seconds) + Double(baseDelay.components.attoseconds) * 1e-18
        let cap = Double(maxDelay.components.seconds) + Double(maxDelay.components.attoseconds) * 1e-18
        let d = min(cap, base * pow(2, Double(attempt - 1)))
        return .milliseconds(Int64(((d / 2 + u * d / 2) * 1000).rounded()))
    }
}

/// Settings of one HTTP provider endpoint.
public struct HTTPProviderConfiguration: Sendable, Hashable {
    /// A header and its value (the value typically comes from an environment variable).
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var url: URL
    /// `POST` unless the provider wants `PUT`.
    public var method: String
    /// Fixed headers (`Content-Type: application/json` is added unless given).
    public var headers: [Header]
    /// The authentication header, if any; its value never appears in errors or logs.
    public var auth: Header?
    /// The header that carries the idempotency key (`Idempotency-Key`), if the provider supports one.
    public var idempotencyHeader: String?
    public var body: JSONBodyTemplate
    /// Dotted path of the provider's message id in the JSON response (`id`, `data.id`,
    /// `messages.0.id`); `nil` to use the idempotency key's hash.
    public var providerIdField: String?
    /// Time limit of one attempt, connection included.
    public var timeout: Duration
    public var retry: RetryPolicy
    /// Which flow condition a permanent 4xx answer means, by status (others: `provider_error`).
    public var statusConditions: [Int: FailureCondition]
    /// Dotted path of a delivery state in the JSON answer, for providers that deliver at once
    /// (`status`); with `deliveredValues` it makes the receipt `.delivered`.
    public var statusField: String?
    /// Values of `statusField` that mean delivered (`["delivered"]`).
    public var deliveredValues: Set<String>

    public init(url: URL, method: String = "POST", headers: [Header] = [], auth: Header? = nil,
                idempotencyHeader: String? = "Idempotency-Key", body: JSONBodyTemplate, providerIdField: String? = "id",
                timeout: Duration = .seconds(10), retry: RetryPolicy = RetryPolicy(), statusConditions: [Int: FailureCondition] = [:],
                statusField: String? = nil, deliveredValues: Set<String> = []) {
        self.url = url
        self.method = method
        self.headers = headers
        self.auth = auth
        self.idempotencyHeader = idempotencyHeader
        self.body = body
        self.providerIdField = providerIdField
        self.timeout = timeout
        self.retry = retry
        self.statusConditions = statusConditions
        self.statusField = statusField
        self.deliveredValues = deliveredValues
    }
}

/// Sends messages to a delivery provider's HTTP API: one JSON request per message, built from a
/// `JSONBodyTemplate`, with the idempotency key in a header so the provider dedupes repeats.
///
/// Outcomes: 2xx is success (the provider id is read from `providerIdField` of the JSON answer);
/// 408, 429, 5xx, timeouts and connection errors are retried (`RetryPolicy`, honouring
/// `Retry-After`) and, when attempts run out, thrown as `ChannelError.retryable`; any other 4xx
/// (and 3xx) is `ChannelError.permanent` with the configured condition (`provider_error` by default).
///
/// ```swift
/// let adapter = HTTPProviderAdapter(name: "http:sms", configuration: config, client: .shared)
/// let receipt = try await adapter.send(message)
/// ```
public final class HTTPProviderAdapter: ChannelAdapter {
    public let name: String
    public let configuration: HTTPProviderConfiguration
    let client: HTTPClient
    let sleep: @Sendable (Duration) async throws -> Void
    let clock: @Sendable () -> Date
    let rng: Locked<Xoshiro256>
    let logger: Logger

    /// - Parameters:
    ///   - client: the HTTP client (its owner shuts it down); `HTTPClient.shared` by default.
    ///   - jitterSeed: seed of the backoff jitter (fixed in tests; random by default).
    ///   - sleep: how to wait between attempts (`Task.sleep` by default; tests record instead).
    public init(name: String, configuration: HTTPProviderConfiguration, client: HTTPClient = .shared,
                jitterSeed: UInt64 = UInt64.random(in: 0...UInt64.max), logger: Logger = Logger(label: "pom.channels.http"),
                clock: @escaping @Sendable () -> Date = Date.init,
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.name = name
        self.configuration = configuration
        self.client = client
        self.rng = Locked(Xoshiro256(seed: jitterSeed))
        self.logger = logger
        self.clock = clock
        self.sleep = sleep
    }

    enum Attempt {
        case success(SendReceipt)
        case retry(String, retryAfter: Duration?)
        case fail(String, FailureCondition)
    }

    public func send(_ message: OutgoingMessage) async throws -> SendReceipt {
        try message.checkRecipient()
        let body = Array(configuration.body.render(message).utf8)
        var lastReason = ""
        for attempt in 1...configuration.retry.maxAttempts {
            switch await attemptOnce(message, body: body) {
            case .success(let receipt):
                return receipt
            case .fail(let reason, let condition):
                throw Channels.ChannelError.permanent("\(name): message \(message.messageId): \(reason)", condition)
            case .retry(let reason, let retryAfter):
                lastReason = reason
                guard attempt < configuration.retry.maxAttempts else { break }
                let wait: Duration
                if let retryAfter {
                    guard retryAfter <= configuration.retry.maxRetryAfter else {
                        throw Channels.ChannelError.retryable("\(name): message \(message.messageId): \(reason); the provider asks to wait \(retryAfter), more than \(configuration.retry.maxRetryAfter)")
                    }
                    wait = retryAfter
                } else {
                    let u = rng.withLock { $0.uniform() }
                    wait = configuration.retry.delay(afterAttempt: attempt, u: u)
                }
                logger.warning("retrying", metadata: ["adapter": "\(name)", "message": "\(message.messageId)", "attempt": "\(attempt)",
                                                      "reason": "\(reason)", "wait": "\(wait)"])
                try await sleep(wait)
            }
        }
        throw Channels.ChannelError.retryable("\(name): message \(message.messageId): gave up after \(configuration.retry.maxAttempts) attempts: \(lastReason)")
    }

    func attemptOnce(_ message: OutgoingMessage, body: [UInt8]) async -> Attempt {
        var request = HTTPClientRequest(url: configuration.url.absoluteString)
        request.method = .RAW(value: configuration.method)
        for h in configuration.headers { request.headers.add(name: h.name, value: h.value) }
        if !request.headers.contains(name: "Content-Type") { request.headers.add(name: "Content-Type", value: "application/json") }
        if let auth = configuration.auth { request.headers.replaceOrAdd(name: auth.name, value: auth.value) }
        if let h = configuration.idempotencyHeader { request.headers.replaceOrAdd(name: h, value: message.idempotencyKey) }
        request.body = .bytes(body)
        let timeout = TimeAmount.nanoseconds(Int64(configuration.timeout.components.seconds) * 1_000_000_000
                                             + configuration.timeout.components.attoseconds / 1_000_000_000)
        do {
            let response = try await client.execute(request, timeout: timeout)
            let data = try await response.body.collect(upTo: 4 << 20)
            let text = String(buffer: data)
            let status = Int(response.status.code)
            switch status {
            case 200..<300:
                let json = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
                let id = providerId(from: json) ?? ("http:" + Files.sha256Hex(message.idempotencyKey).prefix(16))
                let state = configuration.statusField.flatMap { Self.field($0, of: json) }
                let delivered = state.map { configuration.deliveredValues.contains($0) } ?? false
                return .success(SendReceipt(providerId: id, acceptedAt: clock(), status: delivered ? .delivered : .accepted))
            case 408, 429, 500..<600:
                return .retry("HTTP \(status)" + snippet(text), retryAfter: response.headers.first(name: "Retry-After").flatMap(Self.parseRetryAfter))
            default:
                return .fail("HTTP \(status)" + snippet(text), configuration.statusConditions[status] ?? .providerError)
            }
        } catch let e as HTTPClientError where e == .invalidURL || e == .emptyHost || e == .emptyScheme {
            return .fail("the request cannot be made: \(e)", .providerError)
        } catch {
            return .retry("\(error)", retryAfter: nil)
        }
    }

    /// The start of a response body for error messages: `" " + text`, or empty.
    func snippet(_ text: String) -> String {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { return "" }
        return " " + (t.count > 200 ? String(t.prefix(200)) + "..." : t)
    }

    /// The provider id at `providerIdField` of a JSON answer, if there is one.
    func providerId(from json: Any?) -> String? {
        guard let path = configuration.providerIdField else { return nil }
        guard let id = Self.field(path, of: json) else {
            logger.warning("the provider's answer has no field \(path); using the key's hash as provider id", metadata: ["adapter": "\(name)"])
            return nil
        }
        return id
    }

    /// The string or number at dotted `path` (`data.id`, `messages.0.id`) of a parsed JSON value.
    static func field(_ path: String, of json: Any?) -> String? {
        guard var node = json else { return nil }
        for part in path.split(separator: ".") {
            if let dict = node as? [String: Any], let next = dict[String(part)] {
                node = next
            } else if let array = node as? [Any], let k = Int(part), array.indices.contains(k) {
                node = array[k]
            } else {
                return nil
            }
        }
        if let s = node as? String { return s }
        if let n = node as? NSNumber { return n.stringValue }
        return nil
    }

    /// `Retry-After` as seconds (`120`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 9110 §10.2.3).
    static func parseRetryAfter(_ value: String) -> Duration? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let s = Int(v), s >= 0 { return .seconds(s) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = f.date(from: v) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1000))
    }
}
