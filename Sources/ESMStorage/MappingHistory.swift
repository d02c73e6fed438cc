import ESMCore

/// One mapping's events, read through the mapping index: its own records, then the log after the
/// index's last record in full.
public struct MappingHistory {
    /// The mapping's events in log order.
    public var events: [Event] = []
    /// The scan of what was read in full: the log after the index (the whole log when the index
    /// was rebuilt). It gives the head read and the problems found there.
    public var scan: LogScan
    /// The last sequence the index covered; 0 when it was rebuilt from the whole log for this read.
    public var indexedThrough: UInt64 = 0
    /// The mapping's records read through the index, each checked.
    public var recordsChecked = 0
    /// Problems in those records; no event is delivered from the first one on.
    public var problems: [LogProblem] = []

    /// With `read(_:dataDirectory:location:cutAt:)`: where a replay to that time stops, the sequence
    /// of the last event before the log's first event past it (0: the log starts after it).
    public var sequenceAtTime: UInt64?

    /// Whether the whole log was read and checked (the index was missing or did not match the log).
    public var walkedWholeLog: Bool { indexedThrough == 0 }

    /// An index that has fallen this many events behind the log is written again after a read.
    static let staleEventsMax = 10_000

    /// Reads the events of mapping `uuid` from the segment files of `dataDirectory`.
    ///
    /// The index in `dataDirectory` is used when the log still holds its last record exactly as it
    /// says; else it is rebuilt from the whole log, and written (when the log has no problem) for
    /// the next read.
    /// - Parameter time: also find `sequenceAtTime` for this time.
    public static func read(_ uuid: String, dataDirectory: String, location: LogLocation, cutAt time: EventTime? = nil) throws -> MappingHistory {
        let fs = location.fileSystem
        if let file = MappingIndex.load(dataDirectory, fs), let (tail, scan) = try MappingIndex.tail(after: file, location) {
            var history = MappingHistory(scan: scan, indexedThrough: file.point!.sequence)
            var reader = try IndexedRecords(file, location)
            try history.readRecords(of: uuid, &reader)
            if history.problems.isEmpty {
                for (_, events) in tail { history.events += events.filter { $0.uuid == uuid } }
                if let time { history.sequenceAtTime = try history.cut(at: time, &reader, tail: tail) }
            }
            if tail.reduce(0, { $0 + $1.1.count }) >= staleEventsMax, scan.problems.isEmpty {
                try? MappingIndex.write(file, adding: tail, dataDirectory: dataDirectory, fileSystem: fs)
            }
            return history
        }
        var events: [Event] = []
        var cut = TimeCut(time: time)
        let scan = try MappingIndex.build(dataDirectory: dataDirectory, location: location) { _, recordEvents in
            events += recordEvents.filter { $0.uuid == uuid }
            cut.read(recordEvents)
        }
        var history = MappingHistory(events: events, scan: scan)
        if time != nil { history.sequenceAtTime = cut.sequence }
        return history
    }

    /// Where a replay to `time` stops, in a log read through the index: its records are found by
    /// bisection on their first events' times, reading about log2(records) of them (each checked),
    /// then the tail that was read in full is followed event by event.
    ///
    /// Bisection relies on the writer's rule that an event's time is never earlier than the one
    /// before it (`Store.perform`); the log after the index is cut exactly as a replay cuts it.
    /// - Returns: nil, with the reason in `problems`, when a record read does not check.
    mutating func cut(at time: EventTime, _ reader: inout IndexedRecords, tail: [(RecordPosition, [Event])]) throws -> UInt64? {
        let file = reader.file
        var cut = TimeCut(time: time)
        if let point = file.point, point.time > time {
            // The last record whose first event is at or before `time`.
            var lo = 0, hi = file.recordCount
            var found: [Event]?
            while lo < hi {
                let mid = (lo + hi) / 2
                guard let events = try reader.events(file.entry(mid), problems: &problems) else { return nil }
                guard let first = events.first else {
                    problems.append(reader.problem(file.entry(mid), "the record holds no event"))
                    return nil
                }
                if first.time <= time {
                    found = events
                    lo = mid + 1
                } else {
                    hi = mid
                }
            }
            if let found { cut.read(found) }
            cut.past = true
        } else {
            cut.sequence = file.point?.sequence ?? 0
        }
        for (_, events) in tail { cut.read(events) }
        return cut.sequence
    }
}

