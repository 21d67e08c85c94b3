import Foundation
import Vocabulary

/// The decision context of one live case: the `FeatureSchema` features exactly as a training
/// set computes them for a decision at the same instant, and the customer-local clock.
public struct LiveContext: Sendable, Equatable {
    /// `FeatureSchema.features` in column order.
    public var features: [Double]
    /// ISO weekday of the decision time in the customer's time zone (1 = Monday ... 7 = Sunday).
    public var localWeekday: Int
    /// Hour of the decision time in the customer's time zone (0-23).
    public var localHour: Int

    public init(features: [Double], localWeekday: Int, localHour: Int) {
        self.features = features
        self.localWeekday = localWeekday
        self.localHour = localHour
    }
}

/// Point-in-time features for decisions being made now, from the same code path as
/// `TrainingSetBuilder` (`CustomerHistory.context(for:)` over rows strictly before `t`), so that a
/// model is scored on exactly the features it was trained on.
public enum LiveFeatures {
    /// The context of a decision on `invoiceID` at `t` (microseconds since the epoch) from a
    /// customer's records as they stand (anything at or after `t` is ignored).
    /// Complexity: O(records of the customer).
    public static func context(customer: Customer, contactPoints: [ContactPoint], invoices: [Invoice], messages: [Message],
                               events: [Event], payments: [Payment], invoiceID: String, at t: Int64) -> LiveContext {
        var h = CustomerHistory(customerID: customer.id, timeZone: CustomerHistory.zone(customer.timeZone))
        for i in invoices {
            h.invoices[i.id] = InvoiceFacts(id: i.id, amountMinor: i.amountMinor, issueDay: i.issueDate.daysSinceEpoch,
                                            dueDay: i.dueDate.daysSinceEpoch)
        }
        for p in contactPoints {
            h.contactPoints[p.id, default: []].append(CustomerHistory.ContactPointFacts(
                id: p.id, kind: p.kind.rawValue, phoneType: p.phoneType?.rawValue, validation: p.validation.rawValue,
                consent: p.consent, updatedAt: micros(p.updatedAt)))
        }
        for m in messages {
            h.messages.append(CustomerHistory.MessageFacts(id: m.id, invoiceID: m.invoiceId, decisionID: m.decisionId,
                                                           channel: m.channel.index, scheduledAt: micros(m.scheduledAt),
                                                           costMinor: m.costMinor))
            h.messageChannel[m.id] = m.channel.index
        }
        for e in events {
            h.events.append(CustomerHistory.EventFacts(invoiceID: e.invoiceId, kind: e.kind.rawValue, messageID: e.messageId,
                                                       t: micros(e.occurredAt), contactPointID: e.payload.contactPointId,
                                                       channel: e.payload.channel?.rawValue))
        }
        for p in payments {
            h.payments.append(CustomerHistory.PaymentFacts(invoiceID: p.invoiceId, amountMinor: p.amountMinor, t: micros(p.paidAt)))
        }
        h.finish()
        return h.liveContext(invoiceID: invoiceID, at: t)
    }

    /// The context of a decision on `invoiceID` of `customerID` at `t`, read from the store.
    /// - Throws: `LiveFeatureError.unknownCustomer` when the store has no such customer; `StoreError`.
    public static func context(store: any Store, customerID: String, invoiceID: String, at t: Int64) async throws -> LiveContext {
        try context(tables: try await store.rows(of: tables, customers: customerID...customerID), customerID: customerID,
                    invoiceID: invoiceID, at: t)
    }

    /// The tables whose rows of a customer `context(tables:customerID:invoiceID:at:)` reads. Not
    /// `decisions`: no feature uses them, and a customer's logged decisions grow with every call of
    /// the decision API (reading and decoding them was most of a decision's cost).
    public static let tables = [Schema.customers, Schema.contactPointVersions, Schema.invoices, Schema.messages, Schema.events, Schema.payments]

    /// The context of a decision on `invoiceID` at `t` from one customer's rows of `tables`, by table
    /// name (as `Store.rows(of:customers:)` returns them; other tables are ignored).
    /// - Throws: `LiveFeatureError` when the customer or the invoice is not among the rows.
    public static func context(tables: [String: [[Value]]], customerID: String, invoiceID: String, at t: Int64) throws -> LiveContext {
        var read = tables
        read[Schema.decisions.name] = nil
        guard let h = CustomerHistory.group(read).first(where: { $0.customerID == customerID }) else {
            throw LiveFeatureError.unknownCustomer(customerID)
        }
        guard h.invoices[invoiceID] != nil else { throw LiveFeatureError.unknownInvoice(customerID: customerID, invoiceID: invoiceID) }
        return h.liveContext(invoiceID: invoiceID, at: t)
    }

    /// The customer-local ISO weekday (1-7) and hour (0-23) of `t` in the IANA zone `timeZone`
    /// (UTC when unknown), as the `local_hour` and `local_weekend` features compute them.
    public static func localClock(at t: Int64, timeZone: String) -> (weekday: Int, hour: Int) {
        let zone = CustomerHistory.zone(timeZone)
        let seconds = t >= 0 ? t / 1_000_000 : (t - 999_999) / 1_000_000
        let local = seconds + Int64(ZoneOffsets.secondsFromGMT(zone, for: Date(timeIntervalSince1970: Double(seconds))))
        let localDays = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        return (CivilTime.isoWeekday(days: Int(localDays)), Int((local - localDays * 86_400) / 3600))
    }

    /// Microseconds since the epoch of `date` (the store's instant representation).
    public static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
}

/// A live case the store does not know.
public enum LiveFeatureError: Error, Equatable, CustomStringConvertible {
    case unknownCustomer(String)
    case unknownInvoice(customerID: String, invoiceID: String)

    public var description: String {
        switch self {
        case .unknownCustomer(let id): return "customer '\(id)' is not in the store; import its records first"
        case .unknownInvoice(let c, let i): return "invoice '\(i)' of customer '\(c)' is not in the store; import its records first"
        }
    }
}

extension CustomerHistory {
    /// Sorts the rows and derives the full-payment instants, as `group` does.
    mutating func finish() {
        messages.sort { ($0.scheduledAt, $0.id) < ($1.scheduledAt, $1.id) }
        events.sort { $0.t < $1.t }
        for id in contactPoints.keys { contactPoints[id]!.sort { $0.updatedAt < $1.updatedAt } }
        payments.sort { $0.t < $1.t }
        var cumulative: [String: Int64] = [:]
        fullyPaidAt = [:]
        for payment in payments {
            cumulative[payment.invoiceID, default: 0] += payment.amountMinor
            if fullyPaidAt[payment.invoiceID] == nil, let invoice = invoices[payment.invoiceID],
               cumulative[payment.invoiceID]! >= invoice.amountMinor {
                fullyPaidAt[payment.invoiceID] = payment.t
            }
        }
    }

    /// The features of a (not yet logged) decision on `invoiceID` at `t`.
    func liveContext(invoiceID: String, at t: Int64) -> LiveContext {
        let probe = DecisionFacts(id: "", invoiceID: invoiceID, t: t, action: DeliveryAction(index: 0), candidates: ActionSet(),
                                  propensity: 1, propensityIsExact: true, policy: "", policyVersion: "", experiment: nil, arm: nil)
        let c = context(for: probe)
        return LiveContext(features: FeatureSchema.features.map { $0.compute(c) }, localWeekday: c.localWeekday, localHour: c.localHour)
    }
}
