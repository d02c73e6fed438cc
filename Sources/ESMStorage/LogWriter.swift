import Dispatch
import ESMCore
import Foundation
import Logging

/// How appends reach the disk.
public enum SyncMode: String, Sendable, CaseIterable {
    /// fdatasync after every record, before anyone is answered. The default.
    case always
    /// No fdatasync: a crash may lose acknowledged events. Unsafe; for tests and benchmarks.
    case none
}

/// Appends records to the active segment of a log and starts new segments.
///
/// Not thread-safe: the store's commit thread is its only caller. Dictionary training runs on
/// another thread and hands its result over through a lock.
public final class LogWriter {
    public let directory: String
    public let segmentSizeBytes: Int
    public let sync: SyncMode
    let fs: any FileSystem
    let logger: Logger
    let zstd = Zstd()

    var file: (any LogFile)?
    var header: SegmentHeader
    var offset: Int
    var segmentEvents: UInt64 = 0
    /// The chain hash after the last durable record.
    public private(set) var hash: ChainHash
    /// The sequence the next event must have.
    public private(set) var nextSequence: UInt64
    /// The last events record: where a snapshot of the state points.
    public private(set) var lastEvents: RecordPosition?
    /// Whether the active segment still has to be created (first use, or after a seal).
    var needsSegment: Bool

    /// The dictionary events are compressed with; written into every segment that uses it.
    public private(set) var dictionary: ZstdDictionary?
    var trainer: DictionaryTrainer
    /// Where appends, batch sizes, sync times and bytes are reported.
    public var metrics: StorageMetrics?
    /// Set when the writer can no longer vouch for the active file: an fsync failed (the kernel
    /// may have dropped the dirty pages and will not report it again, so a later fsync that
    /// succeeds proves nothing), or a failed write could not be taken back. Every later append
    /// fails with it; the next start reads what is really on disk.
    public private(set) var failure: StorageError?

    /// Opens the log for appending, after a scan has read it and found no corruption.
    ///
    /// A torn tail is cut here: the cut bytes are kept beside the segment in a file named
    /// `<segment>.torn-<offset>`, then the segment is truncated and synced.
    public init(directory: String, scan: LogScan, segmentSizeBytes: Int, sync: SyncMode,
                fileSystem: any FileSystem = POSIXFileSystem(), logger: Logger) throws(StorageError) {
        precondition(scan.corruption.isEmpty, "open a log for writing only when it has no corruption")
        self.directory = directory
        self.segmentSizeBytes = segmentSizeBytes
        self.sync = sync
        self.fs = fileSystem
        self.logger = logger
        trainer = DictionaryTrainer(logger: logger)
        try fileSystem.makeDirectory(directory)
        for name in try fileSystem.list(directory) where name.hasSuffix(".tmp") {
            try fileSystem.remove(directory + "/" + name)
        }
        hash = scan.headHash
        lastEvents = scan.lastEvents
        nextSequence = scan.lastSequence + 1
        dictionary = scan.dictionary
        guard let last = scan.segments.last, let lastHeader = last.header else {
            header = SegmentHeader(index: 0, firstSequence: 1, salt: 0, createdMilliseconds: 0, previousHash: .genesis)
            offset = 0
            needsSegment = true
            return
        }
        header = lastHeader
        offset = last.validEnd
        segmentEvents = UInt64(last.events)
        needsSegment = last.sealed
        if let torn = scan.tornTail {
            let path = directory + "/" + last.name
            let keep = "\(path).torn-\(torn.offset)"
            let cut = try fileSystem.cutTail(path, at: torn.offset, keepingIn: keep)
            try fileSystem.syncDirectory(directory)
            logger.warning("torn tail cut", metadata: [
                "wal.segment": "\(last.name)", "wal.offset": "\(torn.offset)",
                "wal.cut_bytes": "\(cut)", "wal.kept": "\(keep)", "wal.reason": "\(torn.reason)",
            ])
        }
        if !needsSegment { file = try fileSystem.open(directory + "/" + last.name) }
    }

