import Foundation

/// Picks the flow a new case runs in from the flows' segment rules.
///
/// A flow matches when every rule its segment sets holds (no segment: matches everything).
/// Among matching flows the highest `priority` wins; on a tie, the more specific segment (more
/// rules set, each tag counting as one); then the lower name in byte order; then the higher
/// version. The result therefore never depends on the order of `flows`.
public enum FlowAssignment {
    /// What the segment rules look at about the customer.
    public struct Customer: Hashable, Sendable {
        public var kind: CustomerKind
        /// ISO 3166-1 alpha-2, e.g. `DE`.
        public var country: String
        public var tags: Set<String>

        public init(kind: CustomerKind, country: String, tags: Set<String> = []) {
            self.kind = kind
            self.country = country
            self.tags = tags
        }
    }

    /// What the segment rules look at about the invoice.
    public struct Invoice: Hashable, Sendable {
        /// The open amount in minor units of `currency` (cents).
        public var amountMinor: Int64
        /// ISO 4217, e.g. `EUR`.
        public var currency: String

        public init(amountMinor: Int64, currency: String) {
            self.amountMinor = amountMinor
            self.currency = currency
        }

        /// The amount in major units (`amountMinor / 10^exponent`), exact.
        public var amount: Decimal {
            var value = Decimal(amountMinor)
            for _ in 0..<Self.exponent(currency) { value /= 10 }
            return value
        }

        /// Decimal places of an ISO 4217 currency (ISO 4217 list: 0 for JPY, KRW, ...; 3 for
        /// BHD, KWD, ...; else 2).
        public static func exponent(_ currency: String) -> Int {
            switch currency {
            case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF": 0
            case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND": 3
            default: 2
            }
        }
    }

    /// Whether `rules` admit this customer and invoice (`nil` rules admit everything).
    public static func matches(_ rules: SegmentRules?, customer: Customer, invoice: Invoice) -> Bool {
        guard let rules else { return true }
        if let kind = rules.customerKind, kind != customer.kind { return false }
        if let countries = rules.countries, !countries.contains(customer.country) { return false }
        if let currencies = rules.currencies, !currencies.contains(invoice.currency) { return false }
        let amount = invoice.amount
        if let lo = rules.minAmount, amount < lo { return false }
        if let hi = rules.maxAmount, amount >= hi { return false }
        return rules.tags.isSubset(of: customer.tags)
    }

    /// The flow for this customer and invoice, or `nil` when none matches.
    /// Complexity: O(n) in the number of flows.
    public static func assign(customer: Customer, invoice: Invoice, flows: [FlowDefinition]) -> FlowDefinition? {
        var best: FlowDefinition?
        for flow in flows where matches(flow.segment, customer: customer, invoice: invoice) {
            if best == nil || ranks(flow, above: best!) { best = flow }
        }
        return best
    }

    /// The documented order: priority, then specificity (both higher first), then name
    /// ascending, then version descending.
    static func ranks(_ a: FlowDefinition, above b: FlowDefinition) -> Bool {
        let pa = a.segment?.priority ?? 0, pb = b.segment?.priority ?? 0
        if pa != pb { return pa > pb }
        let sa = a.segment?.specificity ?? 0, sb = b.segment?.specificity ?? 0
        if sa != sb { return sa > sb }
        if a.name != b.name { return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8)) }
        return a.version > b.version
    }
}
