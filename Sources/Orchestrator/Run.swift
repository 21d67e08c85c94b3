import Channels
import FeatureStore
import Flows
import Foundation
import LinAlg
import Optimizer
import Vocabulary

/// How a run behaves. Every field has the default a production run would use.
public struct RunConfiguration: Sendable {
    /// The worker's name: the owner of its leases. A worker restarted under the same name takes its
    /// unfinished work back at once.
    public var worker: String = "worker-1"
    /// Cases (and outbox messages) claimed per transaction. Each claim, read and write has a cost
    /// of its own beside its rows': 200,000 due cases on SQLite ran in 22.6 s with 500, 19.4 s with
    /// 2,000 and 17.8 s with 5,000 (means of 2–3 alternating runs, BENCHMARKS.md).
    public var batchSize: Int = 2000
    /// How long a claimed batch stays leased; a worker that dies loses its leases after this.
    public var leaseSeconds: Double = 600
    /// The A/B holdout; nil runs everyone on the flows' defaults (control).
    public var experiment: Experiment?
    /// No message is scheduled in these local hours (e.g. 20:00–08:00).
    public var quietHours: QuietHours? = QuietHours(startHour: 20, endHour: 8)
    /// Per-channel rules (no robocalls on Sundays, ...).
    public var channelRules: [ChannelRule] = ChannelRule.standard
    /// An `optimise` step's message goes out within this many hours of the earliest time any
    /// allowed action can go out: the model chooses the weekday and hour window within it. Longer
    /// windows let the model wait for a better weekday, but the wait itself delays payment, which
    /// the reward (paid within H days of the message) does not see. With 6 h the demo's A/B test
    /// (8,000 customers, 60 days) found the treatment's mean time to pay within 30 days 1.1 d
    /// shorter (log-rank p = 0.003).
    public var sendWindowHours: Double = 6
    /// The local hour a flow's own send steps go out at.
    public var defaultSendHour: Int = 10
    /// At most this many messages per customer within `contactCapDays` days; further sends wait.
    public var contactCap: Int = 4
    public var contactCapDays: Int = 7
    /// What one message costs per channel, in minor units (logged with each message).
    public var costMinor: [Channel: Int64] = [.email: 0, .push: 0, .whatsapp: 5, .sms: 8, .robocall: 15, .letter: 95]
    /// The payment page links in messages: `<base>/p/<token>`.
    public var paymentLinkBase: String = "https://pay.example.com"
    /// The secret that signs payment-page tokens (`PaymentLink`).
    public var linkSecret: String = "pom-development-secret"
    /// Days a payment link in a message stays valid after the run that wrote it.
    public var paymentLinkDays: Int = 180
    /// The creditor's name in messages.
    public var creditorName: String = "pom demo GmbH"
    /// Attempts before a message that keeps failing with retryable errors is given up (`provider_error`).
    public var maxAttempts: Int = 6
    /// The first retry waits this long; each further one twice as long.
    public var retryBaseSeconds: Double = 300
    /// Enrol invoices without a case state; false for a worker that only advances existing cases.
    public var enrol: Bool = true
    /// The flow for invoices no flow's segment rules match; such invoices wait unenrolled when nil.
    public var defaultFlow: String?
    /// Every new case gets this flow, whatever the segment rules say (e.g. an experiment's flow).
    public var onlyFlow: String?
    /// Only invoices issued on or after this date (`YYYY-MM-DD`) are enrolled: the go-live date.
    public var enrolIssuedFrom: String = "0001-01-01"
    /// A flow's message step due more than this many days ago is skipped, not sent late (a case
    /// enrolled late gets no pile of old reminders).
    public var maxLateDays: Int? = 7
    /// Cores a batch is planned and its messages rendered on (each customer's cases on one of
    /// them); the store's reads and writes and the hand-over to the channels stay in order.
    public var threads: Int = BLASRuntime.threads
    /// A planned batch's transaction, and then the claim of the batch after the next, run while
    /// the next batch is read and planned (`Orchestrator.planDueCases`); false writes each batch
    /// before the next is claimed. Both store the same rows.
    public var overlapPlanWrites: Bool = true
    /// Messages a batch plans for now are rendered while it is planned and handed to their
    /// channels as soon as its transaction has committed (their outbox rows are written leased to
    /// this worker, and what came of them is written with the next batch); the dispatch phase then
    /// only finds messages queued earlier or due again. False leaves every message to dispatch.
    /// Both send the same messages and store the same rows, except that a message refused at the
    /// hand-over has its backup planned in the same run (dispatch after planning leaves that to the
    /// next run; after it, both hold the same rows).
    public var sendOnCommit: Bool = true
    /// Told how long each part of a run took (wall seconds), once per occurrence: `enrol`,
    /// `claim` (leasing due cases), `plan.read`, `plan.compute`, `plan.write`, `plan.wait` (waiting
    /// for the previous batch's write task), `plan.send` (handing a committed batch's messages to
    /// their channels), `dispatch.claim`, `dispatch.read`, `dispatch.send`, `dispatch.write`. With
    /// `overlapPlanWrites`, `plan.write`, `claim` and `plan.read` run in a task beside the planning
    /// of the batch before: the phases then add up to more than the run. Called from more
    /// than one task. For benchmarks and logs; nil measures nothing.
    public var phaseObserver: (@Sendable (_ phase: String, _ seconds: Double) -> Void)? = nil

    public init() {}
}

/// A stopwatch for `RunConfiguration.phaseObserver`: free when no observer is set.
struct PhaseClock {
    let observer: (@Sendable (String, Double) -> Void)?
    var last: UInt64

    init(_ observer: (@Sendable (String, Double) -> Void)?) {
        self.observer = observer
        last = observer == nil ? 0 : DispatchTime.now().uptimeNanoseconds
    }

    /// Reports the time since the previous lap (or the start) as `phase`.
    mutating func lap(_ phase: String) {
        guard let observer else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        observer(phase, Double(now - last) / 1e9)
        last = now
    }
}

/// What a run did.
public struct RunSummary: Codable, Sendable, Equatable {
    public var runId: String
    public var worker: String
    public var asOf: Date
    public var enrolled = 0
    /// Open invoices no flow's segment rules match (and no default flow is configured).
    public var unassigned = 0
    public var cases = 0
    public var decisions = 0
    public var queued = 0
    public var sent = 0
    public var retried = 0
    public var failed = 0
    public var skipped = 0
    public var postponed = 0
    public var flowsEnded = 0
    public var tasks = 0
    public var decisionsByArm: [String: Int] = [:]
    public var sentByChannel: [String: Int] = [:]

    /// The counters `add(_:)` sums.
    static var counters: [WritableKeyPath<RunSummary, Int>] {
        [\.enrolled, \.unassigned, \.cases, \.decisions, \.queued, \.sent, \.retried, \.failed, \.skipped, \.postponed, \.flowsEnded, \.tasks]
    }

    /// Adds the counts of `other`, a part of the same run.
    mutating func add(_ other: RunSummary) {
        for counter in Self.counters { self[keyPath: counter] += other[keyPath: counter] }
        decisionsByArm.merge(other.decisionsByArm, uniquingKeysWith: +)
        sentByChannel.merge(other.sentByChannel, uniquingKeysWith: +)
    }

    enum CodingKeys: String, CodingKey {
        case runId = "run_id", worker, asOf = "as_of", enrolled, unassigned, cases, decisions, queued, sent, retried, failed, skipped, postponed
        case flowsEnded = "flows_ended", tasks
        case decisionsByArm = "decisions_by_arm", sentByChannel = "sent_by_channel"
    }
}
