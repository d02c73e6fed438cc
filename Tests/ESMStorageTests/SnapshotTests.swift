import ESMCore
import Foundation
import Logging
import Testing
@testable import ESMStorage

/// Collects log messages so tests can see which path start-up took.
final class MessageLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    var messages: [String] { lock.withLock { items } }
    func add(_ s: String) { lock.withLock { items.append(s) } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: MessageLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            log.add("\(message) \(metadata ?? [:])")
        }
    }
}

func fullReplay(_ dir: TempDirectory) throws -> Projection {
    var p = Projection()
    _ = try LogScanner(directory: dir.wal).scan { try p.apply($0) }
    return p
}

func openStore(_ dir: TempDirectory, logger: Logger, snapshotEvery: UInt64 = 0, segmentSizeBytes: Int = 1 << 20) throws -> Store {
    var options = StoreOptions()
    options.snapshotEveryEvents = snapshotEvery
    options.segmentSizeBytes = segmentSizeBytes
    return try Store(dataDirectory: dir.path, options: options, logger: logger)
}

@Suite struct SnapshotTests {
    @Test func snapshotRoundTripsToTheSameBytes() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 30)
        let state = try fullReplay(dir)
        let scan = try LogScanner(directory: dir.wal).scan()
        let snapshots = SnapshotStore(directory: SnapshotStore.directory(dir.path))
        let position = try #require(scan.lastEvents)
        let name = try snapshots.write(state, at: position)
        let loaded = try snapshots.load(name)
        #expect(loaded.projection.canonicalBytes == state.canonicalBytes)
        #expect(loaded.point.sequence == 30 && loaded.point.hash == position.hash)
        #expect(loaded.point.position.start == position.start && loaded.point.position.end == position.end)
        // Indexes are rebuilt too: list pages and lookups agree.
        #expect(loaded.projection.page(eventSourceArn: nil, functionArn: nil, after: nil, limit: 7).mappings.map(\.uuid)
                == state.page(eventSourceArn: nil, functionArn: nil, after: nil, limit: 7).mappings.map(\.uuid))
    }

    @Test func aSnapshotOfVersionOneIsStillReadToTheSameState() async throws {
        // Version 2 keeps each configuration's canonical bytes; version 1 (packed JSON) files
        // written before it must load to the same state. Tags and a nested configuration included.
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 12)
        var state = try fullReplay(dir)
        let scan = try LogScanner(directory: dir.wal).scan()
        let position = try #require(scan.lastEvents)
        var tagged = try #require(state.mappings[uuid(3)])
        tagged.tags = JSONObject([("team", "payments"), ("ünï", "✓")])
        tagged.updateConfiguration(set: JSONObject([("FilterCriteria", ["Filters": [["Pattern": #"{"a":["b"]}"#]]])]), unset: [])
        state = try Projection(restoring: state.all.map { $0.uuid == tagged.uuid ? tagged : $0 }, lastSequence: state.lastSequence, lastTime: state.lastTime)
        for version: UInt16 in [1, 2, 3] {
            let folder = TempDirectory()
            let snapshots = SnapshotStore(directory: SnapshotStore.directory(folder.path))
            // Version 3 cut into frames of about 1 KiB: several, for 12 mappings.
            let name = try snapshots.write(state, at: position, version: version, frameBytes: 1024)
            let bytes = try POSIXFileSystem().read(snapshots.directory + "/" + name)
            #expect(bytes.readLE(UInt16.self, at: 8) == version)
            let frames = try #require(Zstd.frames(in: bytes[(SnapshotStore.headerSize + Int(bytes.readLE(UInt32.self, at: 144)))...]))
            #expect(version == 3 ? frames.count >= 3 && frames.count <= SnapshotStore.framesMax : frames.count == 1, "version \(version)")
            let loaded = try snapshots.load(name)
            #expect(loaded.projection.canonicalBytes == state.canonicalBytes, "version \(version)")
            var a: [UInt8] = [], b: [UInt8] = []
            loaded.projection.mappings[tagged.uuid]!.writeResponse(to: &a)
            tagged.writeResponse(to: &b)
            #expect(a == b && loaded.projection.mappings[tagged.uuid]!.tags == tagged.tags, "version \(version)")
        }
        // What is written now is version 3.
        let now = SnapshotStore(directory: SnapshotStore.directory(TempDirectory().path))
        let name = try now.write(state, at: position)
        #expect(try POSIXFileSystem().read(now.directory + "/" + name).readLE(UInt16.self, at: 8) == SnapshotStore.version && SnapshotStore.version == 3)
    }

    /// Version 3's frames end at records, about evenly, at most `framesMax` of them; a file that
    /// says version 2 (one frame) but holds several is refused, whatever its checksums say.
    @Test func framesEndAtRecordsAndOnlyVersionThreeHasSeveral() async throws {
        let starts = Array(stride(from: 0, to: 100_000, by: 700))
        let cuts = SnapshotStore.frameCuts(starts, end: 100_000, frameBytes: 10_000)
        #expect(cuts.count == SnapshotStore.framesMax + 1 && cuts.first == 0 && cuts.last == 100_000)
        #expect(cuts.dropLast().allSatisfy { starts.contains($0) } && zip(cuts, cuts.dropFirst()).allSatisfy { $0 < $1 })
        #expect(SnapshotStore.frameCuts(starts, end: 100_000, frameBytes: 4 << 20) == [0, 100_000])
        #expect(SnapshotStore.frameCuts([], end: 0, frameBytes: 1) == [0, 0])

        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 12)
        let state = try fullReplay(dir)
        let position = try #require(try LogScanner(directory: dir.wal).scan().lastEvents)
        let snapshots = SnapshotStore(directory: SnapshotStore.directory(dir.path))
        let name = try snapshots.write(state, at: position, version: 3, frameBytes: 1024)
        #expect(try snapshots.load(name).projection.canonicalBytes == state.canonicalBytes)
        var b = try POSIXFileSystem().read(snapshots.directory + "/" + name)
        b.replaceSubrange(8..<10, with: [2, 0])
        b.replaceSubrange(156..<160, with: withUnsafeBytes(of: CRC32C.checksum(Array(b[0..<156])).littleEndian, Array.init))
        try Data(b).write(to: URL(fileURLWithPath: snapshots.directory + "/" + name))
        let error = #expect(throws: StorageError.self) { try snapshots.load(name) }
        #expect("\(error!)".contains("does not decompress"))
    }

    /// A body of several frames read a frame at a time gives the mappings in body order, each
    /// with its keys, as a read of the whole body does; one frame, a frame cut inside a record or
    /// sizes that do not add up are left to the whole-body read. (Damage is the body checksum's
    /// to find, before either read.)
    @Test func framesReadOneByOneGiveTheMappingsInOrder() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 30)
        let all = try fullReplay(dir).all
        var raw: [UInt8] = [], starts: [Int] = []
        for m in all {
            starts.append(raw.count)
            var record: [UInt8] = []
            m.writeSnapshotRecord(to: &record)
            raw += withUnsafeBytes(of: UInt32(record.count).littleEndian, Array.init) + record
        }
        func body(_ cuts: [Int]) -> ArraySlice<UInt8> {
            ArraySlice(zip(cuts, cuts.dropFirst()).flatMap { Zstd().compress(raw[$0..<$1]) })
        }
        let cuts = SnapshotStore.frameCuts(starts, end: raw.count, frameBytes: 500)
        #expect(cuts.count > 3)
        for indexed in [true, false] {
            let read = try #require(SnapshotStore.readFrameByFrame(body(cuts), size: raw.count, version: 3, indexed: indexed))
            #expect(read.flatMap(\.mappings) == all)
            #expect(read.flatMap(\.keys).map(\.functionArn) == (indexed ? all.map(\.functionArn) : []))
            #expect(read.flatMap(\.keys).map(\.eventSourceArn) == (indexed ? all.map(\.eventSourceArn) : []))
        }
        #expect(SnapshotStore.readFrameByFrame(body([0, raw.count]), size: raw.count, version: 3, indexed: true) == nil)
        var inside = cuts
        inside[1] += 1
        #expect(SnapshotStore.readFrameByFrame(body(inside), size: raw.count, version: 3, indexed: true) == nil)
        #expect(SnapshotStore.readFrameByFrame(body(cuts), size: raw.count + 1, version: 3, indexed: true) == nil)
    }

    /// Time travel loads whole only the snapshot it starts from: later ones are passed over by
    /// their name (a sequence) or their header (a time).
    @Test(arguments: ["sequence", "time"])
    func timeTravelLoadsOnlyTheSnapshotItStartsFrom(_ by: String) async throws {
        let dir = TempDirectory()
        let store = try openStore(dir, logger: quietLogger, snapshotEvery: 0, segmentSizeBytes: 4096)
        var times: [UInt64: EventTime] = [:]
        for i in 1...40 {
            try await store.create(i, at: 1_700_000_000_000 + Int64(i) * 1000)
            if i % 10 == 0 {
                try store.snapshot()
                times[UInt64(i)] = EventTime(milliseconds: 1_700_000_000_000 + Int64(i) * 1000)
            }
        }
        store.close()
        final class Counting: ForwardingFileSystem, @unchecked Sendable {
            let lock = NSLock()
            var whole: [String] = []
            override func read(_ path: String) throws(StorageError) -> [UInt8] {
                if path.hasSuffix(SnapshotStore.suffix) { lock.withLock { whole.append(path) } }
                return try base.read(path)
            }
        }
        let fs = Counting()
        let snapshots = SnapshotStore(directory: SnapshotStore.directory(dir.path), fileSystem: fs)
        #expect(try snapshots.list().count == 3)  // 40, 30, 20 kept
        let point: StateLoader.Point = by == "sequence" ? .sequence(25) : .time(EventTime(milliseconds: times[20]!.milliseconds + 5_000))
        let loaded = try StateLoader.load(try SegmentFiles(dataDirectory: dir.path).location(), snapshots: snapshots, at: point,
                                          imported: .fold, logger: quietLogger)
        #expect(loaded.snapshot == SnapshotStore.name(20) && loaded.projection.lastSequence == 25)
        #expect(fs.whole.map { String($0.split(separator: "/").last!) } == [SnapshotStore.name(20)])
    }

    @Test func startUpUsesTheSnapshotAndReadsOnlyTheLogAfterIt() async throws {
        let dir = TempDirectory()
        let messages = MessageLog()
        let store = try openStore(dir, logger: messages.logger, snapshotEvery: 20, segmentSizeBytes: 4096)
        for i in 1...70 { try await store.create(i) }
        let live = store.read { $0.canonicalBytes }
        store.close()
        let kept = try SnapshotStore(directory: SnapshotStore.directory(dir.path)).list()
        #expect(kept.count == SnapshotStore.keepCount)
        #expect(kept.first!.sequence >= 60)
        let again = MessageLog()
        let reopened = try openStore(dir, logger: again.logger)
        #expect(reopened.read { $0.canonicalBytes } == live)
        try await reopened.create(71)
        reopened.close()
        #expect(again.messages.contains { $0.hasPrefix("snapshot loaded") })
        #expect(try fullReplay(dir).lastSequence == 71)
    }

    @Test(arguments: ["flip", "truncate", "empty", "foreign", "count"])
    func damagedSnapshotsFallBackToTheRightState(_ damage: String) async throws {
        let dir = TempDirectory()
        let store = try openStore(dir, logger: quietLogger, snapshotEvery: 10)
        for i in 1...35 { try await store.create(i) }
        let live = store.read { $0.canonicalBytes }
        store.close()
        let snapshots = SnapshotStore(directory: SnapshotStore.directory(dir.path))
        let newest = try #require(try snapshots.list().first)
        let path = snapshots.directory + "/" + newest.name
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        switch damage {
        case "flip": bytes[bytes.count / 2] ^= 0x10
        case "truncate": bytes.removeLast(bytes.count / 3)
        case "empty": bytes = []
        case "count":
            // Header and checksums right, but the mappings do not restore: the header claims one
            // more than the body holds. The log after it is already being read when that shows.
            let claimed = bytes.readLE(UInt64.self, at: 120) + 1
            bytes.replaceSubrange(120..<128, with: withUnsafeBytes(of: claimed.littleEndian, Array.init))
            let crc = CRC32C.checksum(Array(bytes[0..<156]))
            bytes.replaceSubrange(156..<160, with: withUnsafeBytes(of: crc.littleEndian, Array.init))
        default:
            // A well-formed snapshot of another log: its hash does not match this log's.
            let other = TempDirectory()
            _ = try await makeLog(other, count: Int(newest.sequence))
            let state = try fullReplay(other)
            let name = try SnapshotStore(directory: SnapshotStore.directory(other.path))
                .write(state, at: try #require(try LogScanner(directory: other.wal).scan().lastEvents))
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: SnapshotStore.directory(other.path) + "/" + name)))
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let messages = MessageLog()
        let reopened = try openStore(dir, logger: messages.logger)
        #expect(reopened.read { $0.canonicalBytes } == live)
        reopened.close()
        #expect(messages.messages.contains { $0.hasPrefix("snapshot skipped") && $0.contains(newest.name) })
        // With every snapshot gone, the whole log gives the same state.
        try FileManager.default.removeItem(atPath: snapshots.directory)
        #expect(try openStore(dir, logger: quietLogger).read { $0.canonicalBytes } == live)
    }
}

/// SplitMix64: a small seeded generator, so a failing seed can be run again.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct DeterminismTests {
    static let seeds: [UInt64] = Array(1...12)

    /// Random commands through a live store; then the state must be byte-identical however it is
    /// rebuilt: full replay, reopening, a snapshot at a random point plus the tail, and time
    /// travel to every recorded point by sequence and by time.
    @Test(arguments: seeds)
    func everyWayOfRebuildingGivesTheSameBytes(seed: UInt64) async throws {
        var rng = SeededGenerator(state: seed)
        let dir = TempDirectory()
        let store = try openStore(dir, logger: quietLogger, segmentSizeBytes: 8192)
        var clock: Int64 = 1_790_000_000_000
        var seen: [UInt64: (bytes: [UInt8], time: EventTime)] = [:]
        var created = 0
        for _ in 0..<150 {
            clock += Int64.random(in: 1...5000, using: &rng)
            let now = EventTime(milliseconds: clock)
            let known = store.read { Array($0.mappings.keys).sorted() }
            let target = known.randomElement(using: &rng)
            let context = CommandContext(time: now, actor: testActor, account: "123456789012")
            let roll = Int.random(in: 0..<100, using: &rng)
            do {
                if roll < 30 || target == nil {
                    created += 1
                    let id = uuid(created)
                    let body: JSON = Bool.random(using: &rng)
                        ? ["EventSourceArn": .string("arn:aws:sqs:us-east-1:123456789012:q\(Int.random(in: 0..<8, using: &rng))"),
                           "FunctionName": .string("fn\(Int.random(in: 0..<3, using: &rng))"), "Enabled": .bool(Bool.random(using: &rng))]
                        : ["EventSourceArn": .string("arn:aws:kinesis:us-east-1:123456789012:stream/s\(Int.random(in: 0..<8, using: &rng))"),
                           "FunctionName": "fn", "StartingPosition": "LATEST", "BatchSize": .number(Double(Int.random(in: 1...500, using: &rng)))]
                    _ = try await store.perform(uuid: id, now: now) { view, time in
                        var c = context
                        c.time = time
                        return Decider.create(body: body, uuid: id, context: c, state: view).map { Optional($0) }
                    }
                } else if roll < 60, let target {
                    let body: JSON = ["BatchSize": .number(Double(Int.random(in: 1...10, using: &rng))), "Enabled": .bool(Bool.random(using: &rng))]
                    _ = try await store.perform(uuid: target, now: now) { view, time in
                        var c = context
                        c.time = time
                        return Decider.update(uuid: target, body: body, context: c, state: view).map { Optional($0) }
                    }
                } else if roll < 70, let target {
                    _ = try await store.perform(uuid: target, now: now) { view, time in
                        var c = context
                        c.time = time
                        return Decider.delete(uuid: target, context: c, state: view)
                    }
                } else if let target {
                    _ = try await store.perform(uuid: target, now: now) { view, time in
                        .success(Decider.completeTransition(uuid: target, time: time, state: view))
                    }
                }
            } catch is AWSError {
                // Rejected commands (in use, conflicts) write nothing; that is part of the test.
            }
            let (sequence, bytes, time) = store.read { ($0.lastSequence, $0.canonicalBytes, $0.lastTime) }
            seen[sequence] = (bytes, time)
        }
        let live = store.read { $0.canonicalBytes }
        store.close()

        #expect(try fullReplay(dir).canonicalBytes == live, "seed \(seed): full replay")
        // Events handed from the scan to the apply one or two at a time, with at most one chunk
        // waiting: the scan waits for the apply at almost every event.
        for chunking in [StateLoader.Chunking(events: 1, waiting: 1), StateLoader.Chunking(events: 2, waiting: 1)] {
            let small = try StateLoader.load(try SegmentFiles(dataDirectory: dir.path).location(), snapshots: SnapshotStore(directory: TempDirectory().path),
                                             imported: .refuse, chunking: chunking, logger: quietLogger)
            #expect(small.projection.canonicalBytes == live && small.scan != nil, "seed \(seed): chunks of \(chunking.events)")
        }
        #expect(try openStore(dir, logger: quietLogger).read { $0.canonicalBytes } == live, "seed \(seed): reopen")

        let scan = try LogScanner(directory: dir.wal).scan(collectBoundaries: true)
        let boundaries = scan.segments.flatMap(\.boundaries)
        let snapshots = SnapshotStore(directory: SnapshotStore.directory(dir.path))
        for _ in 0..<3 {
            let b = boundaries.randomElement(using: &rng)!
            var p = Projection()
            _ = try LogScanner(directory: dir.wal).scan(through: b.lastSequence) { try p.apply($0) }
            try? FileManager.default.removeItem(atPath: snapshots.directory)
            try snapshots.write(p, at: b)
            let (head, used) = try TimeTravel.state(dataDirectory: dir.path, at: .head, logger: quietLogger)
            #expect(used != nil, "seed \(seed): snapshot at \(b.lastSequence) not used")
            let small = try StateLoader.load(try SegmentFiles(dataDirectory: dir.path).location(), snapshots: snapshots, imported: .refuse,
                                             chunking: StateLoader.Chunking(events: 1, waiting: 1), logger: quietLogger)
            #expect(small.snapshot == used && small.projection.canonicalBytes == live, "seed \(seed): snapshot + tail in chunks of one")
            #expect(head.canonicalBytes == live, "seed \(seed): snapshot at \(b.lastSequence) + tail")
            // `replay`'s projection, without indexes, from the same snapshot: the same mappings.
            for point in [TimeTravel.Point.head, .sequence(UInt64.random(in: b.lastSequence...max(b.lastSequence, scan.lastSequence), using: &rng))] {
                let (bare, from) = try TimeTravel.state(dataDirectory: dir.path, at: point, indexed: false, logger: quietLogger)
                let indexed = try TimeTravel.state(dataDirectory: dir.path, at: point, logger: quietLogger).0
                #expect(from == used && !bare.isIndexed && bare.mappings == indexed.mappings && bare.document() == indexed.document(),
                        "seed \(seed): without indexes at \(point)")
            }
            for (sequence, recorded) in seen where sequence >= b.lastSequence && sequence > 0 {
                #expect(try TimeTravel.state(dataDirectory: dir.path, at: .sequence(sequence), logger: quietLogger).0.canonicalBytes == recorded.bytes,
                        "seed \(seed): at sequence \(sequence)")
                #expect(try TimeTravel.state(dataDirectory: dir.path, at: .time(recorded.time), logger: quietLogger).0.canonicalBytes == recorded.bytes,
                        "seed \(seed): at time \(recorded.time)")
            }
        }
    }
}
