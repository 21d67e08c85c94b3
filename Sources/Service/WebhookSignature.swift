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
        "t=\(timestamp),v1=" + hex(Array(mac(body: body, secret: secret, timestamp: timestamp)))
    }

    /// Checks `header` against `body`.
    /// - Returns: the signed timestamp.
    /// - Throws: `Failure`.
    @discardableResult
    public static func verify(header: String?, body: some DataProtocol, secret: String, now: Date, toleranceSeconds: Double) throws -> Int64 {
        guard let header, !header.isEmpty else { throw Failure.missing }
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        // The header is ASCII; it is read as bytes (no Foundation trimming: this runs for every event).
        let bytes = Array(header.utf8)
        for part in bytes.split(separator: UInt8(ascii: ",")) {
            guard let eq = part.firstIndex(of: UInt8(ascii: "=")) else {
                throw Failure.malformed("'\(String(decoding: part.prefix(40), as: UTF8.self))' is not key=value")
            }
            let key = trimmed(part[..<eq]), value = trimmed(part[(eq + 1)...])
            if key.elementsEqual("t".utf8) {
                guard let t = Int64(String(decoding: value, as: UTF8.self)) else {
                    throw Failure.malformed("t='\(String(decoding: value.prefix(20), as: UTF8.self))' is not whole seconds")
                }
                timestamp = t
            } else if key.elementsEqual("v1".utf8) {
                guard value.count == 64, let mac = unhex(value) else { throw Failure.malformed("v1 is not 64 hex digits") }
                signatures.append(mac)
            }
            // other schemes (v0, ...) are ignored
        }
        guard let timestamp else { throw Failure.malformed("no t=") }
        guard !signatures.isEmpty else { throw Failure.malformed("no v1=") }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let tolerance = Int64(toleranceSeconds.rounded(.down))
        guard abs(nowSeconds - timestamp) <= tolerance else {
            throw Failure.outsideWindow(timestamp: timestamp, now: nowSeconds, tolerance: tolerance)
        }
        let expected = mac(body: body, secret: secret, timestamp: timestamp)
        // `HashedAuthenticationCode ==` compares in constant time.
        guard signatures.contains(where: { expected == $0 }) else { throw Failure.mismatch }
        return timestamp
    }

    /// `bytes` without leading and trailing spaces and tabs.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        func blank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else { return bytes[bytes.endIndex...] }
        return bytes[first...last]
    }

    static func mac(body: some DataProtocol, secret: String, timestamp: Int64) -> HashedAuthenticationCode<SHA256> {
        var h = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
        h.update(data: Array("\(timestamp).".utf8))
        h.update(data: body)
        return h.finalize()
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

    static func unhex(_ u: some Collection<UInt8>) -> [UInt8]? {
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
        var i = u.startIndex
        while i != u.endIndex {
            let j = u.index(after: i)
            guard let hi = nibble(u[i]), let lo = nibble(u[j]) else { return nil }
            out.append(hi << 4 | lo)
            i = u.index(after: j)
        }
        return out
    }
}
