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

    public static func append(_ events: [(time: EventTime, uuid: String, actor: Actor?, record: ImportedRecord)], dataDirectory: String,
                              fileSystem: any FileSystem = POSIXFileSystem(), logger: Logger) throws -> Outcome {
        let lock = try DataFolder.lock(dataDirectory, fileSystem: fileSystem)
        defer { lock.release() }
        let wal = Store.logDirectory(dataDirectory)
        try fileSystem.makeDirectory(wal)
        var seen = Set<String>()
        var served = false
        let scan = try LogScanner(directory: wal, fileSystem: fileSystem).scan { e in
            if case .imported(let r) = e.change { seen.insert(r.eventID) } else { served = true }
        }
        if let problem = scan.corruption.first {
            throw StorageError(.corruption, "the log has problems; run esmlog verify: \(problem)")
        }
        if served {
            throw StorageError(.invalidArgument, "\(dataDirectory) holds history served by esmlog; imported and served history do not mix: import into a folder of its own")
        }
        var fresh: [(time: EventTime, uuid: String, actor: Actor?, record: ImportedRecord)] = []
        var duplicates = 0
        for e in events {
            if seen.insert(e.record.eventID).inserted { fresh.append(e) } else { duplicates += 1 }
        }
        let writer = try LogWriter(directory: wal, scan: scan, segmentSizeBytes: 64 << 20, sync: .always, fileSystem: fileSystem, logger: logger)
        defer { writer.close() }
        var next = writer.nextSequence
        var start = 0
        while start < fresh.count {
            let batch = fresh[start..<min(start + batchEvents, fresh.count)]
            let list = batch.map { e -> Event in
                defer { next += 1 }
                return Event(sequence: next, time: e.time, uuid: e.uuid, actor: e.actor, change: .imported(e.record))
            }
            try writer.write(list)
            start += batch.count
        }
        return Outcome(imported: fresh.count, duplicates: duplicates, lastSequence: writer.nextSequence - 1)
    }
}