    /// Appends one record holding `events` (one group commit) with a single write, then syncs.
    ///
    /// On failure nothing is acknowledged: the file is cut back to where the record began, the
    /// writer's position is unchanged, and a later append may succeed (e.g. once disk space
    /// returns).
    /// - Throws: `StorageError` with code `.io`.
    public func write(_ events: [Event]) throws(StorageError) {
        precondition(!events.isEmpty && events[0].sequence == nextSequence, "events must continue the log")
        if let failure { throw failure }
        if needsSegment { try startSegment() }
        if let trained = trainer.take() { try adopt(trained) }
        let jsons = events.map { $0.json.canonicalBytes }
        var body: [UInt8] = []
        body.reserveCapacity(jsons.reduce(0) { $0 + $1.count + 4 })
        for j in jsons {
            body.appendLE(UInt32(j.count))
            body.append(contentsOf: j)
        }
        let (bytes, newHash) = codec.encode(kind: LogFormat.kindEvents, firstSequence: nextSequence, body: body,
                                            dictionary: dictionary, previous: hash)
        guard bytes.count <= LogFormat.recordSizeBytesMax else {
            throw StorageError(.invalidArgument, "record of \(bytes.count) bytes is over the limit")
        }
        let start = offset, before = hash
        try writeDurably(bytes)
        hash = newHash
        nextSequence += UInt64(events.count)
        lastEvents = RecordPosition(segmentIndex: header.index, start: start, end: offset, previousHash: before, hash: newHash,
                                    lastSequence: nextSequence - 1, dictionary: dictionary)
        segmentEvents += UInt64(events.count)
        metrics?.appends.increment(by: Int64(events.count))
        metrics?.batchEvents.record(events.count)
        trainer.observe(jsons, hasDictionary: dictionary != nil)
        if offset >= segmentSizeBytes {
            // The events are durable whatever happens here; a failed seal is retried on the
            // next append (the unsealed segment is still valid to append to).
            do { try seal() } catch { logger.warning("segment seal failed", metadata: ["wal.error": "\(error)"]) }
        }
    }

    var codec: RecordCodec { RecordCodec(salt: header.salt, segmentFirstSequence: header.firstSequence, zstd: zstd) }

    /// Starts using a newly trained dictionary: its record is written and synced on its own,
    /// before any record that needs it, so a torn write can never leave a record without it.
    func adopt(_ trained: ZstdDictionary) throws(StorageError) {
        let (bytes, newHash) = codec.encode(kind: LogFormat.kindDictionary, firstSequence: nextSequence, body: trained.bytes, previous: hash)
        try writeDurably(bytes)
        hash = newHash
        dictionary = trained
        logger.info("dictionary adopted", metadata: ["wal.dictionary_id": "\(trained.id)", "wal.dictionary_bytes": "\(trained.bytes.count)"])
    }

    func writeDurably(_ bytes: [UInt8]) throws(StorageError) {
        guard let file else { throw StorageError(.io, "no open segment") }
        do {
            try file.write(bytes, at: offset)
        } catch {
            // Take back whatever part reached the file, so no half record is left visible. If
            // that fails too, the file's end is unknown: stop writing to it.
            do {
                try file.truncate(to: offset)
                if sync == .always { try file.sync() }
            } catch let undo {
                failure = StorageError(.io, "\(error.message); taking the partial record back failed: \(undo.message)", errno: undo.errno)
            }
            throw error
        }
        if sync == .always {
            let started = ContinuousClock.now
            do { try file.sync() } catch {
                // Never retried: the record stays unacknowledged whatever a retry would say.
                try? file.truncate(to: offset)
                failure = error
                throw error
            }
            metrics?.syncDuration.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        }
        offset += bytes.count
        metrics?.bytesWritten.increment(by: Int64(bytes.count))
    }

