import Channels
import FeatureStore
import Flows
import Foundation
import LinAlg
import Vocabulary

extension Orchestrator {
    /// Hands every due outbox message (of `customers`, when given) to its channel and records the outcome.
    func dispatch(asOf: Date, customers: [String]?, summary: inout RunSummary) async throws {
        let ob = Schema.outbox, mt = Schema.messages, cp = Schema.contactPoints, it = Schema.invoices, cu = Schema.customers
        var attemptedThisRun = Set<[String]>()
        var clock = PhaseClock(configuration.phaseObserver)
        while true {
            let rows = try await store.claim(ob, dueColumn: "due_at", dueBy: micros(asOf), owner: configuration.worker,
                                             leaseUntil: micros(asOf.addingTimeInterval(configuration.leaseSeconds)),
                                             now: micros(asOf), limit: configuration.batchSize, customers: customers)
            clock.lap("dispatch.claim")
            let fresh = rows.filter { attemptedThisRun.insert([ob.value($0, "customer_id").text!, ob.value($0, "message_id").text!]).inserted }
            if fresh.isEmpty { break }
            let keys = fresh.map { [ob.value($0, "customer_id").text!, ob.value($0, "message_id").text!] }
            var messages: [[String]: [Value]] = [:]
            for row in try await store.rows(of: mt, keys: keys) { messages[[mt.value(row, "customer_id").text!, mt.value(row, "id").text!]] = row }
            let pointKeys = messages.values.compactMap { m in mt.value(m, "contact_point_id").text.map { [mt.value(m, "customer_id").text!, $0] } }
            var points: [[String]: [Value]] = [:]
            for row in try await store.rows(of: cp, keys: pointKeys) { points[[cp.value(row, "customer_id").text!, cp.value(row, "id").text!]] = row }
            var invoices: [[String]: [Value]] = [:]
            for row in try await store.rows(of: it, keys: Array(Set(messages.values.map { [mt.value($0, "customer_id").text!, mt.value($0, "invoice_id").text!] }))) {
                invoices[[it.value(row, "customer_id").text!, it.value(row, "id").text!]] = row
            }
            var customers: [String: [Value]] = [:]
            for row in try await store.rows(of: cu, customerIds: keys.map { $0[0] }) { customers[cu.value(row, "id").text!] = row }
            clock.lap("dispatch.read")

            // Every message of the batch is rendered first, on all cores, then handed over in order.
            let (messagesRead, pointsRead, invoicesRead, customersRead) = (messages, points, invoices, customers)
            let due = ResultSlots<DueMessage>(count: fresh.count)
            let render: @Sendable (Range<Int>) -> Void = { range in
                for r in range {
                    let key = [ob.value(fresh[r], "customer_id").text!, ob.value(fresh[r], "message_id").text!]
                    guard let message = messagesRead[key] else { due.set(r, DueMessage(outbox: fresh[r], message: nil, rendered: nil)); continue }
                    let invoice = invoicesRead[[key[0], mt.value(message, "invoice_id").text!]]
                    due.set(r, self.dueMessage(fresh[r], message: message, point: mt.value(message, "contact_point_id").text.flatMap { pointsRead[[key[0], $0]] },
                                               invoice: invoice, customer: customersRead[key[0]], asOf: asOf))
                }
            }
            parallelChunks(count: fresh.count, parts: min(configuration.threads, fresh.count / Self.renderRowsPerCore), render)
            let (changes, _) = try await handOver(due.values, asOf: asOf, summary: &summary)
            clock.lap("dispatch.send")
            try await store.apply(changes)
            clock.lap("dispatch.write")
        }
    }

    /// A due outbox message as its channel gets it.
    struct DueMessage: Sendable {
        var outbox: [Value]
        /// Nil: the message is gone (its outbox row is dropped).
        var message: [Value]?
        /// Nil: not sent, because the invoice was closed (paid, handed over) since it was queued.
        var rendered: Result<OutgoingMessage, any Error>?
    }

    /// Renders a due message for its channel (a closed or missing invoice sends nothing).
    func dueMessage(_ outbox: [Value], message: [Value], point: [Value]?, invoice: [Value]?, customer: [Value]?, asOf: Date) -> DueMessage {
        let it = Schema.invoices
        guard let invoice, let customer, InvoiceStatus(rawValue: it.value(invoice, "status").text ?? "open")?.isClosed != true else {
            return DueMessage(outbox: outbox, message: message, rendered: nil)
        }
        return DueMessage(outbox: outbox, message: message, rendered: Result {
            try self.outgoingMessage(message, point: point, invoice: invoice, customer: customer, asOf: asOf)
        })
    }

