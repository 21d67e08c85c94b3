import Foundation
import LinAlg
import Vocabulary
import FeatureStore

/// What a policy sees when it decides for a case.
public struct DecisionContext: Sendable {
    /// The id the decision will get.
    public var decisionId: String
    public var customer: Customer
    /// The customer's contact points as known at decision time.
    public var contactPoints: [ContactPoint]
    public var invoice: Invoice
    /// Dunning level: number of messages already sent (or queued) for the case.
    public var level: Int
    public var decidedAt: Date
    /// The decision time on the customer's wall clock.
    public var localTime: LocalDateTime
    /// The allowed actions (index order): a usable contact point with consent exists for the
    /// channel and the channel rules allow the weekday and hour.
    public var candidates: [DeliveryAction]
}

/// The true worth of one action for a case at a decision time.
public struct ActionValue: Sendable, Equatable {
    public var action: DeliveryAction
    /// When the message would go out (next occurrence of the weekday/window after the decision).
    public var sendAt: Date
    /// P(the case is paid by `sendAt + H days` | unpaid at the decision time).
    public var probabilityPaid: Double
}

/// The living state of one customer and their cases: contact points change (bounces,
/// submissions), messages go out, events happen, invoices get paid or handed to an agency.
///
/// Everything random about a message is drawn from its own stream
/// (`Xoshiro256(seed:keys: 2, customer, invoice, message)`), so the outcome of a message does not
/// depend on what happened to other customers or in which order the world was driven.
public final class CustomerTimeline {
    /// The world the customer belongs to.
    public let world: World
    /// The customer's position in the world.
    public let index: Int
    /// The customer as known now (a preferred channel appears once set on the payment page).
    public private(set) var customer: Customer
    /// Contact points as known now (bounced points retired, submitted points added).
    public private(set) var contactPoints: [ContactPoint]
    /// Invoices with their current status, flow and step.
    public private(set) var invoices: [Invoice]
    /// Every message queued so far, with its current status.
    public private(set) var messages: [Message] = []
    /// Payments received so far.
    public private(set) var payments: [Payment] = []
    /// Decisions logged so far.
    public internal(set) var decisions: [Decision] = []
    /// Events released so far, in the order they were released.
    public private(set) var events: [Event] = []
    /// Time up to which the timeline has been advanced.
    public private(set) var now: Date
    /// The customer's hidden traits.
    public let traits: CustomerTraits

    var p: WorldParameters { world.parameters }
    let timeZone: TimeZone
    var dead: [String: Bool]
    let spontaneous: [Date?]
    var paymentDue: [(time: Date, message: Int?)?]
    let agencyAt: [Date]
    /// Decision instants per invoice and reminder.
    let reminders: [[Date]]
    var agencyDone: [Bool]
    var info: [MessageInfo] = []
    var pending: [Pending] = []
    var sequence = 0
    var eventCount = 0
    var messageCount: [Int]
    var decisionCount: [Int]

    struct MessageInfo {
        var invoice: Int
        var sendAt: Date
        var channel: Channel
        var activation: Double      // P(works | delivered)
        var delivery: Double        // P(delivered) at send time
        var delivered: Bool?        // nil until dispatched
        var cancelled = false
    }

    enum Happening {
        case dispatch(Int)
        case delivered(Int)
        case bounced(Int, hard: Bool, reason: String)
        case opened(Int)
        case visit(Int, qr: Bool, submit: Double, prefer: Double, digits: [Int])
        case agency(Int)
    }

    struct Pending {
        var time: Date
        var seq: Int
        var what: Happening
    }

    /// The timeline of a freshly generated customer at the start of the period.
    public init(world: World, customer generated: SimulatedCustomer) {
        self.world = world
        index = generated.index
        customer = generated.customer
        contactPoints = generated.contactPoints
        invoices = generated.invoices
        traits = generated.traits
        timeZone = World.timeZone(generated.customer.timeZone)
        dead = Dictionary(uniqueKeysWithValues: generated.traits.contactPoints.map { ($0.contactPointId, $0.dead) })
        spontaneous = generated.spontaneousPayment
        paymentDue = generated.spontaneousPayment.map { t in t.map { ($0, nil) } }
        now = world.config.startInstant
        messageCount = Array(repeating: 0, count: generated.invoices.count)
        decisionCount = Array(repeating: 0, count: generated.invoices.count)
        var agency: [Date] = []
        agencyDone = Array(repeating: false, count: generated.invoices.count)
        for inv in generated.invoices {
            agency.append(Self.instant(inv.dueDate.adding(days: world.parameters.agencyDay), hour: world.parameters.decisionHour, in: timeZone))
        }
        agencyAt = agency
        let zone = timeZone, parameters = world.parameters
        reminders = generated.invoices.map { inv in
            parameters.reminderDays.map { Self.instant(inv.dueDate.adding(days: $0), hour: parameters.decisionHour, in: zone) }
        }
        for i in invoices.indices { schedule(agencyAt[i], .agency(i)) }
    }

