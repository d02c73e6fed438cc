import Dispatch
import ESMCore
import Foundation
import Logging

// Snapshot file, version 3 (docs/log-format.md, "Snapshots"):
//   0   8  magic "ESMSNAP1"       8   2  version (3; 1 and 2 are still read)  10  2  header size (160)
//   12  4  zero                   16  8  sequence: the last event the snapshot includes
//   24  8  that event's time, ms  32  32 chain hash after the log record holding that event
//   64  32 chain hash before it   96  8  that record's segment index
//   104 8  its start offset       112 8  its end offset      120 8  mapping count
//   128 8  stored body length     136 8  body length before compression
//   144 4  dictionary length (0: none)                       148 4  CRC-32C of bytes 160..<end
//   152 4  zero                   156 4  CRC-32C of bytes 0..<156
//   160 .. the zstd dictionary in force at that record, then the body: zstd frames (one in
//          versions 1 and 2; in version 3 up to 8, each ending at a record, so that they are
//          decompressed on every core) of, per mapping in creation order, a 4-byte length and the
//          mapping's record: in versions 2 and 3 `Mapping.writeSnapshotRecord` (fixed fields, and
//          the configuration's canonical bytes as the mapping keeps them); in version 1
//          `Mapping.snapshotJSON` in packed form (`JSON.packedBytes`)

/// Where a snapshot stands in the log.
public struct SnapshotPoint: Sendable {
    public var sequence: UInt64
    public var time: EventTime
    /// The log record holding the snapshot's last event.
    public var position: RecordPosition
    /// The chain hash after that record.
    public var hash: ChainHash { position.hash }
}

/// Snapshots of the projection in `<data-dir>/snapshots`: written atomically, checked on load,
/// a few kept. A snapshot never replaces the log; it only shortens replay.
public struct SnapshotStore: Sendable {
    public static let magic: [UInt8] = Array("ESMSNAP1".utf8)
    /// The version written; versions 1 and 2 are still read.
    public static let version: UInt16 = 3
    /// The most frames a body is cut into, and the fewest bytes (before compression) in a frame.
    /// Fixed, not the writer's cores: the same state makes the same file on every machine.
    static let framesMax = 8
    static let frameBytesMin = 4 << 20
    public static let headerSize = 160
    public static let suffix = ".snap"
    /// Snapshots kept: the newest few, so a damaged newest one still leaves a recent fallback.
    public static let keepCount = 3
    /// A body larger than this is damage, not data (about 20 million mappings).
    public static let bodyBytesMax = 8 << 30

    public let directory: String
    let fs: any FileSystem

    public init(directory: String, fileSystem: any FileSystem = POSIXFileSystem()) {
        self.directory = directory
        self.fs = fileSystem
    }

    public static func directory(_ dataDirectory: String) -> String { dataDirectory + "/snapshots" }

    static func name(_ sequence: UInt64) -> String { "snapshot-" + LogFormat.pad(sequence, 20) + suffix }

    /// The snapshot files, newest (highest sequence) first.
    public func list() throws(StorageError) -> [(name: String, sequence: UInt64)] {
        guard fs.exists(directory) else { return [] }
        return try fs.list(directory).compactMap { name in
            guard name.hasPrefix("snapshot-"), name.hasSuffix(SnapshotStore.suffix),
                let s = UInt64(name.dropFirst("snapshot-".count).dropLast(SnapshotStore.suffix.count))
            else { return nil }
            return (name, s)
        }.sorted { $0.sequence > $1.sequence }
    }

    /// Writes a snapshot: temporary file, fsync, rename, fsync of the folder.
    /// - Returns: the file's name.
    @discardableResult
    public func write(_ projection: Projection, at position: RecordPosition) throws(StorageError) -> String {
        try write(projection, at: position, version: SnapshotStore.version)
    }

