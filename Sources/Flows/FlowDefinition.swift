import Foundation
import Vocabulary

/// Why a backup step runs: something an action (or what followed it) raised.
///
/// *Immediate* conditions are known when the action is carried out or soon after (a bounce
/// report); a backup waiting for one runs at once. *Timed* conditions are the absence of
/// something within `after_hours` (a visit without a payment, no reaction); a backup waiting for
/// one runs when that time is up. See docs/flows.md.
public enum FlowCondition: String, CaseIterable, Codable, Sendable, Comparable {
    /// The contact point is unusable for good: an e-mail hard bounce, an SMS/WhatsApp number
    /// that does not exist, a letter returned "addressee unknown", a push token revoked.
    case bounced
    /// This message did not arrive (soft bounce after retries, handset off, letter not delivered).
    case undeliverable
    /// The customer has no usable contact point for the channel (none, or marked invalid/bounced).
    case noContactPoint = "no_contact_point"
    /// The contact point fails validation (syntax, reserved domain, wrong number format).
    case invalidContactPoint = "invalid_contact_point"
    /// The customer has not consented to the channel (or withdrew consent).
    case noConsent = "no_consent"
    /// The provider refused or failed the request (after its retries).
    case providerError = "provider_error"
    /// A receiving party declined: the agency refused the case, a fee is not allowed, the payer
    /// declined the payment plan.
    case rejected
    /// The enrichment provider found no new contact data.
    case enrichmentFailed = "enrichment_failed"
    /// A robocall was not answered (after the action's attempts).
    case notAnswered = "not_answered"
    /// The payer visited the payment page (link or QR) but had not paid `after_hours` later.
    case visitedNotPaid = "visited_not_paid"
    /// The case was still unpaid `after_hours` after the step ran.
    case notPaid = "not_paid"
    /// No reaction at all (no visit, click, reply or payment) within `after_hours`.
    case noResponse = "no_response"
    /// The e-mail was not opened within `after_hours`.
    case notOpened = "not_opened"

    public static func < (a: FlowCondition, b: FlowCondition) -> Bool { a.index < b.index }
    public var index: Int { FlowCondition.allCases.firstIndex(of: self)! }

    /// Whether the condition is the absence of something within `after_hours`.
    public var isTimed: Bool {
        switch self {
        case .visitedNotPaid, .notPaid, .noResponse, .notOpened: true
        default: false
        }
    }

    /// Whether the condition says the action could not be carried out or failed; a backup
    /// without `on` runs on these.
    public var isFailure: Bool {
        switch self {
        case .bounced, .undeliverable, .noContactPoint, .invalidContactPoint, .noConsent, .providerError,
             .rejected, .enrichmentFailed, .notAnswered: true
        default: false
        }
    }

    /// The wait for a timed condition when the backup gives no `after_hours`.
    public var defaultAfterHours: Double? {
        switch self {
        case .visitedNotPaid: 24
        case .notPaid: 72
        case .noResponse: 72
        case .notOpened: 48
        default: nil
        }
    }

    /// One sentence for operators.
    public var summary: String {
        switch self {
        case .bounced: "the contact point is unusable for good (hard bounce, unknown number, letter returned)"
        case .undeliverable: "this message did not arrive (soft bounce after retries, handset off)"
        case .noContactPoint: "no usable contact point for the channel"
        case .invalidContactPoint: "the contact point fails validation"
        case .noConsent: "no consent for the channel"
        case .providerError: "the provider refused or failed the request"
        case .rejected: "the receiving party declined (agency, fee rule, payer)"
        case .enrichmentFailed: "enrichment found no new contact data"
        case .notAnswered: "the call was not answered"
        case .visitedNotPaid: "the payment page was visited but nothing paid within after_hours"
        case .notPaid: "still unpaid after_hours after the step"
        case .noResponse: "no visit, click, reply or payment within after_hours"
        case .notOpened: "the e-mail was not opened within after_hours"
        }
    }
}

/// Where a step sits in a flow: a process, or a backup `depth` levels down its chain.
public struct StepRef: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    /// Index into `FlowDefinition.processes`.
    public var process: Int
    /// 0 for the process itself, 1 for its backup, 2 for the backup's backup, ...
    public var depth: Int

    public init(process: Int, depth: Int = 0) {
        precondition(process >= 0 && depth >= 0, "StepRef: negative index")
        self.process = process
        self.depth = depth
    }

    public static func < (a: StepRef, b: StepRef) -> Bool { (a.process, a.depth) < (b.process, b.depth) }

    /// The field path as error messages name it: `processes[2]`, `processes[2].backup.backup`.
    public var description: String {
        "processes[\(process)]" + String(repeating: ".backup", count: depth)
    }
}

/// A backup step: runs instead of, or after, its parent step when one of `on` is raised.
public struct BackupStep: Hashable, Sendable {
    public var action: String
    public var settings: ActionSettings
    /// The conditions of the parent step that trigger this step.
    public var on: Set<FlowCondition>
    /// For timed conditions: how long to wait (hours); `nil` uses each condition's default.
    public var afterHours: Double?
    /// The next step of the chain.
    public var backup: BackupStep? {
        get { next?.value }
        set { next = newValue.map(Box.init) }
    }
    /// Line of the step's `action` in the flow file.
    public var line: Int
    /// Line of each setting, for error messages.
    public var settingLines: [String: Int]
    /// Line of `on`; 0 when the file left `on` out (the parent's failure conditions apply).
    public var onLine: Int

    private var next: Box?