    // MARK: Local time

    /// The customer-local wall-clock time of `instant`.
    public func localTime(_ instant: Date) -> LocalDateTime {
        let t = Int(instant.timeIntervalSince1970) + ZoneOffsets.secondsFromGMT(timeZone, for: instant)
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let sod = t - days * 86400
        return LocalDateTime(date: CalendarDate(daysSinceEpoch: days), hour: sod / 3600, minute: sod / 60 % 60, second: sod % 60)
    }

    /// The UTC instant of local `hour`:00 on `date` in `zone` (DST gaps do not touch 06:00–20:00).
    static func instant(_ date: CalendarDate, hour: Int, in zone: TimeZone) -> Date {
        let local = Double(date.daysSinceEpoch * 86400 + hour * 3600)
        let guess = Date(timeIntervalSince1970: local - Double(ZoneOffsets.secondsFromGMT(zone, for: Date(timeIntervalSince1970: local))))
        return Date(timeIntervalSince1970: local - Double(ZoneOffsets.secondsFromGMT(zone, for: guess)))
    }

    /// The first instant after `t` at which `action`'s weekday and window start, customer-local.
    public func sendInstant(for action: DeliveryAction, after t: Date) -> Date {
        let local = localTime(t)
        let ahead = (action.weekday.index - local.date.weekday.index + 7) % 7
        var s = Self.instant(local.date.adding(days: ahead), hour: action.hour.startHour, in: timeZone)
        if s <= t { s = Self.instant(local.date.adding(days: ahead + 7), hour: action.hour.startHour, in: timeZone) }
        return s
    }

    /// The decision instant of reminder `k` for invoice `i`: `decisionHour`:00 local on due + `reminderDays[k]`.
    public func reminderInstant(invoice i: Int, reminder k: Int) -> Date { reminders[i][k] }

    // MARK: Candidates and context

    /// The contact point a message over `channel` would go to: the most recently updated point
    /// that can carry it (`ContactPoint.canCarry`), later points first on ties.
    public func contactPoint(for channel: Channel) -> Int? {
        var best: Int?
        for (k, cp) in contactPoints.enumerated() where cp.canCarry(channel) {
            if let b = best, contactPoints[b].updatedAt > cp.updatedAt { continue }
            best = k
        }
        return best
    }

    /// The allowed actions for a case now, in index order.
    public func candidates() -> [DeliveryAction] {
        var out: [DeliveryAction] = []
        for c in Channel.allCases where contactPoint(for: c) != nil {
            for t in Tone.allCases {
                for d in Weekday.allCases {
                    for h in HourBucket.allCases where ChannelRules.allows(c, weekday: d, hour: h) {
                        out.append(DeliveryAction(channel: c, tone: t, weekday: d, hour: h))
                    }
                }
            }
        }
        return out
    }

    /// Index of the invoice with id `id`.
    public func invoiceIndex(_ id: String) -> Int? { invoices.firstIndex { $0.id == id } }

    /// What a policy sees for invoice `i` at `t` (call `advance(to: t)` first).
    public func context(invoice i: Int, at t: Date) -> DecisionContext {
        DecisionContext(decisionId: invoices[i].id + "-D\(decisionCount[i] + 1)", customer: customer, contactPoints: contactPoints,
                        invoice: invoices[i], level: level(i), decidedAt: t, localTime: localTime(t), candidates: candidates())
    }

    func level(_ i: Int) -> Int { info.lazy.filter { $0.invoice == i && !$0.cancelled }.count }

    /// Whether invoice `i` still takes reminders (open and not handed over).
    public func isOpen(_ i: Int) -> Bool { !invoices[i].status.isClosed }

    // MARK: The oracle

