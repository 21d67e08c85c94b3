import Crypto
import Foundation

/// Payment-page links: `<base>/p/<token>` where the token names one invoice and is signed, so it
/// cannot be guessed or altered to reach another invoice.
///
/// Token: `base64url(payload) "." base64url(first 12 bytes of HMAC-SHA256(secret, payload))` with
/// `payload = customer id ␀ invoice id ␀ expiry` and the expiry as 4 bytes, big-endian Unix
/// seconds. For ids of 8 and 15 characters that is 55 characters, short enough for a
/// version-5 QR code at error-correction level M with the base URL. The 96-bit tag makes a forged
/// token a 2⁻⁹⁶ chance per try (NIST SP 800-107 §5.3.3 allows truncation to 96 bits and more).
/// The ids are readable in the token: it proves which invoice the page may show, it does not hide it.
public enum PaymentLink {
    /// Bytes of the HMAC-SHA256 tag kept in a token.
    public static let tagBytes = 12

    /// The token for an invoice, valid until `expires` (default: 180 days after now).
    /// - Precondition: the ids contain no NUL character and `expires` lies between 1970 and 2106.
    public static func token(customerId: String, invoiceId: String, secret: String, expires: Date = Date().addingTimeInterval(180 * 86_400)) -> String {
        precondition(!customerId.contains("\u{0}") && !invoiceId.contains("\u{0}"), "PaymentLink: ids must not contain NUL")
        let seconds = expires.timeIntervalSince1970.rounded(.down)
        precondition(seconds >= 0 && seconds <= Double(UInt32.max), "PaymentLink: expiry \(expires) outside 1970...2106")
        let t = UInt32(seconds)
        let payload = Array("\(customerId)\u{0}\(invoiceId)\u{0}".utf8) + [UInt8(t >> 24), UInt8(t >> 16 & 0xFF), UInt8(t >> 8 & 0xFF), UInt8(t & 0xFF)]
        return base64url(payload) + "." + base64url(signature(payload, secret: secret))
    }

    /// What a token says, if its signature holds and it has not expired at `now`.
    public static func verify(_ token: String, secret: String, now: Date = Date()) -> (customerId: String, invoiceId: String)? {
        inspect(token, secret: secret).flatMap { Double($0.expires) >= now.timeIntervalSince1970 ? ($0.customerId, $0.invoiceId) : nil }
    }

    /// What a correctly signed token says, expired or not (nil when the signature fails or the
    /// token is malformed).
    public static func inspect(_ token: String, secret: String) -> (customerId: String, invoiceId: String, expires: Int64)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, token.utf8.count <= 512, let payload = unbase64url(parts[0]), let mac = unbase64url(parts[1]) else { return nil }
        guard constantTimeEqual(mac, signature(payload, secret: secret)) else { return nil }
        guard payload.count >= 6, payload[payload.count - 5] == 0 else { return nil }
        let ids = payload[..<(payload.count - 5)].split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard ids.count == 2, !ids[0].isEmpty, !ids[1].isEmpty else { return nil }
        let expiry = payload.suffix(4).reduce(Int64(0)) { $0 << 8 | Int64($1) }
        return (ids[0], ids[1], expiry)
    }

    static func signature(_ payload: [UInt8], secret: String) -> [UInt8] {
        Array(Array(HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: Array(secret.utf8)))).prefix(tagBytes))
    }

    /// Equality of two byte strings in time independent of where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
    }

    /// Base64 with the URL-safe alphabet (RFC 4648 §5), without padding.
    public static func base64url(_ bytes: [UInt8]) -> String {
        // One pass over the standard alphabet's bytes (every message of a run carries a link).
        var out: [UInt8] = []
        for b in Data(bytes).base64EncodedData() {
            switch b {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): out.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of unpadded base64url text; nil for any other character.
    public static func unbase64url(_ s: Substring) -> [UInt8]? {
        guard s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }),
              s.utf8.count % 4 != 1 else { return nil }
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t).map { Array($0) }
    }
}
