import ESMCore
import ESMStorage
import Foundation
import Logging
import PostgresNIO

/// A node's writing end of the log on PostgreSQL: encodes records exactly as the segment writer
/// does, appends them with one `esm_append` call, and reads other nodes' records after its head.
///
/// `esm_append`'s answer arrives before its implicit transaction commits (in the extended query
/// protocol the row and CommandComplete precede the commit at Sync), so an `appended` is taken
/// only once a separate query sees the batch: a committed row is visible only after its commit
/// record is flushed. An append whose outcome is unknown (the connection dropped, the server
/// restarted, no answer in time, not visible yet) is sent again with the same batch id until it is answered or the time is up; the
/// database reports a batch it already holds instead of writing it twice. When the time is up
/// the append fails (nothing is acknowledged), and following the log shows later whether it was
/// written after all.
final class PostgresAppender: LogAppender {
    let log: PostgresLog
    let logger: Logger
    var follower: ChainFollower
    let zstd = Zstd()
    var metrics: StorageMetrics?
    /// This node's turn at the head (see `PostgresTurn`): appends in a turn cannot go stale.
    let turn: PostgresTurn
    /// When the last turn was asked for: an append after it waits no longer than one call's time in all.
    var turnTried: Date?
    /// Rows read per query while following.
    static let followRows = 1000

    init(log: PostgresLog, follower: ChainFollower, logger: Logger) {
        self.log = log
        self.follower = follower
        self.logger = logger
        turn = PostgresTurn(url: log.url, node: log.node, timeoutSeconds: log.timeoutSeconds, logger: logger)
    }

    var hash: ChainHash { follower.hash }
    var lastEvents: RecordPosition? { follower.lastEvents }
    /// Nothing here is ever left in doubt for good: every outage ends in a follow that reads
    /// what the database holds.
    var failure: StorageError? { nil }
    var isShared: Bool { true }

    func append(_ events: [Event]) throws(StorageError) -> AppendOutcome {
        defer { turnTried = nil }
        precondition(!events.isEmpty && events[0].sequence == follower.nextSequence, "events must continue the log")
        let prepared = try follower.prepare(events, salt: UInt64.random(in: 1...UInt64.max),
                                            createdMilliseconds: WallClock.now().milliseconds, zstd: zstd)
        let batch = PostgresLog.Batch(id: UUID(), previous: follower.hash, segment: prepared.segment, header: prepared.header?.encode(),
                                      firstSequence: follower.nextSequence, starts: prepared.records.map { Int64($0.start) },
                                      records: prepared.records.map(\.bytes), lastSequences: prepared.records.map { Int64($0.lastSequence) },
                                      hashes: prepared.records.map(\.hash))
        let started = ContinuousClock.now
        func appended() -> AppendOutcome {
            follower = prepared.head
            metrics?.recordAppend(events: events.count, bytes: batch.records.reduce(0) { $0 + $1.count },
                                  duration: ContinuousClock.now - started)
            return .appended
        }
        if turn.held {
            do {
                switch try turn.append(batch) {
                case .appended, .present:
                    try turn.commit()
                    return appended()
                case .stale:
                    // Only if the head moved under a lock this node holds: a bug, but one the check catches.
                    turn.rollback()
                    return .stale
                }
            } catch {
                turn.drop()
                if PostgresAppender.refusedRecords(error) { throw StorageError(.io, "\(log.url): \(PostgresLog.describe(error))") }
                // The outcome is unknown: resolved below by the batch id.
                logger.debug("append in a turn failed", metadata: ["pg.batch": "\(batch.id)", "pg.error": "\(PostgresLog.describe(error))"])
            }
        }
        // A turn that could not be taken spent part of the time already.
        let deadline = (turnTried ?? Date()).addingTimeInterval(log.timeoutSeconds)
        var attempts = 0
        while true {
            attempts += 1
            do {
                let answer = try log.append(batch, seconds: max(0.05, deadline.timeIntervalSinceNow))
                switch answer {
                case .stale:
                    return .stale
                case .appended where !(try log.holds(batch: batch.id, seconds: max(0.05, deadline.timeIntervalSinceNow))):
                    // Not visible yet: its commit was not confirmed (see `holds`); ask again under the lock.
                    logger.debug("append not yet confirmed", metadata: ["pg.batch": "\(batch.id)"])
                    continue
                case .appended, .present:
                    if answer == .present { logger.notice("append resolved by its batch id", metadata: ["pg.batch": "\(batch.id)", "pg.attempts": "\(attempts)"]) }
                    return appended()
                }
            } catch {
                if PostgresAppender.refusedRecords(error) { throw StorageError(.io, "\(log.url): \(PostgresLog.describe(error))") }
                guard deadline.timeIntervalSinceNow > 0.1 else {
                    throw StorageError(.io, "\(log.url): \(PostgresLog.describe(error)); the append was not confirmed within \(log.timeoutSeconds) s")
                }
                logger.debug("append retried", metadata: ["pg.batch": "\(batch.id)", "pg.error": "\(PostgresLog.describe(error))"])
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }

    /// Whether `esm_append` refused the records themselves (RAISE EXCEPTION): a bug, not an
    /// outage, so it is not sent again.
    static func refusedRecords(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "P0001"
    }

    /// Checks rows read after the head and moves the head past them; returns their events.
    private func accept(_ rows: [PostgresLog.RecordRow]) throws(StorageError) -> [Event] {
        var events: [Event] = []
        for row in rows {
            events += try follower.accept(segment: row.segment, headerBytes: row.header, start: row.start, record: row.bytes, zstd: zstd)
        }
        return events
    }

    func takeTurn() -> [Event] {
        guard !turn.held else { return [] }
        turnTried = Date()
        var events: [Event] = []
        do {
            var (head, rows) = try turn.begin(after: follower, limit: PostgresAppender.followRows)
            while true {
                events += try accept(rows)
                if rows.count < PostgresAppender.followRows { break }
                rows = try turn.records(after: follower, limit: PostgresAppender.followRows)
            }
            guard follower.hash == head else {
                throw StorageError(.corruption, "\(log.url): the records after this node's head do not end at the database's head")
            }
        } catch {
            turn.drop()
            logger.debug("turn not taken", metadata: ["pg.error": "\(PostgresLog.describe(error))"])
        }
        return events
    }

    func endTurn() {
        turnTried = nil
        turn.rollback()
    }

    func catchUp() throws(StorageError) -> [Event] {
        var events: [Event] = []
        while true {
            let rows = try log.records(after: follower, limit: PostgresAppender.followRows)
            events += try accept(rows)
            if rows.count < PostgresAppender.followRows { return events }
        }
    }

    func close() { turn.drop() }
}
