import ESMCore
import Foundation
import Logging

/// The one way state is opened from a log, for the store, time travel and the snapshot command:
/// the newest snapshot (at or before the point) that the log confirms, plus the events after it;
/// or, when no snapshot is usable, the whole log. A snapshot that is damaged, or that the log
/// does not lead to, is skipped with a warning: it can cost time, never correctness.
public enum StateLoader {
    /// Where to stop.
    public enum Point: Sendable {
        /// After the event with this sequence.
        case sequence(UInt64)
        /// After the last event whose time is at or before this one.
        case time(EventTime)
        /// After the last event of the log.
        case head

        func admits(_ p: SnapshotPoint) -> Bool {
            switch self {
            case .sequence(let s): p.sequence <= s
            case .time(let t): p.time <= t
            case .head: true
            }
        }

        /// Whether a snapshot can be a start for this point, from its name and header alone: a
        /// snapshot is loaded whole only when it can. (Loading is most of a start-up; time travel
        /// to an early point used to load every later snapshot first.)
        func mayAdmit(_ candidate: (name: String, sequence: UInt64), _ snapshots: SnapshotStore) -> Bool {
            switch self {
            case .sequence(let s): candidate.sequence <= s
            case .time(let t): snapshots.time(of: candidate.name).map { $0 <= t } ?? true  // a bad header fails at its load
            case .head: true
            }
        }

        func isPast(_ e: some ScannedEvent) -> Bool {
            switch self {
            case .sequence(let s): e.sequence > s
            case .time(let t): e.time > t
            case .head: false
            }
        }
    }

    /// What to do with imported CloudTrail history.
    public enum ImportedHistory: Sendable {
        /// Refuse the log: it is not a log a server writes.
        case refuse
        /// Fold it in history order (event time, then the export's order) rather than append order.
        case fold
    }

    public struct Loaded {
        public var projection: Projection
        /// The scan, when it read to the end of the log (the point was the head).
        public var scan: LogScan?
        /// The snapshot the state started from (nil: the start of the log).
        public var snapshot: String?
    }

    struct Stop: Error {}

    /// The start of the state (a snapshot's restore) failed: the snapshot is skipped.
    struct StartFailure: Error {
        var error: any Error
    }

    /// The scan's work, handed to its thread: the scanner and what the scan writes are used by
    /// that thread alone until it signals its end.
    final class ScanJob: @unchecked Sendable {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// What the scan's thread found, read once it has ended.
    final class ScanEnd: @unchecked Sendable {  // written by the scan's thread only, read after it signals
        var scan: Result<LogScan?, any Error> = .success(nil)
        var imported: [StateEvent] = []
        var isImported = false
    }

    /// How events go from the scan to the apply: in chunks of `events`, at most `waiting` chunks
    /// held between the two.
    public struct Chunking: Sendable {
        public var events: Int
        public var waiting: Int
        public init(events: Int, waiting: Int) {
            precondition(events >= 1 && waiting >= 1)
            self.events = events
            self.waiting = waiting
        }

        /// At most 16k events held.
        public static let standard = Chunking(events: 1024, waiting: 16)
    }

    /// What a replay says when it meets corruption before its point.
    static func refusal(_ p: LogProblem, in location: LogLocation) -> StorageError {
        StorageError(.corruption, "\(location.name)/\(p.file) offset \(p.offset) (sequence \(p.sequence)): \(p.reason)")
    }

    /// What a replay says of a point past the log's last sequence.
    static func pastTheEnd(_ s: UInt64, last: UInt64) -> StorageError {
        StorageError(.invalidArgument, "sequence \(s) is past the end of the log (last sequence \(last))")
    }

