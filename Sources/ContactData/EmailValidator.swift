import Foundation

/// One thing wrong with (or doubtful about) an e-mail address, in plain words.
public struct EmailProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case empty, missingAt = "missing_at", multipleAt = "multiple_at", whitespace
        case localEmpty = "local_empty", localTooLong = "local_too_long", localCharacter = "local_character"
        case localNonASCII = "local_non_ascii", localDots = "local_dots", quotedLocal = "quoted_local"
        case domainEmpty = "domain_empty", domainTooLong = "domain_too_long", ipLiteral = "ip_literal"
        case labelEmpty = "label_empty", labelTooLong = "label_too_long", labelCharacter = "label_character"
        case labelHyphen = "label_hyphen", badPunycode = "bad_punycode", singleLabel = "single_label"
        case badTopLevel = "bad_top_level", addressTooLong = "address_too_long"
        case reservedDomain = "reserved_domain"
        /// Doubtful rather than wrong: a throw-away mailbox.
        case disposable
        /// Doubtful rather than wrong: looks like a typo of a big provider's domain.
        case likelyTypo = "likely_typo"
    }

    public var code: Code
    public var message: String

    /// Whether the address cannot work (as opposed to doubtful).
    public var isFatal: Bool { code != .disposable && code != .likelyTypo }

    public var description: String { message }
}

/// The verdict on one e-mail address.
public struct EmailCheck: Hashable, Sendable {
    public enum Verdict: String, Sendable {
        /// Well-formed, on a domain that can receive mail, not known to be doubtful.
        case valid
        /// Well-formed but doubtful (disposable domain, likely typo): ask the payer to confirm.
        case risky
        /// Cannot be an address that receives mail.
        case invalid
    }

    public var input: String
    public var verdict: Verdict
    /// The address to store: the local part as written, `@`, the domain in lower case and in its
    /// ASCII (Punycode) form. `nil` when invalid.
    public var address: String?
    /// The domain in Unicode, lower case (`münchen.de`); `nil` when it could not be read.
    public var unicodeDomain: String?
    /// Everything found, most important first; empty when valid.
    public var problems: [EmailProblem]
    /// A corrected address for a likely typo (`anna@gmail.com` for `anna@gmial.com`).
    public var suggestion: String?

    public var isDisposable: Bool { problems.contains { $0.code == .disposable } }

    /// One line for people: "valid", or the first problem (and the suggestion).
    public var message: String {
        guard let first = problems.first else { return "valid" }
        return first.message
    }
}

/// Offline e-mail address checks: a practical subset of RFC 5321/5322 syntax, IDN domains
/// (IDNA via Punycode, RFC 3492), reserved and test domains (RFC 2606, RFC 6761, RFC 6762),
/// disposable-mailbox domains and typos of the big providers' domains.
///
/// Practical subset: the local part is a dot-atom of RFC 5322 §3.2.3 (letters, digits and
/// ``!#$%&'*+-/=?^_`{|}~``, dots not first, last or doubled), at most 64 octets (RFC 5321
/// §4.5.3.1.1); quoted local parts and non-ASCII local parts (RFC 6531) are refused because
/// mailbox providers do not hand them out. The domain is a host name of at least two labels,
/// each 1-63 octets of letters, digits and inner hyphens after IDNA encoding, at most 253
/// octets in all; address literals (`[192.0.2.1]`) are refused. The whole address is at most
/// 254 octets (RFC 5321 path limit less the angle brackets). Unicode domains are lower-cased
/// and NFC-normalised before encoding, a practical stand-in for the IDNA2008 mapping (UTS 46).
public struct EmailValidator: Sendable {
    /// Domains (and their subdomains) of throw-away mailbox services.
    public let disposableDomains: Set<String>
    /// Domains of big mailbox providers; near misses of these are flagged as likely typos.
    public let providerDomains: [String]

    /// A validator with pom's shipped lists (resource files of this module).
    public static let standard = EmailValidator(
        disposableDomains: Set(ResourceLists.lines("disposable-domains", "txt")),
        providerDomains: ResourceLists.lines("provider-domains", "txt"))

    public init(disposableDomains: Set<String>, providerDomains: [String]) {
        self.disposableDomains = disposableDomains
        self.providerDomains = providerDomains
    }

    /// Checks `input` with the shipped lists.
    public static func validate(_ input: String) -> EmailCheck { standard.validate(input) }

