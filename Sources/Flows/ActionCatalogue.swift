import Foundation
import Vocabulary

/// What a send action's message is for.
public enum SendPurpose: String, CaseIterable, Codable, Sendable {
    /// A friendly note a few days before the due date.
    case preDueReminder = "pre_due_reminder"
    /// A payment reminder after the due date.
    case reminder
    /// The first formal dunning notice.
    case firstDunning = "first_dunning"
    case secondDunning = "second_dunning"
    /// The last notice before agency or court.
    case finalDunning = "final_dunning"
    /// An offer to pay in instalments.
    case paymentPlanOffer = "payment_plan_offer"
    /// A request to confirm or give an e-mail address, mobile number or preferred channel.
    case contactDataRequest = "contact_data_request"
    /// Thanks for the payment.
    case paymentConfirmation = "payment_confirmation"
    /// A follow-up after a payment-page visit without payment, personalised with what is known.
    case visitFollowUp = "visit_follow_up"
    /// Notice that the case will be handed to a collection agency.
    case agencyNotice = "agency_notice"

    /// The tone a send action uses when the flow gives none.
    public var defaultTone: Tone {
        switch self {
        case .preDueReminder, .reminder, .paymentPlanOffer, .contactDataRequest, .paymentConfirmation, .visitFollowUp: .friendly
        case .firstDunning: .neutral
        case .secondDunning, .finalDunning, .agencyNotice: .firm
        }
    }

    /// Whether the message is a formal dunning notice (states a new deadline and the fees).
    public var isDunningNotice: Bool { self == .firstDunning || self == .secondDunning || self == .finalDunning }

    /// Words for the catalogue's summaries.
    var phrase: String {
        switch self {
        case .preDueReminder: "a friendly reminder before the due date"
        case .reminder: "a payment reminder after the due date"
        case .firstDunning: "the first dunning notice with a new payment deadline"
        case .secondDunning: "the second dunning notice"
        case .finalDunning: "the final dunning notice before agency or court"
        case .paymentPlanOffer: "an offer to pay in instalments"
        case .contactDataRequest: "a request to confirm or give an e-mail address, mobile number and preferred channel"
        case .paymentConfirmation: "a confirmation and thanks for the payment"
        case .visitFollowUp: "a follow-up after a payment-page visit without payment"
        case .agencyNotice: "notice that the case goes to a collection agency"
        }
    }
}

/// Whether an action sends a message (over one channel, for one purpose) or steers the flow.
public enum ActionKind: Hashable, Sendable {
    case send(Channel, SendPurpose)
    case control
}

/// How a flow ends.
public enum FlowEnd: String, Hashable, Codable, Sendable {
    /// The case was paid (or `stop_if_paid` found the remainder within its tolerance).
    case paid
    /// `stop_flow` ran, or a dispute was resolved under `on_resolution: stop`.
    case stopped
    /// `escalate_to_agency` handed the case over.
    case escalated
    /// `start_legal_proceedings` handed the case to court or a lawyer.
    case legal
    /// `write_off` wrote the remainder off.
    case writtenOff
    /// The payer agreed a payment plan; the plan's own schedule takes over.
    case paymentPlan
    /// `switch_flow` moved the case to another flow (`CaseProgress.switchedTo` names it).
    case switched
    /// Every process ran and no backup is pending.
    case completed
}

/// One action of the catalogue: its name, what it does, its settings and the conditions it can raise.
public struct ActionSpec: Hashable, Sendable, Encodable {
    public var name: String
    public var kind: ActionKind
    /// One sentence for operators.
    public var summary: String
    /// The settings schema; any other setting in a flow file is an error.
    public var settings: [SettingSpec]
    /// The conditions this action can raise, which its backup may listen for.
    public var conditions: Set<FlowCondition>
    /// The flow ends when this action is carried out without raising a condition.
    public var endsFlow: FlowEnd?