    /// - Throws: `StorageError` when the log is corrupt before the point, or the point is past
    ///   its end.
    ///   - indexed: whether the projection keeps indexes (`Projection.isIndexed`).
    ///   - chunking: how the scan's thread hands events on (tests make the chunks small).
    ///   - progress: called with each event's sequence as it is applied.
    public static func load(_ location: LogLocation, snapshots: SnapshotStore, at point: Point = .head, imported policy: ImportedHistory,
                            indexed: Bool = true, chunking: Chunking = .standard, logger: Logger,
                            progress: (UInt64) -> Void = { _ in }) throws -> Loaded {
        let scanner = LogScanner(directory: location.directory, fileSystem: location.fileSystem)
        var imported: [StateEvent] = []
        var isImported = false
        /// Scans the log after `snapshot` on a thread of its own, which checks and links each
        /// record and hands the events on (`EventPipe`), while this thread makes the start of
        /// the state (`start`: restores the snapshot) and then applies them. The projection is
        /// made here and taken, never shared: a projection still held elsewhere would be copied
        /// whole (every mapping) by the first event applied to it.
        func run(from snapshot: SnapshotPoint?, start: () throws -> Projection) throws -> (Projection, LogScan?) {
            let pipe = EventPipe(capacity: chunking.waiting)
            let end = ScanEnd()
            let done = DispatchSemaphore(value: 0)
            let job = ScanJob {
                var chunk: [StateEvent] = []
                chunk.reserveCapacity(chunking.events)
                do {
                    let scan = try scanner.scan(from: snapshot, reading: .states, visitState: { event in
                        if HistoryOrder.isImported(event) {
                            if policy == .refuse {
                                throw StorageError(.invalidArgument, "the log holds imported CloudTrail history: esmlog serves a log of its own (read this one with timeline, replay, export, verify)")
                            }
                            end.isImported = true
                            if !point.isPast(event) { end.imported.append(event) }
                            return
                        }
                        if point.isPast(event) { throw Stop() }
                        chunk.append(event)
                        if chunk.count == chunking.events {
                            guard pipe.put(chunk) else { throw Stop() }
                            chunk.removeAll(keepingCapacity: true)
                        }
                    }).settingAsideLiveTail(writerLive: location.writerLive)
                    end.scan = .success(scan)
                } catch is Stop {
                    end.scan = .success(nil)
                } catch {
                    end.scan = .failure(error)
                }
                if !chunk.isEmpty { _ = pipe.put(chunk) }
                pipe.end()
                done.signal()
            }
            let scanning = Thread { job.body() }
            scanning.stackSize = 8 << 20
            scanning.start()
            var projection: Projection
            do { projection = try start() } catch {
                pipe.stop()
                done.wait()
                throw StartFailure(error: error)
            }
            var replayError: ProjectionError?
            while replayError == nil, let chunk = pipe.take() {
                for event in chunk {
                    do throws(ProjectionError) { try projection.apply(event) } catch {
                        replayError = error
                        break
                    }
                    progress(event.sequence)
                }
            }
            if replayError != nil { pipe.stop() }
            done.wait()
            // As a replay in one thread: an event that does not apply ends it before anything the
            // scan met after that event.
            if let replayError { throw replayError }
            if end.isImported { isImported = true }
            imported += end.imported
            guard let scan = try end.scan.get() else { return (projection, nil) }
            if scan.snapshotMismatch == nil, let first = scan.corruption.first {
                throw StateLoader.refusal(first, in: location)
            }
            return (projection, scan)
        }
        var loaded: Loaded?
        for candidate in (try? snapshots.list()) ?? [] where point.mayAdmit(candidate, snapshots) {
            let opened: SnapshotStore.Opened
            do { opened = try snapshots.open(candidate.name) } catch {
                logger.warning("snapshot skipped", metadata: ["snapshot": "\(candidate.name)", "error": "\(error)"])
                continue
            }
            guard point.admits(opened.point) else { continue }
            let projection: Projection, scan: LogScan?
            do {
                (projection, scan) = try run(from: opened.point) { try snapshots.restore(opened, indexed: indexed) }
            } catch let failure as StartFailure {
                logger.warning("snapshot skipped", metadata: ["snapshot": "\(candidate.name)", "error": "\(failure.error)"])
                continue
            }
            if let mismatch = scan?.snapshotMismatch {
                logger.warning("snapshot skipped", metadata: ["snapshot": "\(candidate.name)", "error": "\(mismatch)"])
                continue
            }
            logger.info("snapshot loaded", metadata: ["snapshot": "\(candidate.name)", "snapshot.sequence": "\(opened.point.sequence)"])
            loaded = Loaded(projection: projection, scan: scan, snapshot: candidate.name)
            break
        }
        if loaded == nil {
            let (projection, scan) = try run(from: nil) { Projection(indexed: indexed) }
            loaded = Loaded(projection: projection, scan: scan, snapshot: nil)
        }
        if isImported {
            var history = Projection(indexed: indexed)
            for (e, original) in HistoryOrder.ordered(imported) {
                try history.apply(e)
                progress(original)
            }
            loaded!.projection = history
            loaded!.snapshot = nil
        }
        if case .sequence(let s) = point, loaded!.projection.lastSequence < s, !isImported {
            throw StateLoader.pastTheEnd(s, last: loaded!.projection.lastSequence)
        }
        return loaded!
    }
}