    /// Hands rendered messages to their channels, in order, and returns the writes that record
    /// what came of them (message statuses, outbox rows done or due again, conditions raised on
    /// the cases of failed messages) and the customers those writes touch.
    ///
    /// Message rows change through guarded updates: a webhook may have reported the message
    /// delivered or bounced (in another process) between the send and the write, and a status
    /// never moves back to `sent`.
    func handOver(_ due: [DueMessage], asOf: Date, summary: inout RunSummary) async throws -> ([TableChange], Set<String>) {
        guard !due.isEmpty else { return ([], []) }
        let ob = Schema.outbox, mt = Schema.messages
        var outcomes = MessageOutcomes()
        var doneOutbox: [[String]] = [], retryOutbox: [[Value]] = []
        var failures: [(CaseKey, String, FlowCondition)] = []
        for item in due {
            let row = item.outbox
            let key = [ob.value(row, "customer_id").text!, ob.value(row, "message_id").text!]
            guard let message = item.message else { doneOutbox.append(key); continue }
            let invoiceKey = [key[0], mt.value(message, "invoice_id").text!]
            guard let prepared = item.rendered else {
                // Paid (or handed over, or gone) since it was queued: nothing goes out.
                outcomes.cancelled.append(key)
                doneOutbox.append(key)
                continue
            }
            do {
                let outgoing = try prepared.get()
                let receipt = try await router.send(outgoing)
                outcomes.sent.append((key, receipt.providerId))
                doneOutbox.append(key)
                summary.sent += 1
                summary.sentByChannel[mt.value(message, "channel").text!, default: 0] += 1
            } catch let error as ChannelError where error.isRetryable {
                let attempts = (ob.value(row, "attempts").integer ?? 0) + 1
                if attempts >= Int64(configuration.maxAttempts) {
                    outcomes.failed.append(key)
                    doneOutbox.append(key)
                    failures.append((CaseKey(customerId: key[0], invoiceId: invoiceKey[1]), key[1], .providerError))
                    summary.failed += 1
                } else {
                    var retry = row
                    retry[ob.index("attempts")] = .integer(attempts)
                    retry[ob.index("due_at")] = .integer(micros(asOf.addingTimeInterval(configuration.retryBaseSeconds * pow(2, Double(attempts - 1)))))
                    retry[ob.index("last_error")] = .text(error.description)
                    retry[ob.index("lease_owner")] = .null
                    retry[ob.index("lease_until")] = .null
                    retryOutbox.append(retry)
                    summary.retried += 1
                }
            } catch {
                let condition: FlowCondition
                if let e = error as? ChannelError, let c = e.condition {
                    condition = FlowCondition(rawValue: c.rawValue) ?? .providerError
                } else if let e = error as? ConditionError {
                    condition = e.condition
                } else {
                    condition = .providerError
                }
                outcomes.failed.append(key)
                doneOutbox.append(key)
                failures.append((CaseKey(customerId: key[0], invoiceId: invoiceKey[1]), key[1], condition))
                summary.failed += 1
            }
        }
        var changes = outcomes.changes + [.delete(ob, keys: doneOutbox), .upsert(TableRows(table: ob, rows: retryOutbox))]
        if !failures.isEmpty {
            changes += try await raise(failures.map { ($0.0, $0.1, $0.2, asOf) }, asOf: asOf)
        }
        return (changes, Set(due.map { ob.value($0.outbox, "customer_id").text! }))
    }

    /// Messages from which a dispatch batch renders on more than one core (at least this many per core).
    static let renderRowsPerCore = 32

    /// What one dispatch batch did to its messages, written as guarded updates of `messages`.
    struct MessageOutcomes {
        /// Handed to the channel: the key and the provider's id.
        var sent: [([String], String)] = []
        /// Given up on (provider error after the last attempt, no usable contact point ...).
        var failed: [[String]] = []
        /// Not sent because the invoice was closed since the message was queued (costs nothing).
        var cancelled: [[String]] = []

        var changes: [TableChange] {
            let mt = Schema.messages, queued = RowGuard("status", in: [MessageStatus.queued.rawValue])
            let failed = Value.text(MessageStatus.failed.rawValue)
            // The provider's id is recorded whatever the status is by now (a webhook that arrived
            // before this write matched the message by its id), the status only while queued: one
            // statement per message; grouped by columns so that PostgreSQL writes each group in one.
            return sent.map { .update(mt, key: $0.0, set: ["status": .text(MessageStatus.sent.rawValue)], onlyIf: queued,
                                      unguarded: ["provider_id": .text($0.1)]) }
                + self.failed.map { .update(mt, key: $0, set: ["status": failed], onlyIf: queued) }
                + cancelled.map { .update(mt, key: $0, set: ["status": failed, "cost_minor": .integer(0)], onlyIf: queued) }
        }
    }

