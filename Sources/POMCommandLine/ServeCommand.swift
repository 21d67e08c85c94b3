import ArgumentParser
import Foundation
import Logging
import Service

/// `serve`: the HTTP service — delivery webhooks, the decision and outcome API, health and metrics.
public struct Serve: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Serve delivery webhooks (a bounce sends the fallback at once), the decision and outcome API, /healthz, /readyz and /metrics.",
        discussion: """
            Settings come from --config (YAML, see config/service.example.yaml and docs/service.md), then POM_* environment \
            variables, then these flags. Secrets (webhook secrets, the link secret, API keys) come from the environment or \
            from files only. SIGINT or SIGTERM stop it gracefully: requests in flight finish and queued events are written.
            """)

    @Option(help: ArgumentHelp("The store: sqlite:PATH or postgres://user[:password]@host[:port]/database (default: $POM_STORE, else sqlite:pom.sqlite).",
                               valueName: "url"))
    var store: String?

    @Option(help: "The service configuration file (YAML).")
    var config: String?

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default 8080; 0 picks a free one).")
    var port: Int?

    public init() {}

    public func validate() throws {
        if let port, !(0...65_535).contains(port) { throw ValidationError("--port must lie in 0...65535, got \(port)") }
    }

    public func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.load(file: config, environment: environment)
        } catch let e as ServiceConfigurationError {
            throw ValidationError(e.description)
        }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        let level = configuration.logLevel, json = configuration.logFormat == "json"
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let url = store ?? environment["POM_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "sqlite:pom.sqlite"
        try await ServiceApp.serve(configuration: configuration, storeURL: url, logger: Logger(label: "pom.service"))
    }
}
