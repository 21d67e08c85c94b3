import Foundation

/// What kind of line a phone number reaches, as far as the numbering plan tells.
public enum PhoneType: String, Codable, Sendable, CaseIterable {
    case mobile, landline
    /// The plan does not tell mobile and landline apart (North America).
    case landlineOrMobile = "landline_or_mobile"
    case tollFree = "toll_free"
    case premiumRate = "premium_rate"
    case sharedCost = "shared_cost"
    /// Location-independent and internet telephony numbers.
    case voip
    case personal, pager
    /// Other service numbers (corporate, UK-wide, ...).
    case service

    /// Whether SMS and WhatsApp can reach the number (mobile, or possibly mobile).
    public var canReceiveSMS: Bool { self == .mobile || self == .landlineOrMobile }

    var plural: String {
        switch self {
        case .mobile: "mobile numbers"
        case .landline: "landline numbers"
        case .landlineOrMobile: "numbers"
        case .tollFree: "toll-free numbers"
        case .premiumRate: "premium-rate numbers"
        case .sharedCost: "shared-cost numbers"
        case .voip: "location-independent numbers"
        case .personal: "personal numbers"
        case .pager: "pager numbers"
        case .service: "service numbers"
        }
    }
}

/// The verdict on one phone number.
public struct PhoneCheck: Hashable, Sendable {
    public var input: String
    /// The number in E.164 (`+4915123456789`), `nil` when it is not valid.
    public var e164: String?
    /// ISO 3166 code of the numbering plan (`DE`), when the country code is known.
    public var country: String?
    public var type: PhoneType?
    /// What is wrong, in plain words; `nil` when valid.
    public var problem: String?
    /// Harmless corrections made while reading (e.g. a trunk 0 after the country code).
    public var notes: [String]

    public var isValid: Bool { e164 != nil }

    /// "valid mobile number +4915123456789" or the problem.
    public var message: String {
        if let e164, let type { return "valid \(type.plural.dropLast()) \(e164)" }
        return problem ?? "invalid"
    }
}

/// The numbering rules of one country, as read from `phone-plans.json`.
public struct NumberingPlan: Codable, Hashable, Sendable {
    public struct Range: Codable, Hashable, Sendable {
        public var type: PhoneType
        /// Leading digits of the national significant number.
        public var prefixes: [String]
        /// Allowed lengths of the national significant number.
        public var lengths: [Int]
        /// A regular expression the whole national number must match, if any.
        public var pattern: String?
        /// What the pattern demands, in plain words.
        public var patternHint: String?
        /// Set for ranges kept out of service (fiction, tests): why.
        public var reserved: String?

        enum CodingKeys: String, CodingKey {
            case type, prefixes, lengths, pattern, reserved
            case patternHint = "pattern_hint"
        }
    }

    public var iso: String
    public var name: String
    public var adjective: String
    public var countryCode: String
    public var trunkPrefix: String
    public var internationalPrefix: String
    /// Where the rules come from.
    public var source: String
    public var ranges: [Range]

    enum CodingKeys: String, CodingKey {
        case iso, name, adjective, source, ranges
        case countryCode = "country_code"
        case trunkPrefix = "trunk_prefix"
        case internationalPrefix = "international_prefix"
    }
}

/// Parses phone numbers to E.164 (ITU-T E.164) with per-country rules from a data file
/// (`phone-plans.json`: country code, trunk prefix, and per range of leading digits the line
/// type and the allowed lengths of the national significant number). Offline: a number can be
/// well-formed and still not in service.
public struct PhoneValidator: Sendable {
    public let plans: [NumberingPlan]

    struct File: Codable { var format: Int; var countries: [NumberingPlan] }

    /// A validator with pom's shipped rules.
    public static let standard: PhoneValidator = {
        do {
            let file = try JSONDecoder().decode(File.self, from: ResourceLists.data("phone-plans", "json"))
            precondition(file.format == 1, "ContactData: phone-plans.json format \(file.format), expected 1")
            return PhoneValidator(plans: file.countries)
        } catch {
            preconditionFailure("ContactData: phone-plans.json does not decode: \(error)")
        }
    }()

    public init(plans: [NumberingPlan]) { self.plans = plans }

    /// Parses `input` with the shipped rules.
    public static func parse(_ input: String, defaultCountry: String? = nil) -> PhoneCheck {
        standard.parse(input, defaultCountry: defaultCountry)
    }

    /// The plan for ISO code `iso`.
    public func plan(_ iso: String) -> NumberingPlan? { plans.first { $0.iso == iso.uppercased() } }