    /// The message as the channel adapter gets it: recipient, rendered text, case facts.
    func outgoingMessage(_ m: [Value], point: [Value]?, invoice: [Value], customer: [Value], asOf: Date) throws -> OutgoingMessage {
        let mt = Schema.messages, it = Schema.invoices, cu = Schema.customers, cp = Schema.contactPoints
        let channel = Channel(rawValue: mt.value(m, "channel").text!)!
        guard let point, ValidationState(rawValue: cp.value(point, "validation").text!)?.isUsable ?? false else {
            // The contact point went bad (bounced, invalid) after the message was queued.
            throw ConditionError(condition: .noContactPoint)
        }
        let value = cp.value(point, "value").text!
        let recipient: Recipient
        switch channel {
        case .email: recipient = .email(value)
        case .sms, .robocall, .whatsapp: recipient = .phone(value)
        case .letter: recipient = .postal(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        case .push: recipient = .pushToken(value)
        }
        let locale = cu.value(customer, "locale").text ?? "en"
        let invoiceId = it.value(invoice, "id").text!
        let due = CalendarDate(parsing: it.value(invoice, "due_date").text!)!
        let link = configuration.paymentLinkBase + "/p/" + PaymentLink.token(customerId: cu.value(customer, "id").text!, invoiceId: invoiceId,
                                                                            secret: configuration.linkSecret,
                                                                            expires: asOf.addingTimeInterval(Double(configuration.paymentLinkDays) * 86_400))
        let template = mt.value(m, "template").text!
        let purpose = MessagePurpose(templateName: template) ?? .reminder
        let tone = Tone(rawValue: mt.value(m, "tone").text!) ?? .neutral
        let data = CaseData(customerName: nil, invoiceNumber: invoiceId, amountMinor: it.value(invoice, "amount_minor").integer!,
                            currency: it.value(invoice, "currency").text!, dueDate: due,
                            asOf: LocalClock.date(asOf, in: LocalClock.zone(cu.value(customer, "time_zone").text!)),
                            paymentDeadline: LocalClock.date(asOf, in: .gmt).adding(days: 7), paymentLink: link,
                            creditorName: configuration.creditorName, postalAddress: recipient.postalLines)
        let rendered = templates.render(channel, purpose: purpose, tone: tone, locale: locale, data: data)
        return OutgoingMessage(messageId: mt.value(m, "id").text!, idempotencyKey: mt.value(m, "idempotency_key").text!,
                               customerId: cu.value(customer, "id").text!, invoiceId: invoiceId, channel: channel,
                               contactPointId: cp.value(point, "id").text, recipient: recipient, template: template, tone: tone,
                               locale: locale, subject: rendered.subject, bodyText: rendered.text, bodyHTML: rendered.html,
                               scheduledAt: date(micros: mt.value(m, "scheduled_at").integer!),
                               metadata: MessageMetadata(amountMinor: it.value(invoice, "amount_minor").integer!,
                                                         currency: it.value(invoice, "currency").text!, dueDate: due, paymentLink: link))
    }

    /// The case-state changes that raise `condition` on the step that sent each message (the
    /// backup chain then runs at the next run, which is due at once).
    func raise(_ items: [(CaseKey, String, FlowCondition, Date)], asOf: Date) async throws -> [TableChange] {
        let ct = Schema.caseStates
        var states: [CaseKey: [Value]] = [:]
        for row in try await store.rows(of: ct, keys: Array(Set(items.map { [$0.0.customerId, $0.0.invoiceId] }))) {
            states[CaseKey(customerId: ct.value(row, "customer_id").text!, invoiceId: ct.value(row, "invoice_id").text!)] = row
        }
        for (key, messageId, condition, at) in items {
            guard var row = states[key] else { continue }
            var stored = try StoredProgress(stored: ct.value(row, "progress").text!)
            guard let ref = stored.messages[messageId], stored.flow.record(of: ref) != nil, stored.flow.end == nil else { continue }
            stored.flow.raise(condition, for: ref, at: at)
            row[ct.index("progress")] = .text(stored.compact())
            row[ct.index("next_due_at")] = .integer(micros(asOf))
            row[ct.index("updated_at")] = .integer(micros(asOf))
            states[key] = row
        }
        return [.upsert(TableRows(table: ct, rows: states.keys.sorted().map { states[$0]! }))]
    }
}