    /// `write` in a given version (the tests write the older ones to check they are still read),
    /// with frames of at least `frameBytes` (the tests make several of a small state).
    func write(_ projection: Projection, at position: RecordPosition, version: UInt16,
               frameBytes: Int = SnapshotStore.frameBytesMin) throws(StorageError) -> String {
        precondition(position.lastSequence == projection.lastSequence, "a snapshot points at the record of its last event")
        precondition((1...3).contains(version))
        var raw: [UInt8] = []
        raw.reserveCapacity(projection.mappings.count * 1024)
        var starts: [Int] = []
        starts.reserveCapacity(projection.mappings.count)
        for m in projection.all {
            let start = raw.count
            starts.append(start)
            raw.appendLE(UInt32(0))  // the length, filled in below
            if version == 1 { raw.append(contentsOf: m.snapshotJSON.packedBytes) } else { m.writeSnapshotRecord(to: &raw) }
            let n = UInt32(raw.count - start - 4).littleEndian
            raw.withUnsafeMutableBytes { $0.storeBytes(of: n, toByteOffset: start, as: UInt32.self) }
        }
        let dictionary = position.dictionary?.bytes ?? []
        let cuts = version < 3 ? [0, raw.count] : SnapshotStore.frameCuts(starts, end: raw.count, frameBytes: frameBytes)
        let body = raw
        var tail = dictionary
        for frame in Slots.concurrentMap(cuts.count - 1, { k in Zstd().compress(body[cuts[k]..<cuts[k + 1]]) }) { tail += frame }
        var h: [UInt8] = []
        h.append(contentsOf: SnapshotStore.magic)
        h.appendLE(version)
        h.appendLE(UInt16(SnapshotStore.headerSize))
        h.appendLE(UInt32(0))
        h.appendLE(projection.lastSequence)
        h.appendLE(projection.lastTime.milliseconds)
        h.append(contentsOf: position.hash.bytes)
        h.append(contentsOf: position.previousHash.bytes)
        h.appendLE(position.segmentIndex)
        h.appendLE(UInt64(position.start))
        h.appendLE(UInt64(position.end))
        h.appendLE(UInt64(projection.mappings.count))
        h.appendLE(UInt64(tail.count - dictionary.count))
        h.appendLE(UInt64(raw.count))
        h.appendLE(UInt32(dictionary.count))
        h.appendLE(CRC32C.checksum(tail))
        h.appendLE(UInt32(0))
        h.appendLE(CRC32C.checksum(h))
        assert(h.count == SnapshotStore.headerSize)
        try fs.makeDirectory(directory)
        let name = SnapshotStore.name(projection.lastSequence)
        let path = directory + "/" + name
        try fs.writeAtomically(h + tail, to: path, directory: directory)
        return name
    }

    /// Where the body's frames begin and end: at record starts, about evenly, each at least
    /// `frameBytes` long (one frame for a small body).
    static func frameCuts(_ recordStarts: [Int], end: Int, frameBytes: Int) -> [Int] {
        let frames = max(1, min(framesMax, end / max(1, frameBytes)))
        var cuts = [0]
        var r = 0
        for k in 1..<frames {
            let target = end / frames * k
            while r < recordStarts.count, recordStarts[r] < target { r += 1 }
            if r < recordStarts.count, recordStarts[r] > cuts.last! { cuts.append(recordStarts[r]) }
        }
        cuts.append(end)
        return cuts
    }

    /// The time of a snapshot's last event, from its header alone; nil when the header is not a
    /// whole snapshot header (the snapshot would then be skipped when loaded).
    public func time(of name: String) -> EventTime? {
        guard let h = try? fs.read(directory + "/" + name, offset: 0, count: SnapshotStore.headerSize),
            SnapshotStore.headerProblem(h) == nil
        else { return nil }
        return EventTime(milliseconds: h.readLE(Int64.self, at: 24))
    }

    /// What is wrong with the header at the start of `b`, if anything: too short, not a
    /// snapshot, or its checksum.
    static func headerProblem(_ b: [UInt8]) -> String? {
        guard b.count >= SnapshotStore.headerSize, Array(b[0..<8]) == SnapshotStore.magic else { return "not a snapshot" }
        guard CRC32C.checksum(Array(b[0..<156])) == b.readLE(UInt32.self, at: 156) else { return "header checksum mismatch" }
        return nil
    }

