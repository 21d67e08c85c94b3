import Channels
import FeatureStore
import Foundation
import Logging
import Orchestrator
import ServiceLifecycle
import Vocabulary

/// What became of one submitted event.
public enum IngestOutcome: String, Sendable, Codable {
    /// New: stored, and what it triggers is under way.
    case processed
    /// Its id was seen before: nothing changed.
    case duplicate
}

/// The service's state: the store, the orchestrator it reacts with (flows, channels, promoted model,
/// experiment), the group-commit queues for events and decisions, and the metrics.
///
/// Events of concurrent requests are ingested together (`RequestBatcher`), one transaction per batch,
/// through `Orchestrator.ingest` — idempotent by event id; a hard bounce raises `bounced` on the
/// step that sent the message and makes the case due at once. Right after each batch that touched a
/// flow, and before the next batch, a reaction run (`Orchestrator.run` for the customers the batch
/// reached, no enrolment) sends what the flows say — the SMS or letter after a bounced e-mail goes
/// out within the same second, however many other cases of the book are due.
/// Ingest and reaction never overlap, so a reaction never overwrites a case state an ingest changed.
///
/// As a `Service` (swift-service-lifecycle) it refreshes the promoted model every
/// `modelRefreshSeconds` and, on graceful shutdown, waits for queued events and decisions to be written.
public final class ServiceRuntime: Service, @unchecked Sendable {
    public let configuration: ServiceConfiguration
    public let store: any CaseQueue
    public let metrics: ServiceMetrics
    public let logger: Logger
    let channels: ChannelRouter
    let templates: TemplateCatalogue
    let experiment: Experiment?
    private let lock = NSLock()
    private var _orchestrator: Orchestrator
    private var events: RequestBatcher<Event, IngestOutcome>!
    private var decisions: RequestBatcher<[Value], Void>!
    private var messageInvoices: RequestBatcher<[String], String?>!
    /// Customers whose cases ingested events moved since the last reaction run.
    private var reactionCustomers = Set<String>()
    /// The configured API keys by the keys callers presented (only keys that matched one).
    private var presentedKeys: [String: APIKey] = [:]

    /// Prepares the service: resolves the experiment, loads the flows and the promoted model.
    /// - Parameters:
    ///   - channels: the channel router reactions send through; nil builds it from
    ///     `configuration.channelsFile` (none: an empty router, so reactions' messages fail with a provider error).
    /// - Throws: store errors, `ChannelConfigurationError`, `OrchestratorError.experimentChanged`.
    public static func start(configuration: ServiceConfiguration, store: any CaseQueue, channels: ChannelRouter? = nil,
                             logger: Logger = Logger(label: "pom.service")) async throws -> ServiceRuntime {
        let router = try channels ?? configuration.channelsFile.map { try ChannelConfiguration.load(URL(fileURLWithPath: $0)).makeRouter() }
            ?? ChannelRouter(adapters: [:])
        var experiment: Experiment?
        if let name = configuration.experiment {
            experiment = try await Experiment.resolve(Experiment(name: name, salt: Experiment.newSalt(), treatmentShare: configuration.treatmentShare,
                                                                 model: configuration.model), in: store, now: Date())
        }
        let runtime = ServiceRuntime(configuration: configuration, store: store, channels: router, templates: try TemplateCatalogue.bundled(),
                                     experiment: experiment, logger: logger, orchestrator: nil)
        try await runtime.reload()
        return runtime
    }

