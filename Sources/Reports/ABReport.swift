import FeatureStore
import Foundation
import Optimizer
import Vocabulary

/// The A/B time-to-pay report of one experiment (`pom-train report ab`): per-arm Kaplan–Meier
/// curves, medians, paid-within rates, RMST and its difference, the log-rank test, money and
/// cost, a per-channel breakdown, the sample-ratio-mismatch check and a verdict sentence.
///
/// All times are hours unless a field says otherwise; money is in minor units per currency.
/// `docs/report.md` defines every figure. Encodes as the `report.json` file (snake_case keys,
/// `null` where a median or bound is not reached).
///
/// ```swift
/// let report = try await ABReport.build(store: store, experiment: "reminder-ml")
/// print(report.verdict)
/// try ReportFiles.write(report, to: "out/")
/// ```
public struct ABReport: Codable, Sendable {
    /// One arm's figures.
    public struct Arm: Codable, Sendable {
        public var name: String
        /// Distinct customers with a case in the arm.
        public var customers: Int
        /// Cases (invoices) in the arm.
        public var invoices: Int
        /// Cases paid in full by the as-of instant (events).
        public var paid: Int
        /// Cases still open at the as-of instant (censored).
        public var censored: Int
        /// Median hours to full payment, `min{t : Ŝ(t) ≤ 0.5}`; nil if not reached.
        public var medianHours: Double?
        /// Its interval from the log(−log) band; nil where an edge is not reached.
        public var medianCI: [Double?]
        /// `1 − Ŝ(t)` at 24 h, 7 d and 30 d with intervals.
        public var paidWithin: [ArmStatistics.PaidWithin]
        /// Restricted mean hours to pay up to `tau_hours`.
        public var rmstHours: Double
        /// Its standard error (Klein & Moeschberger).
        public var rmstSE: Double
        /// The largest duration observed in the arm.
        public var followUpHours: Double
        /// Invoice amounts of the arm's cases, by currency.
        public var amountDueMinor: [String: Int64]
        /// Payments of the arm's cases between start and as-of, by currency.
        public var amountCollectedMinor: [String: Int64]
        /// Messages sent to the arm's cases in [start, as-of].
        public var messages: Int
        /// Messages per channel.
        public var messagesByChannel: [String: Int]
        /// Cost of those messages by channel, minor units of the cases' currencies, summed over
        /// currencies (see `costByCurrencyMinor` for the split).
        public var costByChannelMinor: [String: Int64]
        /// Cost of the arm's messages by the currency of their case.
        public var costByCurrencyMinor: [String: Int64]
        /// `cost / collected` per currency (cost per unit of money collected); nil when nothing was collected.
        public var costPerCollected: [String: Double?]

        enum CodingKeys: String, CodingKey {
            case name, customers, invoices, paid, censored, medianHours = "median_hours", medianCI = "median_ci_hours"
            case paidWithin = "paid_within", rmstHours = "rmst_hours", rmstSE = "rmst_se_hours", followUpHours = "follow_up_hours"
            case amountDueMinor = "amount_due_minor", amountCollectedMinor = "amount_collected_minor", messages
            case messagesByChannel = "messages_by_channel", costByChannelMinor = "cost_by_channel_minor"
            case costByCurrencyMinor = "cost_by_currency_minor", costPerCollected = "cost_per_collected"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(customers, forKey: .customers)
            try c.encode(invoices, forKey: .invoices)
            try c.encode(paid, forKey: .paid)
            try c.encode(censored, forKey: .censored)
            try c.encode(medianHours, forKey: .medianHours)
            try c.encode(medianCI, forKey: .medianCI)
            try c.encode(paidWithin, forKey: .paidWithin)
            try c.encode(rmstHours, forKey: .rmstHours)
            try c.encode(rmstSE, forKey: .rmstSE)
            try c.encode(followUpHours, forKey: .followUpHours)
            try c.encode(amountDueMinor, forKey: .amountDueMinor)
            try c.encode(amountCollectedMinor, forKey: .amountCollectedMinor)
            try c.encode(messages, forKey: .messages)
            try c.encode(messagesByChannel, forKey: .messagesByChannel)
            try c.encode(costByChannelMinor, forKey: .costByChannelMinor)
            try c.encode(costByCurrencyMinor, forKey: .costByCurrencyMinor)
            try c.encode(costPerCollected, forKey: .costPerCollected)
        }
    }