    /// Reads and checks a snapshot.
    /// - Parameter indexed: whether the projection keeps indexes (`Projection.isIndexed`); the
    ///   snapshot is checked the same either way.
    /// - Throws: `StorageError(.corruption)` saying what is wrong with it.
    public func load(_ name: String, indexed: Bool = true) throws(StorageError) -> (projection: Projection, point: SnapshotPoint) {
        let opened = try open(name)
        return (try restore(opened, indexed: indexed), opened.point)
    }

    /// A snapshot read and checked as far as its header, body checksum and dictionary: where it
    /// stands in the log is known before its mappings are restored (so the log after it can be
    /// read meanwhile).
    public struct Opened: Sendable {
        public let name: String
        public let point: SnapshotPoint
        let version: UInt16
        let count: UInt64
        let rawSize: Int
        let body: ArraySlice<UInt8>
    }

    /// The first half of `load`.
    /// - Throws: `StorageError(.corruption)` saying what is wrong with the snapshot.
    public func open(_ name: String) throws(StorageError) -> Opened {
        let b = try fs.read(directory + "/" + name)
        func bad(_ why: String) -> StorageError { StorageError(.corruption, "snapshot \(name): \(why)") }
        if let problem = SnapshotStore.headerProblem(b) { throw bad(problem) }
        let version = b.readLE(UInt16.self, at: 8)
        guard (1...3).contains(version), b.readLE(UInt16.self, at: 10) == SnapshotStore.headerSize else {
            throw StorageError(.unsupportedVersion, "snapshot \(name): unknown version")
        }
        let sequence = b.readLE(UInt64.self, at: 16)
        let time = EventTime(milliseconds: b.readLE(Int64.self, at: 24))
        let count = b.readLE(UInt64.self, at: 120)
        let stored = Int(b.readLE(UInt64.self, at: 128)), rawSize = b.readLE(UInt64.self, at: 136)
        let dictionaryLength = Int(b.readLE(UInt32.self, at: 144))
        guard dictionaryLength + stored == b.count - SnapshotStore.headerSize, rawSize <= UInt64(SnapshotStore.bodyBytesMax) else {
            throw bad("body length mismatch")
        }
        guard CRC32C.checksum(Array(b[SnapshotStore.headerSize...])) == b.readLE(UInt32.self, at: 148) else { throw bad("body checksum mismatch") }
        var dictionary: ZstdDictionary?
        if dictionaryLength > 0 {
            guard let d = ZstdDictionary(Array(b[SnapshotStore.headerSize..<(SnapshotStore.headerSize + dictionaryLength)])) else {
                throw bad("dictionary is not a zstd dictionary")
            }
            dictionary = d
        }
        let position = RecordPosition(
            segmentIndex: b.readLE(UInt64.self, at: 96), start: Int(b.readLE(UInt64.self, at: 104)), end: Int(b.readLE(UInt64.self, at: 112)),
            previousHash: ChainHash(bytes: Array(b[64..<96])), hash: ChainHash(bytes: Array(b[32..<64])), lastSequence: sequence,
            dictionary: dictionary)
        return Opened(name: name, point: SnapshotPoint(sequence: sequence, time: time, position: position), version: version, count: count,
                      rawSize: Int(rawSize), body: b[(SnapshotStore.headerSize + dictionaryLength)...])
    }

