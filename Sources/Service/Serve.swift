import FeatureStoreBackends
import Foundation
import Hummingbird
import Logging
import PaymentPage
import ServiceLifecycle

extension ServiceApp {
    /// `pom-orchestrate serve`: opens the store, starts the runtime and serves until SIGINT or
    /// SIGTERM; then the server stops accepting, requests in flight finish, queued events and
    /// decisions are written, and the store is closed.
    /// - Parameters:
    ///   - storeURL: `sqlite:PATH` or `postgres://...`.
    ///   - logger: the service's logger (its handler chosen by the caller's `LoggingSystem` bootstrap).
    public static func serve(configuration: ServiceConfiguration, storeURL: String, logger: Logger) async throws {
        let store = try await openStore(storeURL)
        do {
            let runtime = try await ServiceRuntime.start(configuration: configuration, store: store, logger: logger)
            if configuration.channelsFile == nil {
                logger.warning("no channel configuration (channels, POM_CHANNELS): reactions to events cannot send; their messages fail")
            }
            let routes = router(runtime: runtime)
            addPaymentPageRoutes(to: routes, pages: paymentPages(runtime: runtime, logger: logger))
            let app = application(router: routes, runtime: runtime) { port in
                logger.info("listening", metadata: ["host": .string(configuration.host), "port": .stringConvertible(port),
                                                    "model": .string(runtime.orchestrator.model.map { "\($0.name)@\($0.version)" } ?? "none"),
                                                    "webhook_providers": .string(configuration.webhookSecrets.keys.sorted().joined(separator: ",")),
                                                    "api_keys": .stringConvertible(configuration.apiKeys.count)])
            }
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// The payment page of the service's store: links signed with the service's link secret, events
    /// through the runtime's orchestrator, payments through the configured provider.
    static func paymentPages(runtime: ServiceRuntime, logger: Logger) -> PaymentPages {
        let provider: any PaymentProvider
        if runtime.configuration.paymentProvider == "test" {
            logger.warning("payment provider: test (payments succeed at once without collecting money: for demos and tests only)")
            provider = TestPaymentProvider()
        } else {
            provider = NoPaymentProvider()
        }
        return PaymentPages(store: runtime.store, configuration: PaymentPageConfiguration(run: runtime.runConfiguration), provider: provider,
                            events: runtime.orchestrator, templates: runtime.templates,
                            log: { logger.warning("\($0)") })
    }
}

/// The provider of a service without one configured: the page offers contact enrichment, and a
/// payment attempt gets the page's "payment could not be started" notice.
struct NoPaymentProvider: PaymentProvider {
    let name = "none"
    let redirectOrigins: [String] = []

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String { "no payment provider is configured (payment_provider, POM_PAYMENT_PROVIDER)" }
    }

    func start(_ request: PaymentRequest) async throws -> PaymentStart { throw NotConfigured() }
}