    /// One point of a Kaplan–Meier curve (one row of the life table).
    public struct CurvePoint: Codable, Sendable, Equatable {
        public var hours: Double
        public var atRisk: Int
        public var events: Int
        public var censored: Int
        public var survival: Double
        public var lower: Double
        public var upper: Double

        enum CodingKeys: String, CodingKey {
            case hours, atRisk = "at_risk", events, censored, survival, lower, upper
        }
    }

    /// An arm against the control.
    public struct Comparison: Codable, Sendable, Equatable {
        public var arm: String
        public var control: String
        /// `RMST_arm − RMST_control` up to τ, hours (negative: the arm pays sooner).
        public var rmstDifferenceHours: Double
        public var rmstDifferenceSE: Double
        public var rmstDifferenceCI: [Double]
        public var rmstDifferencePValue: Double
        /// The log-rank test of the two arms alone.
        public var logrankStatistic: Double
        public var logrankPValue: Double
        /// Observed ÷ expected payments of the arm and of the control under equal hazards; their
        /// ratio estimates the hazard ratio (> 1: the arm pays faster).
        public var observedOverExpected: [Double]

        enum CodingKeys: String, CodingKey {
            case arm, control, rmstDifferenceHours = "rmst_difference_hours", rmstDifferenceSE = "rmst_difference_se"
            case rmstDifferenceCI = "rmst_difference_ci", rmstDifferencePValue = "rmst_difference_p_value"
            case logrankStatistic = "logrank_statistic", logrankPValue = "logrank_p_value"
            case observedOverExpected = "observed_over_expected"
        }
    }

    /// The log-rank test over all arms.
    public struct LogRank: Codable, Sendable, Equatable {
        public var statistic: Double
        public var pValue: Double
        public var degreesOfFreedom: Int

        enum CodingKeys: String, CodingKey { case statistic, pValue = "p_value", degreesOfFreedom = "degrees_of_freedom" }
    }

    /// Time from a delivered message of one channel to the next payment of its case.
    public struct ChannelSummary: Codable, Sendable {
        public var channel: String
        /// Messages of the channel sent in the experiment (any status).
        public var messages: Int
        /// Of them, delivered (the ones the time-to-pay figures use).
        public var delivered: Int
        /// Payments that followed a delivered message of the channel before the case's next
        /// delivered message and the as-of instant.
        public var paymentsAfter: Int
        public var costMinor: Int64
        /// Mean cost per sent message, minor units.
        public var costPerMessageMinor: Double
        public var medianHours: Double?
        public var medianCI: [Double?]
        /// `1 − Ŝ(24 h)` after delivery, with its interval.
        public var paidWithin24h: ArmStatistics.PaidWithin
        /// Restricted mean hours to pay up to `channel_tau_hours`.
        public var rmstHours: Double
        public var rmstSE: Double

        enum CodingKeys: String, CodingKey {
            case channel, messages, delivered, paymentsAfter = "payments_after", costMinor = "cost_minor"
            case costPerMessageMinor = "cost_per_message_minor", medianHours = "median_hours", medianCI = "median_ci_hours"
            case paidWithin24h = "paid_within_24h", rmstHours = "rmst_hours", rmstSE = "rmst_se_hours"
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(channel, forKey: .channel)
            try c.encode(messages, forKey: .messages)
            try c.encode(delivered, forKey: .delivered)
            try c.encode(paymentsAfter, forKey: .paymentsAfter)
            try c.encode(costMinor, forKey: .costMinor)
            try c.encode(costPerMessageMinor, forKey: .costPerMessageMinor)
            try c.encode(medianHours, forKey: .medianHours)
            try c.encode(medianCI, forKey: .medianCI)
            try c.encode(paidWithin24h, forKey: .paidWithin24h)
            try c.encode(rmstHours, forKey: .rmstHours)
            try c.encode(rmstSE, forKey: .rmstSE)
        }
    }

    /// How much faster payment follows one channel than a letter, against the product sheet's claim.
    public struct Speedup: Codable, Sendable, Equatable {
        public var channel: String
        public var baseline: String
        /// `median_baseline / median_channel`; nil when either median is not reached.
        public var medianRatio: Double?
        /// `RMST_baseline / RMST_channel` (same horizon).
        public var rmstRatio: Double?
        /// `paid24h_channel / paid24h_baseline`; nil when the baseline rate is 0.
        public var paid24hRatio: Double?
        /// The product sheet's claim (3.5 for e-mail, 5.5 for SMS).
        public var claimed: Double