    /// The second half of `load`: the mappings of a snapshot `open` read.
    /// - Throws: `StorageError(.corruption)` saying what is wrong with the snapshot.
    public func restore(_ opened: Opened, indexed: Bool = true) throws(StorageError) -> Projection {
        let (name, version, count, sequence, time) = (opened.name, opened.version, opened.count, opened.point.sequence, opened.point.time)
        func bad(_ why: String) -> StorageError { StorageError(.corruption, "snapshot \(name): \(why)") }
        var read: [SnapshotPart] = []
        if version >= 3, let byFrame = SnapshotStore.readFrameByFrame(opened.body, size: opened.rawSize, version: version, indexed: indexed) {
            read = byFrame
        } else {
            // The whole body at once; this also says what is wrong with a body that the frame-by-frame
            // read could not take.
            guard let raw = SnapshotStore.decompress(opened.body, size: opened.rawSize, oneFrame: version < 3) else { throw bad("body does not decompress") }
            var ranges: [Range<Int>] = []
            ranges.reserveCapacity(Int(min(count, 1 << 24)))
            guard SnapshotStore.records(in: raw, count: raw.count, into: &ranges) else { throw bad("record runs past the body") }
            // Parsed on every core: the records are independent, and parsing is most of the cost
            // of a start-up from a snapshot.
            let workers = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
            let chunk = (ranges.count + workers - 1) / workers
            let records = ranges, file = name
            let results = Slots.concurrentMap(workers) { w -> Result<SnapshotPart, StorageError> in
                let slice = records[min(records.count, w * chunk)..<min(records.count, (w + 1) * chunk)]
                var part = SnapshotPart(version: version, indexed: indexed, capacity: slice.count)
                for (k, r) in zip(slice.indices, slice) {
                    do { try part.add(raw[r]) } catch {
                        return .failure(StorageError(.corruption, "snapshot \(file): mapping \(k): \(error)"))
                    }
                }
                return .success(part)
            }
            for result in results { read.append(try result.get()) }
        }
        let parts = read.map(\.mappings), keys = read.map(\.keys)
        let total = parts.reduce(0) { $0 + $1.count }
        guard UInt64(total) == count else { throw bad("holds \(total) mappings, header says \(count)") }
        // The table of mappings and the indexes share nothing: one is built on each core.
        let table = Slots<Result<Projection.RestoredTable, ProjectionError>>(count: 1)
        let indexes = Slots<Result<Projection.RestoredIndexes, ProjectionError>>(count: 1)
        let all = consume parts, allKeys = consume keys
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 {
                table[0] = Result { () throws(ProjectionError) in try Projection.RestoredTable(all, lastSequence: sequence) }
            } else {
                indexes[0] = Result { () throws(ProjectionError) in
                    try Projection.RestoredIndexes(all, indexKeys: indexed ? allKeys : [], lastSequence: sequence, build: indexed)
                }
            }
        }
        do {
            return Projection(restoring: try table[0]!.get(), try indexes[0]!.get(), lastSequence: sequence, lastTime: time)
        } catch {
            throw bad("\(error)")
        }
    }

    /// The record ranges of `raw`'s first `count` bytes (each behind its 4-byte length), appended
    /// to `ranges`; false when the last one runs past them.
    static func records(in raw: [UInt8], count: Int, into ranges: inout [Range<Int>]) -> Bool {
        var i = 0
        while i < count {
            guard count - i >= 4 else { return false }
            let n = Int(raw.readLE(UInt32.self, at: i))
            i += 4
            guard n <= count - i else { return false }
            ranges.append(i..<(i + n))
            i += n
        }
        return true
    }

    /// A body of several frames read a frame at a time: each core decompresses its frames in
    /// turn into one buffer of its own and reads their records from it at once, so the body is
    /// never held whole (63 MB at 100,000 mappings) and each frame is read while its bytes are
    /// still in the cache. Frames end at records (`frameCuts`).
    /// - Returns: the mappings and their index keys, in parts in body order; nil when the body
    ///   has one frame, or anything in it is wrong (the whole-body read then says what).
    static func readFrameByFrame(_ body: ArraySlice<UInt8>, size: Int, version: UInt16, indexed: Bool) -> [SnapshotPart]? {
        guard let frames = Zstd.frames(in: body), frames.count > 1, frames.reduce(0, { $0 + $1.contentSize }) == size else { return nil }
        let workers = max(1, min(frames.count, ProcessInfo.processInfo.activeProcessorCount))
        let chunk = (frames.count + workers - 1) / workers
        let read = Slots.concurrentMap(workers) { w -> SnapshotPart? in
            let mine = frames[min(frames.count, w * chunk)..<min(frames.count, (w + 1) * chunk)]
            var buffer = [UInt8](repeating: 0, count: mine.map(\.contentSize).max() ?? 0)
            var part = SnapshotPart(version: version, indexed: indexed, capacity: 0)
            let zstd = Zstd()
            var ranges: [Range<Int>] = []
            for f in mine {
                let frame = body[(body.startIndex + f.bytes.lowerBound)..<(body.startIndex + f.bytes.upperBound)]
                let n = f.contentSize
                guard buffer.withUnsafeMutableBytes({ zstd.decompress(frame, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n])) }) else { return nil }
                ranges.removeAll(keepingCapacity: true)
                guard SnapshotStore.records(in: buffer, count: n, into: &ranges) else { return nil }
                do { for r in ranges { try part.add(buffer[r]) } } catch { return nil }
            }
            return part
        }
        let parts = read.compactMap { $0 }
        return parts.count == read.count ? parts : nil
    }

    /// The body's frames decompressed, each on its own thread, into one array of `size` bytes.
    /// - Returns: nil when a frame is damaged, or their sizes do not add up to `size`.
    public static func decompress(_ body: ArraySlice<UInt8>, size: Int, oneFrame: Bool) -> [UInt8]? {
        guard let frames = Zstd.frames(in: body), !frames.isEmpty, !oneFrame || frames.count == 1,
            frames.reduce(0, { $0 + $1.contentSize }) == size
        else { return nil }
        var starts = [0]
        for f in frames { starts.append(starts.last! + f.contentSize) }
        let offsets = starts
        var done: [Bool] = []
        let raw = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { buffer, initialized in
            let shared = SharedBuffer(UnsafeMutableRawBufferPointer(buffer))
            done = Slots.concurrentMap(frames.count) { k in
                let f = frames[k].bytes
                let frame = body[(body.startIndex + f.lowerBound)..<(body.startIndex + f.upperBound)]
                return Zstd().decompress(frame, into: UnsafeMutableRawBufferPointer(rebasing: shared.bytes[offsets[k]..<offsets[k + 1]]))
            }
            // Bytes a failed frame did not write are never read: the array is then dropped.
            initialized = size
        }
        return done.allSatisfy { $0 } ? raw : nil
    }

    /// Removes all but the newest `keep` snapshots (and leftover temporary files).
    public func prune(keep: Int = SnapshotStore.keepCount) throws(StorageError) {
        for (name, _) in try list().dropFirst(keep) { try fs.remove(directory + "/" + name) }
        for name in try fs.list(directory) where name.hasSuffix(".tmp") { try fs.remove(directory + "/" + name) }
    }
}

