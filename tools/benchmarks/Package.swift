// swift-tools-version:6.2
import PackageDescription

// Benchmarks live in their own package so that the main build and CI do not compile them.
let package = Package(
    name: "esmlog-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "esmlog", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
    ],
    targets: [
        .executableTarget(name: "StorageBenchmark", dependencies: [
            .product(name: "ESMStorage", package: "esmlog"),
            .product(name: "ESMCore", package: "esmlog"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "ReplayBenchmark", dependencies: [
            .product(name: "ESMStorage", package: "esmlog"),
            .product(name: "ESMCore", package: "esmlog"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "HummingbirdCeiling", dependencies: [
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