    public init(name: String, kind: ActionKind, summary: String, settings: [SettingSpec], conditions: Set<FlowCondition>,
                endsFlow: FlowEnd? = nil) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.settings = settings
        self.conditions = conditions
        self.endsFlow = endsFlow
    }

    /// The schema of setting `name`, if the action has it.
    public func setting(_ name: String) -> SettingSpec? { settings.first { $0.name == name } }

    /// The channel a send action uses.
    public var channel: Channel? {
        if case let .send(channel, _) = kind { return channel }
        return nil
    }

    /// The purpose of a send action.
    public var purpose: SendPurpose? {
        if case let .send(_, purpose) = kind { return purpose }
        return nil
    }

    /// `tone=friendly|neutral|firm (default friendly), template=text (default reminder), ...`
    public var settingsSummary: String {
        settings.map { s in
            var text = "\(s.name)=\(s.type.summary)"
            if s.required { text += " (required)" } else if let d = s.defaultValue { text += " (default \(d))" } else { text += " (optional)" }
            return text
        }.joined(separator: ", ")
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, channel, purpose, summary, settings, conditions
        case endsFlow = "ends_flow"
    }

    enum SettingKeys: String, CodingKey { case name, type, required, `default`, doc }

    /// JSON for `pom-orchestrate actions --json`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        switch kind {
        case let .send(channel, purpose):
            try c.encode("send", forKey: .kind)
            try c.encode(channel.rawValue, forKey: .channel)
            try c.encode(purpose.rawValue, forKey: .purpose)
        case .control:
            try c.encode("control", forKey: .kind)
        }
        try c.encode(summary, forKey: .summary)
        var list = c.nestedUnkeyedContainer(forKey: .settings)
        for s in settings {
            var item = list.nestedContainer(keyedBy: SettingKeys.self)
            try item.encode(s.name, forKey: .name)
            try item.encode(s.type.summary, forKey: .type)
            try item.encode(s.required, forKey: .required)
            try item.encodeIfPresent(s.defaultValue, forKey: .default)
            try item.encode(s.doc, forKey: .doc)
        }
        try c.encode(conditions.sorted().map(\.rawValue), forKey: .conditions)
        try c.encode(endsFlow != nil, forKey: .endsFlow)
    }
}

/// The predefined actions a flow may use (SPEC §3): a send action for every channel × purpose
/// and the control actions.
public struct ActionCatalogue: Sendable {
    /// Every action, send actions first (channel-major), then control actions.
    public let actions: [ActionSpec]
    private let byName: [String: Int]

    public init(actions: [ActionSpec]) {
        var index: [String: Int] = [:]
        for (i, a) in actions.enumerated() {
            precondition(index[a.name] == nil, "ActionCatalogue: action \(a.name) defined twice")
            precondition(Set(a.settings.map(\.name)).count == a.settings.count, "ActionCatalogue: \(a.name) repeats a setting")
            index[a.name] = i
        }
        self.actions = actions
        self.byName = index
    }

    /// The action called `name`.
    public subscript(name: String) -> ActionSpec? { byName[name].map { actions[$0] } }

    /// The name of the send action for `channel` and `purpose`: `send_email_reminder`.
    public static func sendActionName(channel: Channel, purpose: SendPurpose) -> String {
        "send_\(channel.rawValue)_\(purpose.rawValue)"
    }

    /// The send action for `channel` and `purpose`.
    public func sendAction(channel: Channel, purpose: SendPurpose) -> ActionSpec {
        guard let spec = self[Self.sendActionName(channel: channel, purpose: purpose)] else {
            preconditionFailure("ActionCatalogue: no send action for \(channel) \(purpose)")
        }
        return spec
    }

    /// The catalogue pom ships.
    public static let standard = ActionCatalogue(actions: sendActions() + controlActions())

    // MARK: - Send actions

    static let channelNames = Channel.allCases.map(\.rawValue)
    static let toneNames = Tone.allCases.map(\.rawValue)

