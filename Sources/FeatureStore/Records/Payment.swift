import Foundation

/// A payment received for a case (SPEC §3). One row of `payments.csv`.
public struct Payment: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var customerId: String
    public var invoiceId: String
    /// The amount paid in minor units of `currency`, positive.
    public var amountMinor: Int64
    public var currency: String
    /// When the money arrived (UTC).
    public var paidAt: Date

    public init(id: String, customerId: String, invoiceId: String, amountMinor: Int64, currency: String, paidAt: Date) {
        self.id = id
        self.customerId = customerId
        self.invoiceId = invoiceId
        self.amountMinor = amountMinor
        self.currency = currency
        self.paidAt = paidAt
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case customerId = "customer_id"
        case invoiceId = "invoice_id"
        case amountMinor = "amount_minor"
        case currency
        case paidAt = "paid_at"
    }
}

extension Payment: CSVRecord {
    public static let fileName = "payments.csv"
    public static let columns = CodingKeys.allCases.map(\.stringValue)
    public var csvFields: [String] {
        [id, customerId, invoiceId, String(amountMinor), currency, UTCTimestamp.format(paidAt)]
    }
}