    /// The true probability that invoice `i`, unpaid at `t`, is paid by `sendAt + H days` under
    /// each action in `actions`, given the customer's latent traits:
    ///
    /// `V(a) = 1 − exp(−λ·(s_a + H − t)) · Π_j [1 − q_j (F_j(s_a+H−s_j) − F_j(t−s_j)) / (1 − q_j F_j(t−s_j))] · (1 − δ_a π_a F_a(H))`
    ///
    /// with λ the spontaneous rate, j the earlier messages (q_j their chance to work, known
    /// delivery), δ_a the delivery probability of the contact point, π_a the activation
    /// probability (`activationLogit`) and F the delay CDF (`delayCDF`). Payments of independent
    /// causes combine as the minimum of independent times, so survival probabilities multiply.
    /// O(|actions| · messages so far).
    public func actionValues(invoice i: Int, at t: Date, horizonDays h: Double, actions: [DeliveryAction]) -> [ActionValue] {
        actions.map { a in
            let s = sendInstant(for: a, after: t)
            return ActionValue(action: a, sendAt: s, probabilityPaid: 1 - survival(invoice: i, at: t, action: a, sendAt: s, untilHours: h * 24))
        }
    }

    /// P(unpaid at `s + u` hours | unpaid at `t`) under action `a` sent at `s`.
    func survival(invoice i: Int, at t: Date, action a: DeliveryAction, sendAt s: Date, untilHours u: Double) -> Double {
        let end = s.addingTimeInterval(u * 3600)
        var surv = 1.0
        if let rate = traits.spontaneousRate[invoices[i].id], rate > 0 {
            surv *= exp(-rate * end.timeIntervalSince(t) / 86400)
        }
        for m in info where m.invoice == i && !m.cancelled {
            let q = m.delivered.map { $0 ? m.activation : 0 } ?? m.delivery * m.activation
            guard q > 0 else { continue }
            let before = t > m.sendAt ? p.delayCDF(channel: m.channel, hours: t.timeIntervalSince(m.sendAt) / 3600) : 0
            let after = end > m.sendAt ? p.delayCDF(channel: m.channel, hours: end.timeIntervalSince(m.sendAt) / 3600) : 0
            surv *= 1 - q * (after - before) / (1 - q * before)
        }
        let (delta, pi) = probabilities(invoice: i, action: a, sendAt: s, level: level(i))
        surv *= 1 - delta * pi * p.delayCDF(channel: a.channel, hours: u)
        return surv
    }

    /// Delivery and activation probability of action `a` sent at `s`.
    func probabilities(invoice i: Int, action a: DeliveryAction, sendAt s: Date, level: Int) -> (Double, Double) {
        guard let k = contactPoint(for: a.channel) else { return (0, 0) }
        let delta = p.deliveryProbability(channel: a.channel, dead: dead[contactPoints[k].id] ?? false)
        let local = localTime(s)
        let eta = p.activationLogit(traits: traits, channel: a.channel, tone: a.tone, localWeekday: local.date.weekday,
                                    localHour: Double(local.secondOfDay) / 3600, level: level,
                                    amountMinor: invoices[i].amountMinor, preferredChannel: customer.preferredChannel)
        return (delta, eta == -.infinity ? 0 : sigmoid(eta))
    }

    /// Restricted mean time to pay in days from the send instant, `∫₀^τ P(unpaid at s+u) du`
    /// (payments before the send count as 0), by the trapezoid rule on an hourly grid.
    public func expectedDaysToPay(invoice i: Int, at t: Date, action a: DeliveryAction, truncatedAtDays tau: Double) -> Double {
        let s = sendInstant(for: a, after: t)
        let n = max(1, Int((tau * 24).rounded()))
        var total = 0.0
        var previous = survival(invoice: i, at: t, action: a, sendAt: s, untilHours: 0)
        for k in 1...n {
            let cur = survival(invoice: i, at: t, action: a, sendAt: s, untilHours: tau * 24 * Double(k) / Double(n))
            total += (previous + cur) / 2
            previous = cur
        }
        return total * tau / Double(n)
    }

    // MARK: Acting

