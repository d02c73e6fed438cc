import ESMCore

/// The head of a log kept as records outside segment files (a database's rows), and the checks
/// that let one more record join it: it continues the segment (or starts the next one), decodes
/// with a good checksum, links to the chain, and numbers its events on from the last.
///
/// The records are the segment files' bytes, so a segment's header followed by its records, in
/// order, is exactly the segment file `LogImage` holds and `LogScanner` reads.
public struct ChainFollower: Sendable {
    /// The segment records go to now; nil before the first.
    public private(set) var header: SegmentHeader?
    /// Where the next record of the segment starts.
    public private(set) var offset: Int
    public private(set) var hash: ChainHash
    public private(set) var nextSequence: UInt64
    public private(set) var dictionary: ZstdDictionary?
    /// Whether the segment is closed by a seal record (the next record starts a segment).
    public private(set) var sealed: Bool
    public private(set) var lastEvents: RecordPosition?
    var segmentEvents: UInt64 = 0

    /// The head a scan of the log ended at (the scan must have no corruption).
    public init(scan: LogScan) {
        let last = scan.segments.last
        header = last?.header
        offset = last?.validEnd ?? 0
        hash = scan.headHash
        nextSequence = scan.lastSequence + 1
        dictionary = scan.dictionary
        sealed = last?.sealed ?? false
        lastEvents = scan.lastEvents
        segmentEvents = UInt64(last?.events ?? 0)
    }

    /// The head of a log with no records.
    public static var empty: ChainFollower { ChainFollower(scan: LogScan()) }

    /// Whether the next record needs a new segment first.
    public var needsSegment: Bool { header == nil || sealed }

    /// The header of the segment that would follow this one.
    public func nextHeader(salt: UInt64, createdMilliseconds: Int64) -> SegmentHeader {
        SegmentHeader(index: (header?.index ?? 0) + 1, firstSequence: nextSequence, salt: salt,
                      createdMilliseconds: createdMilliseconds, previousHash: hash)
    }

    /// What appending `events` as one record writes: a new segment's header when one is needed
    /// (with the dictionary in force, as the segment writer does), and the records in order.
    public func encode(_ events: [Event], salt: UInt64, createdMilliseconds: Int64, zstd: Zstd)
        -> (header: SegmentHeader?, records: [[UInt8]]) {
        var h = hash
        var segment = header
        var newHeader: SegmentHeader?
        var records: [[UInt8]] = []
        if needsSegment {
            let next = nextHeader(salt: salt, createdMilliseconds: createdMilliseconds)
            newHeader = next
            segment = next
            if let dictionary {
                let codec = RecordCodec(salt: next.salt, segmentFirstSequence: next.firstSequence, zstd: zstd)
                let (bytes, after) = codec.encode(kind: LogFormat.kindDictionary, firstSequence: nextSequence, body: dictionary.bytes, previous: h)
                records.append(bytes)
                h = after
            }
        }
        let codec = RecordCodec(salt: segment!.salt, segmentFirstSequence: segment!.firstSequence, zstd: zstd)
        let (bytes, _) = codec.encode(kind: LogFormat.kindEvents, firstSequence: nextSequence, body: RecordCodec.eventsBody(events),
                                      dictionary: dictionary, previous: h)
        records.append(bytes)
        return (newHeader, records)
    }

    /// Starts the segment `segment` with its header, which must continue the log.
    mutating func enter(segment: UInt64, headerBytes: [UInt8]) throws(StorageError) {
        func broken(_ why: String) -> StorageError {
            StorageError(.corruption, "segment \(segment) (sequence \(nextSequence)): \(why)")
        }
        guard needsSegment, header == nil || segment == header!.index + 1 else {
            throw broken(header.map { "segment \(segment) while segment \($0.index) is open" } ?? "first segment")
        }
        let h: SegmentHeader
        switch SegmentHeader.decode(headerBytes[...]) {
        case .success(let decoded): h = decoded
        case .failure(let e): throw broken("segment header: \(e.message)")
        }
        guard h.index == segment, h.firstSequence == nextSequence, h.previousHash == hash else {
            throw broken("segment header does not continue the log")
        }
        header = h
        offset = LogFormat.segmentHeaderSize
        sealed = false
        segmentEvents = 0
    }

    /// An append made ready: what to write, and the head after it.
    public struct Prepared: Sendable {
        /// The new segment's header, when the records start one.
        public var header: SegmentHeader?
        public var segment: UInt64
        /// Each record with where it starts in its segment, its last sequence and the hash after it.
        public var records: [(start: Int, bytes: [UInt8], lastSequence: UInt64, hash: ChainHash)]
        /// The head once they are written.
        public var head: ChainFollower
    }

