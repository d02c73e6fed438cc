import ESMCore

/// What a scan found wrong, and where.
public struct LogProblem: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The last record of the last open segment is incomplete: a write that a crash cut.
        case tornTail
        /// Anything else: damaged or edited bytes, a missing or reordered segment or record.
        case corruption
    }

    public var kind: Kind
    public var file: String
    public var offset: Int
    /// The sequence the log expected at that point.
    public var sequence: UInt64
    public var reason: String

    public var description: String {
        "\(kind == .tornTail ? "torn tail" : "corruption") in \(file) at offset \(offset) (expected sequence \(sequence)): \(reason)"
    }
}

/// A segment as a scan saw it.
public struct SegmentSummary: Sendable {
    public var name: String
    public var header: SegmentHeader?
    public var fileSize: Int
    /// The offset after the last valid record.
    public var validEnd: Int
    public var sealed: Bool
    public var records: Int
    public var events: Int
    public var firstSequence: UInt64?
    public var lastSequence: UInt64?
    public var firstTime: EventTime?
    public var lastTime: EventTime?
    /// Event body bytes before compression.
    public var rawBytes: Int
    /// Dictionary records in the segment.
    public var dictionaries: Int
    /// Every valid events record: where it is and the last sequence it holds (when asked for).
    public var boundaries: [RecordPosition] = []
}

/// The result of reading a whole log.
public struct LogScan: Sendable {
    public var segments: [SegmentSummary] = []
    /// Records whose checksum, decompression and events came from the lookahead.
    var recordsReadAhead = 0
    public var problems: [LogProblem] = []
    /// The last sequence read without a problem before it.
    public var lastSequence: UInt64 = 0
    /// The chain hash after the last valid record.
    public var headHash = ChainHash.genesis
    /// The last event's time.
    public var lastTime: EventTime?
    /// The dictionary in force at the end of the last segment, which a writer continues with.
    public var dictionary: ZstdDictionary?
    /// When the scan started from a snapshot: why the log does not lead to that snapshot's
    /// state, or nil when it does.
    public var snapshotMismatch: String?
    /// The last events record (what a snapshot at the head records); nil for an empty log.
    public var lastEvents: RecordPosition?

    /// The torn tail, when that is the only problem.
    public var tornTail: LogProblem? {
        problems.count == 1 && problems[0].kind == .tornTail ? problems[0] : nil
    }

    public var corruption: [LogProblem] { problems.filter { $0.kind == .corruption } }

    /// The record a live writer is writing now, when the scan met it (see `settingAsideLiveTail`).
    public var inFlight: LogProblem?

    /// The scan as a reader beside a live writer should take it: an incomplete last record is
    /// the write under way, not damage, so it is set aside from the problems (the scan's
    /// sequences and head hash already stop before it).
    public func settingAsideLiveTail(writerLive: Bool) -> LogScan {
        guard writerLive, let torn = tornTail else { return self }
        var s = self
        s.problems = []
        s.inFlight = torn
        return s
    }
}

/// Reads a log folder front to back, checking every frame, checksum, chain link and sequence.
public struct LogScanner {
    public let directory: String
    let fs: any FileSystem
    /// Segments with at least this many bytes left to read are read ahead on every core
    /// (`RecordLookahead`); the tests set it to 0 to compare both ways on small logs.
    var readAheadBytesMin = RecordLookahead.segmentBytesMin

    public init(directory: String, fileSystem: any FileSystem = POSIXFileSystem()) {
        self.directory = directory
        self.fs = fileSystem
    }

    /// The segment file names in log order.
    public func segmentNames() throws(StorageError) -> [String] {
        guard fs.exists(directory) else { return [] }
        return try fs.list(directory).filter { LogFormat.parseSegmentName($0) != nil }
    }