    /// Queues a message for invoice `i` over `channel` at instant `sendAt` (≥ now). It is dispatched
    /// when the timeline reaches `sendAt` unless the case has closed by then (it then stays `queued`).
    /// - Returns: the index of the message in `messages`.
    @discardableResult
    public func send(invoice i: Int, channel: Channel, tone: Tone, template: String, at sendAt: Date, decisionId: String?,
                     idempotencyKey: String? = nil) -> Int {
        let m = messages.count
        messageCount[i] += 1
        let id = invoices[i].id + "-M\(messageCount[i])"
        let point = contactPoint(for: channel)
        let local = localTime(sendAt)
        let (delta, pi) = probabilities(invoice: i, action: DeliveryAction(channel: channel, tone: tone, weekday: local.date.weekday,
                                                                         hour: HourBucket(hour: local.hour) ?? .h08),
                                        sendAt: sendAt, level: level(i))
        messages.append(Message(id: id, customerId: customer.id, invoiceId: invoices[i].id, decisionId: decisionId,
                                contactPointId: point.map { contactPoints[$0].id }, channel: channel, template: template, tone: tone,
                                scheduledLocal: local, scheduledAt: sendAt, status: .queued, providerId: nil,
                                idempotencyKey: idempotencyKey ?? id, costMinor: 0))
        info.append(MessageInfo(invoice: i, sendAt: sendAt, channel: channel, activation: pi, delivery: delta))
        schedule(sendAt, .dispatch(m))
        return m
    }

    /// Logs a decision and queues its message.
    @discardableResult
    public func decide(_ context: DecisionContext, action: DeliveryAction, propensity: Double, policy: String, version: String,
                       invoice i: Int, experiment: String? = nil, arm: String? = nil) -> Decision {
        precondition(context.decisionId == invoices[i].id + "-D\(decisionCount[i] + 1)", "CustomerTimeline: stale decision context")
        decisionCount[i] += 1
        let d = Decision(id: context.decisionId, customerId: customer.id, invoiceId: invoices[i].id, decidedAt: context.decidedAt,
                         candidates: ActionSet(context.candidates), action: action, propensity: propensity, propensityIsExact: true,
                         propensityDraws: nil, policy: policy, policyVersion: version, experiment: experiment, arm: arm, contextRef: nil)
        decisions.append(d)
        invoices[i].flowName = "consumer-dunning"
        invoices[i].flowVersion = 1
        invoices[i].step = context.level
        let template = ["reminder", "dunning_1", "dunning_2", "final_notice"][min(context.level, 3)]
        send(invoice: i, channel: action.channel, tone: action.tone, template: template,
             at: sendInstant(for: action, after: context.decidedAt), decisionId: d.id,
             idempotencyKey: invoices[i].id + "/" + d.id)
        return d
    }

    // MARK: Time

    func schedule(_ time: Date, _ what: Happening) {
        pending.append(Pending(time: time, seq: sequence, what: what))
        sequence += 1
    }

    /// Lets time run to `t`: dispatches due messages, releases deliveries, bounces, visits,
    /// payments and agency hand-overs in time order.
    /// - Returns: the events released, in time order.
    @discardableResult
    public func advance(to t: Date) -> [Event] {
        let first = events.count
        while true {
            var next: Int?
            for (k, e) in pending.enumerated() where e.time <= t {
                if let n = next, (pending[n].time, pending[n].seq) <= (e.time, e.seq) { continue }
                next = k
            }
            var pay: Int?
            for i in invoices.indices where !invoices[i].status.isClosed {
                guard let due = paymentDue[i], due.time <= t, due.time < agencyAt[i] else { continue }
                if let b = pay, paymentDue[b]!.time <= due.time { continue }
                pay = i
            }
            if let i = pay, next == nil || paymentDue[i]!.time <= pending[next!].time {
                releasePayment(i)
                continue
            }
            guard let n = next else { break }
            let item = pending.remove(at: n)
            release(item)
        }
        if t > now { now = t }
        let released = events[first...].sorted { ($0.occurredAt, $0.id.count, $0.id) < ($1.occurredAt, $1.id.count, $1.id) }
        events.replaceSubrange(first..., with: released)
        return Array(released)
    }

    func emit(_ kind: EventKind, invoice i: Int, message: Int?, at time: Date, payload: EventPayload = EventPayload()) {
        eventCount += 1
        events.append(Event(id: customer.id + "-E\(eventCount)", kind: kind, customerId: customer.id, invoiceId: invoices[i].id,
                            messageId: message.map { messages[$0].id }, occurredAt: time, payload: payload))
    }

