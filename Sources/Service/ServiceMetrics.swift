import Foundation
import Prometheus

/// The service's Prometheus metrics (served at `/metrics` in the text exposition format):
///
/// | metric | labels | what |
/// |---|---|---|
/// | `pom_decisions_total` | `arm`, `channel` | decisions of `POST /v1/decisions` |
/// | `pom_reaction_decisions_total` | `arm` | decisions of the reaction runs (fallbacks, follow-ups) |
/// | `pom_sends_total` | `channel` | messages the reaction runs handed to a channel |
/// | `pom_send_failures_total` | | messages that failed in reaction runs |
/// | `pom_bounces_total` | `kind` (`hard`, `soft`) | bounces ingested |
/// | `pom_webhook_events_total` | `provider`, `type`, `result` (`processed`, `duplicate`, `rejected`) | webhook events |
/// | `pom_outcomes_total` | `type`, `result` | outcomes of `POST /v1/outcomes` |
/// | `pom_webhook_requests_total` | `provider`, `status` | webhook requests by answer |
/// | `pom_webhook_duration_seconds` | | webhook request latency (histogram) |
/// | `pom_decision_duration_seconds` | | decision request latency (histogram) |
/// | `pom_reaction_runs_total` | | reaction runs after events |
/// | `pom_model_loaded` | | 1 while a promoted model is loaded |
///
/// Each service has its own registry (tests run several side by side).
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let webhookDuration: DurationHistogram
    let decisionDuration: DurationHistogram
    let reactionRuns: Counter
    let sendFailures: Counter
    let modelLoaded: Gauge

    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    public init() {
        webhookDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "pom", metricName: "webhook_duration", unitName: "seconds",
                                             helpText: "Latency of POST /v1/webhooks/{provider}"), labels: [], buckets: Self.buckets)
        decisionDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "pom", metricName: "decision_duration", unitName: "seconds",
                                             helpText: "Latency of POST /v1/decisions"), labels: [], buckets: Self.buckets)
        reactionRuns = registry.makeCounter(descriptor: Self.name("reaction_runs", "Orchestrator runs started by ingested events"), labels: [])
        sendFailures = registry.makeCounter(descriptor: Self.name("send_failures", "Messages that failed in reaction runs"), labels: [])
        modelLoaded = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "pom", metricName: "model_loaded", unitName: "",
                                                                          helpText: "1 while a promoted model is loaded"), labels: [])
    }

    static func name(_ metric: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "pom", metricName: metric, unitName: "total", helpText: help)
    }

    func decision(arm: String, channel: String) {
        registry.makeCounter(descriptor: Self.name("decisions", "Decisions of the decision API"), labels: [("arm", arm), ("channel", channel)])
            .increment()
    }

    func reactionDecisions(arm: String, count: Int) {
        registry.makeCounter(descriptor: Self.name("reaction_decisions", "Decisions of reaction runs"), labels: [("arm", arm)])
            .increment(by: Int64(count))
    }

    func sends(channel: String, count: Int) {
        registry.makeCounter(descriptor: Self.name("sends", "Messages handed to a channel by reaction runs"), labels: [("channel", channel)])
            .increment(by: Int64(count))
    }

    func bounce(hard: Bool) {
        registry.makeCounter(descriptor: Self.name("bounces", "Bounces ingested"), labels: [("kind", hard ? "hard" : "soft")]).increment()
    }

    func webhookEvent(provider: String, type: String, result: String) {
        registry.makeCounter(descriptor: Self.name("webhook_events", "Webhook events by provider, type and result"),
                             labels: [("provider", provider), ("type", type), ("result", result)]).increment()
    }

    func webhookRequest(provider: String, status: Int) {
        registry.makeCounter(descriptor: Self.name("webhook_requests", "Webhook requests by provider and HTTP status"),
                             labels: [("provider", provider), ("status", String(status))]).increment()
    }

    func outcome(type: String, result: String) {
        registry.makeCounter(descriptor: Self.name("outcomes", "Outcomes of the outcome API"), labels: [("type", type), ("result", result)])
            .increment()
    }

    /// The text exposition.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