/// Follows events in log order to the last one before the first event past `time`.
struct TimeCut {
    let time: EventTime?
    var sequence: UInt64 = 0
    var past = false

    mutating func read(_ events: [Event]) {
        guard let time, !past else { return }
        for e in events {
            if e.time > time {
                past = true
                return
            }
            sequence = e.sequence
        }
    }
}

extension MappingHistory {

    /// Reads and checks the records the index names for `uuid` (see `IndexedRecords.events`);
    /// each must hold at least one event of `uuid`.
    mutating func readRecords(of uuid: String, _ reader: inout IndexedRecords) throws {
        for entry in try reader.file.records(of: uuid) {
            guard let recordEvents = try reader.events(entry, problems: &problems) else { return }
            let mine = recordEvents.filter { $0.uuid == uuid }
            guard !mine.isEmpty else {
                problems.append(reader.problem(entry, "the record holds no event of \(uuid), which the index says it does"))
                return
            }
            events += mine
            recordsChecked += 1
        }
    }
}

/// Ranged reads of the records a mapping index names, each checked on its own.
struct IndexedRecords {
    let file: MappingIndexFile
    let location: LogLocation
    private var names: [UInt64: String] = [:]
    private var headers: [UInt64: SegmentHeader] = [:]
    private let zstd = Zstd()

    init(_ file: MappingIndexFile, _ location: LogLocation) throws {
        self.file = file
        self.location = location
        for name in try LogScanner(directory: location.directory, fileSystem: location.fileSystem).segmentNames() {
            names[LogFormat.parseSegmentName(name)!.index] = name
        }
    }

    func problem(_ entry: MappingIndex.Entry, _ reason: String) -> LogProblem {
        let name = names[entry.segmentIndex] ?? LogFormat.segmentName(index: entry.segmentIndex, firstSequence: 0)
        return LogProblem(kind: .corruption, file: name, offset: entry.start, sequence: entry.firstSequence, reason: reason)
    }

    /// The events of the record `entry` names. It must be where the index says, whole, with its
    /// checksum, its chain link from the hash the index states before it, and the first sequence
    /// the index says.
    /// - Returns: nil, with the reason added to `problems`, when it is not.
    mutating func events(_ entry: MappingIndex.Entry, problems: inout [LogProblem]) throws -> [Event]? {
        let fs = location.fileSystem
        guard let name = names[entry.segmentIndex] else {
            problems.append(problem(entry, "the index names segment \(entry.segmentIndex), which the log does not have"))
            return nil
        }
        let segment = location.directory + "/" + name
        if headers[entry.segmentIndex] == nil {
            guard case .success(let h) = SegmentHeader.decode(try fs.read(segment, offset: 0, count: LogFormat.segmentHeaderSize)[...]) else {
                problems.append(problem(entry, "segment header does not decode"))
                return nil
            }
            headers[entry.segmentIndex] = h
        }
        let header = headers[entry.segmentIndex]!
        let bytes = try fs.read(segment, offset: entry.start, count: entry.end - entry.start)
        let codec = RecordCodec(salt: header.salt, segmentFirstSequence: header.firstSequence, zstd: zstd)
        let record: Record
        switch codec.decode(bytes, at: 0, previous: entry.previousHash, dictionary: try file.dictionary(entry.dictionary)) {
        case .failure(let failure):
            problems.append(problem(entry, failure.reason))
            return nil
        case .success(let r): record = r
        }
        guard record.kind == LogFormat.kindEvents, record.storedSize == bytes.count, record.firstSequence == entry.firstSequence else {
            problems.append(problem(entry, "the record there is not the events record the index names"))
            return nil
        }
        switch RecordCodec.events(in: record) {
        case .failure(let e):
            problems.append(problem(entry, e.message))
            return nil
        case .success(let recordEvents):
            return recordEvents
        }
    }
}