        enum CodingKeys: String, CodingKey {
            case channel, baseline, medianRatio = "median_ratio", rmstRatio = "rmst_ratio", paid24hRatio = "paid_24h_ratio", claimed
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(channel, forKey: .channel)
            try c.encode(baseline, forKey: .baseline)
            try c.encode(medianRatio, forKey: .medianRatio)
            try c.encode(rmstRatio, forKey: .rmstRatio)
            try c.encode(paid24hRatio, forKey: .paid24hRatio)
            try c.encode(claimed, forKey: .claimed)
        }
    }

    /// Whether the experiment has enough payments for the log-rank test (Schoenfeld's formula).
    public struct Power: Codable, Sendable, Equatable {
        /// Payments observed in the compared arms.
        public var events: Int
        /// Share of cases in the treatment arm.
        public var allocation: Double
        /// Payments needed to detect a hazard ratio of 1.25 (or 0.8) with 80 % power at 5 %.
        public var requiredEvents: Double
        /// The smallest hazard ratio the observed payments detect with 80 % power.
        public var detectableHazardRatio: Double

        enum CodingKeys: String, CodingKey {
            case events, allocation, requiredEvents = "required_events_hr_1_25", detectableHazardRatio = "detectable_hazard_ratio"
        }
    }

    /// Format version of `report.json`.
    public var formatVersion = 1
    public var experiment: String
    /// The censoring instant (ISO 8601, UTC).
    public var asOf: String
    public var control: String
    public var arms: [Arm]
    public var comparisons: [Comparison]
    public var logrank: LogRank?
    public var sampleRatio: SampleRatioCheck
    public var power: Power?
    public var channels: [ChannelSummary]
    /// The log-rank test across channels (time from delivery to payment).
    public var channelLogrank: LogRank?
    public var speedups: [Speedup]
    /// Kaplan–Meier curves per arm.
    public var curves: [String: [CurvePoint]]
    /// Kaplan–Meier curves per channel (time from delivery to payment).
    public var channelCurves: [String: [CurvePoint]]
    public var tauHours: Double
    public var channelTauHours: Double
    public var level: Double
    /// The one-sentence conclusion.
    public var verdict: String
    /// Plain statements qualifying it (too small to conclude, SRM, data caveats).
    public var notes: [String]
    /// Whether the data are too small to conclude.
    public var tooSmall: Bool

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", experiment, asOf = "as_of", control, arms, comparisons, logrank
        case sampleRatio = "sample_ratio", power, channels, channelLogrank = "channel_logrank", speedups, curves
        case channelCurves = "channel_curves", tauHours = "tau_hours", channelTauHours = "channel_tau_hours", level
        case verdict, notes, tooSmall = "too_small"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(formatVersion, forKey: .formatVersion)
        try c.encode(experiment, forKey: .experiment)
        try c.encode(asOf, forKey: .asOf)
        try c.encode(control, forKey: .control)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(tooSmall, forKey: .tooSmall)
        try c.encode(notes, forKey: .notes)
        try c.encode(arms, forKey: .arms)
        try c.encode(comparisons, forKey: .comparisons)
        try c.encode(logrank, forKey: .logrank)
        try c.encode(sampleRatio, forKey: .sampleRatio)
        try c.encode(power, forKey: .power)
        try c.encode(channels, forKey: .channels)
        try c.encode(channelLogrank, forKey: .channelLogrank)
        try c.encode(speedups, forKey: .speedups)
        try c.encode(tauHours, forKey: .tauHours)
        try c.encode(channelTauHours, forKey: .channelTauHours)
        try c.encode(level, forKey: .level)
        try c.encode(curves, forKey: .curves)
        try c.encode(channelCurves, forKey: .channelCurves)
    }

    /// The options of a report.
    public struct Options: Sendable {
        /// The control arm's name; nil takes an arm called `control`, else the first arm by name.
        public var control: String?
        /// The configured split, one weight per arm in report order (control first, then the
        /// others by name); nil is an equal split.
        public var split: [Double]?
        /// Split weights by arm name (takes precedence over `split`).
        public var splitByArm: [String: Double]?
        /// The RMST horizon in hours; nil: `min(720 h, smallest arm follow-up)`.
        public var tau: Double?
        public var level: Double

        public init(control: String? = nil, split: [Double]? = nil, splitByArm: [String: Double]? = nil, tau: Double? = nil,
                    level: Double = 0.95) {
            self.control = control
            self.split = split
            self.splitByArm = splitByArm
            self.tau = tau
            self.level = level
        }
    }

    /// Reads the experiment from the store and computes the report.
    /// - Parameters:
    ///   - store: an open store.
    ///   - experiment: the experiment's name on the decisions.
    ///   - asOf: the censoring instant; nil: the store's last instant.
    ///   - options: control arm, split, τ, confidence level.
    /// - Throws: `ReportError` for an unknown experiment, control arm or a split that does not fit
    ///   the arms; store errors.
    public static func build(store: any Store, experiment: String, asOf: Date? = nil, options: Options = Options()) async throws -> ABReport {
        let data = try await ExperimentData.load(store: store, experiment: experiment, asOf: asOf)
        return try ABReport(data: data, options: options)
    }

    /// Computes the report from loaded data. O(n log n) in cases and messages.
    /// - Throws: `ReportError.noArm` / `.badSplit` when the options do not fit the arms.
    public init(data: ExperimentData, options: Options = Options()) throws {
        precondition(!data.cases.isEmpty, "ABReport: an experiment without cases")
        // Arm order: control first, then the others by name.
        let found = data.armNames.sorted()
        let controlName: String
        if let name = options.control {
            guard found.contains(name) else { throw ReportError.noArm(name, arms: found) }
            controlName = name
        } else {
            controlName = found.contains("control") ? "control" : found[0]
        }
        let names = [controlName] + found.filter { $0 != controlName }
        let armIndex = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let weights: [Double]
        if let byArm = options.splitByArm {
            guard Set(byArm.keys) == Set(names) else {
                throw ReportError.badSplit(byArm.map { "\($0)=\($1)" }.sorted().joined(separator: ","),
                                           "the split names arms \(byArm.keys.sorted().joined(separator: ", ")) but the arms are \(names.joined(separator: ", "))")
            }
            weights = names.map { byArm[$0]! }
        } else if let split = options.split {
            guard split.count == names.count else {
                throw ReportError.badSplit(split.map { formatNumber($0) }.joined(separator: "/"),
                                           "\(split.count) shares for \(names.count) arms (\(names.joined(separator: ", ")))")
            }
            weights = split
        } else {
            weights = [Double](repeating: 1, count: names.count)
        }

        // Durations per case.
        var durations: [Double] = [], events: [Bool] = [], groups: [Int] = []
        for c in data.cases {
            let (hours, paid) = c.duration(asOf: data.asOf)
            durations.append(hours)
            events.append(paid)
            groups.append(armIndex[c.arm]!)
        }
        let stats = ArmStatistics(arms: names, durations: durations, events: events, groups: groups, control: 0,
                                  tau: options.tau, level: options.level)
        let z = LifeTable.criticalValue(level: options.level)

        // Money and cost per arm.
        var customers = [Set<String>](repeating: [], count: names.count)
        var due = [[String: Int64]](repeating: [:], count: names.count)
        var collected = due, costByCurrency = due
        var messagesByChannel = [[String: Int]](repeating: [:], count: names.count)
        var costByChannel = [[String: Int64]](repeating: [:], count: names.count)
        for c in data.cases {
            let g = armIndex[c.arm]!
            customers[g].insert(c.customerId)
            due[g][c.currency, default: 0] += c.amountMinor
            collected[g][c.currency, default: 0] += c.collectedMinor
        }
        for m in data.messages {
            let c = data.cases[m.caseIndex]
            let g = armIndex[c.arm]!
            messagesByChannel[g][m.channel.rawValue, default: 0] += 1
            costByChannel[g][m.channel.rawValue, default: 0] += m.costMinor
            costByCurrency[g][c.currency, default: 0] += m.costMinor
        }
        arms = stats.arms.enumerated().map { g, a in
            var perCollected: [String: Double?] = [:]
            for currency in Set(due[g].keys).union(costByCurrency[g].keys) {
                let got = collected[g][currency] ?? 0
                let share: Double? = got > 0 ? Double(costByCurrency[g][currency] ?? 0) / Double(got) : nil
                perCollected.updateValue(share, forKey: currency)
            }
            return Arm(name: a.name, customers: customers[g].count, invoices: a.count, paid: a.events, censored: a.count - a.events,
                       medianHours: a.median.time, medianCI: [a.median.lower, a.median.upper], paidWithin: a.paidWithin,
                       rmstHours: a.rmst.value, rmstSE: a.rmst.standardError, followUpHours: a.followUp,
                       amountDueMinor: due[g], amountCollectedMinor: collected[g],
                       messages: messagesByChannel[g].values.reduce(0, +), messagesByChannel: messagesByChannel[g],
                       costByChannelMinor: costByChannel[g], costByCurrencyMinor: costByCurrency[g], costPerCollected: perCollected)
        }
        curves = Dictionary(uniqueKeysWithValues: stats.arms.map { ($0.name, ABReport.curve($0.table, z: z)) })
        comparisons = stats.comparisons.map { c in
            let lr = c.logRank
            return Comparison(arm: c.arm, control: c.control, rmstDifferenceHours: c.rmstDifference, rmstDifferenceSE: c.standardError,
                              rmstDifferenceCI: c.ci, rmstDifferencePValue: c.pValue, logrankStatistic: lr.statistic,
                              logrankPValue: lr.pValue,
                              observedOverExpected: [lr.observed[1] / lr.expected[1], lr.observed[0] / lr.expected[0]])
        }
        logrank = stats.logRank.map { LogRank(statistic: $0.statistic, pValue: $0.pValue, degreesOfFreedom: $0.degreesOfFreedom) }
        sampleRatio = SampleRatioCheck(arms: names, observed: customers.map(\.count), weights: weights)
        tauHours = stats.tau
        level = options.level
        experiment = data.experiment
        asOf = ISO8601DateFormatter().string(from: data.asOf)
        control = controlName

        // Channels.
        let channel = ChannelBreakdown(data: data, level: options.level)
        channels = channel.summaries
        channelCurves = channel.curves
        channelLogrank = channel.logRank
        channelTauHours = channel.tau
        speedups = channel.speedups

        // Power and the verdict.
        if names.count == 2 {
            let n = Double(stats.arms[0].count + stats.arms[1].count)
            let p = Double(stats.arms[1].count) / n
            let d = stats.arms[0].events + stats.arms[1].events
            power = p > 0 && p < 1
                ? Power(events: d, allocation: p, requiredEvents: ArmStatistics.requiredEvents(hazardRatio: 1.25, allocation: p),
                        detectableHazardRatio: ArmStatistics.detectableHazardRatio(events: d, allocation: p))
                : nil
        } else {
            power = nil
        }
        let conclusion = Verdict.make(arms: arms, comparisons: comparisons, logrank: logrank, power: power,
                                      sampleRatio: sampleRatio, tau: stats.tau, level: options.level, data: data)
        verdict = conclusion.0
        notes = conclusion.1
        tooSmall = conclusion.2
    }

    /// The life table of `table` as curve points with the band at `z`.
    static func curve(_ table: LifeTable, z: Double) -> [CurvePoint] {
        table.rows.indices.map { k in
            let r = table.rows[k], band = table.band(row: k, z: z)
            return CurvePoint(hours: r.time, atRisk: r.atRisk, events: r.events, censored: r.censored,
                              survival: table.survival(row: k), lower: band.lower, upper: band.upper)
        }
    }
}

