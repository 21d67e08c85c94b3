import Crypto
import Foundation
import Orchestrator

/// A response of the payment page, independent of the HTTP server that sends it.
public struct PageResponse: Sendable, Equatable {
    public var status: Int
    /// The `Content-Type` header.
    public var contentType: String
    public var body: [UInt8]
    /// Further headers in order (`Location`, `Content-Security-Policy`, `Cache-Control` ...).
    public var headers: [Header]

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(status: Int, contentType: String, body: [UInt8], headers: [Header] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The value of header `name` (case-insensitive), if set.
    public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
}

/// `application/x-www-form-urlencoded` bodies and query strings (WHATWG URL standard §5.1).
public enum FormData {
    /// The fields of `body`; a name given twice keeps its last value.
    /// - Returns: nil when the body is not valid UTF-8 after percent-decoding.
    public static func parse(_ body: some Collection<UInt8>) -> [String: String]? {
        var out: [String: String] = [:]
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else { return nil }
            out[name] = value
        }
        return out
    }

    /// The fields of a query string (without the `?`).
    public static func parse(query: String) -> [String: String] { parse(Array(query.utf8)) ?? [:] }

    static func decode(_ bytes: some Collection<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: b - 0x30
            case 0x41...0x46: b - 0x41 + 10
            case 0x61...0x66: b - 0x61 + 10
            default: nil
            }
        }
        while i != bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(0x20)
            } else if b == UInt8(ascii: "%"), let j = bytes.index(i, offsetBy: 2, limitedBy: bytes.endIndex), j != bytes.endIndex,
                      let hi = hex(bytes[bytes.index(after: i)]), let lo = hex(bytes[j]) {
                out.append(hi << 4 | lo)
                i = j
            } else {
                out.append(b)
            }
            i = bytes.index(after: i)
        }
        return String(validating: out, as: UTF8.self)
    }

    /// `fields` encoded as a query string or form body (names sorted).
    public static func encode(_ fields: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return fields.keys.sorted().map { name in
            let enc = { (s: String) in
                s.addingPercentEncoding(withAllowedCharacters: allowed)!.replacingOccurrences(of: "%20", with: "+")
            }
            return enc(name) + "=" + enc(fields[name]!)
        }.joined(separator: "&")
    }
}

/// Language negotiation: `?lang=`, then `Accept-Language` (RFC 9110 §12.5.4), then the customer's locale.
public enum LanguageChoice {
    /// The first of `available` that `query`, `acceptLanguage` or `fallbacks` asks for, else `defaultLanguage`.
    public static func choose(query: String?, acceptLanguage: String?, fallbacks: [String], available: Set<String>,
                              defaultLanguage: String) -> String {
        func primary(_ tag: some StringProtocol) -> String {
            String(tag.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first ?? "").trimmingCharacters(in: .whitespaces)
        }
        if let q = query.map({ primary($0) }), available.contains(q) { return q }
        if let header = acceptLanguage {
            var ranked: [(q: Double, order: Int, tag: String)] = []
            for (order, item) in header.split(separator: ",").enumerated() {
                let parts = item.split(separator: ";")
                guard let tag = parts.first.map({ primary($0) }), !tag.isEmpty else { continue }
                var q = 1.0
                for p in parts.dropFirst() {
                    let kv = p.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    if kv.count == 2, kv[0] == "q", let v = Double(kv[1]) { q = v }
                }
                if q > 0 { ranked.append((q, order, tag)) }
            }
            ranked.sort { ($0.q, -$0.order) > ($1.q, -$1.order) }
            if let hit = ranked.first(where: { available.contains($0.tag) }) { return hit.tag }
        }
        for f in fallbacks where available.contains(primary(f)) { return primary(f) }
        return defaultLanguage
    }
}

/// The hidden token of the page's forms (cross-site request forgery protection): it binds a form
/// to its page token and the time it was issued, signed with a key derived from the link secret.
///
/// `base64url(issued, 4 bytes big-endian Unix seconds) "." base64url(first 12 bytes of
/// HMAC-SHA256(k, page token ␀ issued))` with `k = HMAC-SHA256(secret, "pom payment-page forms")`,
/// so a form token is never a valid payment link and a page's form token is useless on another page.
/// Another site cannot read it (same-origin policy), so it cannot post the form in the payer's name.
public struct FormToken: Sendable {
    /// The derived key's bytes.
    let key: [UInt8]
    /// How long a form stays valid after the page was rendered.
    public let lifetime: TimeInterval

    public init(secret: String, lifetime: TimeInterval = 4 * 3600) {
        let derived = HMAC<SHA256>.authenticationCode(for: Array("pom payment-page forms".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        key = Array(derived)
        self.lifetime = lifetime
    }

    /// A token for the forms of the page of `pageToken`, issued at `now`.
    public func make(pageToken: String, now: Date) -> String {
        let t = UInt32(max(0, min(Double(UInt32.max), now.timeIntervalSince1970.rounded(.down))))
        let issued: [UInt8] = [UInt8(t >> 24), UInt8(t >> 16 & 0xFF), UInt8(t >> 8 & 0xFF), UInt8(t & 0xFF)]
        return PaymentLink.base64url(issued) + "." + PaymentLink.base64url(tag(pageToken, issued))
    }

    /// Whether `token` was made for `pageToken` within `lifetime` before `now`.
    public func verify(_ token: String, pageToken: String, now: Date) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let issued = PaymentLink.unbase64url(parts[0]), issued.count == 4,
              let mac = PaymentLink.unbase64url(parts[1]), PaymentLink.constantTimeEqual(mac, tag(pageToken, issued)) else { return false }
        let t = Double(issued.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        let age = now.timeIntervalSince1970 - t
        return age >= -300 && age <= lifetime
    }

    func tag(_ pageToken: String, _ issued: [UInt8]) -> [UInt8] {
        Array(Array(HMAC<SHA256>.authenticationCode(for: Array(pageToken.utf8) + [0] + issued, using: SymmetricKey(data: key))).prefix(12))
    }
}
