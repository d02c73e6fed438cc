import ESMCore
import ESMStorage
import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// The server's Prometheus registry: request counts and latencies recorded as requests finish,
/// the log's own metrics (through swift-metrics, see `StorageMetrics`), and gauges of the
/// store's state read when `/metrics` is scraped.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory for the store's options.
    public let factory: PrometheusMetricsFactory

    static let operations = [
        "CreateEventSourceMapping", "GetEventSourceMapping", "ListEventSourceMappings", "UpdateEventSourceMapping",
        "DeleteEventSourceMapping", "Metrics", "Error",
    ]
    /// Request latencies from 50 µs to 5 s.
    static let durationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]

    let durations: [String: DurationHistogram]
    let mappings: [MappingState: Prometheus.Gauge]
    let lastSequence, eventsSinceSnapshot, snapshotAge, logBytes: Prometheus.Gauge

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[StorageMetrics.syncDurationName] = ServerMetrics.durationBuckets
        factory.valueHistogramBuckets[StorageMetrics.batchEventsName] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]
        self.factory = factory
        durations = Dictionary(uniqueKeysWithValues: ServerMetrics.operations.map { op in
            (op, registry.makeDurationHistogram(
                name: "esmlog_request_duration_seconds", labels: [("operation", op)], buckets: ServerMetrics.durationBuckets,
                help: "Time from a request's head to its answer, by operation."))
        })
        mappings = Dictionary(uniqueKeysWithValues: MappingState.allCases.map { state in
            (state, registry.makeGauge(name: "esmlog_mappings", labels: [("state", state.rawValue)], help: "Mappings by state."))
        })
        lastSequence = registry.makeGauge(name: "esmlog_last_sequence", help: "Sequence of the last durable event.")
        eventsSinceSnapshot = registry.makeGauge(
            name: "esmlog_events_since_snapshot", help: "Events after the newest snapshot's (all events when there is none).")
        snapshotAge = registry.makeGauge(
            name: "esmlog_snapshot_age_seconds", help: "Seconds since the newest snapshot was written; -1 when there is none.")
        logBytes = registry.makeGauge(name: "esmlog_log_bytes", help: "Bytes of the log's segment files.")
    }

    /// The request counters made so far, by operation and status: the registry's own lookup
    /// builds and hashes the labels under its lock on every call.
    let counters = NIOLockedValueBox([CounterKey: Prometheus.Counter]())

    struct CounterKey: Hashable {
        let operation: String
        let status: Int
    }

    func request(operation: String, status: Int, duration: Duration) {
        let key = CounterKey(operation: operation, status: status)
        let counter = counters.withLockedValue { made in
            if let counter = made[key] { return counter }
            let counter = registry.makeCounter(
                name: "esmlog_requests_total", labels: [("operation", operation), ("status", String(status))],
                help: "Requests answered, by operation and HTTP status.")
            made[key] = counter
            return counter
        }
        counter.increment()
        durations[operation]?.record(duration)
    }

    /// The Prometheus text exposition, with the store's gauges read now.
    func render(_ store: Store) -> [UInt8] {
        let status = store.status()
        for state in MappingState.allCases { mappings[state]?.set(Int64(status.mappingsByState[state] ?? 0)) }
        lastSequence.set(Int64(status.lastSequence))
        eventsSinceSnapshot.set(Int64(status.eventsSinceSnapshot))
        snapshotAge.set(status.snapshotAgeSeconds ?? -1)
        logBytes.set(Int64(status.logBytes))
        return registry.emitToBuffer()
    }
}
