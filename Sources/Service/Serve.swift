import FeatureStoreBackends
import Foundation
import Hummingbird
import Logging
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
            let app = application(router: router(runtime: runtime), runtime: runtime) { port in
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
}
