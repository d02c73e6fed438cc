import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// The mapping index is a cache over the log: one mapping's history read through it must be
/// exactly what a scan of the whole log gives, and an index that does not match the log, or a
/// damaged one, must never change what is read.
@Suite struct MappingIndexTests {
    static let mappings = 300

    /// A log of several segments, with a dictionary, where each mapping is created, enabled,
    /// updated now and then and sometimes deleted.
    func makeHistory(_ dir: TempDirectory, snapshotEvery: UInt64 = 0, startMs: Int64 = 1_700_000_000_000) async throws {
        var options = StoreOptions()
        options.segmentSizeBytes = 64 << 10
        options.snapshotEveryEvents = snapshotEvery
        let store = try Store(dataDirectory: dir.path, options: options, logger: quietLogger)
        let context = { (t: EventTime) in CommandContext(time: t, actor: testActor, account: "123456789012") }
        func settle(_ id: String, _ ms: Int64) async throws {
            _ = try await store.perform(uuid: id, now: EventTime(milliseconds: ms)) { view, t in .success(Decider.completeTransition(uuid: id, time: t, state: view)) }
        }
        var ms = startMs
        for n in 1...MappingIndexTests.mappings {
            ms += 10
            try await store.create(n, at: ms)
            try await settle(uuid(n), ms + 1)
        }
        for round in 0..<3 {
            for n in stride(from: 1 + round, through: MappingIndexTests.mappings, by: 4) {
                ms += 10
                let id = uuid(n)
                _ = try await store.perform(uuid: id, now: EventTime(milliseconds: ms)) { view, t in
                    Decider.update(uuid: id, body: ["BatchSize": .number(Double(1 + (n + round) % 9))], context: context(t), state: view).map { Optional($0) }
                }
                try await settle(id, ms + 1)
            }
        }
        for n in stride(from: 7, through: MappingIndexTests.mappings, by: 11) {
            ms += 10
            let id = uuid(n)
            _ = try await store.perform(uuid: id, now: EventTime(milliseconds: ms)) { view, t in Decider.delete(uuid: id, context: context(t), state: view) }
            try await settle(id, ms + 1)
        }
        store.close(snapshot: false)
    }

    func location(_ dir: TempDirectory) throws -> LogLocation { try SegmentFiles(dataDirectory: dir.path).location() }

    /// Each mapping's events from a scan of the whole log.
    func wholeLog(_ dir: TempDirectory) throws -> [String: [Event]] {
        var by: [String: [Event]] = [:]
        _ = try LogScanner(directory: dir.wal).scan { by[$0.uuid, default: []].append($0) }
        return by
    }

    @Test func historyThroughTheIndexIsWhatTheWholeLogSays() async throws {
        let dir = TempDirectory()
        try await makeHistory(dir)
        #expect(try dir.segments().count >= 3, "one segment: the test would not cover several")
        let whole = try wholeLog(dir)
        let loc = try location(dir)

        // No index yet: the first read walks the whole log and writes one.
        #expect(!FileManager.default.fileExists(atPath: MappingIndex.path(dir.path)))
        let first = try MappingHistory.read(uuid(5), dataDirectory: dir.path, location: loc)
        #expect(first.walkedWholeLog && first.events == whole[uuid(5)])
        #expect(FileManager.default.fileExists(atPath: MappingIndex.path(dir.path)))

        var checked = 0
        for n in 1...MappingIndexTests.mappings {
            let h = try MappingHistory.read(uuid(n), dataDirectory: dir.path, location: loc)
            #expect(!h.walkedWholeLog && h.problems.isEmpty && h.scan.problems.isEmpty)
            #expect(h.events == whole[uuid(n)], "mapping \(n)")
            #expect(h.recordsChecked >= 1 && h.recordsChecked <= h.events.count)
            checked += h.recordsChecked
        }
        #expect(checked > MappingIndexTests.mappings)
        let none = try MappingHistory.read(uuid(99_999), dataDirectory: dir.path, location: loc)
        #expect(none.events.isEmpty && none.problems.isEmpty && !none.walkedWholeLog)
        #expect(none.scan.lastSequence == UInt64(whole.values.reduce(0) { $0 + $1.count }))

        // A timeline of the mapping's events alone has the entries of a timeline of the whole log.
        var all = TimelineBuilder()
        var expected: [TimelineEntry] = []
        _ = try LogScanner(directory: dir.wal).scan { e in
            let entry = try all.next(e)
            if e.uuid == uuid(7) { expected.append(entry) }
        }
        var one = TimelineBuilder(oneMapping: true)
        let h = try MappingHistory.read(uuid(7), dataDirectory: dir.path, location: loc)
        #expect(try h.events.map { try one.next($0) } == expected)
        #expect(expected.count >= 4)
    }

    @Test func eventsAfterTheIndexAreReadFromTheLog() async throws {
        let dir = TempDirectory()
        try await makeHistory(dir)
        let before = try MappingHistory.read(uuid(3), dataDirectory: dir.path, location: try location(dir))
        // More events, written without the index being brought up to date.
        let store = try openStore(dir, segmentSizeBytes: 64 << 10)
        for n in 1...40 { try await store.create(MappingIndexTests.mappings + n, at: 1_800_000_000_000 + Int64(n)) }
        store.close()
        let whole = try wholeLog(dir)
        let after = try MappingHistory.read(uuid(MappingIndexTests.mappings + 9), dataDirectory: dir.path, location: try location(dir))
        #expect(!after.walkedWholeLog && after.recordsChecked == 0)
        #expect(after.indexedThrough == before.scan.lastSequence && after.scan.lastSequence == before.scan.lastSequence + 40)
        #expect(after.events == whole[uuid(MappingIndexTests.mappings + 9)] && after.events.count == 1)
        #expect(try MappingHistory.read(uuid(3), dataDirectory: dir.path, location: try location(dir)).events == whole[uuid(3)])
    }

