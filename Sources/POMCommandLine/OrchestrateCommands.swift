import ArgumentParser
import Channels
import FeatureStoreBackends
import Flows
import Foundation
import Orchestrator
import Simulator
import Vocabulary

/// Options every orchestrator run shares: the worker, the experiment, the model, the channels.
public struct RunOptions: ParsableArguments {
    @Option(help: "This worker's name; a worker restarted under the same name resumes its unfinished work at once.")
    var worker: String = "worker-1"

    @Option(help: "Cases and messages per transaction.")
    var batch: Int = RunConfiguration().batchSize

    @Option(help: "The A/B experiment to run (customers are assigned by a salted hash, fixed at the first run).")
    var experiment: String?

    @Option(help: "Salt of the experiment's assignment hash when the experiment is new (default: random); fixed in the store at first use.")
    var experimentSalt: String?

    @Option(help: "Share of customers in the experiment's treatment arm (model), the rest are control (the flows' defaults).")
    var treatmentShare: Double = 0.5

    @Option(help: "The registry name of the model whose promoted version decides in the treatment arm.")
    var model: String = "channel"

    @Option(help: "The flow for invoices that no flow's segment rules match (they wait unenrolled otherwise).")
    var defaultFlow: String?

    @Option(help: "Give every new case this flow, whatever the segment rules say (e.g. an experiment's flow).")
    var flow: String?

    @Option(help: "An optimise step's message goes out within this many hours; the model chooses the weekday and hour window within it.")
    var sendWindowHours: Double = 6

    @Option(help: "Go-live date: only invoices issued on or after it (YYYY-MM-DD) are enrolled.")
    var enrolFrom: String?

    @Option(help: "Channel configuration file (see config/channels.example.yaml and docs/channels.md).")
    var channels: String?

    @Option(help: "Secret that signs payment-page links (default: $POM_LINK_SECRET).")
    var linkSecret: String?

    @Option(help: "Public base URL of the payment page in messages and QR codes (default: $POM_PAYMENT_PAGE_URL, else http://127.0.0.1:8080).")
    var paymentLinkBase: String?

    public init() {}

    public func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        guard (0...1).contains(treatmentShare) else { throw ValidationError("--treatment-share must lie in [0, 1], got \(treatmentShare)") }
    }

    func configuration() -> RunConfiguration {
        var c = RunConfiguration()
        c.worker = worker
        c.batchSize = batch
        c.paymentLinkBase = paymentLinkBase ?? ProcessInfo.processInfo.environment["POM_PAYMENT_PAGE_URL"] ?? "http://127.0.0.1:8080"
        c.defaultFlow = defaultFlow
        c.onlyFlow = flow
        c.sendWindowHours = sendWindowHours
        if let enrolFrom { c.enrolIssuedFrom = enrolFrom }
        c.linkSecret = linkSecret ?? ProcessInfo.processInfo.environment["POM_LINK_SECRET"] ?? "pom-development-secret"
        return c
    }

    /// The experiment (fixed in the store at its first use) and the treatment model, if any.
    func resolve(store: any CaseQueue, now: Date) async throws -> (Experiment?, (any DeliveryModel)?) {
        guard let name = experiment else { return (nil, nil) }
        let e = try await Experiment.resolve(Experiment(name: name, salt: experimentSalt ?? Experiment.newSalt(), treatmentShare: treatmentShare, model: model),
                                             in: store, now: now)
        return (e, try await promotedModel(store: store, name: e.model ?? model))
    }
}

