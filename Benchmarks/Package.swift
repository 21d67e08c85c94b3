// swift-tools-version:6.0
// pom's benchmarks, kept out of the main build: `swift run -c release --package-path Benchmarks pom-bench`.
import PackageDescription

let package = Package(
    name: "pom-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "pom", path: "..")],
    targets: [
        .executableTarget(
            name: "pom-bench",
            dependencies: [
                .product(name: "LinAlg", package: "pom"),
                .product(name: "Tabular", package: "pom"),
                .product(name: "Optimizer", package: "pom"),
                .product(name: "FeatureStore", package: "pom"),
                .product(name: "FeatureStoreBackends", package: "pom"),
                .product(name: "Simulator", package: "pom"),
                .product(name: "Decisioning", package: "pom"),
                .product(name: "Orchestrator", package: "pom"),
                .product(name: "Flows", package: "pom"),
                .product(name: "Channels", package: "pom"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
