import Foundation
import Vocabulary
import FeatureStore

extension Persona: CodingKeyRepresentable {}
extension Segment: CodingKeyRepresentable {}
extension Channel: CodingKeyRepresentable {}
extension Tone: CodingKeyRepresentable {}
extension ContactKind: CodingKeyRepresentable {}

/// How big a simulated world is and where its randomness comes from.
public struct SimulationConfig: Codable, Sendable, Equatable {
    /// Number of customers.
    public var customers: Int
    /// Length of the simulated period in days; invoices are issued during it and nothing after its
    /// end is recorded.
    public var days: Int
    /// The seed every random draw derives from.
    public var seed: UInt64
    /// The first day of the period (UTC calendar date).
    public var start: CalendarDate
    /// The letters customer ids start with (`C` when nil), so that a second world can live in the
    /// same store as a first one (e.g. fresh customers for a closed-loop run after a history).
    public var idPrefix: String?

    public init(customers: Int, days: Int, seed: UInt64, start: CalendarDate = CalendarDate(year: 2026, month: 1, day: 5),
                idPrefix: String? = nil) {
        precondition(customers >= 0 && days > 0, "SimulationConfig: customers \(customers) must be ≥ 0 and days \(days) > 0")
        precondition(idPrefix.map { !$0.isEmpty && $0.allSatisfy { $0.isLetter && $0.isASCII } } ?? true,
                     "SimulationConfig: the id prefix must be ASCII letters")
        self.customers = customers
        self.days = days
        self.seed = seed
        self.start = start
        self.idPrefix = idPrefix
    }

    /// Midnight UTC of the first day.
    public var startInstant: Date { Date(timeIntervalSince1970: Double(start.daysSinceEpoch) * 86400) }
    /// Midnight UTC after the last day.
    public var endInstant: Date { Date(timeIntervalSince1970: Double(start.daysSinceEpoch + days) * 86400) }
}

/// The hidden truth about one contact point.
public struct ContactTruth: Codable, Sendable, Equatable {
    public var contactPointId: String
    /// Every message to a dead point bounces hard.
    public var dead: Bool
}

/// The hidden traits of one customer (recorded in `truth.json`).
public struct CustomerTraits: Codable, Sendable, Equatable {
    public var customerId: String
    public var persona: Persona
    public var segment: Segment
    /// The customer's own channel logits (population logit + persona offset + own noise);
    /// meaningless for `never` customers, whom no reminder moves.
    public var channelLogit: [Channel: Double]
    public var preferredTone: Tone
    public var bestWeekday: Weekday
    public var bestHour: HourBucket
    /// Per invoice id: the spontaneous payment rate per day from the issue date (amount-dependent).
    public var spontaneousRate: [String: Double]
    public var contactPoints: [ContactTruth]
}

/// One generated customer: the records the store sees and the traits it does not.
public struct SimulatedCustomer: Sendable {
    /// Position in the world, `0..<config.customers`.
    public var index: Int
    public var customer: Customer
    /// Contact points at the start of the period.
    public var contactPoints: [ContactPoint]
    /// Invoices as issued (status `open`).
    public var invoices: [Invoice]
    public var traits: CustomerTraits
    /// When each invoice would be paid without any reminder (`nil`: never), a draw from the
    /// exponential with the invoice's spontaneous rate.
    public var spontaneousPayment: [Date?]
}

/// A synthetic world of payers with known ground truth (SPEC §4, generative model in
/// `datasets/README.md`). Customer `i` is generated from its own random stream
/// (`Xoshiro256(seed:keys: 1, i)`), so customers can be produced one at a time, in any order,
/// and the same seed always gives the same world.
public struct World: Sendable {
    public let config: SimulationConfig
    public let parameters: WorldParameters

    public init(config: SimulationConfig, parameters: WorldParameters = WorldParameters()) {
        self.config = config
        self.parameters = parameters
    }

    /// The id of customer `index`: `C` and at least seven digits.
    public static func customerId(_ index: Int) -> String { "C" + pad7(index) }

    /// The id of customer `index` in this world: the configured prefix (default `C`) and at least
    /// seven digits.
    public func customerId(_ index: Int) -> String { (config.idPrefix ?? "C") + pad7(index) }

