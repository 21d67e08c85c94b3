import Foundation
import Testing
@testable import Orchestrator

@Suite("Payment links")
struct PaymentLinkTests {
    let now = Date(timeIntervalSince1970: 1_772_442_000)

    @Test("A token names its invoice, verifies under its secret, and fails when altered, re-signed or expired")
    func roundTrip() throws {
        let token = PaymentLink.token(customerId: "C1", invoiceId: "I-77", secret: "s3cret", expires: now.addingTimeInterval(3600))
        let ok = try #require(PaymentLink.verify(token, secret: "s3cret", now: now))
        #expect(ok.customerId == "C1" && ok.invoiceId == "I-77")
        #expect(PaymentLink.verify(token, secret: "other", now: now) == nil)
        #expect(PaymentLink.verify(token, secret: "s3cret", now: now.addingTimeInterval(3601)) == nil)
        // Another invoice's payload with this signature is refused.
        let other = PaymentLink.token(customerId: "C1", invoiceId: "I-78", secret: "s3cret", expires: now.addingTimeInterval(3600))
        let forged = other.split(separator: ".")[0] + "." + token.split(separator: ".")[1]
        #expect(PaymentLink.verify(String(forged), secret: "s3cret", now: now) == nil)
        for bad in ["", ".", "abc", token + "x", "x" + token, token.replacingOccurrences(of: ".", with: "")] {
            #expect(PaymentLink.verify(bad, secret: "s3cret", now: now) == nil, "\(bad)")
        }
        #expect(!token.contains("+") && !token.contains("/") && !token.contains("="))
    }

    @Test("The signature is HMAC-SHA256 as computed independently (Python hmac), truncated to 12 bytes")
    func reference() throws {
        // p = b"C1\x00I1\x00" + struct.pack(">I", 1772445600);
        // hmac.new(b"k", p, hashlib.sha256).digest()[:12], base64url without padding.
        let token = PaymentLink.token(customerId: "C1", invoiceId: "I1", secret: "k", expires: Date(timeIntervalSince1970: 1_772_445_600))
        #expect(token == "QzEASTEAaaVfoA.KzrFPlSLyhjAOu6j")
        let seen = try #require(PaymentLink.inspect(token, secret: "k"))
        #expect(seen.customerId == "C1" && seen.invoiceId == "I1" && seen.expires == 1_772_445_600)
    }

    @Test("Tokens are short enough for a small QR code: 56 characters for typical ids")
    func length() throws {
        let token = PaymentLink.token(customerId: "C-000123", invoiceId: "INV-2026-000123", secret: "k",
                                      expires: Date(timeIntervalSince1970: 1_772_445_600))
        #expect(token.count == 56)
        // A token with a character outside base64url, padding or a truncated tag is refused.
        #expect(PaymentLink.verify(token + "=", secret: "k", now: now) == nil)
        #expect(PaymentLink.verify(String(token.dropLast(2)), secret: "k", now: now) == nil)
        #expect(PaymentLink.verify(token, secret: "k", now: now) != nil)
        #expect(PaymentLink.verify("+" + String(token.dropFirst()), secret: "k", now: now) == nil)
    }
}