    /// Closes the active segment with a seal record (event count, last sequence, last hash).
    func seal() throws(StorageError) {
        let body = RecordCodec.sealBody(eventCount: segmentEvents, lastSequence: nextSequence - 1, hash: hash)
        let (bytes, newHash) = codec.encode(kind: LogFormat.kindSeal, firstSequence: nextSequence, body: body, previous: hash)
        try writeDurably(bytes)
        hash = newHash
        file?.close()
        file = nil
        needsSegment = true
        logger.info("segment sealed", metadata: ["wal.segment": "\(header.index)", "wal.events": "\(segmentEvents)"])
    }

    /// Creates the next segment: header (and the dictionary in force, so that every segment can
    /// be read on its own) written to a temporary file, synced, renamed into place, and the folder
    /// synced, so a crash leaves either no segment or a whole one.
    func startSegment() throws(StorageError) {
        let next = SegmentHeader(
            index: header.index + 1, firstSequence: nextSequence, salt: UInt64.random(in: 1...UInt64.max),
            createdMilliseconds: WallClock.now().milliseconds, previousHash: hash)
        var bytes = next.encode()
        var newHash = hash
        if let dictionary {
            let codec = RecordCodec(salt: next.salt, segmentFirstSequence: next.firstSequence, zstd: zstd)
            let (record, h) = codec.encode(kind: LogFormat.kindDictionary, firstSequence: nextSequence, body: dictionary.bytes, previous: hash)
            bytes += record
            newHash = h
        }
        let name = LogFormat.segmentName(index: next.index, firstSequence: next.firstSequence)
        let path = directory + "/" + name
        try fs.writeAtomically(bytes, to: path, directory: directory)
        file = try fs.open(path)
        header = next
        offset = bytes.count
        hash = newHash
        segmentEvents = 0
        needsSegment = false
        logger.info("segment started", metadata: ["wal.segment": "\(next.index)", "wal.first_sequence": "\(next.firstSequence)"])
    }

    /// Closes the active file.
    public func close() {
        file?.close()
        file = nil
    }
}

/// Keeps a sample of recent events and trains zstd dictionaries from it on a background thread.
///
/// Single events are a few hundred bytes of JSON, too small for zstd to find much to share
/// within one; a dictionary trained on earlier events supplies what they share (member names,
/// ARNs, user agents) and brings an event from about 340 to about 70 bytes.
final class DictionaryTrainer: @unchecked Sendable {
    /// The dictionary size: large enough for the shapes of every kind of event.
    static let capacityBytes = 16 * 1024
    /// Events sampled before the first dictionary is trained.
    static let firstTrainingEvents = 512
    /// Events between later trainings, so the dictionary follows the workload.
    static let retrainingEvents = 50_000
    static let sampleEventsMax = 4096

    let logger: Logger
    private var samples: [[UInt8]] = []
    private var next = 0
    private var sinceTraining = 0
    private let lock = NSLock()
    private var training = false
    private var ready: ZstdDictionary?

    init(logger: Logger) { self.logger = logger }

    /// Records written events; starts a training when enough have passed.
    func observe(_ events: [[UInt8]], hasDictionary: Bool) {
        for e in events {
            if samples.count < DictionaryTrainer.sampleEventsMax { samples.append(e) } else { samples[next] = e }
            next = (next + 1) % DictionaryTrainer.sampleEventsMax
        }
        sinceTraining += events.count
        let due = hasDictionary ? DictionaryTrainer.retrainingEvents : DictionaryTrainer.firstTrainingEvents
        guard sinceTraining >= due else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !training else { return }
        training = true
        sinceTraining = 0
        let sample = samples
        let logger = self.logger
        DispatchQueue.global(qos: .utility).async { [self] in
            let started = ContinuousClock.now
            let trained = ZstdDictionary.train(samples: sample, capacity: DictionaryTrainer.capacityBytes)
            logger.debug("dictionary trained", metadata: ["wal.samples": "\(sample.count)", "duration": "\(ContinuousClock.now - started)"])
            lock.lock()
            ready = trained
            training = false
            lock.unlock()
        }
    }

    /// A trained dictionary not yet in use, if any.
    func take() -> ZstdDictionary? {
        lock.lock()
        defer { lock.unlock() }
        let d = ready
        ready = nil
        return d
    }
}
