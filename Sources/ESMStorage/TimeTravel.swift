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
    ///   - progress: called with each event's sequence as it is applied.
    public static func state(dataDirectory: String, location: LogLocation? = nil, at point: Point, logger: Logger,
                             progress: (UInt64) -> Void = { _ in }) throws -> (Projection, snapshot: String?) {
        let location = try location ?? SegmentFiles(dataDirectory: dataDirectory).location()
        let loaded = try StateLoader.load(location, snapshots: SnapshotStore(directory: SnapshotStore.directory(dataDirectory)),
                                          at: point, imported: .fold, logger: logger, progress: progress)
        return (loaded.projection, loaded.snapshot)
    }
}