    init(configuration: ServiceConfiguration, store: any CaseQueue, channels: ChannelRouter, templates: TemplateCatalogue, experiment: Experiment?,
         logger: Logger, orchestrator: Orchestrator?) {
        self.configuration = configuration
        self.store = store
        self.channels = channels
        self.templates = templates
        self.experiment = experiment
        self.logger = logger
        self.metrics = ServiceMetrics()
        self._orchestrator = orchestrator ?? Orchestrator(store: store, flows: FlowLibrary(), router: channels, model: nil, templates: templates,
                                                          configuration: RunConfiguration())
        self.events = RequestBatcher(maxBatch: configuration.maxBatch, work: { [unowned self] in await self.ingest($0) },
                                  after: { [unowned self] in await self.reactIfNeeded() })
        self.decisions = RequestBatcher(maxBatch: configuration.maxBatch, work: { [unowned self] rows in
            do {
                try await self.store.apply([.upsert(TableRows(table: Schema.decisions, rows: rows))])
                return rows.map { _ in .success(()) }
            } catch {
                return rows.map { _ in .failure(error) }
            }
        })
        self.messageInvoices = RequestBatcher(maxBatch: 1_000, work: { [unowned self] keys in
            let mt = Schema.messages
            do {
                var invoiceOf: [[String]: String] = [:]
                for row in try await self.store.rows(of: mt, keys: Array(Set(keys))) {
                    invoiceOf[[mt.value(row, "customer_id").text!, mt.value(row, "id").text!]] = mt.value(row, "invoice_id").text!
                }
                return keys.map { .success(invoiceOf[$0]) }
            } catch {
                return keys.map { _ in .failure(error) }
            }
        })
    }

    /// The orchestrator reactions and decisions use (replaced when flows or the model change).
    public var orchestrator: Orchestrator {
        lock.withLock { _orchestrator }
    }

    /// Whether a promoted model is loaded.
    public var modelLoaded: Bool { orchestrator.model != nil }

    /// The run configuration of the service's reactions and decisions.
    var runConfiguration: RunConfiguration {
        var c = RunConfiguration()
        c.worker = configuration.worker
        c.experiment = experiment
        c.enrol = false
        c.sendWindowHours = configuration.decisionWindowHours
        c.paymentLinkBase = configuration.paymentLinkBase
        c.linkSecret = configuration.linkSecret
        return c
    }

    /// Loads the flows and the promoted model again.
    public func reload() async throws {
        let flows = try await FlowLibrary.load(from: store)
        let model = try await PromotedModel.load(store: store, model: configuration.model)
        let o = Orchestrator(store: store, flows: flows, router: channels, model: model, templates: templates, configuration: runConfiguration)
        let before = orchestrator.model.map { "\($0.name)@\($0.version)" }
        lock.withLock { _orchestrator = o }
        metrics.modelLoaded.set(model == nil ? Int64(0) : Int64(1))
        let now = model.map { "\($0.name)@\($0.version)" }
        if before != now { logger.info("model", metadata: ["model": .string(now ?? "none"), "previous": .string(before ?? "none")]) }
    }

    /// The configured API key `presented` is (its SHA-256 matches), hashed once per key.
    func apiKey(_ presented: String) -> APIKey? {
        if let known = lock.withLock({ presentedKeys[presented] }) { return known }
        let hash = APIKey.hash(presented)
        guard let found = configuration.apiKeys.first(where: { $0.sha256 == hash }) else { return nil }
        lock.withLock { presentedKeys[presented] = found }
        return found
    }

    // MARK: Events

    /// The invoice of each message (`[customer id, message id]`; nil: no such message), looked up
    /// together with the messages of other requests' events, one read per batch.
    public func invoices(ofMessages keys: [[String]]) async throws -> [String?] {
        try await messageInvoices.submit(keys).map { try $0.get() }
    }

    /// Ingests `events` (in a batch with other requests' events) and returns each one's outcome.
    public func submit(_ events: [Event]) async -> [Result<IngestOutcome, any Error>] {
        await self.events.submit(events)
    }

    /// One batch: which events are new, then `Orchestrator.ingest` (without its own reaction run).
    /// A batch that fails is retried event by event, so one bad event fails alone.
    private func ingest(_ batch: [Event]) async -> [Result<IngestOutcome, any Error>] {
        do {
            return try await ingestTogether(batch).map { .success($0) }
        } catch {
            if batch.count == 1 { return [.failure(error)] }
            var out: [Result<IngestOutcome, any Error>] = []
            for e in batch {
                do { out.append(.success(try await ingestTogether([e])[0])) } catch { out.append(.failure(error)) }
            }
            return out
        }
    }

