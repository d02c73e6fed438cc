import ESMCore
import Logging

/// The state of the log at an earlier point, from the nearest snapshot at or before it plus the
/// events up to it.
public enum TimeTravel {
    /// Where to stop.
    public enum Point: Sendable {
        /// After the event with this sequence.
        case sequence(UInt64)
        /// After the last event whose time is at or before this one.
        case time(EventTime)
        /// After the last event of the log.
        case head
    }

    struct Stop: Error {}

    /// - Returns: the state and the snapshot it started from (nil: the start of the log).
    /// - Throws: `StorageError` when the log is corrupt before the point, or the point is past
    ///   its end.
    ///   - progress: called with each event's sequence as it is applied.
    public static func state(dataDirectory: String, at point: Point, logger: Logger,
                             progress: (UInt64) -> Void = { _ in }) throws -> (Projection, snapshot: String?) {
        let scanner = LogScanner(directory: Store.logDirectory(dataDirectory))
        let snapshots = SnapshotStore(directory: SnapshotStore.directory(dataDirectory))
        func before(_ p: SnapshotPoint) -> Bool {
            switch point {
            case .sequence(let s): p.sequence <= s
            case .time(let t): p.time <= t
            case .head: true
            }
        }
        func past(_ e: Event) -> Bool {
            switch point {
            case .sequence(let s): e.sequence > s
            case .time(let t): e.time > t
            case .head: false
            }
        }
        // Imported history is folded in event-time order, not in append order: its events are
        // gathered from the whole log and folded after the scan (such a folder has no snapshots).
        var imported: [Event] = []
        var isImported = false
        func run(_ start: Projection, from snapshot: SnapshotPoint?) throws -> (Projection, mismatch: String?) {
            var projection = start
            do {
                let scan = try scanner.scan(from: snapshot) { event in
                    if HistoryOrder.isImported(event) {
                        isImported = true
                        if !past(event) { imported.append(event) }
                        return
                    }
                    if past(event) { throw Stop() }
                    try projection.apply(event)
                    progress(event.sequence)
                }
                if let m = scan.snapshotMismatch { return (projection, m) }
                if let first = scan.corruption.first { throw StorageError(.corruption, "log is corrupt: \(first)") }
            } catch is Stop {}
            return (projection, nil)
        }
        var result: (Projection, String?)?
        for candidate in (try? snapshots.list()) ?? [] {
            guard let loaded = try? snapshots.load(candidate.name), before(loaded.point) else { continue }
            let (projection, mismatch) = try run(loaded.projection, from: loaded.point)
            if let mismatch {
                logger.warning("snapshot skipped", metadata: ["snapshot": "\(candidate.name)", "error": "\(mismatch)"])
                continue
            }
            result = (projection, candidate.name)
            break
        }
        let (projection, snapshot) = try result ?? (run(Projection(), from: nil).0, nil)
        if isImported {
            var history = Projection()
            for (e, original) in HistoryOrder.ordered(imported) {
                try history.apply(e)
                progress(original)
            }
            return (history, nil)
        }
        if case .sequence(let s) = point, projection.lastSequence < s {
            throw StorageError(.invalidArgument, "sequence \(s) is past the end of the log (last sequence \(projection.lastSequence))")
        }
        return (projection, snapshot)
    }
}
