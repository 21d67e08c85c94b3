import Foundation
import Vocabulary

extension StoreTable {
    /// The store row of `record` (a record of this table's file), its fields parsed by the columns'
    /// types; empty fields are `NULL`.
    /// - Precondition: the record's fields are well-formed for the table (records made in code are).
    public func row(_ record: some CSVRecord) -> [Value] {
        let fields = record.csvFields
        precondition(fields.count == columns.count, "\(name): a record has \(fields.count) fields for \(columns.count) columns")
        return zip(columns, fields).map { column, field in
            if field.isEmpty { return .null }
            guard let v = column.type.parse(field) else {
                preconditionFailure("\(name).\(column.name): '\(field)' is not \(column.type.expectation)")
            }
            return v
        }
    }

    /// The value of column `column` in `row`.
    public func value(_ row: [Value], _ column: String) -> Value { row[index(column)] }
}

extension Schema {
    /// The store row of an event (the payload's fields in their own columns).
    public static func row(_ event: Event) -> [Value] {
        let t = events
        var row = [Value](repeating: .null, count: t.columns.count)
        func set(_ name: String, _ v: Value?) { row[t.index(name)] = v ?? .null }
        set("id", .text(event.id))
        set("customer_id", .text(event.customerId))
        set("invoice_id", .text(event.invoiceId))
        set("kind", .text(event.kind.rawValue))
        set("message_id", event.messageId.map(Value.text))
        set("occurred_at", .integer(Int64((event.occurredAt.timeIntervalSince1970 * 1_000_000).rounded())))
        let p = event.payload
        set("amount_minor", p.amountMinor.map(Value.integer))
        set("channel", p.channel.map { .text($0.rawValue) })
        set("contact_point_id", p.contactPointId.map(Value.text))
        set("currency", p.currency.map(Value.text))
        set("installments", p.installments.map { .integer(Int64($0)) })
        set("payment_id", p.paymentId.map(Value.text))
        set("reason", p.reason.map(Value.text))
        set("via", p.via.map(Value.text))
        return row
    }
}

extension Schema {
    /// The event of a store row of `events` (the inverse of `row(_:)`).
    public static func event(_ row: [Value]) -> Event {
        let t = events
        func text(_ name: String) -> String? { t.value(row, name).text }
        let payload = EventPayload(amountMinor: t.value(row, "amount_minor").integer, currency: text("currency"),
                                   paymentId: text("payment_id"), channel: text("channel").flatMap(Channel.init(rawValue:)),
                                   contactPointId: text("contact_point_id"), reason: text("reason"),
                                   installments: t.value(row, "installments").integer.map { Int($0) }, via: text("via"))
        return Event(id: text("id")!, kind: EventKind(rawValue: text("kind")!)!, customerId: text("customer_id")!,
                     invoiceId: text("invoice_id")!, messageId: text("message_id"),
                     occurredAt: Date(timeIntervalSince1970: Double(t.value(row, "occurred_at").integer!) / 1_000_000), payload: payload)
    }
}

/// Reading an events file (the `events.jsonl` format of `datasets/README.md`).
public enum EventFile {
    /// The events of `path`, checked like an import (types, kinds, duplicate ids).
    /// - Throws: `CSVError` naming the file, line, field and value.
    public static func read(path: String) throws -> [Event] {
        try RecordFiles.read(Schema.events, path: path).rows.map(Schema.event)
    }
}
