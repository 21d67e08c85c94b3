import Foundation
import LinAlg
import Vocabulary

/// One feature of the decision context: a stable name, what it measures, and how it is computed
/// from a customer's history as known at the decision time (`DecisionContext`).
public struct FeatureDefinition: Sendable {
    /// Column name in the design matrix and in model artifacts.
    public let name: String
    /// What the feature measures, exactly (part of the schema hash: changing the meaning changes the hash).
    public let meaning: String
    let compute: @Sendable (DecisionContext) -> Double

    init(_ name: String, _ meaning: String, _ compute: @escaping @Sendable (DecisionContext) -> Double) {
        self.name = name
        self.meaning = meaning
        self.compute = compute
    }
}

/// The feature schema of pom's point-in-time training sets: every feature, in column order, in
/// one place. All features use only rows timestamped strictly before the decision time `t`
/// (events, payments, messages) or known at `t` (the invoice's amount and dates), never later ones.
///
/// Contact points: the store keeps every imported version of a point (`contact_point_versions`,
/// by `updated_at`). A point counts as existing at `t` unless a `contact_submitted` event created
/// it after `t`; the latest version with `updated_at < t` gives its validation and consent (before
/// its first known version it is taken as unverified with consent), and a bounce event before `t`
/// marks it bounced.
/// The customer's `preferred_channel` column is a final state too, so the preference comes from
/// `preferred_channel_set` events before `t` only.
public enum FeatureSchema {
    /// Bump when the computation changes without a change of names or meanings.
    public static let version = 1

    /// The features, in design-matrix column order.
    public static let features: [FeatureDefinition] = {
        var f: [FeatureDefinition] = [
            .init("log_amount", "ln(1 + invoice amount in major units)") { log1p(Double($0.invoice.amountMinor) / 100) },
            .init("open_share", "share of the invoice amount still open at t (payments before t deducted)") { c in
                c.invoice.amountMinor > 0 ? max(0, Double(c.invoice.amountMinor - c.paidOnInvoiceBefore) / Double(c.invoice.amountMinor)) : 0
            },
            .init("days_overdue", "days from the due date (00:00 UTC) to t; negative before the due date") { c in
                Double(c.t - Int64(c.invoice.dueDay) * 86_400_000_000) / 86_400_000_000
            },
            .init("days_since_issue", "days from the issue date (00:00 UTC) to t") { c in
                Double(c.t - Int64(c.invoice.issueDay) * 86_400_000_000) / 86_400_000_000
            },
            .init("dunning_level", "messages for this invoice scheduled before t") { Double($0.messagesOnInvoiceBefore) },
            .init("prior_invoices", "the customer's other invoices issued (00:00 UTC of the issue date) at or before t") { Double($0.priorInvoices) },
            .init("prior_paid_share", "share of those invoices fully paid before t (0 when there are none)") { c in
                c.priorInvoices > 0 ? Double(c.priorPaid) / Double(c.priorInvoices) : 0
            },
            .init("has_payment_history", "1 when some other invoice of the customer was fully paid before t") { $0.priorPaid > 0 ? 1 : 0 },
            .init("prior_mean_days_late", "mean days from due date to full payment over those paid invoices (0 when none)") { c in
                c.priorPaid > 0 ? c.priorDaysLateSum / Double(c.priorPaid) : 0
            },
            .init("page_visits", "payment-page visits and QR scans for this invoice before t") { Double($0.visitsOnInvoiceBefore) },
            .init("visited_not_paid", "1 when the page was visited before t and nothing was paid on the invoice since") { c in
                guard let visit = c.lastVisit else { return 0 }
                guard let payment = c.lastPaymentOnInvoice else { return 1 }
                return payment < visit ? 1 : 0
            },
            .init("disputed", "1 when a dispute on this invoice was raised before t") { $0.disputedBefore ? 1 : 0 },
            .init("payment_plan", "1 when a payment plan for this invoice was agreed before t") { $0.planBefore ? 1 : 0 },
            .init("local_hour", "hour of t in the customer's time zone (0-23)") { Double($0.localHour) },
            .init("local_weekend", "1 when t falls on a Saturday or Sunday in the customer's time zone") { $0.localWeekday >= 6 ? 1 : 0 },
        ]
        for channel in Channel.allCases {
            let k = channel.index
            let n = channel.rawValue
            f.append(.init("reachable_\(n)", "1 when a contact point for \(n) existed at t, usable (unverified/valid, not bounced), with consent (\(n == "sms" ? "a mobile" : "any kind that fits"))") { $0.reachable[k] ? 1 : 0 })
            f.append(.init("sent_\(n)", "\(n) messages to the customer scheduled before t") { Double($0.sent[k]) })
            f.append(.init("bounces_\(n)", "bounce events (hard or soft) before t on \(n) messages") { Double($0.bounces[k]) })
            f.append(.init("responses_\(n)", "opens, clicks and page visits before t on \(n) messages") { Double($0.responses[k]) })
            f.append(.init("preferred_\(n)", "1 when the latest preferred-channel choice before t is \(n)") { $0.preferred == k ? 1 : 0 })
        }
        return f
    }()

    /// Feature names in column order.
    public static var names: [String] { features.map(\.name) }

    /// The canonical text of the schema: version, then one `name<TAB>meaning` line per feature.
    public static var canonicalDefinition: String {
        "pom feature schema v\(version)\n" + features.map { "\($0.name)\t\($0.meaning)\n" }.joined()
    }

    /// SHA-256 (hex) of `canonicalDefinition`; model artifacts record it, and a model is only
    /// applied to data with the same hash.
    public static var hash: String { sha256Hex(Array(canonicalDefinition.utf8)) }
}

/// An invoice as the feature code sees it.
struct InvoiceFacts: Sendable {
    var id: String
    var amountMinor: Int64
    var issueDay: Int
    var dueDay: Int
}

/// What was known about a customer and invoice at decision time `t` (microseconds since the epoch),
/// computed by `CustomerHistory.context(for:)` from rows strictly before `t`.
struct DecisionContext {
    var t: Int64
    var invoice: InvoiceFacts
    var paidOnInvoiceBefore: Int64 = 0
    var lastPaymentOnInvoice: Int64? = nil
    var messagesOnInvoiceBefore = 0
    var priorInvoices = 0
    var priorPaid = 0
    var priorDaysLateSum = 0.0
    var visitsOnInvoiceBefore = 0
    var lastVisit: Int64? = nil
    var disputedBefore = false
    var planBefore = false
    var localHour = 0
    var localWeekday = 1
    var reachable = [Bool](repeating: false, count: Channel.allCases.count)
    var sent = [Int](repeating: 0, count: Channel.allCases.count)
    var bounces = [Int](repeating: 0, count: Channel.allCases.count)
    var responses = [Int](repeating: 0, count: Channel.allCases.count)
    var preferred: Int? = nil
}