/// The per-channel time from delivery to the next payment.
///
/// Each delivered message of a case in the experiment starts a clock at its delivery instant; the
/// clock stops with an event at the case's first payment after that instant, or is censored at
/// the case's next delivered message (the later message takes over) or at the as-of instant.
struct ChannelBreakdown {
    var summaries: [ABReport.ChannelSummary] = []
    var curves: [String: [ABReport.CurvePoint]] = [:]
    var logRank: ABReport.LogRank?
    var speedups: [ABReport.Speedup] = []
    var tau = 0.0

    init(data: ExperimentData, level: Double) {
        var durations: [Double] = [], events: [Bool] = [], groups: [Int] = []
        var sent = [Int](repeating: 0, count: Channel.allCases.count)
        var cost = [Int64](repeating: 0, count: Channel.allCases.count)
        // Delivered messages per case, in delivery order.
        var byCase: [Int: [(at: Date, channel: Channel)]] = [:]
        for m in data.messages {
            sent[m.channel.index] += 1
            cost[m.channel.index] += m.costMinor
            if let at = m.deliveredAt, at <= data.asOf { byCase[m.caseIndex, default: []].append((at, m.channel)) }
        }
        for (c, list) in byCase.sorted(by: { $0.key < $1.key }) {
            let ordered = list.sorted { $0.at < $1.at }
            let payments = data.paymentTimes[c]
            for (k, m) in ordered.enumerated() {
                let next = k + 1 < ordered.count ? ordered[k + 1].at : data.asOf
                let paid = payments.first { $0 >= m.at }
                if let paid, paid <= next {
                    durations.append(paid.timeIntervalSince(m.at) / 3600)
                    events.append(true)
                } else {
                    durations.append(next.timeIntervalSince(m.at) / 3600)
                    events.append(false)
                }
                groups.append(m.channel.index)
            }
        }
        // Only channels with delivered messages take part in the analysis.
        let present = Channel.allCases.filter { ch in groups.contains(ch.index) }
        let local = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1.index, $0) })
        guard !present.isEmpty else {
            summaries = Channel.allCases.filter { sent[$0.index] > 0 }.map { ch in
                ABReport.ChannelSummary(channel: ch.rawValue, messages: sent[ch.index], delivered: 0, paymentsAfter: 0, costMinor: cost[ch.index],
                                        costPerMessageMinor: Double(cost[ch.index]) / Double(sent[ch.index]), medianHours: nil, medianCI: [nil, nil],
                                        paidWithin24h: ArmStatistics.PaidWithin(hours: 24, rate: nil, ci: nil), rmstHours: 0, rmstSE: 0)
            }
            return
        }
        let analysis = SurvivalAnalysis(durations: durations, events: events, groups: groups.map { local[$0]! }, groupCount: present.count)
        tau = min(ArmStatistics.defaultTau, analysis.tables.map { $0.rows.last!.time }.min()!)
        let z = LifeTable.criticalValue(level: level)
        var rmst: [Channel: Double] = [:], median: [Channel: Double?] = [:], paid24: [Channel: Double?] = [:]
        for ch in Channel.allCases where sent[ch.index] > 0 {
            guard let g = local[ch.index] else {
                summaries.append(ABReport.ChannelSummary(
                    channel: ch.rawValue, messages: sent[ch.index], delivered: 0, paymentsAfter: 0, costMinor: cost[ch.index],
                    costPerMessageMinor: Double(cost[ch.index]) / Double(sent[ch.index]), medianHours: nil, medianCI: [nil, nil],
                    paidWithin24h: ArmStatistics.PaidWithin(hours: 24, rate: nil, ci: nil), rmstHours: 0, rmstSE: 0))
                continue
            }
            let table = analysis.tables[g]
            let m = table.median(level: level)
            let r = table.restrictedMean(upTo: tau)
            let p = ArmStatistics.paidWithin(table, hours: 24, z: z)
            rmst[ch] = r.value
            median.updateValue(m.time, forKey: ch)
            paid24.updateValue(p.rate, forKey: ch)
            summaries.append(ABReport.ChannelSummary(
                channel: ch.rawValue, messages: sent[ch.index], delivered: table.count, paymentsAfter: table.eventCount,
                costMinor: cost[ch.index], costPerMessageMinor: Double(cost[ch.index]) / Double(sent[ch.index]),
                medianHours: m.time, medianCI: [m.lower, m.upper], paidWithin24h: p, rmstHours: r.value, rmstSE: r.standardError))
            curves[ch.rawValue] = ABReport.curve(table, z: z)
        }
        logRank = analysis.logRank.map { ABReport.LogRank(statistic: $0.statistic, pValue: $0.pValue, degreesOfFreedom: $0.degreesOfFreedom) }
        if local[Channel.letter.index] != nil {
            for (ch, claim) in [(Channel.email, 3.5), (.sms, 5.5)] where local[ch.index] != nil {
                let mr: Double? = {
                    guard let a = median[.letter] ?? nil, let b = median[ch] ?? nil, b > 0 else { return nil }
                    return a / b
                }()
                let rr: Double? = rmst[ch]! > 0 ? rmst[.letter]! / rmst[ch]! : nil
                let pr: Double? = {
                    guard let a = paid24[ch] ?? nil, let b = paid24[.letter] ?? nil, b > 0 else { return nil }
                    return a / b
                }()
                speedups.append(ABReport.Speedup(channel: ch.rawValue, baseline: Channel.letter.rawValue, medianRatio: mr,
                                                 rmstRatio: rr, paid24hRatio: pr, claimed: claim))
            }
        }
    }
}

/// `"\(x)"` without a trailing `.0` for whole numbers.
func formatNumber(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
}
