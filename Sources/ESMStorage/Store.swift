import ESMCore
import Foundation
import CoreMetrics
import Logging

/// Settings of a store.
public struct StoreOptions: Sendable {
    /// A segment is sealed and a new one started once it passes this size.
    public var segmentSizeBytes: Int = 64 << 20
    public var sync: SyncMode = .always
    /// The most events one group commit writes as one record.
    public var batchEventsMax: Int = 4096
    /// A snapshot is taken in the background after this many events since the last (0: never).
    public var snapshotEveryEvents: UInt64 = 100_000
    public var fileSystem: any FileSystem = POSIXFileSystem()
    /// How often a store on a shared log looks for other writers' records when nothing wakes it
    /// sooner (notifications can be lost).
    public var followIntervalSeconds: Double = 0.2
    /// Where the log reports appends, group-commit sizes, sync times and bytes written.
    public var metrics: (any MetricsFactory)?

    public init() {}
}

/// The log and the state it projects, behind one lock, with group commit.
///
/// Requests are decided against the durable state plus the changes still waiting for their
/// write (the overlay), so concurrent requests see each other in order. Gets and lists read only
/// the durable state: nothing is visible before it is on disk, and a failed write leaves no
/// trace. A single thread writes: it takes every change waiting, writes them as one record,
/// syncs once, applies them to the durable state, and only then answers their requests.
public final class Store: @unchecked Sendable {
    public let directory: String
    let options: StoreOptions
    let logger: Logger
    /// The log's writing end; touched by the commit thread only, after init.
    let writer: any LogAppender
    /// This process's hold on the data folder: one writer per log.
    let folderLock: any FolderLock

    let condition = NSCondition()
    // Guarded by `condition`:
    var projection: Projection
    var overlay: [String: (mapping: Mapping?, sequence: UInt64)] = [:]
    var queue: [Waiting] = []
    var nextSequence: UInt64
    var lastTime: EventTime
    var stopping = false
    var stopped = false
    var lastSnapshotSequence: UInt64 = 0
    /// The writer's head after the last durable record, copied here under the lock by the commit
    /// thread (the writer itself is touched by that thread only).
    var durableHash: ChainHash
    var durablePosition: RecordPosition?
    /// Set once a write could not be made durable (a failed fsync, or a failed write that could
    /// not be taken back): from then on writes are refused until a restart recovers from what
    /// is on disk. Reads go on.
    var writesRefused: String?
    var snapshotting = false
    /// Asked for by `wake()`: read other writers' records now.
    var followRequested = false
    /// On a shared log: requests refused on the state this node had, waiting for a read of the
    /// log's head before the refusal is answered (another node may have made it wrong).
    var unconfirmed: [Request] = []
    /// Why following a shared log fails now (logged once per outage).
    var followFailure: String?
    /// On a shared log: mappings whose last event another writer appended (so that writer's
    /// sweeper owes their transitions first).
    var lastWrittenElsewhere = Set<String>()
    /// Set while a shared log cannot be reached (an append or a follow failed): writes are
    /// answered at once with a 500 instead of waiting for the database to time out, until the
    /// next follow succeeds. Reads go on.
    var unreachable = false
    let snapshots: SnapshotStore
    let snapshotWork = DispatchGroup()
    /// The segment files, for the mapping index kept beside them (nil on other backends).
    let indexed: LogLocation?

    /// A request: what it decides, and whom to tell.
    struct Request {
        var uuid: String
        var now: EventTime
        var decide: (any MappingLookup, EventTime) -> Result<Decision?, AWSError>
        /// Told once: the mapping after the event when it is durable, or the error.
        var done: (Result<Mapping?, any Error>) -> Void
        /// On a shared log: decided on a state that includes everything committed before the
        /// request arrived (a refusal is answered only then).
        var current = false
    }

    /// A decided request whose event waits for its write. On a shared log it is decided again
    /// when another writer's records come first.
    struct Waiting {
        var request: Request
        var event: Event
        var after: Mapping?
    }

    /// The folder under the data folder that holds the log segments.
    public static func logDirectory(_ dataDirectory: String) -> String { dataDirectory + "/wal" }

    /// Opens (or creates) the store in `dataDirectory` on its segment files.
    /// - Throws: `StorageError(.locked)` when another process writes the folder;
    ///   `StorageError` naming file, offset and sequence when the log is corrupt; a torn tail is
    ///   cut and logged instead.
    public convenience init(dataDirectory: String, options: StoreOptions = StoreOptions(), logger: Logger) throws {
        try self.init(dataDirectory: dataDirectory, backend: SegmentFiles(dataDirectory: dataDirectory, fileSystem: options.fileSystem),
                      options: options, logger: logger)
    }

