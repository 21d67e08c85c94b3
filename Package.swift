// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way:
//   executables -> POMCommandLine -> FeatureStoreBackends -> FeatureStoreSQLite / FeatureStorePostgres
//   -> FeatureStore / Optimizer -> Vocabulary / Tabular / LinAlg -> CBLAS / CLAPACKE
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
        .library(name: "Decisioning", targets: ["Decisioning"]),
        .executable(name: "pom-train", targets: ["pom-train"]),
        .executable(name: "pom-orchestrate", targets: ["pom-orchestrate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C libraries from Debian, seen by LinAlg only.
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]),

        .target(name: "LinAlg", dependencies: ["CBLAS", "CLAPACKE"]),
        .target(name: "Tabular"),
        .target(name: "Vocabulary"),
        .target(name: "Optimizer", dependencies: ["LinAlg", "Vocabulary", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "FeatureStore", dependencies: ["LinAlg", "Tabular", "Vocabulary", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Simulator", dependencies: ["FeatureStore", "Vocabulary", "LinAlg"]),
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
        .target(
            name: "POMCommandLine",
            dependencies: [
                "LinAlg", "Tabular", "Optimizer", "FeatureStore", "FeatureStoreBackends", "Simulator", "Decisioning",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "pom-train", dependencies: ["POMCommandLine", "LinAlg"]),
        .executableTarget(name: "pom-orchestrate", dependencies: ["POMCommandLine", "LinAlg"]),

        .testTarget(name: "LinAlgTests", dependencies: ["LinAlg"]),
        .testTarget(name: "TabularTests", dependencies: ["Tabular", "LinAlg"]),
        .testTarget(name: "OptimizerTests", dependencies: ["Optimizer", "LinAlg", "Vocabulary", "Tabular"], exclude: ["Fixtures"]),
        .testTarget(name: "FeatureStoreTests", dependencies: ["FeatureStore", "FeatureStoreBackends", "FeatureStoreSQLite", "FeatureStorePostgres"]),
        .testTarget(name: "DecisioningTests", dependencies: ["Decisioning", "Simulator", "FeatureStoreBackends", "Optimizer", "Vocabulary", "LinAlg"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "FeatureStore", "Vocabulary", "LinAlg"]),
        .testTarget(name: "EndToEndTests", dependencies: ["POMCommandLine"]),
    ],
    swiftLanguageModes: [.v6]
)
