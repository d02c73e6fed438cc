// swift-tools-version:6.2
import PackageDescription

// Versions are pinned with `exact:` because Package.resolved is not committed.
let package = Package(
    name: "esmlog",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "esmlog", targets: ["esmlog"]),
        .library(name: "ESMCore", targets: ["ESMCore"]),
        .library(name: "ESMStorage", targets: ["ESMStorage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
    ],
    targets: [
        // libzstd from the system (Debian: libzstd-dev).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // zlib from the system (Debian: zlib1g-dev), for CloudTrail's .json.gz trail files.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // CRC-32C with the CPU's instruction where there is one (the Swift table code is the fallback).
        .target(name: "CCRC32C"),
        // Pure core: model, validation, state machine, projector, queries. No I/O, no clock.
        .target(name: "ESMCore"),
        // Audit views of the log: timeline text, JSONL, CSV, HTML and CloudTrail formats. Pure.
        .target(name: "ESMAudit", dependencies: ["ESMCore"]),
        // Segmented write-ahead log, record codec, CRC32C, zstd, group commit, store.
        .target(name: "ESMStorage", dependencies: [
            "ESMCore", "CZstd", "CZlib", "CCRC32C",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        // The log on PostgreSQL: the same records and chain as the segment files, appended by
        // several nodes in one total order.
        .target(name: "ESMPostgres", dependencies: [
            "ESMCore", "ESMStorage",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // The AWS REST-JSON API over Hummingbird 2.
        .target(name: "ESMServer", dependencies: [
            "ESMCore", "ESMStorage",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "esmlog", dependencies: [
            "ESMCore", "ESMStorage", "ESMServer", "ESMAudit", "ESMPostgres",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ESMCoreTests", dependencies: ["ESMCore"]),
        .testTarget(name: "ESMStorageTests", dependencies: ["ESMStorage", "ESMCore"]),
        .testTarget(name: "ESMServerTests", dependencies: ["ESMServer"]),
        .testTarget(name: "ESMAuditTests", dependencies: ["ESMAudit", "ESMCore"]),
        .testTarget(name: "ESMPostgresTests", dependencies: ["ESMPostgres", "ESMStorage", "ESMCore", .product(name: "PostgresNIO", package: "postgres-nio")]),
    ]
)

// tools/tsan.sh sets ESMLOG_SANITIZER_SUITES=1: its build leaves out the log on PostgreSQL and the
// command line, whose postgres-nio and TLS stack would otherwise be compiled a second time, under
// the sanitizer, for suites it does not run.
if Context.environment["ESMLOG_SANITIZER_SUITES"] == "1" {
    let left = ["ESMPostgres", "ESMPostgresTests", "esmlog"]
    package.targets.removeAll { left.contains($0.name) }
    package.products.removeAll { $0.name == "esmlog" }
}