    /// Reads the whole log.
    /// - Parameters:
    ///   - through: stop after this sequence (events after it are not delivered).
    ///   - visit: called with each event in order, until the first problem; a thrown error
    ///     ends the scan and is rethrown.
    /// - Returns: what was read and every problem found. Reading goes on past a problem where
    ///   it can, so that `esmlog verify` lists all of them; events after one are not delivered.
    ///   - from: a snapshot to start from: reading starts at the snapshot's last record, which must
    ///     decode and chain exactly as the snapshot says (else `snapshotMismatch` says why); what
    ///     comes before it is not read.
    ///   - visitRecord: called with each events record delivered whole (after `visit` has seen
    ///     its events): where it is and its events.
    ///   - reading: `.events` decodes every event for `visit`; `.states` reads each for state,
    ///     for `visitState`; `.headers` reads each only as far as `verify` needs it. Only
    ///     `.events` hands records to `visitRecord`.
    public func scan(through: UInt64? = nil, from point: SnapshotPoint? = nil, collectBoundaries: Bool = false,
                     reading: EventReading = .events,
                     visit: (Event) throws -> Void = { _ in },
                     visitState: (StateEvent) throws -> Void = { _ in },
                     visitRecord: ((RecordPosition, [Event]) throws -> Void)? = nil) throws -> LogScan {
        precondition(reading == .events || visitRecord == nil, "a scan of headers hands no record on")
        var result = LogScan()
        let names = try segmentNames()
        var start = 0
        if let point {
            guard let found = names.firstIndex(where: { LogFormat.parseSegmentName($0)!.index == point.position.segmentIndex }) else {
                result.snapshotMismatch = "the log has no segment \(point.position.segmentIndex)"
                return result
            }
            start = found
        }
        var hash = ChainHash.genesis
        var expectedSequence: UInt64 = 1
        var delivering = true
        let zstd = Zstd()

        for (position, name) in names.enumerated() where position >= start {
            let isLast = position == names.count - 1
            let (index, nameSequence) = LogFormat.parseSegmentName(name)!
            // From a snapshot, nothing between the header and its record is looked at.
            let skipped = position == start ? point.map { LogFormat.segmentHeaderSize..<max(LogFormat.segmentHeaderSize, $0.position.start) } : nil
            let bytes = try fs.read(directory + "/" + name, skipping: skipped ?? 0..<0)
            var summary = SegmentSummary(
                name: name, header: nil, fileSize: bytes.count, validEnd: 0, sealed: false, records: 0, events: 0,
                firstSequence: nil, lastSequence: nil, firstTime: nil, lastTime: nil, rawBytes: 0, dictionaries: 0)
            func problem(_ kind: LogProblem.Kind, _ offset: Int, _ reason: String) {
                result.problems.append(LogProblem(kind: kind, file: name, offset: offset, sequence: expectedSequence, reason: reason))
                delivering = false
            }

            let header: SegmentHeader
            switch SegmentHeader.decode(bytes[...]) {
            case .success(let h): header = h
            case .failure(let e):
                problem(.corruption, 0, e.message)
                result.segments.append(summary)
                continue
            }
            summary.header = header
            if index != UInt64(position + 1) || header.index != index {
                problem(.corruption, 0, "segment index \(header.index) where \(position + 1) belongs (a segment is missing or renamed)")
            }
            if header.firstSequence != nameSequence {
                problem(.corruption, 0, "header says first sequence \(header.firstSequence), file name says \(nameSequence)")
            }
            var resumeAt: Int?
            if let point, position == start {
                // Start at the snapshot's own record: it must decode with the snapshot's hash
                // before it and dictionary, and end at the snapshot's sequence and hash.
                let p = point.position
                let codec = RecordCodec(salt: header.salt, segmentFirstSequence: header.firstSequence, zstd: zstd)
                guard p.start >= LogFormat.segmentHeaderSize, p.end <= bytes.count,
                    case .success(let record) = codec.decode(bytes, at: p.start, previous: p.previousHash, dictionary: p.dictionary),
                    record.kind == LogFormat.kindEvents, p.start + record.storedSize == p.end,
                    let count = RecordCodec.eventCount(in: record),
                    record.firstSequence + UInt64(count) - 1 == point.sequence, record.hash == point.hash
                else {
                    result.snapshotMismatch = "the log's record at \(name) offset \(p.start) is not the snapshot's last record"
                    return result
                }
                hash = record.hash
                expectedSequence = point.sequence + 1
                result.lastSequence = point.sequence
                result.lastTime = point.time
                result.headHash = record.hash
                result.lastEvents = p
                summary.events = Int(point.sequence - header.firstSequence + 1)
                summary.firstSequence = header.firstSequence
                summary.lastSequence = point.sequence
                resumeAt = p.end
            }
            if delivering, resumeAt == nil, header.firstSequence != expectedSequence {
                problem(.corruption, 0, "segment starts at sequence \(header.firstSequence)")
            }
            if delivering, resumeAt == nil, header.previousHash != hash {
                problem(.corruption, 0, "segment's previous hash does not continue the chain")
            }
            if !delivering {
                // Past a problem the chain cannot be checked against what came before; check
                // this segment on its own terms.
                hash = header.previousHash
                expectedSequence = header.firstSequence
            }

            let codec = RecordCodec(salt: header.salt, segmentFirstSequence: header.firstSequence, zstd: zstd)
            var dictionary: ZstdDictionary? = resumeAt == nil ? nil : point?.position.dictionary
            // Which dictionary record `dictionary` came from, as the lookahead tags them.
            var dictionaryTag: Int? = dictionary == nil ? nil : RecordLookahead.initialDictionary
            var offset = resumeAt ?? LogFormat.segmentHeaderSize
            summary.validEnd = offset
            let ahead = bytes.count - offset >= readAheadBytesMin
                ? RecordLookahead(bytes: bytes, salt: header.salt, segmentFirstSequence: header.firstSequence, from: offset,
                                  dictionary: dictionary, reading: reading)
                : nil
            defer { ahead?.finish() }
            while offset < bytes.count {
                if summary.sealed {
                    problem(.corruption, offset, "\(bytes.count - offset) bytes after the seal record")
                    break
                }
                let decoded: Result<Record, RecordCodec.DecodeFailure>
                var parsed: Result<ScannedEvents, StorageError>?
                if let entry = ahead?.take(at: offset, dictionary: dictionaryTag) {
                    decoded = entry.decoded.flatMap { codec.linked($0, bytes, at: offset, previous: hash) }
                    parsed = entry.events
                    result.recordsReadAhead += 1
                } else {
                    decoded = codec.decode(bytes, at: offset, previous: hash, dictionary: dictionary)
                }
                switch decoded {
                case .failure(let failure):
                    let torn = isLast && LogScanner.looksTorn(bytes, from: offset, failure: failure)
                        && !LogScanner.validRecordFollows(bytes, after: offset, codec: codec)
                    problem(torn ? .tornTail : .corruption, offset, failure.reason)
                    offset = bytes.count
                    continue
                case .success(let record):
                    if record.kind == LogFormat.kindSeal {
                        summary.sealed = true
                        if record.body.count != LogFormat.sealBodySize
                            || record.body.readLE(UInt64.self, at: 0) != UInt64(summary.events)
                            || record.body.readLE(UInt64.self, at: 8) != expectedSequence - 1
                            || Array(record.body[16..<48]) != hash.bytes {
                            problem(.corruption, offset, "seal record does not match the segment's events")
                        }
                    } else if record.kind == LogFormat.kindDictionary {
                        guard let d = ZstdDictionary(record.body) else {
                            problem(.corruption, offset, "dictionary record does not hold a zstd dictionary")
                            offset = bytes.count
                            continue
                        }
                        dictionary = d
                        dictionaryTag = offset
                        summary.dictionaries += 1
                    } else {
                        guard record.firstSequence == expectedSequence else {
                            problem(.corruption, offset, "record starts at sequence \(record.firstSequence)")
                            offset = bytes.count
                            continue
                        }
                        let events: ScannedEvents
                        switch parsed ?? ScannedEvents.read(record.body, firstSequence: record.firstSequence, reading) {
                        case .success(let e): events = e
                        case .failure(let e):
                            problem(.corruption, offset, e.message)
                            offset = bytes.count
                            continue
                        }
                        func deliver<E: ScannedEvent>(_ list: [E], _ visit: (E) throws -> Void) throws {
                            for e in list where delivering && through.map({ e.sequence <= $0 }) ?? true {
                                try visit(e)
                                result.lastSequence = e.sequence
                                result.lastTime = e.time
                            }
                        }
                        switch events {
                        case .events(let list): try deliver(list, visit)
                        case .states(let list): try deliver(list, visitState)
                        case .headers(let list): try deliver(list, { _ in })
                        }
                        summary.events += events.count
                        summary.rawBytes += record.body.count
                        summary.firstSequence = summary.firstSequence ?? record.firstSequence
                        summary.lastSequence = events.last.sequence
                        summary.firstTime = summary.firstTime ?? events.first.time
                        summary.lastTime = events.last.time
                        expectedSequence += UInt64(events.count)
                        if delivering {
                            let position = RecordPosition(
                                segmentIndex: header.index, start: offset, end: offset + record.storedSize, previousHash: hash,
                                hash: record.hash, lastSequence: expectedSequence - 1, dictionary: dictionary)
                            result.lastEvents = position
                            if collectBoundaries { summary.boundaries.append(position) }
                            if let visitRecord, case .events(let list) = events, through.map({ position.lastSequence <= $0 }) ?? true {
                                try visitRecord(position, list)
                            }
                        }
                    }
                    summary.records += 1
                    hash = record.hash
                    if delivering { result.headHash = hash }
                    offset += record.storedSize
                    summary.validEnd = offset
                }
            }
            if isLast { result.dictionary = dictionary }
            if !isLast && !summary.sealed && summary.header != nil {
                problem(.corruption, summary.validEnd, "segment is not sealed but later segments exist")
            }
            result.segments.append(summary)
        }
        return result
    }