    private func ingestTogether(_ batch: [Event]) async throws -> [IngestOutcome] {
        let (result, _) = try await orchestrator.ingest(batch, asOf: Date(), react: false)
        // The first event of each new id is processed; repeats, in this batch or stored before, are duplicates.
        var unclaimed = result.newKeys
        let outcomes: [IngestOutcome] = batch.map { unclaimed.remove([$0.customerId, $0.id]) != nil ? .processed : .duplicate }
        for (e, o) in zip(batch, outcomes) where o == .processed {
            if e.kind == .bouncedHard { metrics.bounce(hard: true) }
            if e.kind == .bouncedSoft { metrics.bounce(hard: false) }
        }
        // A reaction run only when a signal reached a case the orchestrator runs (one with a case state).
        let moving = Set(result.signals.filter { $0.kind != .delivered && $0.kind != .contactData }.map { [$0.customerId, $0.invoiceId] })
        if !moving.isEmpty {
            let enrolled = try await store.existing(moving, in: Schema.caseStates)
            if !enrolled.isEmpty { lock.withLock { reactionCustomers.formUnion(enrolled.map { $0[0] }) } }
        }
        return outcomes
    }

    /// The reaction run after a batch whose events moved a flow: the due cases and messages of the
    /// customers those events reached, not the whole book's.
    private func reactIfNeeded() async {
        let customers = lock.withLock {
            defer { reactionCustomers.removeAll() }
            return reactionCustomers
        }
        guard !customers.isEmpty else { return }
        let started = ContinuousClock.now
        do {
            let summary = try await orchestrator.run(asOf: Date(), runId: "service-" + UUID().uuidString.lowercased(), customers: customers)
            metrics.reactionRuns.increment()
            for (channel, n) in summary.sentByChannel { metrics.sends(channel: channel, count: n) }
            for (arm, n) in summary.decisionsByArm { metrics.reactionDecisions(arm: arm, count: n) }
            if summary.failed > 0 { metrics.sendFailures.increment(by: Int64(summary.failed)) }
            logger.info("reaction", metadata: [
                "cases": .stringConvertible(summary.cases), "decisions": .stringConvertible(summary.decisions),
                "sent": .stringConvertible(summary.sent), "failed": .stringConvertible(summary.failed),
                "ms": .stringConvertible((ContinuousClock.now - started).inMilliseconds),
            ])
        } catch {
            // The cases stay due: the next reaction (or run) takes them up.
            logger.error("reaction failed", metadata: ["error": .string("\(error)")])
        }
    }

    // MARK: Decisions

    /// Decides for one case (`Orchestrator.decide`) and logs the decision in the store before answering.
    public func decide(_ query: DecisionQuery) async throws -> DecisionAnswer {
        let answer = try await orchestrator.decide(query)
        if case .failure(let error) = await decisions.submit([answer.row])[0] { throw error }
        metrics.decision(arm: answer.arm?.rawValue ?? "none", channel: answer.action.channel.rawValue)
        return answer
    }

    // MARK: Service

    /// Refreshes the model until graceful shutdown, then waits for queued writes.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: .seconds(self.configuration.modelRefreshSeconds))
                    do { try await self.reload() } catch { self.logger.error("model refresh failed", metadata: ["error": .string("\(error)")]) }
                }
            }
        } catch is CancellationError {}
        await drain()
        logger.info("stopped")
    }

    /// Waits until no events or decisions are queued.
    public func drain() async {
        while true {
            let eventsIdle = await events.isIdle, decisionsIdle = await decisions.isIdle
            if eventsIdle && decisionsIdle { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Whether the store answers.
    public func storeReachable() async -> Bool {
        (try? await store.count(Schema.flows)) != nil
    }
}

extension Duration {
    var inMilliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) * 1e-15 }
}
