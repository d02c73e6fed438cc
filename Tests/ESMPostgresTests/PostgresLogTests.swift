import ESMCore
import ESMStorage
import Foundation
import Logging
import PostgresNIO
import Testing
@testable import ESMPostgres

@Suite struct PostgresURLTests {
    @Test func theURLFormsAreReadAndThePasswordIsNeverShown() throws {
        let u = try PostgresURL("postgres://esm:s%40cret@db.internal:6543/audit")
        #expect(u.user == "esm" && u.password == "s@cret" && u.host == "db.internal" && u.port == 6543 && u.database == "audit")
        #expect(u.description == "postgres://esm@db.internal:6543/audit")
        let d = try PostgresURL("postgresql://esm@127.0.0.1/esmlog")
        #expect(d.port == 5432 && d.password == nil)
        for bad in ["postgres://127.0.0.1/db", "postgres://u@127.0.0.1:5/", "postgres://u@/db", "http://u@h/db", "postgres://u@h/a/b"] {
            #expect(throws: PostgresURLError.self, "\(bad)") { try PostgresURL(bad) }
        }
        #expect(PostgresURL.redacted("postgres://u:pw@h/db") == "postgres://u:***@h/db")
    }
}

/// Against a real server: `ESMLOG_TEST_POSTGRES_URL` names a database the test may fill
/// (tools/test.sh starts one and sets it).
let tester = Actor(accessKeyId: "AKIDTEST", sourceIp: "127.0.0.1", userAgent: "tests", requestId: "r", region: "us-east-1")

let testDatabase = ProcessInfo.processInfo.environment["ESMLOG_TEST_POSTGRES_URL"]

/// Serialized: each test blocks a thread of the cooperative pool while it waits on the database.
@Suite(.enabled(if: testDatabase != nil, "ESMLOG_TEST_POSTGRES_URL is not set"), .serialized)
struct PostgresAppendTests {
    var logger: Logger {
        var l = Logger(label: "test")
        l.logLevel = .error
        return l
    }

    /// A fresh database beside the one named, so each run starts empty.
    func freshLog() throws -> PostgresLog {
        try PostgresLog.open(try freshDatabase(), node: "test", logger: logger)
    }

    func freshDatabase() throws -> PostgresURL {
        var url = try PostgresURL(testDatabase!)
        let admin = try PostgresLog.open(url, logger: logger)
        let name = "u_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        try admin.call { client, logger in try await client.query("CREATE DATABASE \(unescaped: String(name)) TEMPLATE template0", logger: logger) }
        admin.close()
        url.database = String(name)
        return url
    }