    func release(_ item: Pending) {
        switch item.what {
        case .agency(let i):
            if !invoices[i].status.isClosed { invoices[i].status = .agency }
            agencyDone[i] = true
        case .dispatch(let m):
            dispatch(m, at: item.time)
        case .delivered(let m):
            messages[m].status = .delivered
            let cp = messages[m].contactPointId!
            if let k = contactPoints.firstIndex(where: { $0.id == cp }), contactPoints[k].validation == .unverified {
                contactPoints[k].validation = .valid
                contactPoints[k].updatedAt = item.time
            }
            emit(.delivered, invoice: info[m].invoice, message: m, at: item.time, payload: EventPayload(contactPointId: cp))
        case .bounced(let m, let hard, let reason):
            messages[m].status = .bounced
            let cp = messages[m].contactPointId!
            if hard, let k = contactPoints.firstIndex(where: { $0.id == cp }) {
                contactPoints[k].validation = .bounced
                contactPoints[k].updatedAt = item.time
            }
            emit(hard ? .bouncedHard : .bouncedSoft, invoice: info[m].invoice, message: m, at: item.time,
                 payload: EventPayload(contactPointId: cp, reason: reason))
        case .opened(let m):
            emit(.opened, invoice: info[m].invoice, message: m, at: item.time, payload: EventPayload(contactPointId: messages[m].contactPointId))
        case .visit(let m, let qr, let submit, let prefer, let digits):
            let i = info[m].invoice
            emit(qr ? .qrScan : .pageVisit, invoice: i, message: m, at: item.time, payload: EventPayload(via: qr ? "qr" : "link"))
            enrich(invoice: i, message: m, at: item.time, submit: submit, prefer: prefer, digits: digits)
        }
    }

    /// Sends message `m` now: picks the outcome from the message's own random stream.
    func dispatch(_ m: Int, at time: Date) {
        let i = info[m].invoice
        guard !invoices[i].status.isClosed, paymentDue[i].map({ $0.time > time }) ?? true else {
            info[m].cancelled = true
            return
        }
        var rng = Xoshiro256(seed: world.config.seed, keys: 2, UInt64(index), UInt64(i), UInt64(m))
        let uSoft = rng.uniform(), uAct = rng.uniform(), z = rng.normal(), uTransit = rng.uniform()
        let uOpen = rng.uniform(), uVisit = rng.uniform(), zVisit = rng.normal(), uQR = rng.uniform()
        let uSubmit = rng.uniform(), uPrefer = rng.uniform()
        let digits = (0..<9).map { _ in Int(rng.uniform() * 10) }
        let channel = messages[m].channel
        // The point chosen at decision time may have bounced since; then the channel's best point now is used.
        if let cp = messages[m].contactPointId, let k = contactPoints.firstIndex(where: { $0.id == cp }), contactPoints[k].canCarry(channel) {
        } else {
            messages[m].contactPointId = contactPoint(for: channel).map { contactPoints[$0].id }
        }
        guard let cp = messages[m].contactPointId, let k = contactPoints.firstIndex(where: { $0.id == cp }) else {
            messages[m].status = .failed
            info[m].delivered = false
            return
        }
        messages[m].status = .sent
        messages[m].providerId = channel.rawValue + "-" + messages[m].id
        messages[m].costMinor = p.cost[channel]!
        let isDead = dead[contactPoints[k].id] ?? false
        let soft = uSoft < p.softBounceRate[channel]!
        let hop: [Channel: Double] = [.email: 60, .sms: 20, .push: 5, .whatsapp: 30, .robocall: 0, .letter: 0]
        if isDead || soft {
            info[m].delivered = false
            let reasons: [Channel: (String, String)] = [
                .email: ("unknown_user", "mailbox_full"), .sms: ("number_unreachable", "temporarily_unreachable"),
                .push: ("token_expired", "device_offline"), .whatsapp: ("not_on_whatsapp", "temporarily_unreachable"),
                .robocall: ("number_unreachable", "no_answer"), .letter: ("address_unknown", "address_unknown"),
            ]
            let delay = channel == .letter ? 5 * 86400.0 : hop[channel]! + 60
            schedule(time.addingTimeInterval(delay), .bounced(m, hard: isDead, reason: isDead ? reasons[channel]!.0 : reasons[channel]!.1))
            return
        }
        info[m].delivered = true
        let deliveredAt = time.addingTimeInterval(hop[channel]!)
        if channel != .letter { schedule(deliveredAt, .delivered(m)) }
        let delay = (p.delayHours(channel: channel, z: z, u: uTransit) * 3600).rounded()
        let works = uAct < info[m].activation
        if channel == .email {
            let openAfter = works ? max(60, delay / 2) : (delay / 2).rounded()
            if uOpen < (works ? p.openWorked : p.openOtherwise) { schedule(deliveredAt.addingTimeInterval(openAfter), .opened(m)) }
        }
        if works {
            let at = time.addingTimeInterval(max(delay, 300))
            if paymentDue[i].map({ at < $0.time }) ?? true { paymentDue[i] = (at, m) }
        } else if uVisit < p.visitWithoutPayment && channel != .robocall {
            let after = (p.delayHours(channel: channel, z: zVisit, u: uTransit) * 3600).rounded()
            schedule(time.addingTimeInterval(max(after, 300)),
                     .visit(m, qr: channel == .letter, submit: uSubmit, prefer: uPrefer, digits: digits))
        }
        pendingVisit[m] = (uQR, uSubmit, uPrefer, digits)
    }

