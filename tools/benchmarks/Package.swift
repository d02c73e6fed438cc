// swift-tools-version:6.2
import PackageDescription

// Benchmarks live in their own package so that the main build and CI do not compile them.
let package = Package(
    name: "esmlog-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "esmlog", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
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
    ]
)