    /// Parses one number.
    /// - Parameters:
    ///   - input: as the payer wrote it: `+49 151 23456789`, `0151/23456789`, `0043 664 1234567`,
    ///     `+44 (0)20 7946 0958`, `(212) 555-0123`, `tel:+41...`.
    ///   - defaultCountry: ISO code used when the number has no country code.
    public func parse(_ input: String, defaultCountry: String? = nil) -> PhoneCheck {
        var check = PhoneCheck(input: input, notes: [])
        func fail(_ message: String) -> PhoneCheck {
            check.problem = message
            return check
        }
        var text = input.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.lowercased().hasPrefix("tel:") { text = String(text.dropFirst(4)) }
        if text.isEmpty { return fail("the number is empty") }
        let separators: Set<Character> = [" ", "-", ".", "/", "(", ")", "\u{00A0}"]
        for (i, c) in text.enumerated() {
            if c == "+" && i == 0 { continue }
            if c == "+" { return fail("a + may only stand at the start") }
            if c.isASCII && c.isNumber || separators.contains(c) { continue }
            if c.isLetter { return fail("the number contains the letter '\(c)'; write digits only") }
            return fail("the number contains '\(c)'; phone numbers have digits, spaces and + - / . ( ) only")
        }
        let plus = text.hasPrefix("+")
        // "+44 (0)20 ...": the trunk 0 in brackets is written in some countries' international format.
        let withoutTrunkNote = text.replacingOccurrences(of: "(0)", with: "")
        if withoutTrunkNote != text { check.notes.append("dropped the (0)") }
        var digits = withoutTrunkNote.filter { $0.isASCII && $0.isNumber }
        if digits.isEmpty { return fail("the number has no digits") }

        var plan: NumberingPlan
        var international = plus
        if !plus, let home = defaultCountry.flatMap(self.plan), digits.hasPrefix(home.internationalPrefix) {
            digits.removeFirst(home.internationalPrefix.count)
            international = true
        } else if !plus, defaultCountry == nil, digits.hasPrefix("00") {
            digits.removeFirst(2)
            international = true
        }
        if international {
            guard let found = plans.filter({ digits.hasPrefix($0.countryCode) }).max(by: { $0.countryCode.count < $1.countryCode.count }) else {
                let known = plans.map { "+\($0.countryCode) \($0.iso)" }.joined(separator: ", ")
                return fail("the country code of +\(digits.prefix(3))… is not one pom has rules for (\(known))")
            }
            plan = found
            digits.removeFirst(plan.countryCode.count)
            if digits.hasPrefix(plan.trunkPrefix), plan.trunkPrefix == "0" {
                digits.removeFirst()
                check.notes.append("dropped the 0 after +\(plan.countryCode)")
            }
        } else {
            guard let country = defaultCountry else {
                return fail("the number has no country code; write it as +49 151 … or give the country")
            }
            guard let home = self.plan(country) else {
                return fail("pom has no numbering rules for \(country); known: \(plans.map(\.iso).joined(separator: ", "))")
            }
            plan = home
            if plan.trunkPrefix == "0" {
                if digits.hasPrefix("0") { digits.removeFirst() } else { check.notes.append("read without the leading 0") }
            } else if digits.hasPrefix(plan.trunkPrefix), digits.count > plan.ranges.flatMap(\.lengths).max() ?? 0 {
                digits.removeFirst(plan.trunkPrefix.count)
            }
        }
        check.country = plan.iso
        let nsn = digits
        if nsn.isEmpty { return fail("nothing follows +\(plan.countryCode)") }
        guard let (range, prefix) = matchRange(plan, nsn) else {
            if plan.ranges.contains(where: { $0.prefixes.contains { $0.hasPrefix(nsn) } }) {
                return fail("the number has only \(nsn.count) digit\(nsn.count == 1 ? "" : "s") after +\(plan.countryCode); it is incomplete")
            }
            return fail("no \(plan.adjective) number starts with +\(plan.countryCode) \(nsn.prefix(2)); check the digits after the country code")
        }
        guard range.lengths.contains(nsn.count) else {
            return fail("the number has \(nsn.count) digits after +\(plan.countryCode); \(plan.adjective) \(range.type.plural) (+\(plan.countryCode) \(prefix)…) have \(Self.lengthList(range.lengths))")
        }
        if let pattern = range.pattern, !Self.wholeMatch(nsn, pattern) {
            return fail("+\(plan.countryCode) \(nsn) is not a possible \(plan.adjective) number: \(range.patternHint ?? "its digits do not fit the plan")")
        }
        if let reserved = range.reserved {
            return fail("+\(plan.countryCode) \(nsn) is not in service: \(reserved)")
        }
        check.e164 = "+" + plan.countryCode + nsn
        check.type = range.type
        return check
    }

    /// The range with the longest prefix of `nsn`, and that prefix.
    func matchRange(_ plan: NumberingPlan, _ nsn: String) -> (NumberingPlan.Range, String)? {
        var best: (NumberingPlan.Range, String)?
        for range in plan.ranges {
            for prefix in range.prefixes where nsn.hasPrefix(prefix) {
                if best == nil || prefix.count > best!.1.count { best = (range, prefix) }
            }
        }
        return best
    }

    static func wholeMatch(_ text: String, _ pattern: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else {
            preconditionFailure("ContactData: bad pattern \(pattern) in phone-plans.json")
        }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// `11`, `10 or 11`, `6 to 11`.
    static func lengthList(_ lengths: [Int]) -> String {
        let sorted = lengths.sorted()
        if sorted.count == 1 { return "\(sorted[0])" }
        if sorted.count > 2, sorted.last! - sorted.first! == sorted.count - 1 { return "\(sorted.first!) to \(sorted.last!)" }
        return sorted.dropLast().map(String.init).joined(separator: ", ") + " or \(sorted.last!)"
    }
}