/// One result slot per iteration of `concurrentPerform`, each written by its own iteration and
/// read after it has returned.
final class Slots<T>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<T?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    subscript(i: Int) -> T? {
        get { slots[i] }
        set { slots[i] = newValue }
    }

    /// Moves a slot's value out (the slot is left empty), so that what it holds is held once.
    func take(_ i: Int) -> T? {
        var v: T?
        swap(&v, &slots[i])
        return v
    }

    /// `body` of each of `0..<count`, run at the same time on every core (`concurrentPerform`),
    /// and its results in order.
    static func concurrentMap(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let results = Slots(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { results[$0] = body($0) }
        return (0..<count).map { results.take($0)! }
    }
}

/// Bytes that the iterations of `concurrentPerform` write, each its own range.
struct SharedBuffer: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer
    init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }
}


/// The mappings one thread reads from a snapshot's records, with their index keys.
struct SnapshotPart {
    var mappings: [Mapping] = []
    var keys: [Mapping.IndexKeys] = []
    let version: UInt16
    let indexed: Bool
    /// One copy of each function ARN: many mappings share a function, and a copy made on this
    /// thread and freed by another would leave a hole in this thread's heap that nothing reuses
    /// (8 MB at 100k mappings of 50 functions).
    private var functions: [String: String] = [:]

    init(version: UInt16, indexed: Bool, capacity: Int) {
        self.version = version
        self.indexed = indexed
        mappings.reserveCapacity(capacity)
        if indexed { keys.reserveCapacity(capacity) }
    }

    mutating func add(_ record: ArraySlice<UInt8>) throws {
        let m = version == 1 ? try Mapping(snapshotJSON: JSON.unpack(record)) : try Mapping(snapshotRecord: record)
        mappings.append(m)
        guard indexed else { return }
        var key = m.indexKeys
        if let same = functions[key.functionArn] { key.functionArn = same } else { functions[key.functionArn] = key.functionArn }
        keys.append(key)
    }
}