    /// Opens the store whose log is in `backend`, with its snapshots in `dataDirectory`: takes the
    /// folder's lock, then reads the newest usable snapshot and the log after it (the whole log
    /// when there is no usable snapshot).
    public init(dataDirectory: String, backend: any LogBackend, options: StoreOptions = StoreOptions(), logger: Logger) throws {
        directory = dataDirectory
        self.options = options
        self.logger = logger
        folderLock = try DataFolder.lock(dataDirectory, fileSystem: options.fileSystem)
        snapshots = SnapshotStore(directory: SnapshotStore.directory(dataDirectory), fileSystem: options.fileSystem)
        var location = try backend.location()
        // The index reads the log while this store appends to it.
        var live = location
        live.writerLive = true
        indexed = backend is SegmentFiles ? live : nil
        // The writer now is this store: a torn tail is its own to cut, not a write under way.
        location.writerLive = false
        let loaded = try StateLoader.load(location, snapshots: snapshots, imported: .refuse, logger: logger)
        let scan = loaded.scan!
        let writer = try backend.appender(location, scan: scan, options: options, logger: logger)
        writer.metrics = options.metrics.map { StorageMetrics(factory: $0) }
        self.writer = writer
        durableHash = writer.hash
        durablePosition = writer.lastEvents
        let projection = loaded.projection
        self.projection = projection
        Heap.trim()
        lastSnapshotSequence = projection.lastSequence
        nextSequence = projection.lastSequence + 1
        lastTime = projection.lastTime
        logger.info("store opened", metadata: [
            "wal.events": "\(projection.lastSequence)", "wal.segments": "\(scan.segments.count)",
            "wal.head_hash": "\(scan.headHash.hex)", "esm.mappings": "\(projection.mappings.count)",
        ])
        let thread = Thread { [self] in commitLoop() }
        thread.name = "esmlog-commit"
        thread.start()
    }

    /// Runs `body` on the durable state under the lock; keep it short.
    public func read<T>(_ body: (Projection) throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body(projection)
    }

    /// Which of `uuids` had their last event appended by another writer of a shared log.
    public func writtenElsewhere(_ uuids: [String]) -> Set<String> {
        condition.lock()
        defer { condition.unlock() }
        return lastWrittenElsewhere.isEmpty ? [] : Set(uuids.filter(lastWrittenElsewhere.contains))
    }

    /// The writer's chain hash and last durable sequence.
    public var head: (sequence: UInt64, hash: ChainHash) {
        condition.lock()
        defer { condition.unlock() }
        return (projection.lastSequence, durableHash)
    }

    /// The last durable events record's sequence and the chain hash after it (what a checkpoint
    /// signs); nil while the log has no events.
    public var durableHead: (sequence: UInt64, hash: ChainHash)? {
        condition.lock()
        defer { condition.unlock() }
        return durablePosition.map { ($0.lastSequence, $0.hash) }
    }

    /// The numbers an operator watches: mappings by state, events since the newest snapshot and
    /// its age, and the bytes of the log's segment files (read from the folder now).
    public func status(now: Double = Date().timeIntervalSince1970) -> StoreStatus {
        let (last, byState) = read { p in (p.lastSequence, p.stateCounts) }
        let newest = (try? snapshots.list())?.first
        let age = newest.flatMap { fileStatus(snapshots.directory + "/" + $0.name) }.map { max(0, now - $0.modified) }
        let wal = Store.logDirectory(directory)
        let segments = (try? LogScanner(directory: wal, fileSystem: options.fileSystem).segmentNames()) ?? []
        let logBytes = segments.reduce(0) { $0 + (fileStatus(wal + "/" + $1)?.size ?? 0) }
        return StoreStatus(lastSequence: last, mappingsByState: byState, eventsSinceSnapshot: last - min(last, newest?.sequence ?? 0),
                           snapshotAgeSeconds: age, logBytes: logBytes)
    }

    /// Why writes are refused, once they are (reads go on).
    public var refusingWrites: String? {
        condition.lock()
        defer { condition.unlock() }
        return writesRefused
    }

    /// Finishes every waiting write, stops the commit thread and closes the log; with
    /// `snapshot`, then writes a snapshot if events came after the last one, so the next
    /// start-up reads nothing but the snapshot.
    public func close(snapshot: Bool) {
        stopWriting()
        condition.lock()
        let healthy = writesRefused == nil
        let due = projection.lastSequence > lastSnapshotSequence && durablePosition != nil && healthy
        condition.unlock()
        if snapshot, due {
            do { try self.snapshot() } catch { logger.warning("snapshot at shutdown failed", metadata: ["error": "\(error)"]) }
        }
        if snapshot, healthy { refreshIndex(through: nil) }
        folderLock.release()
    }

    /// Finishes every waiting write, stops the commit thread, closes the log and lets go of the
    /// data folder.
    public func close() {
        stopWriting()
        folderLock.release()
    }

    func stopWriting() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
        snapshotWork.wait()
        writer.close()
    }
}

/// The state a decision sees: durable mappings with in-flight changes laid over them.
struct OverlayView: MappingLookup {
    unowned let store: Store

    func mapping(_ uuid: String) -> Mapping? {
        if let pending = store.overlay[uuid] { return pending.mapping }
        return store.projection.mappings[uuid]
    }

    private func merged(_ base: [Mapping], _ matches: (Mapping) -> Bool) -> [Mapping] {
        var seen = Set<String>()
        var out: [Mapping] = []
        for m in base {
            seen.insert(m.uuid)
            let current = store.overlay[m.uuid].map(\.mapping) ?? m
            if let current, matches(current) { out.append(current) }
        }
        for (uuid, pending) in store.overlay where !seen.contains(uuid) {
            if let m = pending.mapping, matches(m) { out.append(m) }
        }
        return out
    }

    func mappings(eventSourceArn: String) -> [Mapping] {
        merged(store.projection.mappings(eventSourceArn: eventSourceArn)) { $0.eventSourceArn == eventSourceArn }
    }

    func mappings(functionArn: String) -> [Mapping] {
        merged(store.projection.mappings(functionArn: functionArn)) { $0.functionArn == functionArn }
    }
}

/// The wall clock, read only at the edges.
public enum WallClock {
    public static func now() -> EventTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return EventTime(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}
