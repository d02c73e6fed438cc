import ESMCore
import Foundation

/// Snapshots of the durable state: on demand, in the background every so many events, and at
/// shutdown.
extension Store {
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
            refreshIndex(through: position.lastSequence)
            // The copy-on-write copies the live state made while the snapshot held the old one
            // are free now: give that memory back.
            held.value = nil
            Heap.trim()
            condition.lock()
            snapshotting = false
            condition.unlock()
        }
    }

    /// Brings the mapping index up to the durable event `through` (nil: the log's end), after a
    /// background snapshot and at shutdown: so a reader of one mapping's history reads at most
    /// the events since the last snapshot in full. Only an index the log agrees with is extended;
    /// a missing or stale one is left to the next reader, which builds it (a walk of the whole
    /// log is no work for a server under load). The index is a cache: a failure is logged and
    /// changes nothing else.
    func refreshIndex(through: UInt64?) {
        guard let indexed else { return }
        do {
            let added = try MappingIndex.refresh(dataDirectory: directory, location: indexed, through: through)
            if added > 0 { logger.debug("mapping index written", metadata: ["index.events_added": "\(added)"]) }
        } catch {
            logger.warning("mapping index not written", metadata: ["error": "\(error)"])
        }
    }

    /// The state a background snapshot writes, let go as soon as it is written.
    final class Held: @unchecked Sendable {  // used by one thread after creation
        var value: Projection?
        init(_ value: Projection) { self.value = value }
    }

}
