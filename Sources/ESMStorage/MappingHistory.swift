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

    /// Whether the whole log was read and checked (the index was missing or did not match the log).
    public var walkedWholeLog: Bool { indexedThrough == 0 }

    /// An index that has fallen this many events behind the log is written again after a read.
    static let staleEventsMax = 10_000

    /// Reads the events of mapping `uuid` from the segment files of `dataDirectory`.
    ///
    /// The index in `dataDirectory` is used when the log still holds its last record exactly as it
    /// says; else it is rebuilt from the whole log, and written (when the log has no problem) for
    /// the next read.
    public static func read(_ uuid: String, dataDirectory: String, location: LogLocation) throws -> MappingHistory {
        let fs = location.fileSystem
        if let file = MappingIndex.load(dataDirectory, fs), let (tail, scan) = try MappingIndex.tail(after: file, location) {
            var history = MappingHistory(scan: scan, indexedThrough: file.point!.sequence)
            try history.readRecords(of: uuid, file, location)
            if history.problems.isEmpty {
                for (_, events) in tail { history.events += events.filter { $0.uuid == uuid } }
            }
            if tail.reduce(0, { $0 + $1.1.count }) >= staleEventsMax, scan.problems.isEmpty {
                try? MappingIndex.write(file, adding: tail, dataDirectory: dataDirectory, fileSystem: fs)
            }
            return history
        }
        var events: [Event] = []
        let scan = try MappingIndex.build(dataDirectory: dataDirectory, location: location) { _, recordEvents in
            events += recordEvents.filter { $0.uuid == uuid }
        }
        return MappingHistory(events: events, scan: scan)
    }

    /// Reads and checks the records the index names for `uuid`: each must be where the index says,
    /// whole, with its checksum, its chain link from the hash the index states before it, and the
    /// sequences the index says.
    mutating func readRecords(of uuid: String, _ file: MappingIndexFile, _ location: LogLocation) throws {
        let fs = location.fileSystem
        var names: [UInt64: String] = [:]
        for name in try LogScanner(directory: location.directory, fileSystem: fs).segmentNames() {
            names[LogFormat.parseSegmentName(name)!.index] = name
        }
        var headers: [UInt64: SegmentHeader] = [:]
        let zstd = Zstd()
        for entry in try file.records(of: uuid) {
            func problem(_ file: String, _ reason: String) {
                problems.append(LogProblem(kind: .corruption, file: file, offset: entry.start, sequence: entry.firstSequence, reason: reason))
            }
            guard let name = names[entry.segmentIndex] else {
                problem(LogFormat.segmentName(index: entry.segmentIndex, firstSequence: 0), "the index names segment \(entry.segmentIndex), which the log does not have")
                return
            }
            let segment = location.directory + "/" + name
            if headers[entry.segmentIndex] == nil {
                guard case .success(let h) = SegmentHeader.decode(try fs.read(segment, offset: 0, count: LogFormat.segmentHeaderSize)[...]) else {
                    problem(name, "segment header does not decode")
                    return
                }
                headers[entry.segmentIndex] = h
            }
            let header = headers[entry.segmentIndex]!
            let bytes = try fs.read(segment, offset: entry.start, count: entry.end - entry.start)
            let codec = RecordCodec(salt: header.salt, segmentFirstSequence: header.firstSequence, zstd: zstd)
            let record: Record
            switch codec.decode(bytes, at: 0, previous: entry.previousHash, dictionary: try file.dictionary(entry.dictionary)) {
            case .failure(let failure):
                problem(name, failure.reason)
                return
            case .success(let r): record = r
            }
            guard record.kind == LogFormat.kindEvents, record.storedSize == bytes.count, record.firstSequence == entry.firstSequence else {
                problem(name, "the record there is not the events record the index names")
                return
            }
            switch RecordCodec.events(in: record) {
            case .failure(let e):
                problem(name, e.message)
                return
            case .success(let recordEvents):
                let mine = recordEvents.filter { $0.uuid == uuid }
                guard !mine.isEmpty else {
                    problem(name, "the record holds no event of \(uuid), which the index says it does")
                    return
                }
                events += mine
            }
            recordsChecked += 1
        }
    }
}