    public init(action: String, settings: ActionSettings, on: Set<FlowCondition>, afterHours: Double? = nil,
                backup: BackupStep? = nil, line: Int = 0, settingLines: [String: Int] = [:], onLine: Int = 0) {
        self.action = action
        self.settings = settings
        self.on = on
        self.afterHours = afterHours
        self.line = line
        self.settingLines = settingLines
        self.onLine = onLine
        self.backup = backup
    }

    /// The wait in hours before a timed `condition` counts as raised.
    public func waitHours(for condition: FlowCondition) -> Double {
        afterHours ?? condition.defaultAfterHours ?? 0
    }

    /// Indirection so a struct can hold a value of its own type.
    final class Box: Hashable, Sendable {
        let value: BackupStep
        init(_ value: BackupStep) { self.value = value }
        static func == (a: Box, b: Box) -> Bool { a.value == b.value }
        func hash(into hasher: inout Hasher) { hasher.combine(value) }
    }
}

/// One process of a flow: on `day` (relative to the due date, customer-local), run `action`.
public struct FlowProcess: Hashable, Sendable {
    /// Days after the due date (negative: before it), in the customer's time zone.
    public var day: Int
    public var action: String
    public var settings: ActionSettings
    public var backup: BackupStep?
    /// Line of the process in the flow file (its first key).
    public var line: Int
    /// Line of each setting, for error messages.
    public var settingLines: [String: Int]
    /// Free text for operators.
    public var note: String?

    public init(day: Int, action: String, settings: ActionSettings, backup: BackupStep? = nil, line: Int = 0,
                settingLines: [String: Int] = [:], note: String? = nil) {
        self.day = day
        self.action = action
        self.settings = settings
        self.backup = backup
        self.line = line
        self.settingLines = settingLines
        self.note = note
    }

    /// The steps of this process's chain: the process itself (depth 0), then each backup.
    public var chain: [(action: String, settings: ActionSettings, backup: BackupStep?)] {
        var out: [(String, ActionSettings, BackupStep?)] = [(action, settings, backup)]
        var next = backup
        while let step = next {
            out.append((step.action, step.settings, step.backup))
            next = step.backup
        }
        return out
    }

    /// The backup at `depth` (1 = the process's own backup), if the chain is that long.
    public func backup(atDepth depth: Int) -> BackupStep? {
        precondition(depth >= 1, "FlowProcess.backup(atDepth:): depth starts at 1")
        var step = backup
        for _ in 1..<depth { step = step?.backup }
        return step
    }
}

/// Whether a customer is a consumer (B2C) or a business (B2B).
public enum CustomerKind: String, CaseIterable, Codable, Sendable {
    case consumer, business
}

/// Which customers and invoices a flow is for. Absent rules match everything.
public struct SegmentRules: Hashable, Sendable {
    public var customerKind: CustomerKind?
    /// ISO 3166-1 alpha-2 codes; `nil` = any country.
    public var countries: Set<String>?
    /// ISO 4217 codes; `nil` = any currency.
    public var currencies: Set<String>?
    /// Inclusive lower bound on the invoice amount (major units of the invoice's currency).
    public var minAmount: Decimal?
    /// Exclusive upper bound on the invoice amount.
    public var maxAmount: Decimal?
    /// Tags the customer must all carry.
    public var tags: Set<String>
    /// Higher wins when several flows match.
    public var priority: Int

    public init(customerKind: CustomerKind? = nil, countries: Set<String>? = nil, currencies: Set<String>? = nil,
                minAmount: Decimal? = nil, maxAmount: Decimal? = nil, tags: Set<String> = [], priority: Int = 0) {
        self.customerKind = customerKind
        self.countries = countries
        self.currencies = currencies
        self.minAmount = minAmount
        self.maxAmount = maxAmount
        self.tags = tags
        self.priority = priority
    }

    /// How many rules are set (the tie-break prefers the more specific flow).
    public var specificity: Int {
        (customerKind == nil ? 0 : 1) + (countries == nil ? 0 : 1) + (currencies == nil ? 0 : 1)
            + (minAmount == nil ? 0 : 1) + (maxAmount == nil ? 0 : 1) + tags.count
    }
}

/// A versioned flow: which customers it is for and its processes, in day order.
public struct FlowDefinition: Hashable, Sendable {
    public var name: String
    public var version: Int
    public var description: String?
    /// `nil`: the flow matches every customer and invoice (a catch-all).
    public var segment: SegmentRules?
    public var processes: [FlowProcess]
    /// The file it was read from (as given to the parser) and the line of `name`.
    public var file: String
    public var nameLine: Int

    public init(name: String, version: Int, description: String? = nil, segment: SegmentRules? = nil,
                processes: [FlowProcess], file: String = "", nameLine: Int = 0) {
        self.name = name
        self.version = version
        self.description = description
        self.segment = segment
        self.processes = processes
        self.file = file
        self.nameLine = nameLine
    }

    /// The action, settings and backup at `ref` without building the chain (the executor's hot path).
    func stepAt(_ ref: StepRef) -> (action: String, settings: ActionSettings, backup: BackupStep?)? {
        guard ref.process < processes.count else { return nil }
        let process = processes[ref.process]
        if ref.depth == 0 { return (process.action, process.settings, process.backup) }
        guard let step = process.backup(atDepth: ref.depth) else { return nil }
        return (step.action, step.settings, step.backup)
    }

    /// The action and settings at `ref`, or `nil` when the flow has no such step.
    public func step(_ ref: StepRef) -> (action: String, settings: ActionSettings, backup: BackupStep?)? {
        guard ref.process < processes.count else { return nil }
        let chain = processes[ref.process].chain
        guard ref.depth < chain.count else { return nil }
        return chain[ref.depth]
    }
}
