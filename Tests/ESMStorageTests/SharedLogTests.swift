import ESMCore
import Foundation
import Logging
import Testing
@testable import ESMStorage

/// A log several stores append to, in memory, with the head check PostgreSQL's `esm_append`
/// makes, and (with `turns`) a turn lock like the head row's: the stores' side of a shared log
/// (stale appends, following, deciding again, turns) tested without a database.
final class MemorySharedLog: LogBackend, @unchecked Sendable {  // guarded by `lock`
    let lock = NSLock()
    /// Held by the appender whose turn it is; taken and given back on its commit thread.
    let turnLock = NSLock()
    let turns: Bool
    var turnsTaken = 0

    init(turns: Bool = false) {
        self.turns = turns
    }

    var headers: [UInt64: [UInt8]] = [:]
    var records: [(segment: UInt64, start: Int, bytes: [UInt8])] = []
    var head = ChainHash.genesis
    var appends = 0, stale = 0
    /// An outage: every call waits `outageSeconds` (a database that does not answer), then fails.
    var down = false
    var outageSeconds = 0.0
    var appendsWhileDown = 0
    /// Signalled when a read of the log starts while it is down.
    let stuckReading = DispatchSemaphore(value: 0)

    /// Waits out the outage, if there is one, and fails; `append` counts the call.
    func outage(appending: Bool) throws(StorageError) {
        lock.lock()
        let isDown = down, seconds = outageSeconds
        if isDown, appending { appendsWhileDown += 1 }
        lock.unlock()
        guard isDown else { return }
        if !appending { stuckReading.signal() }
        Thread.sleep(forTimeInterval: seconds)
        throw StorageError(.io, "the shared log does not answer")
    }

    func location() throws -> LogLocation {
        lock.lock()
        defer { lock.unlock() }
        var segments: [UInt64: [UInt8]] = headers
        for r in records { segments[r.segment]! += r.bytes }
        let image = LogImage(directory: "mem/wal", segments: segments.keys.sorted().map {
            (try! SegmentHeader.decode(segments[$0]![0..<LogFormat.segmentHeaderSize]).get(), segments[$0]!)
        })
        return LogLocation(fileSystem: image, directory: "mem/wal", name: "memory", writerLive: false)
    }

    func appender(_ location: LogLocation, scan: LogScan, options: StoreOptions, logger: Logger) throws -> any LogAppender {
        MemoryAppender(log: self, follower: ChainFollower(scan: scan))
    }
}

final class MemoryAppender: LogAppender {
    let log: MemorySharedLog
    var follower: ChainFollower
    let zstd = Zstd()
    var metrics: StorageMetrics?

    init(log: MemorySharedLog, follower: ChainFollower) {
        self.log = log
        self.follower = follower
    }

    var hash: ChainHash { follower.hash }
    var lastEvents: RecordPosition? { follower.lastEvents }
    var failure: StorageError? { nil }
    var isShared: Bool { true }

    var holding = false

    func takeTurn() -> [Event] {
        guard log.turns, !holding else { return [] }
        log.turnLock.lock()
        holding = true
        log.lock.lock()
        log.turnsTaken += 1
        log.lock.unlock()
        return (try? catchUp()) ?? []
    }

    func endTurn() {
        guard holding else { return }
        holding = false
        log.turnLock.unlock()
    }

    func append(_ events: [Event]) throws(StorageError) -> AppendOutcome {
        defer { endTurn() }
        try log.outage(appending: true)
        let prepared = try follower.prepare(events, salt: 7, createdMilliseconds: 0, zstd: zstd)
        log.lock.lock()
        defer { log.lock.unlock() }
        guard log.head == follower.hash else {
            log.stale += 1
            return .stale
        }
        if let header = prepared.header { log.headers[header.index] = header.encode() }
        log.records += prepared.records.map { (segment: prepared.segment, start: $0.start, bytes: $0.bytes) }
        log.head = prepared.head.hash
        log.appends += 1
        follower = prepared.head
        return .appended
    }

    func catchUp() throws(StorageError) -> [Event] {
        try log.outage(appending: false)
        log.lock.lock()
        let known = log.records.firstIndex { ($0.segment, $0.start) >= (follower.header?.index ?? 0, follower.offset) } ?? log.records.count
        let rows = Array(log.records[known...])
        let headers = log.headers
        log.lock.unlock()
        var events: [Event] = []
        for r in rows { events += try follower.accept(segment: r.segment, headerBytes: headers[r.segment]!, start: r.start, record: r.bytes, zstd: zstd) }
        return events
    }

    func close() {}
}

@Suite struct SharedLogTests {
    func options() -> StoreOptions {
        var o = StoreOptions()
        o.followIntervalSeconds = 0.01
        o.snapshotEveryEvents = 0
        return o
    }