    var pendingVisit: [Int: (qr: Double, submit: Double, prefer: Double, digits: [Int])] = [:]

    func releasePayment(_ i: Int) {
        let (time, cause) = paymentDue[i]!
        if let m = cause, let draws = pendingVisit[m] {
            let channel = messages[m].channel
            let visit = channel == .letter ? draws.qr < p.letterQRShare : channel != .robocall
            if channel == .email { emit(.clicked, invoice: i, message: m, at: time.addingTimeInterval(-240), payload: EventPayload(contactPointId: messages[m].contactPointId)) }
            if visit {
                let at = time.addingTimeInterval(-180)
                emit(channel == .letter ? .qrScan : .pageVisit, invoice: i, message: m, at: at, payload: EventPayload(via: channel == .letter ? "qr" : "link"))
                enrich(invoice: i, message: m, at: at, submit: draws.submit, prefer: draws.prefer, digits: draws.digits)
            }
        }
        let pid = invoices[i].id + "-P1"
        payments.append(Payment(id: pid, customerId: customer.id, invoiceId: invoices[i].id, amountMinor: invoices[i].amountMinor,
                                currency: invoices[i].currency, paidAt: time))
        emit(.payment, invoice: i, message: cause, at: time,
             payload: EventPayload(amountMinor: invoices[i].amountMinor, currency: invoices[i].currency, paymentId: pid))
        invoices[i].status = .paid
    }

    /// A visitor lacking an e-mail address or a mobile number may submit one and pick a preferred channel.
    func enrich(invoice i: Int, message m: Int, at time: Date, submit: Double, prefer: Double, digits: [Int]) {
        let hasEmail = contactPoint(for: .email) != nil, hasMobile = contactPoint(for: .sms) != nil
        guard !(hasEmail && hasMobile), submit < p.submitContact else { return }
        let id = customer.id + "-K\(contactPoints.count + 1)"
        let region = Region.all.first { $0.country == customer.country }!
        let at = time.addingTimeInterval(60)
        if !hasEmail {
            contactPoints.append(ContactPoint(id: id, customerId: customer.id, kind: .email, value: customer.id.lowercased() + ".new@mail0.example",
                                              phoneType: nil, validation: .valid, consent: true, source: "payment_page", updatedAt: at))
        } else {
            contactPoints.append(ContactPoint(id: id, customerId: customer.id, kind: .phone,
                                              value: region.phonePrefix + "7" + digits.map(String.init).joined(), phoneType: .mobile,
                                              validation: .valid, consent: true, source: "payment_page", updatedAt: at))
        }
        dead[id] = false
        emit(.contactSubmitted, invoice: i, message: m, at: at, payload: EventPayload(contactPointId: id))
        guard prefer < p.setPreferred else { return }
        let digital: [Channel] = [.email, .sms, .whatsapp, .push]
        let usable = digital.filter { contactPoint(for: $0) != nil }
        guard let best = usable.max(by: { traits.channelLogit[$0]! < traits.channelLogit[$1]! }) else { return }
        customer.preferredChannel = best
        emit(.preferredChannelSet, invoice: i, message: m, at: at.addingTimeInterval(60), payload: EventPayload(channel: best))
    }
}

extension World {
    nonisolated(unsafe) static var zoneCache: [String: TimeZone] = [:]
    static let zoneLock = NSLock()

    /// The `TimeZone` for an IANA identifier (cached); a programmer error when unknown.
    static func timeZone(_ id: String) -> TimeZone {
        zoneLock.lock()
        defer { zoneLock.unlock() }
        if let z = zoneCache[id] { return z }
        guard let z = TimeZone(identifier: id) else { preconditionFailure("World: unknown time zone '\(id)'") }
        zoneCache[id] = z
        return z
    }
}
