import Foundation
import LinAlg
import Vocabulary
import FeatureStore

/// The response model: how likely a delivered message is to make the customer pay, and how long
/// after sending they pay when it does.
extension WorldParameters {
    /// Logit of the probability that a delivered message makes the customer pay (SPEC §4's
    /// "latent channel responsiveness, tone sensitivity, best weekday/hour"):
    ///
    /// `η = logit_c(customer) + tone(t, level) + [t = preferred tone]·b_tone + day(d) + hour(h)
    ///      + levelSlope·level + amountSlope·log(amount/100) + [c = preferred channel]·b_pref`
    ///
    /// where `day` and `hour` are measured in the customer's own time zone and do not apply to
    /// letters (posted in the morning batch, read on arrival). `never` customers have η = −∞.
    /// - Parameters:
    ///   - localWeekday, localHour: when the message goes out, customer-local.
    ///   - level: dunning level, 0 for the first reminder.
    ///   - amountMinor: the invoice amount in minor units.
    public func activationLogit(traits: CustomerTraits, channel: Channel, tone: Tone, localWeekday: Weekday, localHour: Double,
                                level: Int, amountMinor: Int64, preferredChannel: Channel?) -> Double {
        if traits.segment == .never { return -.infinity }
        var eta = traits.channelLogit[channel]!
        eta += toneBase[tone]! + toneSlope[tone]! * Double(level)
        if tone == traits.preferredTone { eta += preferredToneBonus }
        if channel != .letter {
            eta += dayEffect(traits: traits, weekday: localWeekday)
            eta += hourEffect(traits: traits, localHour: localHour)
        }
        eta += levelSlope * Double(level)
        eta += amountSlope * log(max(Double(amountMinor), 1) / 10000)
        if channel == preferredChannel { eta += preferredChannelBonus }
        return eta
    }

    /// Weekday part of the activation logit.
    public func dayEffect(traits: CustomerTraits, weekday: Weekday) -> Double {
        let days = personaDays[traits.persona]!
        if weekday == traits.bestWeekday { return bestDayBonus }
        if days.contains(weekday) { return goodDayBonus }
        if weekday.isWeekend && !days.contains(where: \.isWeekend) { return weekendPenalty }
        return 0
    }

    /// Hour part of the activation logit: `amplitude·exp(−Δ²/2) − offset`, Δ = distance in
    /// two-hour windows between the send hour and the middle of the best window.
    public func hourEffect(traits: CustomerTraits, localHour: Double) -> Double {
        let best = Double(traits.bestHour.startHour) + 1
        let delta = (localHour + 1 - best) / 2
        return hourAmplitude * exp(-delta * delta / 2) - hourOffset
    }

    /// Probability that a message over `channel` to a point in this state is delivered:
    /// 0 for a dead point, else one minus the soft-bounce rate.
    public func deliveryProbability(channel: Channel, dead: Bool) -> Double {
        dead ? 0 : 1 - softBounceRate[channel]!
    }

    /// P(response delay ≤ `hours`) for a message that works: log-normal
    /// `Φ((log t − log median)/σ)`; for letters convolved with the uniform postal transit
    /// `T·(1 + U)`, integrated by the midpoint rule over 64 points.
    public func delayCDF(channel: Channel, hours: Double) -> Double {
        let mu = log(delayMedianHours[channel]!), sigma = delaySigma[channel]!
        func ln(_ t: Double) -> Double { t <= 0 ? 0 : normalCDF((log(t) - mu) / sigma) }
        guard channel == .letter else { return ln(hours) }
        let n = 64
        var s = 0.0
        for k in 0..<n {
            let transit = letterTransitHours * (1 + (Double(k) + 0.5) / Double(n))
            s += ln(hours - transit)
        }
        return s / Double(n)
    }

    /// Mean response delay in hours of a message that works: `median·exp(σ²/2)` (+ 1.5·T for letters).
    public func meanDelayHours(channel: Channel) -> Double {
        let m = delayMedianHours[channel]! * exp(delaySigma[channel]! * delaySigma[channel]! / 2)
        return channel == .letter ? m + 1.5 * letterTransitHours : m
    }

    /// A draw of the response delay in hours from the standard-normal `z` and the uniform `u`
    /// (used for the letter transit only).
    func delayHours(channel: Channel, z: Double, u: Double) -> Double {
        let d = delayMedianHours[channel]! * exp(delaySigma[channel]! * z)
        return channel == .letter ? d + letterTransitHours * (1 + u) : d
    }
}

/// Standard normal CDF, `½·erfc(−x/√2)`.
func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

/// The allowed send windows per channel (the "channel rules" of SPEC §4): letters are posted on
/// weekdays in the morning batch; robocalls only 10–18 on weekdays; SMS and WhatsApp not on Sundays.
public enum ChannelRules {
    /// Whether `channel` may be sent on `weekday` in `hour` (customer-local).
    public static func allows(_ channel: Channel, weekday: Weekday, hour: HourBucket) -> Bool {
        switch channel {
        case .letter: return !weekday.isWeekend && hour == .h08
        case .robocall: return !weekday.isWeekend && hour >= .h10 && hour <= .h16
        case .sms, .whatsapp: return weekday != .sunday
        case .email, .push: return true
        }
    }
}
