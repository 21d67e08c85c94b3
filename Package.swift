// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way:
//   executables -> POMCommandLine -> FeatureStoreBackends -> FeatureStoreSQLite / FeatureStorePostgres
//   -> FeatureStore / Optimizer -> Vocabulary / Tabular / LinAlg -> CBLAS / CLAPACKE
//   POMCommandLine -> Flows -> Vocabulary (+ Yams); POMCommandLine -> ContactData (Foundation only)
//   POMCommandLine -> Service (Hummingbird) -> Orchestrator / Decisioning / FeatureStoreBackends
//   Service (Hummingbird) -> PaymentPage -> Orchestrator -> Channels -> QRCodes -> CQREncode / CPNG
let package = Package(
    name: "pom",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "LinAlg", targets: ["LinAlg"]),
        .library(name: "Tabular", targets: ["Tabular"]),
        .library(name: "Vocabulary", targets: ["Vocabulary"]),
        .library(name: "Optimizer", targets: ["Optimizer"]),
        .library(name: "FeatureStore", targets: ["FeatureStore"]),
        .library(name: "FeatureStoreBackends", targets: ["FeatureStoreBackends"]),
        .library(name: "Simulator", targets: ["Simulator"]),
        .library(name: "Channels", targets: ["Channels"]),
        .library(name: "Reports", targets: ["Reports"]),
        .library(name: "Flows", targets: ["Flows"]),
        .library(name: "ContactData", targets: ["ContactData"]),
        .library(name: "Decisioning", targets: ["Decisioning"]),
        .library(name: "Orchestrator", targets: ["Orchestrator"]),
        .library(name: "PaymentPage", targets: ["PaymentPage"]),
        .library(name: "Service", targets: ["Service"]),
        .executable(name: "pom-train", targets: ["pom-train"]),
        .executable(name: "pom-orchestrate", targets: ["pom-orchestrate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries from Debian, seen by LinAlg only.
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]),
        // C libraries from Debian, seen by QRCodes only: QR code symbols and PNG images.
        .systemLibrary(
            name: "CQREncode", path: "Sources/CQREncode", pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]),
        .systemLibrary(
            name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),

        .target(name: "LinAlg", dependencies: ["CBLAS", "CLAPACKE"]),
        .target(name: "Tabular"),
        .target(name: "Vocabulary"),
        .target(name: "Optimizer", dependencies: ["LinAlg", "Vocabulary", "Tabular", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "FeatureStore", dependencies: ["LinAlg", "Tabular", "Vocabulary", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Simulator", dependencies: ["FeatureStore", "Vocabulary", "LinAlg"]),
        // QR codes (libqrencode) rendered as SVG and PNG (libpng), for letters and the payment page.
        .target(name: "QRCodes", dependencies: ["CQREncode", "CPNG"]),
        // Channel adapters (HTTP provider, spool, dry run, simulated world) and message templates.
        .target(
            name: "Channels",
            dependencies: [
                "Vocabulary", "FeatureStore", "Simulator", "LinAlg", "QRCodes",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources/templates")]),
        // A/B time-to-pay reports from the store (statistics from Optimizer's Survival).
        .target(name: "Reports", dependencies: ["Optimizer", "FeatureStore", "Vocabulary"]),
        // Flow files, the action catalogue and the pure flow executor.
        .target(name: "Flows", dependencies: ["Vocabulary", .product(name: "Yams", package: "Yams")]),
        // Offline e-mail and phone-number validation; its data tables are resource files.
        .target(name: "ContactData", resources: [
                .copy("Resources/disposable-domains.txt"), .copy("Resources/provider-domains.txt"),
                .copy("Resources/phone-plans.json"),
            ]),
        // Store backends (the protocol lives in FeatureStore) and the `--store` URL opener.
        .target(
            name: "FeatureStoreSQLite",
            dependencies: [
                "FeatureStore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]),
        .target(
            name: "FeatureStorePostgres",
            dependencies: ["FeatureStore", .product(name: "PostgresNIO", package: "postgres-nio")]),
        .target(name: "FeatureStoreBackends", dependencies: ["FeatureStore", "FeatureStoreSQLite", "FeatureStorePostgres"]),
        // Live policies: trained reward models and bandits scored on the store's point-in-time features.
        .target(name: "Decisioning", dependencies: ["Optimizer", "FeatureStore", "Vocabulary", "LinAlg"]),
        // The orchestrator: enrolment, flows, decisions, outbox, event ingest.
        .target(
            name: "Orchestrator",
            dependencies: [
                "FeatureStore", "Optimizer", "Vocabulary", "Simulator", "Flows", "Channels", "ContactData", "Decisioning", "LinAlg",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The payment page: tokens, QR codes, invoice page, payment and contact enrichment (no HTTP server).
        .target(
            name: "PaymentPage",
            dependencies: [
                "Orchestrator", "FeatureStore", "ContactData", "Channels", "Vocabulary", "QRCodes",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The HTTP service: delivery webhooks, the payment page, the decision API, health and metrics.
        .target(
            name: "Service",
            dependencies: [
                "PaymentPage", "Orchestrator", "Decisioning", "Optimizer", "FeatureStore", "FeatureStoreBackends", "Vocabulary", "Channels", "Flows",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources/openapi.yaml")]),
        .target(
            name: "POMCommandLine",
            dependencies: [
                "LinAlg", "Tabular", "Optimizer", "FeatureStore", "FeatureStoreBackends", "Simulator", "Orchestrator", "Reports",
                "Flows", "ContactData", "Channels", "Decisioning", "Service",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "pom-train", dependencies: ["POMCommandLine", "LinAlg"]),
        .executableTarget(name: "pom-orchestrate", dependencies: ["POMCommandLine", "LinAlg"]),

        .testTarget(name: "LinAlgTests", dependencies: ["LinAlg"]),
        .testTarget(name: "TabularTests", dependencies: ["Tabular", "LinAlg"]),
        .testTarget(name: "OptimizerTests", dependencies: ["Optimizer", "LinAlg", "Vocabulary", "Tabular"], exclude: ["Fixtures"]),
        .testTarget(name: "FeatureStoreTests", dependencies: ["FeatureStore", "FeatureStoreBackends", "FeatureStoreSQLite", "FeatureStorePostgres"]),
        .testTarget(name: "DecisioningTests", dependencies: ["Decisioning", "Simulator", "FeatureStoreBackends", "Optimizer", "Vocabulary", "LinAlg"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "FeatureStore", "Vocabulary", "LinAlg"]),
        .testTarget(
            name: "OrchestratorTests",
            dependencies: ["Orchestrator", "FeatureStoreBackends", "Simulator", "Channels", "Flows", "Optimizer", "Decisioning", "Vocabulary"]),
        .testTarget(
            name: "ChannelsTests",
            dependencies: [
                "Channels", "Vocabulary", "FeatureStore", "Simulator", "LinAlg", "QRCodes",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "Optimizer", "FeatureStore", "FeatureStoreBackends", "Simulator", "Vocabulary", "LinAlg"],
            exclude: ["Fixtures"]),
        .testTarget(name: "FlowsTests", dependencies: ["Flows", "Vocabulary", "LinAlg"]),
        .testTarget(name: "ContactDataTests", dependencies: ["ContactData"], exclude: ["Fixtures"]),
        .testTarget(name: "EndToEndTests", dependencies: ["POMCommandLine", "Tabular"]),
        .testTarget(name: "QRCodesTests", dependencies: ["QRCodes"], exclude: ["Fixtures"]),
        .testTarget(
            name: "PaymentPageTests",
            dependencies: ["PaymentPage", "QRCodes", "Orchestrator", "FeatureStoreBackends", "Channels", "Flows", "Vocabulary", "ContactData"]),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "Service", "PaymentPage", "QRCodes", "Orchestrator", "FeatureStore", "FeatureStoreBackends", "Simulator", "Decisioning",
                "Optimizer", "Vocabulary", "Channels", "LinAlg", "Flows",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
