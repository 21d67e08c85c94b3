import Crypto
import FeatureStore
import Foundation
import Vocabulary
import Orchestrator

/// What the payment page asks a payment provider to collect.
public struct PaymentRequest: Sendable, Hashable {
    public var customerId: String
    public var invoiceId: String
    /// What is still open on the invoice, in minor units of `currency`.
    public var amountMinor: Int64
    public var currency: String
    /// The payee shown by the provider.
    public var payee: String
    /// The language of the page the payer came from (`de`, `en`).
    public var language: String
    /// Where the provider sends the payer back to (the payment page).
    public var returnURL: String
    /// The same for every attempt from one rendered page: a provider that deduplicates by it never
    /// charges twice for a double click.
    public var idempotencyKey: String
}

/// How the payment continues.
public enum PaymentStart: Sendable, Hashable {
    /// Send the payer's browser to the provider's checkout (HTTP 303). The provider reports the
    /// payment later (a `payment` event through the service's webhooks or `pom-orchestrate ingest`).
    case redirect(url: String)
    /// The payment is already done: the page records the `payment` event and confirms it.
    case completed(paymentId: String)
}

/// A payment provider the page hands the payer to: implement `start` for a real one (create a
/// checkout session over the provider's API and return `.redirect`).
public protocol PaymentProvider: Sendable {
    /// A short name for logs (`test`, `stripe` ...).
    var name: String { get }
    /// Origins (`https://checkout.example.com`) the pay form may be redirected to; the page's
    /// Content-Security-Policy `form-action` lists them.
    var redirectOrigins: [String] { get }
    /// Starts a payment.
    /// - Throws: any error: the page then says the payment could not be started (HTTP 502) and
    ///   the payer can try again.
    func start(_ request: PaymentRequest) async throws -> PaymentStart
}

/// The built-in provider for tests, demos and the simulator: every payment succeeds at once for
/// the open amount, with a payment id derived from the request's idempotency key.
public struct TestPaymentProvider: PaymentProvider {
    public let name = "test"
    public let redirectOrigins: [String] = []

    public init() {}

    public func start(_ request: PaymentRequest) async throws -> PaymentStart {
        let digest = SHA256.hash(data: Array(request.idempotencyKey.utf8)).prefix(8).lowercaseHex
        return .completed(paymentId: "test-" + digest)
    }
}

/// Where the page's events go: visits, QR scans, contact data, preferred channels and payments,
/// with the contact points they create, in one transaction.
public protocol PaymentPageEvents: Sendable {
    /// Writes `changes` and `events` (and what the events mean for the cases' flows) in one transaction.
    func record(_ events: [Event], changes: [TableChange], at: Date) async throws
}

extension Orchestrator: PaymentPageEvents {
    /// Ingests the events as `pom-orchestrate ingest` does: a visit starts the flow's
    /// visited-not-paid clock, a full payment ends the flow; the next run carries on.
    public func record(_ events: [Event], changes: [TableChange], at: Date) async throws {
        try await ingest(events, asOf: at, react: false, with: changes)
    }
}
