import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// `replay --mapping UUID` at a point reads that mapping's own events through the mapping index.
/// What it prints must be byte for byte what a replay of the whole log to the same point prints
/// for that mapping, the `Sequence` where the replay stops included.
@Suite struct MappingAtPointTests {
    let history = MappingIndexTests()

    func location(_ dir: TempDirectory) throws -> LogLocation { try SegmentFiles(dataDirectory: dir.path).location() }

    func whole(_ dir: TempDirectory, _ point: TimeTravel.Point) throws -> Projection {
        try TimeTravel.state(dataDirectory: dir.path, at: point, logger: quietLogger).0
    }

    /// Every event's time in log order.
    func times(_ dir: TempDirectory) throws -> [EventTime] {
        var t: [EventTime] = []
        _ = try LogScanner(directory: dir.wal).scan { t.append($0.time) }
        return t
    }

    /// The history of `MappingIndexTests`, indexed, then 40 more creates the index does not cover.
    func makeIndexedLogWithTail(_ dir: TempDirectory) async throws -> (indexed: SnapshotPoint, tailTimes: [EventTime]) {
        try await history.makeHistory(dir)
        try MappingIndex.build(dataDirectory: dir.path, location: try location(dir))
        let point = try #require(MappingIndex.load(dir.path, POSIXFileSystem())?.point)
        let store = try openStore(dir, segmentSizeBytes: 64 << 10)
        var tail: [EventTime] = []
        for n in 1...40 {
            let ms = 1_800_000_000_000 + Int64(n) * 20
            try await store.create(MappingIndexTests.mappings + n, at: ms)
            tail.append(EventTime(milliseconds: ms))
        }
        store.close(snapshot: false)
        return (point, tail)
    }

    /// Mappings created early, late, deleted (7 and 18), updated, and one after the index.
    let sample = [1, 7, 18, 29, 150, 151, MappingIndexTests.mappings, MappingIndexTests.mappings + 9]

