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
    let writer: LogWriter
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
    let snapshots: SnapshotStore
    let snapshotWork = DispatchGroup()

    struct Waiting {
        var event: Event
        var after: Mapping?
        /// Told once: the mapping after the event when it is durable, or the error.
        var done: (Result<Mapping?, any Error>) -> Void
    }

    /// The folder under the data folder that holds the log segments.
    public static func logDirectory(_ dataDirectory: String) -> String { dataDirectory + "/wal" }

    /// Opens (or creates) the store in `dataDirectory`: takes the folder's lock, then reads the
    /// newest usable snapshot and the log after it (the whole log when there is no usable
    /// snapshot).
    /// - Throws: `StorageError(.locked)` when another process writes the folder;
    ///   `StorageError` naming file, offset and sequence when the log is corrupt; a torn tail is
    ///   cut and logged instead.
    public init(dataDirectory: String, options: StoreOptions = StoreOptions(), logger: Logger) throws {
        directory = dataDirectory
        self.options = options
        self.logger = logger
        let wal = Store.logDirectory(dataDirectory)
        folderLock = try DataFolder.lock(dataDirectory, fileSystem: options.fileSystem)
        try options.fileSystem.makeDirectory(wal)
        snapshots = SnapshotStore(directory: SnapshotStore.directory(dataDirectory), fileSystem: options.fileSystem)
        let (projection, scan) = try Store.replay(wal: wal, snapshots: snapshots, fileSystem: options.fileSystem, logger: logger)
        writer = try LogWriter(directory: wal, scan: scan, segmentSizeBytes: options.segmentSizeBytes, sync: options.sync,
                               fileSystem: options.fileSystem, logger: logger)
        durableHash = writer.hash
        durablePosition = writer.lastEvents
        writer.metrics = options.metrics.map { StorageMetrics(factory: $0) }
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

    /// The state from the newest snapshot that the log confirms, plus the log after it; or,
    /// when no snapshot is usable, from the whole log. A snapshot that is damaged, or that the
    /// log does not lead to, is skipped with a warning: it can cost time, never correctness.
    static func replay(wal: String, snapshots: SnapshotStore, fileSystem: any FileSystem, logger: Logger) throws -> (Projection, LogScan) {
        let scanner = LogScanner(directory: wal, fileSystem: fileSystem)
        func run(_ start: Projection, from point: SnapshotPoint?) throws -> (Projection, LogScan) {
            var projection = start
            var replayError: ProjectionError?
            let scan = try scanner.scan(from: point) { event in
                if HistoryOrder.isImported(event) {
                    throw StorageError(.invalidArgument, "the folder holds imported CloudTrail history: esmlog serves a folder of its own (read this one with timeline, replay, export, verify)")
                }
                do throws(ProjectionError) { try projection.apply(event) } catch {
                    replayError = error
                    throw error
                }
            }
            if let replayError { throw StorageError(.corruption, "replay: \(replayError)") }
            if let first = scan.corruption.first {
                throw StorageError(.corruption, "\(wal)/\(first.file) offset \(first.offset) (sequence \(first.sequence)): \(first.reason)")
            }
            return (projection, scan)
        }
        for candidate in (try? snapshots.list()) ?? [] {
            let loaded: (projection: Projection, point: SnapshotPoint)
            do { loaded = try snapshots.load(candidate.name) } catch {
                logger.warning("snapshot skipped", metadata: ["snapshot": "\(candidate.name)", "error": "\(error)"])
                continue
            }
            let (projection, scan) = try run(loaded.projection, from: loaded.point)
            if let mismatch = scan.snapshotMismatch {
                logger.warning("snapshot skipped", metadata: ["snapshot": "\(candidate.name)", "error": "\(mismatch)"])
                continue
            }
            logger.info("snapshot loaded", metadata: ["snapshot": "\(candidate.name)", "snapshot.sequence": "\(loaded.point.sequence)"])
            return (projection, scan)
        }
        return try run(Projection(), from: nil)
    }

    /// Writes a snapshot of the durable state now.
    /// - Returns: the snapshot's file name.
    @discardableResult
    public func snapshot() throws -> String {
        condition.lock()
        let state = projection, position = durablePosition
        condition.unlock()
        guard let position else { throw StorageError(.invalidArgument, "the log has no events to snapshot") }
        let name = try snapshots.write(state, at: position)
        try snapshots.prune()
        condition.lock()
        lastSnapshotSequence = max(lastSnapshotSequence, state.lastSequence)
        condition.unlock()
        logger.info("snapshot written", metadata: ["snapshot": "\(name)", "snapshot.sequence": "\(state.lastSequence)"])
        return name
    }

    /// Starts a background snapshot when enough events have passed since the last one.
    /// Called on the commit thread with the lock held.
    func snapshotIfDue() {
        guard options.snapshotEveryEvents > 0, !snapshotting,
            projection.lastSequence - lastSnapshotSequence >= options.snapshotEveryEvents,
            let position = durablePosition
        else { return }
        snapshotting = true
        lastSnapshotSequence = projection.lastSequence
        let held = Held(projection)
        let snapshots = self.snapshots, logger = self.logger
        DispatchQueue.global(qos: .utility).async(group: snapshotWork) { [self] in
            do {
                let state = held.value!
                let name = try snapshots.write(state, at: position)
                try snapshots.prune()
                logger.info("snapshot written", metadata: ["snapshot": "\(name)", "snapshot.sequence": "\(state.lastSequence)"])
            } catch {
                logger.warning("snapshot failed", metadata: ["error": "\(error)"])
            }
            // The copy-on-write copies the live state made while the snapshot held the old one
            // are free now: give that memory back.
            held.value = nil
            Heap.trim()
            condition.lock()
            snapshotting = false
            condition.unlock()
        }
    }

    /// Decides a change against the current state, appends it durably, and returns the mapping
    /// after it (nil when it was removed).
    /// - Parameters:
    ///   - uuid: the mapping the decision is about.
    ///   - now: the wall-clock time; the event's time is never earlier than the last event's.
    ///   - decide: the core's decision; `.success(nil)` means nothing changes and the answer is
    ///     the mapping as it is.
    /// - Throws: the decision's `AWSError`, or a `ServiceException` when the write failed.
    public func perform(uuid: String, now: EventTime, _ decide: @escaping (any MappingLookup, EventTime) -> Result<Decision?, AWSError>) async throws -> Mapping? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Mapping?, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            enqueue(uuid: uuid, now: now, decide) { continuation.resume(with: $0) }
        }
    }

    /// Decides for each of `uuids` in turn, as `perform` does for one, under a single lock; the
    /// accepted changes go into the log together. Returns when every change is durable or has
    /// failed, with the failures.
    public func performEach(_ uuids: [String], now: EventTime,
                            _ decide: @escaping (String, any MappingLookup, EventTime) -> Result<Decision?, AWSError>) async -> [(String, any Error)] {
        guard !uuids.isEmpty else { return [] }
        return await withCheckedContinuation { (continuation: CheckedContinuation<[(String, any Error)], Never>) in
            let gather = Gather(count: uuids.count, continuation: continuation)
            condition.lock()
            defer { condition.unlock() }
            for uuid in uuids {
                enqueue(uuid: uuid, now: now, { decide(uuid, $0, $1) }) { result in
                    if case .failure(let error) = result { gather.finish((uuid, error)) } else { gather.finish(nil) }
                }
            }
        }
    }

    /// The state a background snapshot writes, let go as soon as it is written.
    final class Held: @unchecked Sendable {  // used by one thread after creation
        var value: Projection?
        init(_ value: Projection) { self.value = value }
    }

    /// Collects the outcomes of `performEach` and resumes its caller after the last one.
    final class Gather: @unchecked Sendable {  // guarded by `lock`
        let lock = NSLock()
        var remaining: Int
        var failures: [(String, any Error)] = []
        let continuation: CheckedContinuation<[(String, any Error)], Never>

        init(count: Int, continuation: CheckedContinuation<[(String, any Error)], Never>) {
            remaining = count
            self.continuation = continuation
        }

        func finish(_ failure: (String, any Error)?) {
            lock.lock()
            if let failure { failures.append(failure) }
            remaining -= 1
            let last = remaining == 0
            lock.unlock()
            if last { continuation.resume(returning: failures) }
        }
    }

    /// Decides one change against the durable state plus the overlay and queues its event.
    /// Called with `condition` locked.
    private func enqueue(uuid: String, now: EventTime, _ decide: (any MappingLookup, EventTime) -> Result<Decision?, AWSError>,
                         done: @escaping (Result<Mapping?, any Error>) -> Void) {
        guard !stopping else {
            done(.failure(AWSError.service("The service is shutting down.")))
            return
        }
        if let writesRefused {
            done(.failure(AWSError.service(writesRefused)))
            return
        }
        let view = OverlayView(store: self)
        let time = max(now, lastTime)
        switch decide(view, time) {
        case .failure(let error):
            done(.failure(error))
        case .success(nil):
            done(.success(view.mapping(uuid)))
        case .success(let decision?):
            let event = decision.event(sequence: nextSequence)
            let after: Mapping?
            do { after = try Projector.next(view.mapping(decision.uuid), event) } catch {
                done(.failure(AWSError.service("Internal error: \(error)")))
                return
            }
            nextSequence += 1
            lastTime = max(lastTime, event.time)
            overlay[decision.uuid] = (after, event.sequence)
            queue.append(Waiting(event: event, after: after, done: done))
            condition.signal()
        }
    }

    /// Runs `body` on the durable state under the lock; keep it short.
    public func read<T>(_ body: (Projection) throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body(projection)
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

    func commitLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let n = min(queue.count, options.batchEventsMax)
            let batch = Array(queue[0..<n])
            queue.removeFirst(n)
            condition.unlock()

            do {
                try writer.append(batch.map(\.event))
            } catch {
                fail(batch, error)
                continue
            }
            condition.lock()
            durableHash = writer.hash
            durablePosition = writer.lastEvents
            for w in batch {
                do { try projection.apply(w.event) } catch {
                    // The decider and projector disagree: a bug that must not go on writing.
                    preconditionFailure("durable event does not apply: \(error)")
                }
                if overlay[w.event.uuid]?.sequence == w.event.sequence { overlay[w.event.uuid] = nil }
            }
            snapshotIfDue()
            condition.unlock()
            for w in batch { w.done(.success(w.after)) }
        }
    }

    /// A failed write fails its batch and everything decided on top of it, and the state goes
    /// back to what is durable. When the writer can no longer vouch for the file (its fsync
    /// failed), every later write is refused as well, until a restart.
    func fail(_ batch: [Waiting], _ error: any Error) {
        let broken = writer.failure
        condition.lock()
        let rest = queue
        queue = []
        overlay = [:]
        nextSequence = projection.lastSequence + 1
        let first = broken != nil && writesRefused == nil
        if broken != nil { writesRefused = Store.refusal }
        condition.unlock()
        if first {
            logger.error("log can no longer be written; writes are refused until esmlog is restarted", metadata: [
                "wal.error": "\(broken!)", "wal.events": "\(batch.count + rest.count)",
            ])
        } else if broken == nil {
            logger.error("append failed", metadata: ["wal.error": "\(error)", "wal.events": "\(batch.count + rest.count)"])
        }
        for w in batch + rest {
            w.done(.failure(AWSError.service(broken == nil ? "The event could not be written to the log." : Store.refusal)))
        }
    }

    /// What a write is answered once the log cannot be written.
    static let refusal = "The event log could not be made durable; writes are refused until the server is restarted."

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
        let due = projection.lastSequence > lastSnapshotSequence && durablePosition != nil && writesRefused == nil
        condition.unlock()
        if snapshot, due {
            do { try self.snapshot() } catch { logger.warning("snapshot at shutdown failed", metadata: ["error": "\(error)"]) }
        }
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