    /// A failed record looks torn when the file ends inside it, or when everything from some
    /// sector boundary inside it to the end of the file reads back as zeros: what a crash leaves
    /// when the file grew but its last sectors were never written.
    static func looksTorn(_ bytes: [UInt8], from offset: Int, failure: RecordCodec.DecodeFailure) -> Bool {
        if case .incomplete = failure { return true }
        if bytes[offset...].allSatisfy({ $0 == 0 }) { return true }
        let sector = (offset / LogFormat.sectorSize + 1) * LogFormat.sectorSize
        guard bytes.count - sector >= LogScanner.zeroTailBytesMin else { return false }
        return bytes[sector...].allSatisfy { $0 == 0 }
    }

    /// Fewer zero bytes than this at the end of a file are not taken as unwritten sectors.
    static let zeroTailBytesMin = 16

    /// Whether any whole, checksummed record of this segment starts after `offset`: if one does,
    /// the failed record is not the last write, so it is damage rather than a torn tail.
    static func validRecordFollows(_ bytes: [UInt8], after offset: Int, codec: RecordCodec) -> Bool {
        var o = offset + 1
        while o + LogFormat.recordHeaderSize <= bytes.count {
            if let length = RecordCodec.plausibleLength(bytes, at: o), o + length <= bytes.count,
                codec.checksum(bytes[o..<(o + length)]) == bytes.readLE(UInt32.self, at: o + 4) {
                return true
            }
            o += 1
        }
        return false
    }
}

/// Where an events record is, and what reading on from it needs.
public struct RecordPosition: Sendable {
    public var segmentIndex: UInt64
    public var start: Int
    public var end: Int
    /// The chain hash before the record.
    public var previousHash: ChainHash
    /// The chain hash after the record.
    public var hash: ChainHash
    public var lastSequence: UInt64
    /// The dictionary in force for the record (and for the records after it, until the next
    /// dictionary record).
    public var dictionary: ZstdDictionary?

    public init(segmentIndex: UInt64, start: Int, end: Int, previousHash: ChainHash, hash: ChainHash, lastSequence: UInt64,
                dictionary: ZstdDictionary?) {
        self.segmentIndex = segmentIndex
        self.start = start
        self.end = end
        self.previousHash = previousHash
        self.hash = hash
        self.lastSequence = lastSequence
        self.dictionary = dictionary
    }
}