    @Test func aDatabaseAtSchemaVersionOneIsUpgradedAndItsLogKept() throws {
        let url = try freshDatabase()
        // What an esmlog of schema version 1 created, with one append in it.
        let old = try PostgresLog(url: url, node: "old", timeoutSeconds: 5, logger: logger)
        try old.call { client, logger in
            for sql in PostgresSchema.create { try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
        }
        let (batch, next) = firstBatch()
        #expect(try old.append(batch, seconds: 5) == .appended)
        old.close()
        let log = try PostgresLog.open(url, node: "test", logger: logger)
        defer { log.close() }
        let versions = try log.call { client, logger in
            try await client.query("SELECT version FROM esm_schema ORDER BY version", logger: logger).collect().map { try $0.decode(Int.self) }
        }
        #expect(versions == [1, 2] && PostgresSchema.version == 2)
        let tables = try log.call { client, logger in
            try await client.query("SELECT count(*) FROM pg_tables WHERE tablename IN ('esm_repair', 'esm_record_cut', 'esm_segment_cut')",
                                   logger: logger).collect().first!.decode(Int.self)
        }
        #expect(tables == 3)
        let scan = try log.location().scan()
        #expect(scan.lastSequence == 1 && scan.headHash == next.hash && scan.problems.isEmpty)
        // Opening it again changes nothing.
        try PostgresLog.open(url, node: "again", logger: logger).close()
    }

    func event(_ n: UInt64) -> Event {
        let id = "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - String(n).count) + String(n)
        let decision = try! Decider.create(
            body: ["EventSourceArn": .string("arn:aws:sqs:us-east-1:123456789012:q\(n)"), "FunctionName": "fn"], uuid: id,
            context: CommandContext(time: EventTime(milliseconds: 1_700_000_000_000), actor: tester, account: "123456789012"),
            state: Projection()).get()
        return decision.event(sequence: n)
    }

    /// The first record of a log: one create, on the empty head.
    func firstBatch(_ id: UUID = UUID()) -> (PostgresLog.Batch, ChainFollower) {
        let head = ChainFollower.empty
        let (header, records) = head.encode([event(1)], salt: 9, createdMilliseconds: 0, zstd: Zstd())
        var next = head
        _ = try! next.accept(segment: 1, headerBytes: header!.encode(), start: LogFormat.segmentHeaderSize, record: records[0], zstd: Zstd())
        return (PostgresLog.Batch(id: id, previous: head.hash, segment: 1, header: header!.encode(), firstSequence: 1,
                                  starts: [Int64(LogFormat.segmentHeaderSize)], records: records, lastSequences: [1], hashes: [next.hash]), next)
    }

    @Test func anAppendSentAgainWithItsBatchIdIsReportedNotWrittenTwice() throws {
        let log = try freshLog()
        defer { log.close() }
        let (batch, next) = firstBatch()
        #expect(try log.append(batch, seconds: 5) == .appended)
        // The same batch again (its COMMIT's answer was lost): found, not written again.
        #expect(try log.append(batch, seconds: 5) == .present)
        // Another append decided on the same old head: stale.
        #expect(try log.append(firstBatch().0, seconds: 5) == .stale)
        let scan = try log.location().scan()
        #expect(scan.lastSequence == 1 && scan.headHash == next.hash && scan.problems.isEmpty)
    }

    /// Runs `body` on a thread of its own; `wait` returns its result.
    final class Background<T: Sendable>: @unchecked Sendable {  // `result` is written once, before the signal
        let done = DispatchSemaphore(value: 0)
        var result: Result<T, any Error>?
        init(_ body: @escaping @Sendable () throws -> T) {
            Thread.detachNewThread {
                self.result = Result { try body() }
                self.done.signal()
            }
        }
        func finished(within seconds: Double) -> Bool { done.wait(timeout: .now() + seconds) == .success }
    }

    @Test func anAppendWaitsForAnotherNodesTurnAndIsThenStale() throws {
        let log = try freshLog()
        defer { log.close() }
        let turn = PostgresTurn(url: log.url, node: "a", timeoutSeconds: 5, logger: logger)
        defer { turn.drop() }
        let (head, missed) = try turn.begin(after: .empty, limit: 10)
        #expect(head == ChainHash.genesis && missed.isEmpty)
        // Node b decided on the same head; its append waits on the head the turn holds.
        let other = Background { try log.append(self.firstBatch().0, seconds: 5) }
        #expect(!other.finished(within: 0.3))
        let (mine, next) = firstBatch()
        #expect(try turn.append(mine) == .appended)
        #expect(!other.finished(within: 0.2), "an append went ahead of an uncommitted turn")
        try turn.commit()
        #expect(other.finished(within: 5))
        #expect(try other.result?.get() == .stale)
        let scan = try log.location().scan()
        #expect(scan.lastSequence == 1 && scan.headHash == next.hash && scan.problems.isEmpty)
        // The next turn, by a node still at the empty head, reads what it missed under the lock.
        let later = PostgresTurn(url: log.url, node: "b", timeoutSeconds: 5, logger: logger)
        defer { later.drop() }
        let (now, read) = try later.begin(after: .empty, limit: 10)
        #expect(now == next.hash && read.count == 1 && read.first?.bytes == mine.records[0])
        later.rollback()
    }

    @Test func aTurnLeftIdleIsEndedByTheServerAndTheHeadFreed() throws {
        // A node cut off in its turn: the server ends the transaction, and others can append.
        let log = try freshLog()
        defer { log.close() }
        let turn = PostgresTurn(url: log.url, node: "a", timeoutSeconds: 5, logger: logger)
        defer { turn.drop() }
        _ = try turn.begin(after: .empty, limit: 10)
        let started = Date()
        let (batch, next) = firstBatch()
        #expect(try log.append(batch, seconds: 5) == .appended)
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= Double(PostgresTurn.idleMilliseconds) / 1000 - 0.2 && waited < 4.5, "waited \(waited) s")
        // The idle turn's own append finds its transaction gone: nothing of it is written.
        // ... and says so at once: a query on a connection the server closed waits for the time-out.
        let asked = Date()
        #expect(throws: (any Error).self) { try turn.append(self.firstBatch().0) }
        #expect(Date().timeIntervalSince(asked) < 1)
        #expect(try log.location().scan().headHash == next.hash)
    }

    @Test func aStoreOnPostgresFollowsAnotherAndReopensToTheSameState() async throws {
        let log = try freshLog()
        defer { log.close() }
        let a = NSTemporaryDirectory() + "esmlog-pg-" + UUID().uuidString, b = NSTemporaryDirectory() + "esmlog-pg-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        var options = StoreOptions()
        options.followIntervalSeconds = 0.05
        let first = try Store(dataDirectory: a, backend: log, options: options, logger: logger)
        let second = try Store(dataDirectory: b, backend: log, options: options, logger: logger)
        for n in 1...10 {
            let store = n % 2 == 0 ? first : second
            _ = try await store.perform(uuid: "m\(n)", now: EventTime(milliseconds: 1_700_000_000_000)) { view, time in
                Decider.create(body: ["EventSourceArn": .string("arn:aws:sqs:us-east-1:123456789012:q\(n)"), "FunctionName": "fn"],
                               uuid: "m\(n)", context: CommandContext(time: time, actor: tester, account: "123456789012"), state: view).map { Optional($0) }
            }
        }
        let deadline = Date(timeIntervalSinceNow: 5)
        while Date() < deadline, first.read({ $0.lastSequence }) != 10 || second.read({ $0.lastSequence }) != 10 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(first.read { $0.canonicalBytes } == second.read { $0.canonicalBytes })
        first.close(snapshot: true)
        let reopened = try Store(dataDirectory: a, backend: log, options: options, logger: logger)
        #expect(reopened.read { $0.canonicalBytes } == second.read { $0.canonicalBytes })
        reopened.close()
        second.close()
    }
}
