import ESMCore
#if canImport(Glibc)
import Glibc
#endif

/// Where each mapping's events are in the segment files, so that one mapping's history reads its
/// own records instead of the whole log.
///
/// A cache over the log, never the source of truth: it states the last record it covers, and a
/// reader uses it only when the log still holds exactly that record there (else it is rebuilt from
/// the log). Every record it points to is read back with its checksum and chain link checked
/// against the hash the index says comes before it. The layout is in docs/log-format.md.
public struct MappingIndex: Sendable {
    public static let magic: [UInt8] = Array("ESMIDX01".utf8)
    public static let version: UInt16 = 1
    static let headerSize = 144
    static let recordEntrySize = 64
    static let mappingEntrySize = 16
    public static let fileName = "mappings.idx"

    /// `<data-dir>/index`.
    public static func directory(_ dataDirectory: String) -> String { dataDirectory + "/index" }

    /// An events record of the log.
    public struct Entry: Sendable {
        public var segmentIndex: UInt64
        public var start: Int
        public var end: Int
        public var firstSequence: UInt64
        /// The chain hash before the record, as the index states it.
        public var previousHash: ChainHash
        /// Into `dictionaries`; -1 when the record needs none.
        var dictionary: Int32
    }

    var dictionaries: [ZstdDictionary] = []
    /// The dictionary the last record needed, and its id: records come in runs that share one.
    private var lastDictionary: (ZstdDictionary, Int32)?
    var entries: [Entry] = []
    /// For each mapping, its records in log order, as indexes into `entries`.
    var postings: [String: [UInt32]] = [:]
    /// The last record covered, which is the last of `entries` (nil: the log had no events record).
    public private(set) var point: SnapshotPoint?

    public init() {}

    /// Adds an events record after the last one covered, as a scan delivers it.
    public mutating func add(_ position: RecordPosition, _ events: [Event]) {
        let dictionary = position.dictionary.map { adopt($0) } ?? -1
        let id = UInt32(entries.count)
        entries.append(Entry(segmentIndex: position.segmentIndex, start: position.start, end: position.end,
                             firstSequence: events[0].sequence, previousHash: position.previousHash, dictionary: dictionary))
        var previous: String?
        for e in events where e.uuid != previous {
            previous = e.uuid
            if postings[e.uuid]?.last != id { postings[e.uuid, default: []].append(id) }
        }
        point = SnapshotPoint(sequence: position.lastSequence, time: events[events.count - 1].time, position: position)
    }

    /// The id of dictionary `d`, taken in if new.
    mutating func adopt(_ d: ZstdDictionary) -> Int32 {
        if let (last, id) = lastDictionary, last === d { return id }
        // Each segment repeats its dictionary record, and a decoded index makes its own objects:
        // one entry per distinct dictionary.
        let id = Int32(dictionaries.firstIndex(where: { $0.bytes == d.bytes }) ?? dictionaries.count)
        if id == dictionaries.count { dictionaries.append(d) }
        lastDictionary = (d, id)
        return id
    }

    mutating func restorePoint(_ p: SnapshotPoint) { point = p }
}

// MARK: - Keeping it current

extension MappingIndex {
    /// The index file of `dataDirectory` when it is whole; nil when missing or damaged.
    static func load(_ dataDirectory: String, _ fs: any FileSystem) -> MappingIndexFile? {
        let path = path(dataDirectory)
        guard fs.exists(path) else { return nil }
        // Mapped rather than read: a lookup touches a few pages besides the checksum's pass.
        let bytes = fs is POSIXFileSystem ? FileBytes(mapping: path) : (try? fs.read(path)).map(FileBytes.init(copying:))
        return bytes.flatMap(MappingIndexFile.init)
    }

    /// The records after `file`'s last one (up to event `through`, nil: the log's end) and the
    /// scan that read them; nil when the log no longer holds that record as the file states it.
    static func tail(after file: MappingIndexFile, _ location: LogLocation, through: UInt64? = nil) throws
        -> (records: [(RecordPosition, [Event])], scan: LogScan)? {
        guard let point = file.point, point.sequence <= through ?? .max else { return nil }
        var records: [(RecordPosition, [Event])] = []
        let scan = try location.scan(through: through, from: point, visitRecord: { records.append(($0, $1)) })
        return scan.snapshotMismatch == nil ? (records, scan) : nil
    }

    /// Writes the index of `file` with the records of `tail` (those after its point) added.
    static func write(_ file: MappingIndexFile, adding tail: [(RecordPosition, [Event])], dataDirectory: String,
                      fileSystem fs: any FileSystem) throws(StorageError) {
        var index = try file.decoded()
        for (position, events) in tail { index.add(position, events) }
        try index.write(dataDirectory: dataDirectory, fileSystem: fs)
    }