    static func sendConditions(_ channel: Channel, _ purpose: SendPurpose) -> Set<FlowCondition> {
        var c: Set<FlowCondition> = [.bounced, .undeliverable, .noContactPoint, .invalidContactPoint, .providerError]
        if channel != .letter { c.insert(.noConsent) }
        if channel == .email { c.insert(.notOpened) }
        if channel == .robocall { c.insert(.notAnswered) }
        if purpose != .paymentConfirmation { c.formUnion([.visitedNotPaid, .notPaid, .noResponse]) }
        return c
    }

    static func sendSettings(_ channel: Channel, _ purpose: SendPurpose) -> [SettingSpec] {
        var s: [SettingSpec] = [
            SettingSpec("tone", .enumeration(toneNames), default: .string(purpose.defaultTone.rawValue),
                        doc: "the tone of the message"),
            SettingSpec("template", .string, default: .string(purpose.rawValue),
                        doc: "the message template; templates exist per channel, tone and locale"),
            SettingSpec("locale", .locale, doc: "the message language; default: the customer's locale"),
            SettingSpec("send_at", .timeOfDay, doc: "customer-local send time; default: the orchestrator's send window"),
        ]
        switch channel {
        case .email:
            s.append(SettingSpec("payment_link", .bool, default: .bool(true), doc: "include a personal payment-page link"))
            s.append(SettingSpec("attach_invoice", .bool, default: .bool(purpose.isDunningNotice),
                                 doc: "attach the invoice as PDF"))
        case .sms:
            s.append(SettingSpec("payment_link", .bool, default: .bool(true), doc: "include a short payment-page link"))
            s.append(SettingSpec("sender_id", .string, doc: "alphanumeric sender name; default: the account's number"))
        case .letter:
            s.append(SettingSpec("attach_qr", .bool, default: .bool(true),
                                 doc: "print a QR code to the payment page (which also collects e-mail and mobile)"))
            s.append(SettingSpec("attach_invoice", .bool, default: .bool(purpose.isDunningNotice),
                                 doc: "enclose a copy of the invoice"))
            s.append(SettingSpec("postage", .enumeration(["standard", "priority", "registered"]), default: .string("standard"),
                                 doc: "postal service; registered gives proof of delivery"))
        case .push:
            s.append(SettingSpec("payment_link", .bool, default: .bool(true), doc: "open the payment page from the notification"))
        case .robocall:
            s.append(SettingSpec("max_attempts", .int(min: 1, max: 5), default: .int(2),
                                 doc: "call attempts before not_answered is raised"))
            s.append(SettingSpec("transfer_to_agent", .bool, default: .bool(false),
                                 doc: "offer to connect the payer to an agent"))
        case .whatsapp:
            s.append(SettingSpec("payment_link", .bool, default: .bool(true), doc: "include a payment-page link"))
        }
        if purpose.isDunningNotice {
            s.append(SettingSpec("deadline_days", .int(min: 1, max: 60), default: .int(14),
                                 doc: "the new payment deadline the notice states, in days"))
            s.append(SettingSpec("include_fees", .bool, default: .bool(true), doc: "list late fees and interest added so far"))
        }
        if purpose == .paymentPlanOffer {
            s.append(SettingSpec("installments", .int(min: 2, max: 60),
                                 doc: "the number of instalments offered; default: the case's plan offer"))
        }
        if purpose == .agencyNotice {
            s.append(SettingSpec("handover_in_days", .int(min: 1, max: 60), default: .int(7),
                                 doc: "days until the handover the notice announces"))
        }
        return s
    }

    static func sendActions() -> [ActionSpec] {
        Channel.allCases.flatMap { channel in
            SendPurpose.allCases.map { purpose in
                ActionSpec(name: sendActionName(channel: channel, purpose: purpose), kind: .send(channel, purpose),
                           summary: "Send \(purpose.phrase) by \(channel.phrase).",
                           settings: sendSettings(channel, purpose), conditions: sendConditions(channel, purpose))
            }
        }
    }