    /// Encodes `events` as the next record (see `encode`) and runs the result through a copy of
    /// this head, as a reader will take it: the same checks, and where each record starts.
    public func prepare(_ events: [Event], salt: UInt64, createdMilliseconds: Int64, zstd: Zstd) throws(StorageError) -> Prepared {
        let (header, records) = encode(events, salt: salt, createdMilliseconds: createdMilliseconds, zstd: zstd)
        let segment = header?.index ?? self.header!.index
        let headerBytes = header?.encode() ?? []
        var next = self
        var out: [(start: Int, bytes: [UInt8], lastSequence: UInt64, hash: ChainHash)] = []
        for record in records {
            let start = next.header?.index == segment ? next.offset : LogFormat.segmentHeaderSize
            _ = try next.accept(segment: segment, headerBytes: headerBytes, start: start, record: record, zstd: zstd)
            out.append((start, record, next.nextSequence - 1, next.hash))
        }
        return Prepared(header: header, segment: segment, records: out, head: next)
    }

    /// Takes one more record, checked, and returns its events (none for a seal or dictionary).
    /// - Parameters:
    ///   - segment: the index of the segment it belongs to.
    ///   - headerBytes: that segment's header, needed when the record starts a segment.
    ///   - start: the record's offset in its segment.
    /// - Throws: `StorageError(.corruption)` saying what does not fit.
    public mutating func accept(segment: UInt64, headerBytes: [UInt8], start: Int, record: [UInt8], zstd: Zstd) throws(StorageError) -> [Event] {
        func broken(_ why: String) -> StorageError {
            StorageError(.corruption, "segment \(segment) offset \(start) (sequence \(nextSequence)): \(why)")
        }
        if header?.index != segment { try enter(segment: segment, headerBytes: headerBytes) }
        guard !sealed else { throw broken("record after the segment's seal") }
        guard start == offset else { throw broken("record at offset \(start) where \(offset) belongs") }
        let codec = RecordCodec(salt: header!.salt, segmentFirstSequence: header!.firstSequence, zstd: zstd)
        let decoded: Record
        switch codec.decode(record, at: 0, previous: hash, dictionary: dictionary) {
        case .success(let r) where r.storedSize == record.count: decoded = r
        case .success: throw broken("record length disagrees with its row")
        case .failure(let f): throw broken(f.reason)
        }
        var events: [Event] = []
        switch decoded.kind {
        case LogFormat.kindEvents:
            guard decoded.firstSequence == nextSequence else { throw broken("record starts at sequence \(decoded.firstSequence)") }
            switch RecordCodec.events(in: decoded) {
            case .success(let e): events = e
            case .failure(let e): throw broken(e.message)
            }
            lastEvents = RecordPosition(segmentIndex: segment, start: start, end: start + record.count, previousHash: hash,
                                        hash: decoded.hash, lastSequence: nextSequence + UInt64(events.count) - 1, dictionary: dictionary)
            nextSequence += UInt64(events.count)
            segmentEvents += UInt64(events.count)
        case LogFormat.kindDictionary:
            guard let d = ZstdDictionary(decoded.body) else { throw broken("dictionary record does not hold a zstd dictionary") }
            dictionary = d
        default:
            guard decoded.body.count == LogFormat.sealBodySize, decoded.body.readLE(UInt64.self, at: 0) == segmentEvents,
                decoded.body.readLE(UInt64.self, at: 8) == nextSequence - 1, Array(decoded.body[16..<48]) == hash.bytes
            else { throw broken("seal record does not match the segment's events") }
            sealed = true
        }
        hash = decoded.hash
        offset = start + record.count
        return events
    }

    /// Takes every record of a whole segment file in turn (a copy of a log), checked as `accept`
    /// checks one, calling `each` with the record's offset and bytes and the head after it.
    public mutating func acceptSegment(_ bytes: [UInt8], zstd: Zstd,
                                       each: (_ start: Int, _ record: [UInt8], _ head: ChainFollower) throws -> Void) throws {
        let headerBytes = Array(bytes.prefix(LogFormat.segmentHeaderSize))
        let index: UInt64
        switch SegmentHeader.decode(headerBytes[...]) {
        case .success(let h): index = h.index
        case .failure(let e): throw e
        }
        try enter(segment: index, headerBytes: headerBytes)
        var start = LogFormat.segmentHeaderSize
        while start < bytes.count {
            guard let length = RecordCodec.plausibleLength(bytes, at: start), start + length <= bytes.count else {
                throw StorageError(.corruption, "segment \(index) offset \(start): no whole record here")
            }
            let record = Array(bytes[start..<(start + length)])
            _ = try accept(segment: index, headerBytes: headerBytes, start: start, record: record, zstd: zstd)
            try each(start, record, self)
            start += length
        }
    }
}
