import Crypto
import Foundation

/// Payment-page links: `<base>/p/<token>` where the token names one invoice and is signed, so it
/// cannot be guessed or altered to reach another invoice.
///
/// Token: `base64url(customer id ␀ invoice id ␀ expiry (unix seconds)) "." base64url(first 16 bytes of
/// HMAC-SHA256(secret, that payload))`.
public enum PaymentLink {
    /// The token for an invoice, valid until `expires` (default: 180 days after `now`).
    public static func token(customerId: String, invoiceId: String, secret: String, expires: Date = Date().addingTimeInterval(180 * 86_400)) -> String {
        let payload = Array("\(customerId)\u{0}\(invoiceId)\u{0}\(Int64(expires.timeIntervalSince1970))".utf8)
        return base64url(payload) + "." + base64url(signature(payload, secret: secret))
    }

    /// What a token says, if its signature holds and it has not expired at `now`.
    public static func verify(_ token: String, secret: String, now: Date = Date()) -> (customerId: String, invoiceId: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = unbase64url(parts[0]), let mac = unbase64url(parts[1]) else { return nil }
        let expected = signature(payload, secret: secret)
        // Constant-time comparison.
        guard mac.count == expected.count, zip(mac, expected).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return nil }
        let fields = payload.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard fields.count == 3, let expiry = Int64(fields[2]), Double(expiry) >= now.timeIntervalSince1970 else { return nil }
        return (fields[0], fields[1])
    }

    static func signature(_ payload: [UInt8], secret: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: Array(secret.utf8)))).prefix(16).map { $0 }
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ s: Substring) -> [UInt8]? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t).map { Array($0) }
    }
}
