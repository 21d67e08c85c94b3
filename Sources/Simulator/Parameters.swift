import Foundation
import Vocabulary
import FeatureStore

/// A customer's latent persona: it sets which channels, tones, weekdays and hours work for them
/// and, visibly, which contact points they tend to have (so it is partly observable).
public enum Persona: String, CaseIterable, Codable, Sendable {
    /// Reads messages after work: evenings, Monday–Thursday, SMS/WhatsApp/e-mail.
    case commuter
    /// Handles bills at the desk: mornings, Tuesday–Thursday, e-mail, friendly tone.
    case office
    /// Prefers paper and the phone: late mornings on weekdays, letters, often no e-mail.
    case retiree
    /// Lives on the phone: evenings and weekends, WhatsApp/SMS/push.
    case mobileFirst = "mobile_first"
}

/// A customer's payment segment.
public enum Segment: String, CaseIterable, Codable, Sendable {
    /// Pays soon after the invoice arrives, reminders or not.
    case always
    /// Pays in their own time unless a reminder reaches them.
    case regular
    /// Never pays; no reminder works.
    case never
}

/// The population constants of the simulated world: every number the generative model in
/// `datasets/README.md` uses. `truth.json` records them beside the per-customer traits.
public struct WorldParameters: Codable, Sendable, Equatable {
    /// Share of each persona.
    public var personaShares: [Persona: Double] = [.commuter: 0.30, .office: 0.25, .retiree: 0.20, .mobileFirst: 0.25]
    /// Share of each segment.
    public var segmentShares: [Segment: Double] = [.always: 0.20, .regular: 0.72, .never: 0.08]

    /// Logit of a reminder's activation probability per channel for an average customer at the
    /// first reminder, neutral tone, neutral timing, amount 100.
    public var channelLogit: [Channel: Double] = [
        .email: -0.85, .sms: -0.49, .letter: -0.94, .push: -1.73, .robocall: -1.73, .whatsapp: -0.62,
    ]
    /// Persona offsets to the channel logits.
    public var personaChannelOffset: [Persona: [Channel: Double]] = [
        .commuter: [.email: 0.0, .sms: 0.3, .letter: -0.3, .push: 0.2, .robocall: -0.8, .whatsapp: 0.3],
        .office: [.email: 0.5, .sms: 0.0, .letter: -0.2, .push: -0.3, .robocall: -1.0, .whatsapp: -0.3],
        .retiree: [.email: -0.4, .sms: -0.3, .letter: 0.6, .push: -1.0, .robocall: 0.1, .whatsapp: -0.8],
        .mobileFirst: [.email: -0.3, .sms: 0.5, .letter: -0.7, .push: 0.5, .robocall: -1.0, .whatsapp: 0.7],
    ]
    /// Standard deviation of each customer's own deviation from the channel logits.
    public var channelNoise: Double = 0.3
    /// The tone each persona responds to best.
    public var personaTone: [Persona: Tone] = [.commuter: .neutral, .office: .friendly, .retiree: .friendly, .mobileFirst: .firm]
    /// Logit bonus for the customer's preferred tone.
    public var preferredToneBonus: Double = 0.3
    /// Tone logit at dunning level `k` (0 = first reminder): `base + slope·k`.
    public var toneBase: [Tone: Double] = [.friendly: 0.2, .neutral: 0.0, .firm: -0.3]
    public var toneSlope: [Tone: Double] = [.friendly: -0.15, .neutral: 0.0, .firm: 0.2]
    /// The weekdays each persona responds on best; a customer's best weekday is one of them.
    public var personaDays: [Persona: [Weekday]] = [
        .commuter: [.monday, .tuesday, .wednesday, .thursday],
        .office: [.tuesday, .wednesday, .thursday],
        .retiree: [.monday, .tuesday, .wednesday, .thursday, .friday],
        .mobileFirst: [.friday, .saturday, .sunday],
    ]
    /// Logit bonus on the customer's best weekday, on the persona's other good days, and penalty
    /// on weekend days for personas without weekend days.
    public var bestDayBonus: Double = 0.5
    public var goodDayBonus: Double = 0.2
    public var weekendPenalty: Double = -0.25
    /// The hour window each persona responds in best; a customer's best window is it, or one
    /// window earlier or later with probability `hourShiftProbability`.
    public var personaHour: [Persona: HourBucket] = [.commuter: .h18, .office: .h10, .retiree: .h10, .mobileFirst: .h18]
    public var hourShiftProbability: Double = 0.25
    /// Hour effect `amplitude·exp(−Δ²/2) − offset` with Δ the distance in windows to the best window.
    public var hourAmplitude: Double = 0.6
    public var hourOffset: Double = 0.3
    /// Logit change per dunning level (reminder fatigue).
    public var levelSlope: Double = -0.25
    /// Logit change per unit of log(amount / 100 in major units).
    public var amountSlope: Double = -0.15
    /// Logit bonus when the message goes over the customer's preferred channel.
    public var preferredChannelBonus: Double = 0.6

    /// Spontaneous payment rate per day (from the issue date) of `always` customers.
    public var alwaysRate: Double = 0.25
    /// Spontaneous rate of `regular` customers: `regularRate·(amount/100)^regularAmountExponent·exp(N(0, regularRateNoise))`.
    public var regularRate: Double = 0.03
    public var regularAmountExponent: Double = -0.25
    public var regularRateNoise: Double = 0.3