    /// Extends the index of `dataDirectory` with the records after the one it ends with, up to
    /// event `through` (nil: the log's end). Only an index the log agrees with is extended, and
    /// only when the log read has no problem; a missing or stale one is left as it is.
    /// - Returns: the number of events added.
    @discardableResult
    public static func refresh(dataDirectory: String, location: LogLocation, through: UInt64? = nil) throws -> Int {
        let fs = location.fileSystem
        guard let file = load(dataDirectory, fs), let (tail, scan) = try tail(after: file, location, through: through),
            !tail.isEmpty, scan.problems.isEmpty
        else { return 0 }
        try write(file, adding: tail, dataDirectory: dataDirectory, fileSystem: fs)
        return tail.reduce(0) { $0 + $1.1.count }
    }

    /// Builds the index of the whole log in one scan and writes it, when the log has no problem
    /// and holds an events record (a failed write leaves the index as it was: it is a cache).
    /// `visit` sees each record as it is added, and the scan is returned, with its record
    /// boundaries (a reader checks signed checkpoints against them, as any walk of the log does).
    @discardableResult
    public static func build(dataDirectory: String, location: LogLocation,
                             visit: (RecordPosition, [Event]) -> Void = { _, _ in }) throws -> LogScan {
        var index = MappingIndex()
        let scan = try withoutActuallyEscaping(visit) { visit in
            try location.scan(boundaries: true, visitRecord: { position, events in
                index.add(position, events)
                visit(position, events)
            })
        }
        if scan.problems.isEmpty, index.point != nil { try? index.write(dataDirectory: dataDirectory, fileSystem: location.fileSystem) }
        return scan
    }
}

// MARK: - The file

extension MappingIndex {
    public static func path(_ dataDirectory: String) -> String { directory(dataDirectory) + "/" + fileName }

    /// The file's bytes: header, dictionaries, records, mappings sorted by UUID, their keys and
    /// postings, then a CRC-32C of everything before it.
    public func encoded() -> [UInt8] {
        let keys = postings.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let postingCount = postings.values.reduce(0) { $0 + $1.count }
        var b: [UInt8] = []
        b.reserveCapacity(MappingIndex.headerSize + entries.count * MappingIndex.recordEntrySize + keys.count * 60
                          + postingCount * 4 + dictionaries.reduce(0) { $0 + $1.bytes.count + 4 })
        b.append(contentsOf: MappingIndex.magic)
        b.appendLE(MappingIndex.version)
        b.appendLE(UInt16(0))
        b.appendLE(UInt32(dictionaries.count))
        b.appendLE(UInt32(entries.count))
        b.appendLE(UInt32(keys.count))
        b.appendLE(UInt32(postingCount))
        b.appendLE(UInt32(keys.reduce(0) { $0 + $1.utf8.count }))
        let p = point?.position
        b.appendLE(p?.segmentIndex ?? 0)
        b.appendLE(UInt64(p?.start ?? 0))
        b.appendLE(UInt64(p?.end ?? 0))
        b.appendLE(point?.sequence ?? 0)
        b.appendLE(point?.time.milliseconds ?? 0)
        b.appendLE(point == nil ? -1 : entries[entries.count - 1].dictionary)
        b.appendLE(UInt32(0))
        b.append(contentsOf: (p?.previousHash ?? .genesis).bytes)
        b.append(contentsOf: (p?.hash ?? .genesis).bytes)
        for d in dictionaries {
            b.appendLE(UInt32(d.bytes.count))
            b.append(contentsOf: d.bytes)
        }
        for e in entries {
            b.appendLE(e.segmentIndex)
            b.appendLE(UInt64(e.start))
            b.appendLE(UInt32(e.end - e.start))
            b.appendLE(e.dictionary)
            b.appendLE(e.firstSequence)
            b.append(contentsOf: e.previousHash.bytes)
        }
        var keyOffset: UInt32 = 0, postingStart: UInt32 = 0
        for k in keys {
            let n = UInt32(k.utf8.count), count = UInt32(postings[k]!.count)
            b.appendLE(keyOffset)
            b.appendLE(n)
            b.appendLE(postingStart)
            b.appendLE(count)
            keyOffset += n
            postingStart += count
        }
        for k in keys { b.append(contentsOf: k.utf8) }
        for k in keys { for r in postings[k]! { b.appendLE(r) } }
        b.appendLE(CRC32C.checksum(b))
        return b
    }

    /// Writes the index where `path(dataDirectory)` says, replacing the one there at once (a
    /// reader sees the old file or the new one). Not synced: after a crash the file may be
    /// incomplete, and then its checksum fails and it is rebuilt.
    public func write(dataDirectory: String, fileSystem fs: any FileSystem = POSIXFileSystem()) throws(StorageError) {
        let dir = MappingIndex.directory(dataDirectory)
        if !fs.exists(dir) { try fs.makeDirectory(dir) }
        // Several processes may write it at once (a server and a reader): each its own temporary file.
        let tmp = dir + "/" + MappingIndex.fileName + ".\(getpid()).tmp"
        if fs.exists(tmp) { try fs.remove(tmp) }
        let f = try fs.create(tmp)
        do throws(StorageError) {
            try f.write(encoded(), at: 0)
            f.close()
            try fs.rename(tmp, MappingIndex.path(dataDirectory))
        } catch {
            f.close()
            try? fs.remove(tmp)
            throw error
        }
    }
}
