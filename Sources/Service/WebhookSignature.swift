import Crypto
import Foundation

/// The signature of a delivery webhook: `Pom-Signature: t=<unix seconds>,v1=<hex>`, where
/// `v1 = HMAC-SHA256(secret, "<t>." + body)` over the raw request body (the scheme Stripe uses).
/// Several `v1=` entries may be given (while a secret is rotated); one valid entry suffices.
/// A timestamp further than the tolerance from the server's clock is refused, so a captured
/// request cannot be replayed later; within the window, the event id makes a replay a no-op.
public enum WebhookSignature {
    /// The header that carries the signature.
    public static let header = "Pom-Signature"

    /// Why a signature was refused.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missing
        case malformed(String)
        case outsideWindow(timestamp: Int64, now: Int64, tolerance: Int64)
        case mismatch

        public var description: String {
            switch self {
            case .missing: return "the \(WebhookSignature.header) header is missing; sign the body as t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">"
            case .malformed(let why): return "the \(WebhookSignature.header) header is malformed: \(why); expected t=<unix seconds>,v1=<64 hex digits>"
            case .outsideWindow(let t, let now, let tol):
                return "the signature's timestamp \(t) is \(abs(now - t)) s from the server's clock \(now), more than the \(tol) s allowed: a replay, or a clock to fix"
            case .mismatch: return "the signature does not match the body (check the secret and sign the raw body bytes as \"t.body\")"
            }
        }
    }

    /// The header value for `body` signed with `secret` at `timestamp`.
    public static func sign(body: some DataProtocol, secret: String, timestamp: Int64) -> String {
        "t=\(timestamp),v1=" + hex(mac(body: body, secret: secret, timestamp: timestamp))
    }

    /// Checks `header` against `body`.
    /// - Returns: the signed timestamp.
    /// - Throws: `Failure`.
    @discardableResult
    public static func verify(header: String?, body: some DataProtocol, secret: String, now: Date, toleranceSeconds: Double) throws -> Int64 {
        guard let header, !header.isEmpty else { throw Failure.missing }
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { throw Failure.malformed("'\(part.prefix(40))' is not key=value") }
            let key = kv[0].trimmingCharacters(in: .whitespaces), value = kv[1].trimmingCharacters(in: .whitespaces)
            switch key {
            case "t":
                guard let t = Int64(value) else { throw Failure.malformed("t='\(value.prefix(20))' is not whole seconds") }
                timestamp = t
            case "v1":
                guard let bytes = unhex(value), bytes.count == 32 else { throw Failure.malformed("v1 is not 64 hex digits") }
                signatures.append(bytes)
            default:
                continue  // other schemes (v0, ...) are ignored
            }
        }
        guard let timestamp else { throw Failure.malformed("no t=") }
        guard !signatures.isEmpty else { throw Failure.malformed("no v1=") }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let tolerance = Int64(toleranceSeconds.rounded(.down))
        guard abs(nowSeconds - timestamp) <= tolerance else {
            throw Failure.outsideWindow(timestamp: timestamp, now: nowSeconds, tolerance: tolerance)
        }
        let key = SymmetricKey(data: Data(secret.utf8))
        var message = Data("\(timestamp).".utf8)
        message.append(contentsOf: body)
        // `isValidAuthenticationCode` compares in constant time.
        guard signatures.contains(where: { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: message, using: key) }) else {
            throw Failure.mismatch
        }
        return timestamp
    }

    static func mac(body: some DataProtocol, secret: String, timestamp: Int64) -> [UInt8] {
        var h = HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8)))
        h.update(data: Data("\(timestamp).".utf8))
        h.update(data: body)
        return Array(h.finalize())
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unhex(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