    @Test(arguments: ["another log's index", "a damaged index", "a cut and rewritten log"])
    func anIndexThatDoesNotMatchTheLogIsBuiltAgain(_ case_: String) async throws {
        let dir = TempDirectory()
        try await makeHistory(dir)
        try MappingIndex.build(dataDirectory: dir.path, location: try location(dir))
        let path = MappingIndex.path(dir.path)
        switch case_ {
        case "another log's index":
            // Same shape, other bytes (the times differ): its last record is not this log's.
            let other = TempDirectory()
            try await makeHistory(other, startMs: 1_700_000_500_000)
            try MappingIndex.build(dataDirectory: other.path, location: try location(other))
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: MappingIndex.path(other.path), toPath: path)
        case "a damaged index":
            var b = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            b[b.count / 2] ^= 0x01
            try Data(b).write(to: URL(fileURLWithPath: path))
        default:
            // The last segment goes; new events take its place, so the index's last record is gone.
            let names = try dir.segments()
            try FileManager.default.removeItem(atPath: dir.wal + "/" + names.last!)
            let store = try openStore(dir, segmentSizeBytes: 64 << 10)
            for n in 1...5 { try await store.create(5_000 + n, at: 1_900_000_000_000 + Int64(n)) }
            store.close()
        }
        let whole = try wholeLog(dir)
        // The first read walks the whole log and writes the index again; the next ones use it.
        for (k, n) in [1, 2, 150, MappingIndexTests.mappings, 5_003].enumerated() {
            let h = try MappingHistory.read(uuid(n), dataDirectory: dir.path, location: try location(dir))
            #expect(h.walkedWholeLog == (k == 0), "\(case_), read \(k)")
            #expect(h.events == (whole[uuid(n)] ?? []), "\(case_), mapping \(n)")
        }
    }

    @Test func aDamagedRecordOfTheMappingIsReportedAndNothingFromItOnIsShown() async throws {
        let dir = TempDirectory()
        try await makeHistory(dir)
        let loc = try location(dir)
        try MappingIndex.build(dataDirectory: dir.path, location: loc)
        let whole = try wholeLog(dir)
        let id = uuid(10)
        // The record of the mapping's third event.
        var target: (String, Int)?
        let scan = try LogScanner(directory: dir.wal).scan(collectBoundaries: true)
        let third = whole[id]![2].sequence
        for s in scan.segments { for b in s.boundaries where target == nil && b.lastSequence >= third { target = (s.name, b.start) } }
        var bytes = try dir.bytes(target!.0)
        bytes[target!.1 + LogFormat.recordHeaderSize + 3] ^= 0x20
        try dir.write(target!.0, bytes)

        let h = try MappingHistory.read(id, dataDirectory: dir.path, location: loc)
        #expect(!h.walkedWholeLog)
        #expect(h.problems.count == 1 && h.problems[0].reason.contains("checksum") && h.problems[0].file == target!.0)
        #expect(h.events == Array(whole[id]!.prefix(2)))
    }

    @Test func theStoreKeepsTheIndexCurrentWithItsSnapshots() async throws {
        let dir = TempDirectory()
        try await makeHistory(dir, snapshotEvery: 200)
        // A store never walks the whole log for the index: with none, it writes none.
        #expect(MappingIndex.load(dir.path, POSIXFileSystem()) == nil)
        let loc = try location(dir)
        _ = try MappingHistory.read(uuid(1), dataDirectory: dir.path, location: loc)  // a reader builds it
        let built = try #require(MappingIndex.load(dir.path, POSIXFileSystem())?.point?.sequence)

        // The background snapshots extend it to one of theirs.
        var options = StoreOptions()
        options.segmentSizeBytes = 64 << 10
        options.snapshotEveryEvents = 50
        let store = try Store(dataDirectory: dir.path, options: options, logger: quietLogger)
        for n in 1...60 { try await store.create(8_000 + n, at: 1_950_000_000_000 + Int64(n)) }
        store.snapshotWork.wait()
        let extended = try #require(MappingIndex.load(dir.path, POSIXFileSystem())?.point?.sequence)
        let snapshots = try SnapshotStore(directory: SnapshotStore.directory(dir.path)).list().map(\.sequence)
        #expect(extended > built && snapshots.contains(extended))

        // Closed with a snapshot, it leaves the index at the log's end.
        try await store.create(9_001, at: 1_960_000_000_000)
        store.close(snapshot: true)
        let head = try LogScanner(directory: dir.wal).scan().lastSequence
        #expect(MappingIndex.load(dir.path, POSIXFileSystem())?.point?.sequence == head)
        let h = try MappingHistory.read(uuid(9_001), dataDirectory: dir.path, location: loc)
        #expect(h.indexedThrough == head && h.recordsChecked == 1 && h.events.count == 1)
        #expect(try MappingHistory.read(uuid(8_030), dataDirectory: dir.path, location: loc).events == (try wholeLog(dir))[uuid(8_030)])
    }
}