    /// Checks one address.
    public func validate(_ input: String) -> EmailCheck {
        var check = EmailCheck(input: input, verdict: .invalid, address: nil, unicodeDomain: nil, problems: [], suggestion: nil)
        func fail(_ code: EmailProblem.Code, _ message: String) -> EmailCheck {
            check.problems.append(EmailProblem(code: code, message: message))
            check.verdict = .invalid
            return check
        }
        let text = input.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return fail(.empty, "the address is empty") }
        if text.unicodeScalars.contains(where: { CharacterSet.whitespacesAndNewlines.contains($0) }) {
            return fail(.whitespace, "the address contains a space; e-mail addresses have none")
        }
        guard let at = text.lastIndex(of: "@") else {
            return fail(.missingAt, "there is no @; an address looks like name@example.org")
        }
        let local = String(text[..<at])
        let domainText = String(text[text.index(after: at)...])
        if local.hasPrefix("\"") {
            return fail(.quotedLocal, "quoted names (\"...\"@) are legal but no mail provider hands them out; ask for the address again")
        }
        if local.contains("@") { return fail(.multipleAt, "the address has more than one @") }
        if let problem = Self.checkLocal(local) { return fail(problem.code, problem.message) }
        if domainText.isEmpty { return fail(.domainEmpty, "nothing follows the @; the domain (such as example.org) is missing") }
        if domainText.hasPrefix("[") {
            return fail(.ipLiteral, "'\(domainText)' is an IP address, not a domain; customer addresses need a domain name")
        }
        let domain: (ascii: String, unicode: String)
        switch Self.encodeDomain(domainText) {
        case let .success(d): domain = d
        case let .failure(problem): return fail(problem.code, problem.message)
        }
        check.unicodeDomain = domain.unicode
        let address = local + "@" + domain.ascii
        if address.utf8.count > 254 {
            return fail(.addressTooLong, "the address has \(address.utf8.count) characters; at most 254 are possible")
        }
        if let reason = Self.reservedReason(domain.ascii) {
            return fail(.reservedDomain, "\(domain.unicode) \(reason), so no mail can reach it")
        }
        check.address = address
        check.verdict = .valid
        if isDisposable(domain.ascii) {
            check.problems.append(EmailProblem(code: .disposable, message: "\(domain.unicode) hands out throw-away mailboxes; ask for a lasting address"))
            check.verdict = .risky
        } else if let provider = typoTarget(domain.ascii) {
            check.suggestion = local + "@" + provider
            check.problems.append(EmailProblem(code: .likelyTypo, message: "\(domain.unicode) looks like a typo; did you mean \(local)@\(provider)?"))
            check.verdict = .risky
        }
        return check
    }

    /// Whether `domain` or a parent domain of it is on the disposable list.
    public func isDisposable(_ domain: String) -> Bool {
        var labels = domain.split(separator: ".")
        while labels.count >= 2 {
            if disposableDomains.contains(labels.joined(separator: ".")) { return true }
            labels.removeFirst()
        }
        return false
    }

    /// The provider domain `domain` is most likely a typo of: one edit away (two for domains of
    /// nine or more characters), or the provider's name with another top-level domain
    /// that the provider does not use (`gmail.de`); `nil` when `domain` is itself a provider or
    /// nothing is that close.
    public func typoTarget(_ domain: String) -> String? {
        if providerDomains.contains(domain) { return nil }
        let limit = domain.count >= 9 ? 2 : 1
        var best: (String, Int)?
        for provider in providerDomains {
            let d = editDistance(domain, provider)
            if d <= limit, best == nil || d < best!.1 { best = (provider, d) }
        }
        if let best { return best.0 }
        // gmail.de, gmail.co: the provider's name with another ending.
        let name = domain.split(separator: ".").first.map(String.init) ?? domain
        let sameName = providerDomains.filter { $0.split(separator: ".").first.map(String.init) == name }
        if name.count >= 5, sameName.count == 1 { return sameName[0] }
        return nil
    }

    // MARK: Syntax

    static let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~".unicodeScalars)

    static func checkLocal(_ local: String) -> EmailProblem? {
        if local.isEmpty { return EmailProblem(code: .localEmpty, message: "nothing stands before the @") }
        if local.utf8.count > 64 {
            return EmailProblem(code: .localTooLong, message: "the part before the @ has \(local.utf8.count) characters; at most 64 are possible")
        }
        if let bad = local.unicodeScalars.first(where: { !$0.isASCII }) {
            return EmailProblem(code: .localNonASCII, message: "'\(bad)' before the @ is not a plain ASCII character; few mail providers accept such addresses")
        }
        if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") {
            return EmailProblem(code: .localDots, message: "the part before the @ starts or ends with a dot or has two dots in a row")
        }
        if let bad = local.unicodeScalars.first(where: { $0 != "." && !atext.contains($0) }) {
            return EmailProblem(code: .localCharacter, message: "'\(bad)' may not appear before the @")
        }
        return nil
    }

    /// The ASCII and Unicode forms of a domain, or what is wrong with it.
    static func encodeDomain(_ text: String) -> Result<(ascii: String, unicode: String), EmailProblem> {
        // Ideographic and full-width full stops count as dots (IDNA2008 / UTS 46 mapping).
        var normalized = text.precomposedStringWithCanonicalMapping.lowercased()
        for stop in ["\u{3002}", "\u{FF0E}", "\u{FF61}"] { normalized = normalized.replacingOccurrences(of: stop, with: ".") }
        if normalized.hasSuffix(".") {
            return .failure(EmailProblem(code: .labelEmpty, message: "the domain ends with a dot"))
        }
        let labels = normalized.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var ascii: [String] = []
        var unicode: [String] = []
        for label in labels {
            if label.isEmpty {
                return .failure(EmailProblem(code: .labelEmpty, message: "the domain \(normalized) has an empty part (a dot at the start or two dots in a row)"))
            }
            var encoded = label
            var shown = label
            if label.unicodeScalars.contains(where: { !$0.isASCII }) {
                if let bad = label.unicodeScalars.first(where: { !isIDNScalar($0) }) {
                    return .failure(EmailProblem(code: .labelCharacter, message: "'\(bad)' may not appear in a domain name"))
                }
                guard let puny = Punycode.encode(label) else {
                    return .failure(EmailProblem(code: .badPunycode, message: "the domain part '\(label)' cannot be encoded"))
                }
                encoded = "xn--" + puny
            } else if label.hasPrefix("xn--") {
                guard let decoded = Punycode.decode(String(label.dropFirst(4))), !decoded.isEmpty,
                      decoded.unicodeScalars.contains(where: { !$0.isASCII }),
                      decoded.unicodeScalars.allSatisfy({ $0.isASCII ? $0 != "." : isIDNScalar($0) }),
                      Punycode.encode(decoded).map({ "xn--" + $0 }) == label else {
                    return .failure(EmailProblem(code: .badPunycode, message: "'\(label)' is not a valid internationalised domain part"))
                }
                shown = decoded
            }
            if encoded.utf8.count > 63 {
                return .failure(EmailProblem(code: .labelTooLong, message: "the domain part '\(label)' has \(encoded.utf8.count) characters once encoded; at most 63 are possible"))
            }
            if let bad = encoded.unicodeScalars.first(where: { !(("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-") }) {
                return .failure(EmailProblem(code: .labelCharacter, message: "'\(bad)' may not appear in a domain name"))
            }
            if encoded.hasPrefix("-") || encoded.hasSuffix("-") {
                return .failure(EmailProblem(code: .labelHyphen, message: "the domain part '\(label)' starts or ends with a hyphen"))
            }
            let chars = Array(encoded)
            if chars.count >= 4, chars[2] == "-", chars[3] == "-", !encoded.hasPrefix("xn--") {
                return .failure(EmailProblem(code: .labelHyphen, message: "the domain part '\(label)' has hyphens in the third and fourth place, which only xn-- parts may"))
            }
            ascii.append(encoded)
            unicode.append(shown)
        }
        let asciiDomain = ascii.joined(separator: ".")
        if asciiDomain.utf8.count > 253 {
            return .failure(EmailProblem(code: .domainTooLong, message: "the domain has \(asciiDomain.utf8.count) characters once encoded; at most 253 are possible"))
        }
        if ascii.count < 2 {
            return .failure(EmailProblem(code: .singleLabel, message: "the domain '\(normalized)' has no dot; a mail domain looks like example.org"))
        }
        let top = ascii.last!
        if top.count < 2 || (!top.hasPrefix("xn--") && !top.allSatisfy({ $0.isLetter })) {
            return .failure(EmailProblem(code: .badTopLevel, message: "'.\(unicode.last!)' is not a top-level domain; it ends like .de, .com or .org"))
        }
        return .success((asciiDomain, unicode.joined(separator: ".")))
    }

    /// Scalars allowed in a Unicode domain label: letters, marks and digits (IDNA2008 PVALID is
    /// a subset of these), and the hyphen.
    static func isIDNScalar(_ s: Unicode.Scalar) -> Bool {
        if s == "-" { return true }
        switch s.properties.generalCategory {
        case .lowercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber: return true
        case .uppercaseLetter, .titlecaseLetter: return false  // lower-cased before this check
        default: return false
        }
    }

    /// Why `domain` (ASCII, lower case) cannot receive mail, or `nil`.
    static func reservedReason(_ domain: String) -> String? {
        let labels = domain.split(separator: ".").map(String.init)
        let top = labels.last ?? ""
        switch top {
        case "test": return "is a test domain (RFC 6761)"
        case "example": return "is an example domain (RFC 2606)"
        case "invalid": return "is an invalid-by-definition domain (RFC 6761)"
        case "localhost": return "is the local host (RFC 6761)"
        case "local": return "is a local-network name (RFC 6762)"
        case "onion": return "is a Tor onion name (RFC 7686)"
        case "internal", "lan", "home", "corp", "intranet": return "is a private network name"
        default: break
        }
        let tail2 = labels.suffix(2).joined(separator: ".")
        if ["example.com", "example.net", "example.org"].contains(tail2) { return "is an example domain (RFC 2606)" }
        if labels.suffix(2) == ["home", "arpa"] { return "is a home-network name (RFC 8375)" }
        return nil
    }
}

/// Reads the module's resource lists: one entry a line, `#` starts a comment.
enum ResourceLists {
    static func lines(_ name: String, _ ext: String) -> [String] {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            preconditionFailure("ContactData: resource \(name).\(ext) is missing from the bundle")
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    static func data(_ name: String, _ ext: String) -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext), let data = try? Data(contentsOf: url) else {
            preconditionFailure("ContactData: resource \(name).\(ext) is missing from the bundle")
        }
        return data
    }
}

/// Optimal-string-alignment distance (neighbour swaps cost 1). O(|a|·|b|).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
        }
    }
    return d[a.count][b.count]
}