    /// Generates customer `index`. O(number of invoices); no state is shared between customers.
    public func customer(_ index: Int) -> SimulatedCustomer {
        precondition(index >= 0 && index < config.customers, "World: customer \(index) outside 0..<\(config.customers)")
        let p = parameters
        var rng = Xoshiro256(seed: config.seed, keys: 1, UInt64(index))
        let id = customerId(index)
        let region = pick(Region.all.map { ($0, $0.share) }, &rng)
        let persona = pick(Persona.allCases.map { ($0, p.personaShares[$0]!) }, &rng)
        let segment = pick(Segment.allCases.map { ($0, p.segmentShares[$0]!) }, &rng)
        let created = config.startInstant.addingTimeInterval(-Double(30 + Int(rng.uniform() * 1000)) * 86400 - (rng.uniform() * 86400).rounded(.down))

        // Contact points.
        let mix = ContactMix.of(persona)
        var points: [ContactPoint] = []
        var truths: [ContactTruth] = []
        func add(_ kind: ContactKind, _ value: String, _ phoneType: PhoneType?, consent: Double) {
            let pid = id + "-K\(points.count + 1)"
            let dead = rng.uniform() < p.invalidRate[kind]!
            let validated = !dead && rng.uniform() < 0.3
            points.append(ContactPoint(id: pid, customerId: id, kind: kind, value: value, phoneType: phoneType,
                                       validation: validated ? .valid : .unverified, consent: rng.uniform() < consent,
                                       source: "import", updatedAt: created))
            truths.append(ContactTruth(contactPointId: pid, dead: dead))
        }
        let digits = { (n: Int, rng: inout Xoshiro256) -> String in String((0..<n).map { _ in Character(String(Int(rng.uniform() * 10))) }) }
        add(.postal, "\(Int(rng.uniform() * 120) + 1) \(streets[Int(rng.uniform() * Double(streets.count))]), \(region.country)-\(digits(5, &rng))",
            nil, consent: 1)
        if rng.uniform() < mix.email {
            let domain = persona == .office && rng.uniform() < 0.6 ? "firm\(Int(rng.uniform() * 50)).example" : "mail\(Int(rng.uniform() * 5)).example"
            add(.email, "\(id.lowercased())@\(domain)", nil, consent: 0.97)
        }
        var mobile: String?
        if rng.uniform() < mix.mobile {
            let number = region.phonePrefix + "7" + digits(9, &rng)
            mobile = number
            add(.phone, number, .mobile, consent: 0.9)
        }
        if rng.uniform() < mix.landline { add(.phone, region.phonePrefix + "2" + digits(8, &rng), .landline, consent: 0.85) }
        if rng.uniform() < mix.push { add(.push, "pt_" + digits(16, &rng), nil, consent: 1) }
        if let mobile, rng.uniform() < mix.whatsapp { add(.whatsapp, mobile, nil, consent: 1) }

        // Latent response traits.
        var logits: [Channel: Double] = [:]
        for c in Channel.allCases {
            logits[c] = p.channelLogit[c]! + p.personaChannelOffset[persona]![c]! + p.channelNoise * rng.normal()
        }
        let tone = rng.uniform() < 0.8 ? p.personaTone[persona]! : Tone.allCases[Int(rng.uniform() * 3)]
        let days = p.personaDays[persona]!
        let bestDay = days[Int(rng.uniform() * Double(days.count))]
        var hourIndex = p.personaHour[persona]!.index
        if rng.uniform() < p.hourShiftProbability {
            hourIndex += rng.uniform() < 0.5 ? -1 : 1
            hourIndex = min(max(hourIndex, 0), HourBucket.allCases.count - 1)
        }
        let rateNoise = exp(p.regularRateNoise * rng.normal())

        // Invoices: 1 + Poisson(days/60), issued uniformly over the period.
        var invoices: [Invoice] = []
        var spontaneous: [Date?] = []
        var rates: [String: Double] = [:]
        let count = 1 + poisson(Double(config.days) / 60, &rng)
        var issueDays = (0..<count).map { _ in Int(rng.uniform() * Double(config.days)) }
        issueDays.sort()
        for (k, day) in issueDays.enumerated() {
            let amount = max(p.minimumAmount, p.amountMedian * exp(p.amountSigma * rng.normal()))
            let minor = Int64((amount * 100).rounded())
            let issue = config.start.adding(days: day)
            let invoice = Invoice(id: id + "-I\(k + 1)", customerId: id, amountMinor: minor, currency: region.currency,
                                  issueDate: issue, dueDate: issue.adding(days: p.paymentTermDays), status: .open,
                                  flowName: nil, flowVersion: nil, step: nil)
            let rate: Double
            switch segment {
            case .always: rate = p.alwaysRate
            case .never: rate = 0
            case .regular: rate = p.regularRate * pow(Double(minor) / 10000, p.regularAmountExponent) * rateNoise
            }
            rates[invoice.id] = rate
            // The invoice reaches the customer at 09:00 UTC on its issue date.
            let issued = Date(timeIntervalSince1970: Double(issue.daysSinceEpoch) * 86400 + 9 * 3600)
            let u = rng.uniform()
            spontaneous.append(rate > 0 ? issued.addingTimeInterval((-log(1 - u) / rate * 86400).rounded()) : nil)
            invoices.append(invoice)
        }
        let customer = Customer(id: id, locale: region.locale, country: region.country, timeZone: region.timeZone,
                                preferredChannel: nil, createdAt: created)
        let traits = CustomerTraits(customerId: id, persona: persona, segment: segment, channelLogit: logits, preferredTone: tone,
                                    bestWeekday: bestDay, bestHour: HourBucket.allCases[hourIndex], spontaneousRate: rates,
                                    contactPoints: truths)
        return SimulatedCustomer(index: index, customer: customer, contactPoints: points, invoices: invoices, traits: traits,
                                 spontaneousPayment: spontaneous)
    }
}

let streets = ["Hauptstrasse", "Bahnhofstrasse", "Gartenweg", "Schulstrasse", "Lindenallee", "Station Road", "Rue de la Paz", "Main Street"]

func pad7(_ v: Int) -> String {
    let s = String(v)
    return s.count >= 7 ? s : String(repeating: "0", count: 7 - s.count) + s
}

/// Draws one of `items` with probability proportional to its weight.
func pick<T>(_ items: [(T, Double)], _ rng: inout Xoshiro256) -> T {
    let total = items.reduce(0) { $0 + $1.1 }
    var u = rng.uniform() * total
    for (item, w) in items {
        if u < w { return item }
        u -= w
    }
    return items[items.count - 1].0
}

/// A Poisson draw by inversion (small means only).
func poisson(_ mean: Double, _ rng: inout Xoshiro256) -> Int {
    let l = exp(-mean)
    var k = 0
    var prod = rng.uniform()
    while prod > l {
        k += 1
        prod *= rng.uniform()
    }
    return k
}