    @Test func eachMappingAtEachPointIsWhatTheWholeReplayShows() async throws {
        let dir = TempDirectory()
        let (indexed, tailTimes) = try await makeIndexedLogWithTail(dir)
        let all = try times(dir)
        let head = UInt64(all.count)
        let loc = try location(dir)

        var points: [TimeTravel.Point] = [.head]
        for s in stride(from: UInt64(1), through: head, by: 97) { points.append(.sequence(s)) }
        points += [.sequence(indexed.sequence), .sequence(indexed.sequence + 1), .sequence(head)]
        // Times: before the first event, at events, between them, in the tail, after the last.
        var times = [EventTime(milliseconds: all[0].milliseconds - 1), all[0], all[all.count - 1],
                     EventTime(milliseconds: all[all.count - 1].milliseconds + 1), indexed.time, tailTimes[0], tailTimes[17]]
        for k in stride(from: 3, to: all.count, by: 131) {
            times += [all[k], EventTime(milliseconds: all[k].milliseconds + 5)]
        }
        #expect(times.filter { $0 < indexed.time }.count >= 10, "the bisection over indexed records would not be covered")
        points += times.map { .time($0) }

        var compared = 0
        for point in points {
            let expected = try whole(dir, point)
            for n in sample {
                let id = uuid(n)
                let one = try #require(try TimeTravel.mapping(id, dataDirectory: dir.path, location: loc, at: point), "\(point) \(n)")
                #expect(one.mappings.keys.allSatisfy { $0 == id })
                #expect(String(decoding: one.document(mapping: id), as: UTF8.self) == String(decoding: expected.document(mapping: id), as: UTF8.self),
                        "mapping \(n) at \(point)")
                compared += 1
            }
        }
        #expect(compared == points.count * sample.count)
        // It did not need the whole log: the index was used as it was.
        #expect(MappingIndex.load(dir.path, POSIXFileSystem())?.point?.sequence == indexed.sequence)
    }

    @Test func withoutAnIndexTheWalkGivesTheSameAndWritesOne() async throws {
        let dir = TempDirectory()
        try await history.makeHistory(dir)
        let all = try times(dir)
        let t = EventTime(milliseconds: all[all.count / 3].milliseconds + 3)
        #expect(MappingIndex.load(dir.path, POSIXFileSystem()) == nil)
        for point in [TimeTravel.Point.time(t), .sequence(UInt64(all.count / 2)), .head] {
            let one = try #require(try TimeTravel.mapping(uuid(40), dataDirectory: dir.path, location: try location(dir), at: point))
            #expect(one.document(mapping: uuid(40)) == (try whole(dir, point)).document(mapping: uuid(40)), "\(point)")
        }
        #expect(MappingIndex.load(dir.path, POSIXFileSystem()) != nil)
    }

    @Test func aMappingWithNoEventIsLeftToTheWholeReplay() async throws {
        let dir = TempDirectory()
        try await history.makeHistory(dir)
        #expect(try TimeTravel.mapping(uuid(99_999), dataDirectory: dir.path, location: try location(dir), at: .head) == nil)
    }

    @Test func aPointPastTheEndIsRefusedAsTheWholeReplayRefusesIt() async throws {
        let dir = TempDirectory()
        try await history.makeHistory(dir)
        let head = UInt64(try times(dir).count)
        #expect(throws: StorageError.self) { try whole(dir, .sequence(head + 1)) }
        let error = #expect(throws: StorageError.self) {
            try TimeTravel.mapping(uuid(3), dataDirectory: dir.path, location: try location(dir), at: .sequence(head + 1))
        }
        #expect(error?.code == .invalidArgument && "\(error!)".contains("past the end of the log (last sequence \(head))"))
    }

    /// The start of the record holding event `sequence`.
    func record(holding sequence: UInt64, _ dir: TempDirectory) throws -> (file: String, start: Int) {
        let scan = try LogScanner(directory: dir.wal).scan(collectBoundaries: true)
        for s in scan.segments { for b in s.boundaries where b.lastSequence >= sequence { return (s.name, b.start) } }
        throw StorageError(.invalidArgument, "no record holds \(sequence)")
    }

    func damage(_ at: (file: String, start: Int), _ dir: TempDirectory) throws {
        var bytes = try dir.bytes(at.file)
        bytes[at.start + LogFormat.recordHeaderSize + 3] ^= 0x20
        try dir.write(at.file, bytes)
    }

    @Test func aDamagedRecordOfTheMappingIsRefused() async throws {
        let dir = TempDirectory()
        try await history.makeHistory(dir)
        try MappingIndex.build(dataDirectory: dir.path, location: try location(dir))
        var third: UInt64 = 0
        var seen = 0
        _ = try LogScanner(directory: dir.wal).scan { e in
            if e.uuid == uuid(10) { seen += 1; if seen == 3 { third = e.sequence } }
        }
        try damage(try record(holding: third, dir), dir)
        let error = #expect(throws: StorageError.self) {
            try TimeTravel.mapping(uuid(10), dataDirectory: dir.path, location: try location(dir), at: .head)
        }
        #expect(error?.code == .corruption && "\(error!)".contains("checksum"))
    }

    @Test func aDamagedRecordAfterTheIndexStopsOnlyAReplayThatReachesIt() async throws {
        let dir = TempDirectory()
        let (indexed, _) = try await makeIndexedLogWithTail(dir)
        let target = indexed.sequence + 20
        try damage(try record(holding: target, dir), dir)
        let loc = try location(dir)
        // Before the damaged record: both read the same state.
        let before = TimeTravel.Point.sequence(indexed.sequence + 5)
        let one = try #require(try TimeTravel.mapping(uuid(MappingIndexTests.mappings + 2), dataDirectory: dir.path, location: loc, at: before))
        #expect(one.document(mapping: uuid(MappingIndexTests.mappings + 2)) == (try whole(dir, before)).document(mapping: uuid(MappingIndexTests.mappings + 2)))
        // To the head: both refuse it.
        #expect(throws: StorageError.self) { try whole(dir, .head) }
        let error = #expect(throws: StorageError.self) {
            try TimeTravel.mapping(uuid(MappingIndexTests.mappings + 2), dataDirectory: dir.path, location: loc, at: .head)
        }
        #expect(error?.code == .corruption)
    }
}
