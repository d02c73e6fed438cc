import ESMCore
import Foundation

/// Reads the records of one segment ahead of the scanner, on every core: checksum,
/// decompression and the parsing of events, which need nothing from the records before them.
/// The scanner takes the results in order and does what does need them: the chain link, the
/// sequence, and handing each event on.
///
/// Only a cache of pure work. An entry is what `RecordCodec.decodeUnlinked` and
/// `ScannedEvents.read` return for those bytes, so the scanner reaches the same verdict either
/// way. When the scanner is somewhere the lookahead did not go (after a problem), or the
/// record needs a dictionary other than the one the scanner has, it reads the record itself.
final class RecordLookahead: @unchecked Sendable {  // mutable state is guarded by `condition`
    struct Entry {
        var decoded: Result<RecordCodec.Unlinked, RecordCodec.DecodeFailure>
        /// For events records that decoded: their events, read as the scan asked.
        var events: Result<ScannedEvents, StorageError>?
    }

    /// Where each record starts, from the length fields alone, and which dictionary record (by
    /// offset; `initialDictionary` for the one given at the start) is in force for it.
    private let frames: [(offset: Int, dictionary: Int?)]
    private let dictionaries: [Int: ZstdDictionary]
    private let bytes: [UInt8]
    private let salt: UInt64
    private let segmentFirstSequence: UInt64
    private let reading: EventReading
    private let condition = NSCondition()
    // Under `condition`: results not yet moved to the scanner, how far the workers have
    // claimed and the scanner has taken, and who waits (so that nobody wakes a thread that is
    // not waiting: in a virtual machine a wake-up costs more than reading a record).
    private var results: [Int: Entry] = [:]
    private var claimed = 0
    private var taken = 0
    private var stopped = false
    private var scannerWaits = false
    private var workersWaiting = 0
    // The scanner's own: results it has moved out, and the next record it hands on.
    private var ready: [Int: Entry] = [:]
    private var next = 0
    private let workers = DispatchGroup()
    /// Records read ahead of the scanner at most: bounds the memory of parsed events.
    static let window = 64
    /// Records a worker claims at once, and the scanner takes between two looks at the shared
    /// state: each look is a lock, and often a wake-up.
    static let batch = 8
    /// Less of a segment than this is read by the scanner alone: threads would cost more than
    /// they save (a scan that resumes near the end of a segment, after a snapshot or an index).
    static let segmentBytesMin = 1 << 20
    /// The tag of the dictionary the scan starts with (a snapshot's).
    static let initialDictionary = -1

    /// Starts reading `bytes` (a segment) from `offset` on, with `dictionary` in force there.
    init(bytes: [UInt8], salt: UInt64, segmentFirstSequence: UInt64, from offset: Int, dictionary: ZstdDictionary?,
         reading: EventReading = .events) {
        self.bytes = bytes
        self.reading = reading
        self.salt = salt
        self.segmentFirstSequence = segmentFirstSequence
        var frames: [(offset: Int, dictionary: Int?)] = []
        var dictionaries: [Int: ZstdDictionary] = [:]
        var current: Int? = nil
        if let dictionary {
            dictionaries[RecordLookahead.initialDictionary] = dictionary
            current = RecordLookahead.initialDictionary
        }
        var at = offset
        while let length = RecordCodec.plausibleLength(bytes, at: at), at + length <= bytes.count {
            frames.append((at, current))
            if bytes[at + 10] == LogFormat.kindDictionary, let d = ZstdDictionary(Array(bytes[(at + LogFormat.recordHeaderSize)..<(at + length)])) {
                dictionaries[at] = d
                current = at
            }
            at += length
        }
        self.frames = frames
        self.dictionaries = dictionaries
        let count = ProcessInfo.processInfo.activeProcessorCount
        for _ in 0..<count {
            DispatchQueue.global(qos: .userInitiated).async(group: workers) { self.work() }
        }
    }

    private func work() {
        let codec = RecordCodec(salt: salt, segmentFirstSequence: segmentFirstSequence, zstd: Zstd())
        var done: [(Int, Entry)] = []
        while true {
            condition.lock()
            while !stopped && claimed < frames.count && claimed - taken >= RecordLookahead.window {
                workersWaiting += 1
                condition.wait()
                workersWaiting -= 1
            }
            guard !stopped, claimed < frames.count else {
                condition.unlock()
                return
            }
            let claim = claimed..<min(frames.count, claimed + RecordLookahead.batch)
            claimed = claim.upperBound
            condition.unlock()
            done.removeAll(keepingCapacity: true)
            for k in claim {
                let frame = frames[k]
                let decoded = codec.decodeUnlinked(bytes, at: frame.offset, dictionary: frame.dictionary.flatMap { dictionaries[$0] })
                var events: Result<ScannedEvents, StorageError>?
                if case .success(let u) = decoded, u.kind == LogFormat.kindEvents {
                    events = ScannedEvents.read(u.body, firstSequence: u.firstSequence, reading)
                }
                done.append((k, Entry(decoded: decoded, events: events)))
            }
            condition.lock()
            for (k, entry) in done { results[k] = entry }
            if scannerWaits { condition.broadcast() }
            condition.unlock()
        }
    }

    /// The entry for the record at `offset`, when it is the next one read ahead and was read
    /// with the dictionary the scanner has in force (`dictionary`: the offset of its record, or
    /// `initialDictionary`); nil when the scanner must read it itself.
    func take(at offset: Int, dictionary: Int?) -> Entry? {
        guard next < frames.count, frames[next].offset == offset else { return nil }
        let k = next
        if ready[k] == nil || k - taken >= RecordLookahead.batch {
            // Tell the workers how far the scanner is (`taken` is read by them only under the
            // lock, so between two looks it lags), and take every result there is.
            condition.lock()
            taken = k
            if workersWaiting > 0 { condition.broadcast() }
            while true {
                for (key, entry) in results { ready[key] = entry }
                results.removeAll(keepingCapacity: true)
                if ready[k] != nil { break }
                scannerWaits = true
                condition.wait()
                scannerWaits = false
            }
            condition.unlock()
        }
        let entry = ready.removeValue(forKey: k)!
        next += 1
        if bytes[offset + 11] == LogFormat.codecZstdDictionary, frames[k].dictionary != dictionary { return nil }
        return entry
    }

    /// Stops the workers and waits for them: nothing reads the segment after the scan of it.
    func finish() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        workers.wait()
    }
}
