import ESMCore
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
    ///   - progress: called with each event's sequence as it is applied.
    public static func load(_ location: LogLocation, snapshots: SnapshotStore, at point: Point = .head, imported policy: ImportedHistory,
                            indexed: Bool = true, logger: Logger, progress: (UInt64) -> Void = { _ in }) throws -> Loaded {
        let scanner = LogScanner(directory: location.directory, fileSystem: location.fileSystem)
        var imported: [StateEvent] = []
        var isImported = false
        // `start` is taken, not shared: a projection still held by its caller would be copied
        // whole (every mapping) by the first event applied to it.
        func run(_ start: consuming Projection, from snapshot: SnapshotPoint?) throws -> (Projection, LogScan?) {
            var projection = start
            var replayError: ProjectionError?
            do {
                let scan = try scanner.scan(from: snapshot, reading: .states, visitState: { event in
                    if HistoryOrder.isImported(event) {
                        if policy == .refuse {
                            throw StorageError(.invalidArgument, "the log holds imported CloudTrail history: esmlog serves a log of its own (read this one with timeline, replay, export, verify)")
                        }
                        isImported = true
                        if !point.isPast(event) { imported.append(event) }
                        return
                    }
                    if point.isPast(event) { throw Stop() }
                    do throws(ProjectionError) { try projection.apply(event) } catch {
                        replayError = error
                        throw error
                    }
                    progress(event.sequence)
                }).settingAsideLiveTail(writerLive: location.writerLive)
                if let replayError { throw StorageError(.corruption, "replay: \(replayError)") }
                if scan.snapshotMismatch == nil, let first = scan.corruption.first {
                    throw StateLoader.refusal(first, in: location)
                }
                return (projection, scan)
            } catch is Stop {
                return (projection, nil)
            }
        }
        var loaded: Loaded?
        for candidate in (try? snapshots.list()) ?? [] where point.mayAdmit(candidate, snapshots) {
            let restored: Projection, snapshotPoint: SnapshotPoint
            do { (restored, snapshotPoint) = try snapshots.load(candidate.name, indexed: indexed) } catch {
                logger.warning("snapshot skipped", metadata: ["snapshot": "\(candidate.name)", "error": "\(error)"])
                continue
            }
            guard point.admits(snapshotPoint) else { continue }
            let (projection, scan) = try run(consume restored, from: snapshotPoint)
            if let mismatch = scan?.snapshotMismatch {
                logger.warning("snapshot skipped", metadata: ["snapshot": "\(candidate.name)", "error": "\(mismatch)"])
                continue
            }
            logger.info("snapshot loaded", metadata: ["snapshot": "\(candidate.name)", "snapshot.sequence": "\(snapshotPoint.sequence)"])
            loaded = Loaded(projection: projection, scan: scan, snapshot: candidate.name)
            break
        }
        if loaded == nil {
            let (projection, scan) = try run(Projection(indexed: indexed), from: nil)
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
