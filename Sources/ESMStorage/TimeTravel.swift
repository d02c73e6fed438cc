import ESMCore
import Logging

/// The state of the log at an earlier point, from the nearest snapshot at or before it plus the
/// events up to it.
public enum TimeTravel {
    public typealias Point = StateLoader.Point

    /// - Returns: the state and the snapshot it started from (nil: the start of the log).
    /// - Throws: `StorageError` when the log is corrupt before the point, or the point is past
    ///   its end.
    ///   - location: where the log is read (default: the data folder's segment files).
    ///   - indexed: whether the projection keeps indexes (`Projection.isIndexed`).
    ///   - progress: called with each event's sequence as it is applied.
    public static func state(dataDirectory: String, location: LogLocation? = nil, at point: Point, indexed: Bool = true, logger: Logger,
                             progress: (UInt64) -> Void = { _ in }) throws -> (Projection, snapshot: String?) {
        let location = try location ?? SegmentFiles(dataDirectory: dataDirectory).location()
        let loaded = try StateLoader.load(location, snapshots: SnapshotStore(directory: SnapshotStore.directory(dataDirectory)),
                                          at: point, imported: .fold, indexed: indexed, logger: logger, progress: progress)
        return (loaded.projection, loaded.snapshot)
    }
}

extension TimeTravel {
    /// One mapping's state at a point, from its own events read through the mapping index
    /// (`MappingHistory`), without loading a snapshot or applying the other mappings' events.
    /// The projection holds that mapping alone (or nothing, when it did not exist at the point),
    /// and its `lastSequence` is where a replay of the whole log to the point stops.
    ///
    /// What it checks is what a read through the index checks: the mapping's own records and the
    /// log after the index; the chain before the index is not walked.
    /// - Returns: nil when the mapping has no event or its history is imported (imported history
    ///   is folded by event time across the whole log): read the whole log with `state` instead.
    /// - Throws: `StorageError` as `state` does, when a record read is corrupt or the point is past
    ///   the end of the log.
    public static func mapping(_ uuid: String, dataDirectory: String, location: LogLocation, at point: Point) throws -> Projection? {
        var time: EventTime?
        if case .time(let t) = point { time = t }
        let history = try MappingHistory.read(uuid, dataDirectory: dataDirectory, location: location, cutAt: time)
        if let p = history.problems.first { throw StateLoader.refusal(p, in: location) }
        guard !history.events.isEmpty, !history.events.contains(where: HistoryOrder.isImported) else { return nil }
        let head = history.scan.lastSequence
        let cut: UInt64
        switch point {
        case .head: cut = head
        case .sequence(let s):
            guard s <= head else { throw StateLoader.pastTheEnd(s, last: head) }
            cut = s
        case .time: cut = history.sequenceAtTime!
        }
        // As a replay of the whole log: corruption where it expects an event up to the one after the
        // point stops it (it stops only when it reads an event past the point); later corruption
        // is not reached.
        if let p = history.scan.corruption.first, p.sequence <= cut + 1 { throw StateLoader.refusal(p, in: location) }
        var projection = Projection()
        for event in history.events where event.sequence <= cut {
            projection.skip(to: event.sequence - 1)
            do throws(ProjectionError) { try projection.apply(event) } catch {
                throw StorageError(.corruption, "replay: \(error)")
            }
        }
        projection.skip(to: cut)
        return projection
    }
}
