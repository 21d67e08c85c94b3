import Foundation
import Vocabulary

/// A debtor (SPEC §3). One row of `customers.csv`; one row of the `customers` table.
public struct Customer: Codable, Sendable, Hashable, Identifiable {
    /// Stable identifier, unique across the store (the sharding key at scale).
    public var id: String
    /// BCP 47 locale for message texts, e.g. `de-DE`.
    public var locale: String
    /// ISO 3166-1 alpha-2 country code, e.g. `DE`.
    public var country: String
    /// IANA time zone the customer lives in, e.g. `Europe/Berlin`; weekdays and send hours are
    /// meant in this zone.
    public var timeZone: String
    /// The channel the customer asked for (on the payment page), if any.
    public var preferredChannel: Channel?
    /// When the customer was created (UTC).
    public var createdAt: Date

    public init(id: String, locale: String, country: String, timeZone: String, preferredChannel: Channel?, createdAt: Date) {
        self.id = id
        self.locale = locale
        self.country = country
        self.timeZone = timeZone
        self.preferredChannel = preferredChannel
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, locale, country
        case timeZone = "time_zone"
        case preferredChannel = "preferred_channel"
        case createdAt = "created_at"
    }
}

extension Customer: CSVRecord {
    public static let fileName = "customers.csv"
    public static let columns = CodingKeys.allCases.map(\.stringValue)
    public var csvFields: [String] {
        [id, locale, country, timeZone, preferredChannel?.rawValue ?? "", UTCTimestamp.format(createdAt)]
    }
}
