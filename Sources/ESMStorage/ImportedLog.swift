import ESMCore
import Logging

/// Appends imported CloudTrail history to a data folder (`esmlog import`), and keeps imported and
/// served history apart.
///
/// An import takes the folder's lock, reads the whole log to learn every eventID it already
/// holds, and appends only records it has not seen, in batches. The log stays append-only and
/// hash-chained; its append order is the order records arrived in, and readers put imported
/// history in event-time order (`HistoryOrder`), so the same records imported in any order and in
/// any number of runs give the same history.
public enum ImportedLog {
    public struct Outcome: Sendable {
        public var imported: Int
        public var duplicates: Int
        public var lastSequence: UInt64
    }

    /// Events per record written.
    static let batchEvents = 2000

    /// - Parameter backend: where the log is (default: the data folder's segment files). On a log
    ///   other writers may append to, an append that comes second is read again and retried
    ///   (records already written are then found and skipped, by eventID).
    public static func append(_ events: [(time: EventTime, uuid: String, actor: Actor?, record: ImportedRecord)], dataDirectory: String,
                              backend: (any LogBackend)? = nil, fileSystem: any FileSystem = POSIXFileSystem(),
                              logger: Logger) throws -> Outcome {
        let lock = try DataFolder.lock(dataDirectory, fileSystem: fileSystem)
        defer { lock.release() }
        let backend = backend ?? SegmentFiles(dataDirectory: dataDirectory, fileSystem: fileSystem)
        var options = StoreOptions()
        options.segmentSizeBytes = 64 << 20
        options.sync = .always
        var imported = 0
        for _ in 1...5 {
            var location = try backend.location()
            location.writerLive = false
            var seen = Set<String>()
            var served = false
            let scan = try location.scan { e in
                if case .imported(let r) = e.change { seen.insert(r.eventID) } else { served = true }
            }
            if let problem = scan.corruption.first {
                throw StorageError(.corruption, "the log has problems; run esmlog verify: \(problem)")
            }
            if served {
                throw StorageError(.invalidArgument, "\(location.name) holds history served by esmlog; imported and served history do not mix: import into a log of its own")
            }
            var fresh: [(time: EventTime, uuid: String, actor: Actor?, record: ImportedRecord)] = []
            for e in events where seen.insert(e.record.eventID).inserted { fresh.append(e) }
            let writer = try backend.appender(location, scan: scan, options: options, logger: logger)
            defer { writer.close() }
            var next = scan.lastSequence + 1
            var start = 0
            var cameSecond = false
            while start < fresh.count {
                let batch = fresh[start..<min(start + batchEvents, fresh.count)]
                let first = next
                let list = batch.map { e -> Event in
                    defer { next += 1 }
                    return Event(sequence: next, time: e.time, uuid: e.uuid, actor: e.actor, change: .imported(e.record))
                }
                guard try writer.append(list) == .appended else {
                    next = first
                    cameSecond = true
                    break
                }
                start += batch.count
                imported += batch.count
            }
            if !cameSecond {
                return Outcome(imported: imported, duplicates: events.count - imported, lastSequence: next - 1)
            }
        }
        throw StorageError(.io, "other writers kept appending to the log; nothing more was imported (run the import again: what is in the log is skipped)")
    }
}
