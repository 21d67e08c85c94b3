import Foundation
import Vocabulary

/// An invoice, which is also the dunning case (SPEC §3). One row of `invoices.csv`.
public struct Invoice: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var customerId: String
    /// The amount due in minor units of `currency` (cents for EUR), never negative.
    public var amountMinor: Int64
    /// ISO 4217 currency code, e.g. `EUR`.
    public var currency: String
    public var issueDate: CalendarDate
    public var dueDate: CalendarDate
    public var status: InvoiceStatus
    /// The dunning flow the case runs in, if any.
    public var flowName: String?
    public var flowVersion: Int?
    /// The index of the flow's current process (0-based), if any.
    public var step: Int?

    public init(id: String, customerId: String, amountMinor: Int64, currency: String, issueDate: CalendarDate, dueDate: CalendarDate,
                status: InvoiceStatus, flowName: String?, flowVersion: Int?, step: Int?) {
        self.id = id
        self.customerId = customerId
        self.amountMinor = amountMinor
        self.currency = currency
        self.issueDate = issueDate
        self.dueDate = dueDate
        self.status = status
        self.flowName = flowName
        self.flowVersion = flowVersion
        self.step = step
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case customerId = "customer_id"
        case amountMinor = "amount_minor"
        case currency
        case issueDate = "issue_date"
        case dueDate = "due_date"
        case status
        case flowName = "flow_name"
        case flowVersion = "flow_version"
        case step
    }
}

extension Invoice: CSVRecord {
    public static let fileName = "invoices.csv"
    public static let columns = CodingKeys.allCases.map(\.stringValue)
    public var csvFields: [String] {
        [id, customerId, String(amountMinor), currency, issueDate.description, dueDate.description, status.rawValue,
         flowName ?? "", flowVersion.map(String.init) ?? "", step.map(String.init) ?? ""]
    }
}