    /// A write that arrives while a read of the log is waiting out an outage is refused as soon
    /// as that read fails: it does not wait out the time-out a second time in an append.
    @Test func aWriteQueuedBehindAFailingReadIsRefusedWithIt() async throws {
        let dir = TempDirectory()
        let log = MemorySharedLog(turns: true)
        let store = try Store(dataDirectory: dir.path, backend: log, options: options(), logger: quietLogger)
        defer { store.close() }
        try await store.create(1)
        log.lock.withLock {
            log.down = true
            log.outageSeconds = 0.5
        }
        log.stuckReading.wait()  // the commit thread is inside a read of the log now
        await #expect(throws: (any Error).self) { try await store.create(2) }
        // Sent to the log that had just failed, it would have waited out the outage again (the
        // end-to-end bound on that time is test_postgres.py's cut-off node).
        #expect(log.lock.withLock { log.appendsWhileDown } == 0, "the write was sent to the log that had just failed")
        log.lock.withLock { log.down = false }
    }

    @Test func aFolderLogCopiedRecordByRecordReadsAsTheSameLog() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 60, segmentSizeBytes: 4096)
        let original = try LogScanner(directory: dir.wal).scan()
        #expect(original.segments.count > 2 && original.problems.isEmpty)
        var follower = ChainFollower.empty
        var segments: [(header: SegmentHeader, bytes: [UInt8])] = []
        var copied = 0
        for name in try dir.segments() {
            let bytes = try dir.bytes(name)
            var rebuilt = Array(bytes.prefix(LogFormat.segmentHeaderSize))
            try follower.acceptSegment(bytes, zstd: Zstd()) { start, record, _ in
                #expect(start == rebuilt.count)
                rebuilt += record
                copied += 1
            }
            #expect(rebuilt == bytes)
            segments.append((try SegmentHeader.decode(bytes[0..<LogFormat.segmentHeaderSize]).get(), rebuilt))
        }
        #expect(follower.hash == original.headHash && follower.nextSequence == 61)
        let image = LogImage(directory: "img", segments: segments)
        let read = try LogScanner(directory: "img", fileSystem: image).scan()
        #expect(read.headHash == original.headHash && read.lastSequence == 60 && read.problems.isEmpty && copied > 60)
    }

    @Test func aRecordThatDoesNotFitTheChainIsRefused() async throws {
        let dir = TempDirectory()
        _ = try await makeLog(dir, count: 3)
        let bytes = try dir.bytes(try dir.segments()[0])
        let offsets = recordOffsets(bytes)
        let header = Array(bytes.prefix(LogFormat.segmentHeaderSize))
        func record(_ k: Int) -> [UInt8] { Array(bytes[offsets[k]..<(k + 1 < offsets.count ? offsets[k + 1] : bytes.count)]) }
        var follower = ChainFollower.empty
        _ = try follower.accept(segment: 1, headerBytes: header, start: offsets[0], record: record(0), zstd: Zstd())
        var flipped = record(1)
        flipped[flipped.count - 1] ^= 1
        #expect(throws: StorageError.self) { try follower.accept(segment: 1, headerBytes: header, start: offsets[1], record: flipped, zstd: Zstd()) }
        // Out of order: record 2 where record 1 belongs.
        #expect(throws: StorageError.self) { try follower.accept(segment: 1, headerBytes: header, start: offsets[1], record: record(2), zstd: Zstd()) }
        let events = try follower.accept(segment: 1, headerBytes: header, start: offsets[1], record: record(1), zstd: Zstd())
        #expect(events.map(\.sequence) == [2])
    }

    func create(_ store: Store, source n: Int, id: String) async -> Result<Mapping?, any Error> {
        do {
            return .success(try await store.perform(uuid: id, now: EventTime(milliseconds: 1_700_000_000_000)) { view, time in
                Decider.create(body: ["EventSourceArn": .string("arn:aws:sqs:us-east-1:123456789012:q\(n)"), "FunctionName": "fn"],
                               uuid: id, context: CommandContext(time: time, actor: testActor, account: "123456789012"), state: view)
                    .map { Optional($0) }
            })
        } catch { return .failure(error) }
    }

    @Test(arguments: [false, true]) func twoStoresCreatingTheSameSourcesAtOnceGetOneMappingEach(turns: Bool) async throws {
        let log = MemorySharedLog(turns: turns)
        let a = TempDirectory(), b = TempDirectory()
        let first = try Store(dataDirectory: a.path, backend: log, options: options(), logger: quietLogger)
        let second = try Store(dataDirectory: b.path, backend: log, options: options(), logger: quietLogger)
        let results = await withTaskGroup(of: Result<Mapping?, any Error>.self) { group in
            for n in 0..<20 {
                group.addTask { await self.create(first, source: n, id: uuid(1000 + n)) }
                group.addTask { await self.create(second, source: n, id: uuid(2000 + n)) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let won = results.filter { if case .success = $0 { true } else { false } }.count
        let conflicts = results.filter {
            if case .failure(let e as AWSError) = $0 { e.code == "ResourceConflictException" } else { false }
        }.count
        #expect(won == 20 && conflicts == 20)
        // Both stores reach the log's state; a fresh load agrees.
        first.wake()
        second.wake()
        let deadline = Date(timeIntervalSinceNow: 5)
        while Date() < deadline, first.read({ $0.canonicalBytes }) != second.read({ $0.canonicalBytes }) { try await Task.sleep(for: .milliseconds(10)) }
        let fresh = try StateLoader.load(try log.location(), snapshots: SnapshotStore(directory: TempDirectory().path), imported: .refuse, logger: quietLogger)
        #expect(first.read { $0.canonicalBytes } == fresh.projection.canonicalBytes)
        #expect(second.read { $0.canonicalBytes } == fresh.projection.canonicalBytes)
        #expect(fresh.projection.mappings.count == 20 && fresh.scan?.problems.isEmpty == true)
        if turns {
            // Every batch was decided in a turn, on the head: none went stale.
            #expect(log.stale == 0 && log.turnsTaken >= log.appends && log.appends > 0)
        } else {
            #expect(log.turnsTaken == 0)
        }
        first.close()
        second.close()
    }

    /// Two stores on one shared log; the second follows the log only when an append or a refusal
    /// makes it (its timer is an hour).
    func storesWhereTheSecondFollowsOnlyWhenItMust(turns: Bool = false) throws -> (MemorySharedLog, Store, Store, [TempDirectory]) {
        let log = MemorySharedLog(turns: turns)
        let a = TempDirectory(), b = TempDirectory()
        var slow = options()
        slow.followIntervalSeconds = 3600
        let first = try Store(dataDirectory: a.path, backend: log, options: options(), logger: quietLogger)
        let second = try Store(dataDirectory: b.path, backend: log, options: slow, logger: quietLogger)
        return (log, first, second, [a, b])
    }

    @Test(arguments: [false, true]) func aDecisionTakenOnAnOldStateIsTakenAgainOnTheHead(turns: Bool) async throws {
        // b learns of a's create through its stale append, or (with turns) when it takes its
        // turn, before it appends anything.
        let (log, first, second, folders) = try storesWhereTheSecondFollowsOnlyWhenItMust(turns: turns)
        defer { withExtendedLifetime(folders) {} }
        guard case .success = await create(first, source: 1, id: uuid(1)) else { Issue.record("create failed"); return }
        #expect(second.read { $0.mappings.count } == 0)
        let (staleBefore, appendsBefore) = (log.stale, log.appends)
        guard case .failure(let error as AWSError) = await create(second, source: 1, id: uuid(2)) else {
            Issue.record("a duplicate decided on an old state was accepted")
            return
        }
        #expect(error.code == "ResourceConflictException" && error.message.contains(uuid(1)))
        if turns {
            #expect(log.stale == 0 && log.appends == appendsBefore)
        } else {
            #expect(log.stale == staleBefore + 1)
        }
        #expect(second.read { $0.mappings[uuid(1)] } != nil)
        // Nothing left waiting holds the turn: the first store can still write.
        guard case .success = await create(first, source: 2, id: uuid(3)) else { Issue.record("the first store cannot write"); return }
        first.close()
        second.close()
    }

    @Test func aRefusalIsAnsweredOnlyAfterReadingTheLogsHead() async throws {
        // b would not have followed a's create on its own.
        let (_, first, second, folders) = try storesWhereTheSecondFollowsOnlyWhenItMust()
        defer { withExtendedLifetime(folders) {} }
        guard case .success = await create(first, source: 1, id: uuid(1)) else { Issue.record("create failed"); return }
        #expect(second.read { $0.mappings[uuid(1)] } == nil)
        // b's own state says "not found"; the log's head says the mapping exists, and is Creating
        // (no sweeper runs here), so the update is refused as in use, not as missing.
        do {
            _ = try await second.perform(uuid: uuid(1), now: EventTime(milliseconds: 1_700_000_000_500)) { view, time in
                Decider.update(uuid: uuid(1), body: ["BatchSize": 7], context: CommandContext(time: time, actor: testActor, account: "123456789012"),
                               state: view).map { Optional($0) }
            }
            Issue.record("an update of a Creating mapping was accepted")
        } catch let error as AWSError {
            #expect(error.code == "ResourceInUseException")
        }
        #expect(second.read { $0.mappings[uuid(1)] } != nil)
        // A refusal the head confirms is answered as it is.
        await #expect(throws: AWSError.self) {
            try await second.perform(uuid: uuid(9), now: EventTime(milliseconds: 1_700_000_000_600)) { view, time in
                Decider.update(uuid: uuid(9), body: ["BatchSize": 7], context: CommandContext(time: time, actor: testActor, account: "123456789012"),
                               state: view).map { Optional($0) }
            }
        }
        first.close()
        second.close()
    }
}