    /// Response delay after sending (hours), log-normal `(log median, sigma)` per channel; letters
    /// add a postal transit of 24 h·(1 + U(0, 1)) before it.
    public var delayMedianHours: [Channel: Double] = [.email: 7.3, .sms: 6.5, .letter: 14, .push: 4, .robocall: 3, .whatsapp: 5]
    public var delaySigma: [Channel: Double] = [.email: 1.3, .sms: 1.0, .letter: 1.0, .push: 1.3, .robocall: 1.4, .whatsapp: 1.1]
    public var letterTransitHours: Double = 24

    /// Probability that a contact point of each kind is dead (every message to it bounces hard).
    public var invalidRate: [ContactKind: Double] = [.email: 0.07, .phone: 0.04, .postal: 0.015, .push: 0.10, .whatsapp: 0.03]
    /// Per-message probability of a soft bounce (not delivered, point stays usable) per channel;
    /// for robocalls it is the share of calls not answered.
    public var softBounceRate: [Channel: Double] = [.email: 0.02, .sms: 0.01, .letter: 0, .push: 0.05, .robocall: 0.35, .whatsapp: 0.01]

    /// Probability of a payment-page visit without payment after a delivered message that did not work.
    public var visitWithoutPayment: Double = 0.06
    /// Probability that a letter which worked is paid through its QR code (a `qr_scan` first).
    public var letterQRShare: Double = 0.4
    /// Probability that a visitor lacking an e-mail or mobile submits one on the payment page, and
    /// that a submitter also sets a preferred channel.
    public var submitContact: Double = 0.35
    public var setPreferred: Double = 0.6
    /// Probability of an e-mail being opened (when it worked / when it did not).
    public var openWorked: Double = 0.9
    public var openOtherwise: Double = 0.35

    /// Cost of one message in minor units, per channel (letter ≫ robocall > SMS > WhatsApp > e-mail > push).
    public var cost: [Channel: Int64] = [.email: 1, .sms: 8, .letter: 95, .push: 0, .robocall: 12, .whatsapp: 6]
    /// Log-normal invoice amount in major units: median and sigma; amounts are at least `minimumAmount`.
    public var amountMedian: Double = 120
    public var amountSigma: Double = 0.9
    public var minimumAmount: Double = 5
    /// Days from issue to due date; dunning decisions at these days after the due date; hand-over
    /// to a collection agency this many days after the due date.
    public var paymentTermDays: Int = 14
    public var reminderDays: [Int] = [3, 10, 17, 24]
    public var agencyDay: Int = 38
    /// Local hour at which dunning decisions are made (before the first send window).
    public var decisionHour: Int = 6

    public init() {}
}

/// Where customers live: country, locale, time zone, currency, phone prefix and share.
public struct Region: Codable, Sendable, Equatable {
    public var country: String
    public var locale: String
    public var timeZone: String
    public var currency: String
    public var phonePrefix: String
    public var share: Double

    public static let all: [Region] = [
        Region(country: "DE", locale: "de-DE", timeZone: "Europe/Berlin", currency: "EUR", phonePrefix: "+49", share: 0.40),
        Region(country: "AT", locale: "de-AT", timeZone: "Europe/Vienna", currency: "EUR", phonePrefix: "+43", share: 0.10),
        Region(country: "CH", locale: "de-CH", timeZone: "Europe/Zurich", currency: "CHF", phonePrefix: "+41", share: 0.08),
        Region(country: "NL", locale: "nl-NL", timeZone: "Europe/Amsterdam", currency: "EUR", phonePrefix: "+31", share: 0.10),
        Region(country: "GB", locale: "en-GB", timeZone: "Europe/London", currency: "GBP", phonePrefix: "+44", share: 0.12),
        Region(country: "FR", locale: "fr-FR", timeZone: "Europe/Paris", currency: "EUR", phonePrefix: "+33", share: 0.10),
        Region(country: "PT", locale: "pt-PT", timeZone: "Europe/Lisbon", currency: "EUR", phonePrefix: "+351", share: 0.05),
        Region(country: "US", locale: "en-US", timeZone: "America/New_York", currency: "USD", phonePrefix: "+1", share: 0.05),
    ]
}

/// Which contact points each persona tends to have: probability of an e-mail, a mobile, a
/// landline, a push token and a WhatsApp opt-in (given a mobile). Everyone has a postal address.
struct ContactMix {
    var email, mobile, landline, push, whatsapp: Double
    static func of(_ p: Persona) -> ContactMix {
        switch p {
        case .commuter: ContactMix(email: 0.90, mobile: 0.90, landline: 0.10, push: 0.35, whatsapp: 0.45)
        case .office: ContactMix(email: 0.97, mobile: 0.70, landline: 0.20, push: 0.15, whatsapp: 0.20)
        case .retiree: ContactMix(email: 0.40, mobile: 0.40, landline: 0.70, push: 0.02, whatsapp: 0.10)
        case .mobileFirst: ContactMix(email: 0.80, mobile: 0.98, landline: 0.02, push: 0.60, whatsapp: 0.70)
        }
    }
}