/// Parses `--as-of`: a date (`2026-03-02`, meaning 06:00 UTC that day) or an ISO 8601 instant.
func parseAsOf(_ text: String?) throws -> Date {
    guard let text else { return Date() }
    if let d = CalendarDate(parsing: text) { return Date(timeIntervalSince1970: Double(d.daysSinceEpoch) * 86_400 + 6 * 3600) }
    if let micros = CivilTime.parseInstant(Array(text.utf8)) { return Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
    throw ValidationError("--as-of must be a date YYYY-MM-DD or an instant such as 2026-03-02T06:00:00Z, got '\(text)'")
}

/// `run`: one pass over every due case.
public struct Run: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Enrol new invoices, advance every due case's flow (the model chooses where the flow says optimise), write decisions and messages, send.",
        discussion: """
            Everything a batch decides is written in one transaction (decision with propensity, queued message, outbox row) \
            before anything is sent; sending marks the message sent. Killed at any point, the next run of the same worker \
            sends every due message exactly once (idempotency keys). Several workers may share one PostgreSQL store: \
            they claim disjoint batches (FOR UPDATE SKIP LOCKED).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var runOptions: RunOptions

    @Option(help: "The run's clock: a date (06:00 UTC that day) or an ISO 8601 instant; default now.")
    var asOf: String?

    @Flag(help: "Plan and render on a scratch copy of a SQLite store, sending nothing: the messages that would go out are written to --dry-run-file.")
    var dryRun = false

    @Option(help: "Where --dry-run writes the messages (JSON Lines).")
    var dryRunFile: String = "pom-dry-run.jsonl"

    @Option(help: "Write the run's summary as JSON to this file.")
    var out: String?

    public init() {}

    public func run() async throws {
        let asOf = try parseAsOf(self.asOf)
        var url = storeOptions.store
        if dryRun {
            guard case .sqlite(let path) = try StoreLocation(url) else {
                throw ValidationError("--dry-run works on a SQLite store (it plans on a scratch copy); for PostgreSQL configure the dry_run adapter for every channel")
            }
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pom-dry-run-\(UUID().uuidString).sqlite").path
            try copySQLiteStore(from: path, to: scratch)
            url = "sqlite:" + scratch
        }
        let store = try await openStore(url)
        do {
            let (experiment, model) = try await runOptions.resolve(store: store, now: asOf)
            var config = runOptions.configuration()
            config.experiment = experiment
            let router: ChannelRouter
            if dryRun {
                let adapter = try DryRunAdapter(file: URL(fileURLWithPath: dryRunFile))
                router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, adapter as any ChannelAdapter) }))
            } else {
                guard let file = runOptions.channels else {
                    throw ValidationError("give --channels FILE (see config/channels.example.yaml), or --dry-run to send nothing")
                }
                router = try ChannelConfiguration.load(URL(fileURLWithPath: file)).makeRouter()
            }
            let orchestrator = Orchestrator(store: store, flows: try await FlowLibrary.load(from: store), router: router, model: model,
                                            templates: try TemplateCatalogue.bundled(), configuration: config)
            let summary = try await orchestrator.run(asOf: asOf)
            try await store.close()
            if dryRun { try? FileManager.default.removeItem(atPath: String(url.dropFirst("sqlite:".count))) }
            try printSummary(summary, out: out)
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// Prints a run summary and writes it as JSON when asked.
func printSummary<T: Encodable>(_ summary: T, out: String?) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    encoder.dateEncodingStrategy = .iso8601
    let data = try encoder.encode(summary)
    print(String(decoding: data, as: UTF8.self))
    if let out { try data.write(to: URL(fileURLWithPath: out), options: .atomic) }
}

/// `ingest`: delivery, bounce, visit and payment events (JSON Lines) into the store, and what they trigger.
public struct Ingest: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Ingest events (events.jsonl format) and react at once: a hard bounce sends the flow's fallback now.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var runOptions: RunOptions

    @Argument(help: "Events file in the events.jsonl format (datasets/README.md).")
    var file: String

    @Option(help: "The clock for the reaction run; default now.")
    var asOf: String?

    @Flag(help: "Only record the events; the next run reacts.")
    var noReact = false

    public init() {}

    public func run() async throws {
        let asOf = try parseAsOf(self.asOf)
        let events = try EventFile.read(path: file)
        let store = try await storeOptions.open()
        do {
            let (experiment, model) = try await runOptions.resolve(store: store, now: asOf)
            var config = runOptions.configuration()
            config.experiment = experiment
            var router = ChannelRouter(adapters: [:])
            if !noReact {
                guard let file = runOptions.channels else {
                    throw ValidationError("give --channels FILE to send the reactions, or --no-react to only record the events")
                }
                router = try ChannelConfiguration.load(URL(fileURLWithPath: file)).makeRouter()
            }
            let orchestrator = Orchestrator(store: store, flows: try await FlowLibrary.load(from: store), router: router, model: model,
                                            templates: try TemplateCatalogue.bundled(), configuration: config)
            let (result, run) = try await orchestrator.ingest(events, asOf: asOf, react: !noReact)
            try await store.close()
            print("ingested \(result.new) new of \(result.received) events (\(result.signals.count) signals for flows)")
            if let run { try printSummary(run, out: nil) }
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// `flows load` and `flows list`: flow versions in the store.
public struct FlowsLoad: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Validate flow files and store them as new flow versions (all or none); new invoices get the newest version.")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "Flow files (YAML or JSON).")
    var files: [String]

    public init() {}

    public func run() async throws {
        let texts = try files.map { path in
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): cannot read the file") }
            return (path: path, text: String(decoding: data, as: UTF8.self))
        }
        let store = try await storeOptions.open()
        do {
            let isNew = try await FlowLibrary.store(files: texts, into: store, now: Date())
            try await store.close()
            for (file, new) in zip(files, isNew) { print("\(file): \(new ? "stored" : "already stored, unchanged")") }
        } catch {
            try? await store.close()
            throw error
        }
    }
}

public struct FlowsList: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "list", abstract: "List the flow versions in the store.")

    @OptionGroup var storeOptions: StoreOptions

    public init() {}

    public func run() async throws {
        let store = try await storeOptions.open()
        let library = try await FlowLibrary.load(from: store)
        try await store.close()
        for (name, versions) in library.versions.sorted(by: { $0.key < $1.key }) {
            for (version, flow) in versions.sorted(by: { $0.key < $1.key }) {
                print("\(name)\tversion \(version)\t\(flow.processes.count) processes\t\(flow.description ?? "")")
            }
        }
    }
}

/// `simulate`: a closed-loop run against the simulated world.
public struct ClosedLoopCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the orchestrator closed-loop against a simulated world of payers for a number of days (hourly ticks), with an optional A/B split.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var runOptions: RunOptions

    @Option(help: "Number of simulated customers (new ones, written to the store).")
    var customers: Int = 2000

    @Option(help: "Simulated days.")
    var days: Int = 60

    @Option(help: "Seed of the simulated world.")
    var seed: UInt64 = 2

    @Option(help: "First day, YYYY-MM-DD.")
    var start: String = "2027-01-04"

    @Option(help: "Letters the simulated customers' ids start with (keep them apart from a history's customers).")
    var idPrefix: String = "L"

    @Option(help: "Hours between two ticks (events ingested, then a run).")
    var tickHours: Double = 1

    @Option(help: "Write the summary as JSON to this file.")
    var out: String?

    public init() {}

    public func run() async throws {
        guard let startDate = CalendarDate(parsing: start) else { throw ValidationError("--start must be a date YYYY-MM-DD, got '\(start)'") }
        let world = World(config: SimulationConfig(customers: customers, days: days, seed: seed, start: startDate, idPrefix: idPrefix))
        let channel = SimulatedChannel(world: world)
        let store = try await storeOptions.open()
        do {
            let begin = world.config.startInstant
            let (experiment, model) = try await runOptions.resolve(store: store, now: begin)
            var config = runOptions.configuration()
            config.experiment = experiment
            // The loop's world is new: only its own invoices take part.
            if runOptions.enrolFrom == nil { config.enrolIssuedFrom = start }
            let router = ChannelRouter(adapters: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, channel as any ChannelAdapter) }))
            let orchestrator = Orchestrator(store: store, flows: try await FlowLibrary.load(from: store), router: router, model: model,
                                            templates: try TemplateCatalogue.bundled(), configuration: config)
            try await ClosedLoop.seed(store: store, world: channel)
            let progress = ProgressBar(label: "closed loop", total: days, unit: "days")
            let summary = try await ClosedLoop.run(orchestrator: orchestrator, world: channel, start: begin, days: days,
                                                   tickHours: tickHours) { done, _ in progress.update(done) }
            progress.finish()
            try await store.close()
            let report = ClosedLoopReport(days: days, customers: customers, ticks: summary.ticks, events: summary.events,
                                          enrolled: summary.enrolled, decisions: summary.decisions, sent: summary.sent,
                                          experiment: experiment?.name, model: model.map { "\($0.name)@\($0.version)" })
            try printSummary(report, out: out)
        } catch {
            try? await store.close()
            throw error
        }
    }
}

struct ClosedLoopReport: Codable {
    var days, customers, ticks, events, enrolled, decisions, sent: Int
    var experiment: String?
    var model: String?
}

/// `status`: what the store holds for the orchestrator.
public struct Status: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show the orchestrator's state: cases by flow and arm, messages by status, the outbox, the last runs.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Also count the active cases whose next step was due by this instant (a date or an ISO 8601 instant).")
    var asOf: String?

    public init() {}

    public func run() async throws {
        let store = try await storeOptions.open()
        let status = try await OrchestratorStatus.read(from: store, asOf: try asOf.map { try parseAsOf($0) })
        try await store.close()
        print(status.text)
    }
}

/// The promoted version of model `name`, as the orchestrator uses it; nil (with a note on standard
/// error) when none is promoted.
func promotedModel(store: any CaseQueue, name: String) async throws -> (any DeliveryModel)? {
    if let model = try await PromotedModel.load(store: store, model: name) { return model }
    FileHandle.standardError.write(Data("pom-orchestrate: no promoted '\(name)' model; the treatment arm uses the flows' defaults too\n".utf8))
    return nil
}