    // MARK: - Control actions

    static func controlActions() -> [ActionSpec] {
        let unpaid: Set<FlowCondition> = [.notPaid]
        return [
            ActionSpec(name: "wait", kind: .control,
                       summary: "Hold the flow: later processes run no earlier than this many days after this one.",
                       settings: [SettingSpec("days", .int(min: 1, max: 365), required: true, doc: "days to hold")],
                       conditions: unpaid),
            ActionSpec(name: "stop_if_paid", kind: .control,
                       summary: "End the flow if the case is paid (an open remainder up to the tolerance counts as paid); else raise not_paid.",
                       settings: [SettingSpec("tolerance", .money, default: .money(Money(amount: 0)),
                                              doc: "a remainder up to this counts as paid")],
                       conditions: unpaid, endsFlow: .paid),
            ActionSpec(name: "stop_flow", kind: .control, summary: "End the flow here.",
                       settings: [SettingSpec("reason", .string, doc: "why, for the case history")],
                       conditions: [], endsFlow: .stopped),
            ActionSpec(name: "escalate_to_agency", kind: .control,
                       summary: "Hand the case to a collection agency; the flow ends. Raises rejected when the agency declines.",
                       settings: [
                           SettingSpec("agency", .string, required: true, doc: "the agency's id in the adapter configuration"),
                           SettingSpec("min_amount", .money, doc: "cases below this open amount stay in-house (raises rejected)"),
                           SettingSpec("include_fees", .bool, default: .bool(true), doc: "hand over fees and interest too"),
                       ],
                       conditions: [.rejected, .providerError], endsFlow: .escalated),
            ActionSpec(name: "start_legal_proceedings", kind: .control,
                       summary: "Hand the case to court dunning or a lawyer; the flow ends.",
                       settings: [
                           SettingSpec("procedure", .enumeration(["de_mahnverfahren", "at_mahnverfahren", "small_claims", "lawyer"]),
                                       required: true, doc: "the legal route"),
                           SettingSpec("min_amount", .money, doc: "cases below this open amount are not taken to court (raises rejected)"),
                       ],
                       conditions: [.rejected, .providerError], endsFlow: .legal),
            ActionSpec(name: "write_off", kind: .control,
                       summary: "Write the open remainder off; the flow ends. Raises rejected above max_amount.",
                       settings: [
                           SettingSpec("reason", .string, required: true, doc: "the booking reason"),
                           SettingSpec("max_amount", .money, doc: "only remainders up to this are written off"),
                       ],
                       conditions: [.rejected], endsFlow: .writtenOff),
            ActionSpec(name: "add_late_fee", kind: .control,
                       summary: "Add a dunning fee to the case.",
                       settings: [
                           SettingSpec("amount", .money, required: true, doc: "the fee"),
                           SettingSpec("max_total", .money, doc: "cap on all fees of the case; beyond it rejected is raised"),
                           SettingSpec("reason", .string, default: .string("dunning fee"), doc: "the text on the statement"),
                       ],
                       conditions: unpaid.union([.rejected])),
            ActionSpec(name: "add_recovery_flat_fee", kind: .control,
                       summary: "Add the flat recovery fee for business debtors (EU Directive 2011/7/EU; §288(5) BGB). Raises rejected for consumers.",
                       settings: [SettingSpec("amount", .money, default: .money(Money(amount: 40, currency: "EUR")),
                                              doc: "the flat fee")],
                       conditions: unpaid.union([.rejected])),
            ActionSpec(name: "add_interest", kind: .control,
                       summary: "Start charging default interest at an annual rate (simple interest, actual/365).",
                       settings: [
                           SettingSpec("annual_rate", .double(min: 0, max: 100), required: true,
                                       doc: "percent per year, e.g. base rate + 5 points for consumers, + 9 for businesses in DE"),
                           SettingSpec("from", .enumeration(["due_date", "today"]), default: .string("due_date"),
                                       doc: "the day interest starts"),
                       ],
                       conditions: unpaid.union([.rejected])),
            ActionSpec(name: "offer_payment_plan", kind: .control,
                       summary: "Offer instalments on the payment page; raises rejected when declined, no_response when ignored.",
                       settings: [
                           SettingSpec("installments", .int(min: 2, max: 60), required: true, doc: "number of instalments"),
                           SettingSpec("interval_days", .int(min: 7, max: 92), default: .int(30), doc: "days between instalments"),
                           SettingSpec("min_installment", .money, doc: "smallest instalment; fewer instalments when the amount is small"),
                           SettingSpec("down_payment_percent", .double(min: 0, max: 90), default: .double(0),
                                       doc: "share of the amount due at once"),
                           SettingSpec("valid_days", .int(min: 1, max: 90), default: .int(14), doc: "days the offer stands"),
                       ],
                       conditions: unpaid.union([.rejected, .noResponse])),
            ActionSpec(name: "create_manual_task", kind: .control,
                       summary: "Put a task for a person in a work queue (call the customer, check the file).",
                       settings: [
                           SettingSpec("title", .string, required: true, doc: "what to do"),
                           SettingSpec("queue", .string, default: .string("collections"), doc: "the work queue"),
                           SettingSpec("priority", .enumeration(["low", "normal", "high", "urgent"]), default: .string("normal"),
                                       doc: "task priority"),
                           SettingSpec("due_in_days", .int(min: 0, max: 60), default: .int(2), doc: "days until the task is due"),
                       ],
                       conditions: unpaid),
            ActionSpec(name: "schedule_agent_call", kind: .control,
                       summary: "Have an agent call the customer; raises no_contact_point without a phone number, not_answered if unreachable.",
                       settings: [
                           SettingSpec("queue", .string, default: .string("phone"), doc: "the call queue"),
                           SettingSpec("within", .duration, default: .duration(86_400), doc: "call within this time"),
                       ],
                       conditions: unpaid.union([.noContactPoint, .notAnswered])),
            ActionSpec(name: "notify_account_manager", kind: .control,
                       summary: "Tell the customer's account manager that the invoice is overdue.",
                       settings: [
                           SettingSpec("recipient", .string, doc: "an internal address; default: the account manager on file"),
                           SettingSpec("template", .string, default: .string("overdue_notice"), doc: "the internal message template"),
                       ],
                       conditions: unpaid.union([.providerError])),
            ActionSpec(name: "set_credit_hold", kind: .control,
                       summary: "Block new orders of the customer in the ERP until the case is paid.",
                       settings: [
                           SettingSpec("reason", .string, default: .string("overdue invoice"), doc: "the hold reason"),
                           SettingSpec("release_when_paid", .bool, default: .bool(true), doc: "lift the hold on payment"),
                       ],
                       conditions: unpaid.union([.providerError])),
            ActionSpec(name: "tag_case", kind: .control,
                       summary: "Label the case for reports and queues.",
                       settings: [SettingSpec("tag", .string, required: true, doc: "the label")],
                       conditions: unpaid),
            ActionSpec(name: "pause_on_dispute", kind: .control,
                       summary: "From here on an open dispute pauses the flow; afterwards the remaining days shift by the pause.",
                       settings: [
                           SettingSpec("max_pause_days", .int(min: 1, max: 365), doc: "resume after this many days even if the dispute is still open"),
                           SettingSpec("on_resolution", .enumeration(["resume", "stop"]), default: .string("resume"),
                                       doc: "what happens when the dispute is resolved"),
                       ],
                       conditions: unpaid),
            ActionSpec(name: "switch_flow", kind: .control,
                       summary: "Move the case to another flow; this flow ends.",
                       settings: [
                           SettingSpec("flow", .flow, required: true, doc: "the name of the flow to continue in"),
                           SettingSpec("skip_past", .bool, default: .bool(true),
                                       doc: "mark the new flow's processes whose day has passed as done"),
                       ],
                       conditions: [], endsFlow: .switched),
            ActionSpec(name: "validate_contact_data", kind: .control,
                       summary: "Check the customer's e-mail addresses, phone numbers and address offline; mark invalid ones.",
                       settings: [
                           SettingSpec("channels", .list(.enumeration(channelNames)), default: .list([.string("email"), .string("sms"), .string("letter")]),
                                       doc: "the channels whose contact points are checked"),
                           SettingSpec("revalidate_after_days", .int(min: 0, max: 3650), default: .int(180),
                                       doc: "re-check points validated longer ago than this"),
                       ],
                       conditions: unpaid.union([.invalidContactPoint, .noContactPoint])),
            ActionSpec(name: "request_enrichment", kind: .control,
                       summary: "Ask an enrichment provider for missing or better contact data.",
                       settings: [
                           SettingSpec("provider", .string, required: true, doc: "the provider's id in the adapter configuration"),
                           SettingSpec("fields", .list(.enumeration(["email", "mobile", "postal_address"])),
                                       default: .list([.string("email"), .string("mobile"), .string("postal_address")]),
                                       doc: "what to ask for"),
                           SettingSpec("max_cost", .money, doc: "the most one lookup may cost"),
                       ],
                       conditions: unpaid.union([.enrichmentFailed, .providerError])),
            ActionSpec(name: "verify_postal_address", kind: .control,
                       summary: "Check the postal address with an address service before a letter goes out.",
                       settings: [SettingSpec("provider", .string, required: true, doc: "the address service")],
                       conditions: unpaid.union([.invalidContactPoint, .noContactPoint, .providerError])),
            ActionSpec(name: "optimise", kind: .control,
                       summary: "Let the promoted model choose channel, tone and send time for a message; the flow's defaults apply without a model.",
                       settings: [
                           SettingSpec("purpose", .enumeration(SendPurpose.allCases.map(\.rawValue)), required: true,
                                       doc: "what the message is for; the chosen channel's send action for it is used"),
                           SettingSpec("channels", .list(.enumeration(channelNames)), default: .list(channelNames.map { .string($0) }),
                                       doc: "the channels the model may choose"),
                           SettingSpec("tones", .list(.enumeration(toneNames)), default: .list(toneNames.map { .string($0) }),
                                       doc: "the tones the model may choose"),
                           SettingSpec("objective", .enumeration(["paid_within_horizon", "expected_net_collected", "time_to_pay"]),
                                       default: .string("paid_within_horizon"), doc: "what the model maximises"),
                           SettingSpec("horizon_days", .int(min: 1, max: 90), default: .int(7), doc: "the H of paid within H days"),
                           SettingSpec("allow_no_contact", .bool, default: .bool(false), doc: "whether sending nothing is a candidate"),
                           SettingSpec("default_channel", .enumeration(channelNames), default: .string("email"),
                                       doc: "the channel without a promoted model (control arm)"),
                           SettingSpec("default_tone", .enumeration(toneNames), default: .string("neutral"),
                                       doc: "the tone without a promoted model (control arm)"),
                           SettingSpec("template", .string, doc: "the message template; default: the purpose's"),
                       ],
                       conditions: Channel.allCases.reduce(into: Set<FlowCondition>()) { $0.formUnion(sendConditions($1, .reminder)) }),
        ]
    }
}

extension Channel {
    /// `e-mail`, `SMS`, `letter`, ... for sentences.
    var phrase: String {
        switch self {
        case .email: "e-mail"
        case .sms: "SMS"
        case .letter: "letter"
        case .push: "push notification"
        case .robocall: "automated phone call"
        case .whatsapp: "WhatsApp"
        }
    }
}
