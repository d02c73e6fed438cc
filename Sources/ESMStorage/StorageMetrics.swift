import CoreMetrics
import ESMCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the log reports as it writes, through swift-metrics (the server exports it to
/// Prometheus; without a factory nothing is recorded).
public struct StorageMetrics: Sendable {
    /// Events appended.
    let appends: Counter
    /// Events per group-commit record.
    let batchEvents: Recorder
    /// How long each fdatasync took (on PostgreSQL: each append's committed call).
    let syncDuration: Timer
    /// Bytes appended to the log (records, dictionaries and seals).
    let bytesWritten: Counter
    /// Appends to a shared log that another writer came before (their requests were decided again).
    public let staleAppends: Counter

    public static let batchEventsName = "esmlog_group_commit_events"
    public static let syncDurationName = "esmlog_fsync_duration_seconds"

    public init(factory: any MetricsFactory) {
        appends = Counter(label: "esmlog_appends_total", factory: factory)
        batchEvents = Recorder(label: StorageMetrics.batchEventsName, aggregate: true, factory: factory)
        syncDuration = Timer(label: StorageMetrics.syncDurationName, factory: factory)
        bytesWritten = Counter(label: "esmlog_log_bytes_written_total", factory: factory)
        staleAppends = Counter(label: "esmlog_stale_appends_total", factory: factory)
    }

    /// One durable append of `events` events in `bytes` bytes that took `duration`.
    public func recordAppend(events: Int, bytes: Int, duration: Duration) {
        appends.increment(by: Int64(events))
        batchEvents.record(events)
        syncDuration.recordNanoseconds(duration.nanoseconds)
        bytesWritten.increment(by: Int64(bytes))
    }
}

extension Duration {
    /// Whole nanoseconds, as swift-metrics timers take them.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// The store's state as operators watch it.
public struct StoreStatus: Sendable, Equatable {
    public var lastSequence: UInt64
    /// Mappings per state (states with none may be absent).
    public var mappingsByState: [MappingState: Int]
    /// Events since the newest snapshot (all events when there is none).
    public var eventsSinceSnapshot: UInt64
    /// Seconds since the newest snapshot file was written; nil when there is none.
    public var snapshotAgeSeconds: Double?
    /// Bytes of the log folder's segment files.
    public var logBytes: Int
}

/// The size and modification time of a file, or nil when it cannot be read.
func fileStatus(_ path: String) -> (size: Int, modified: Double)? {
    var s = stat()
    guard stat(path, &s) == 0 else { return nil }
    return (Int(s.st_size), Double(s.st_mtim.tv_sec) + Double(s.st_mtim.tv_nsec) / 1e9)
}
