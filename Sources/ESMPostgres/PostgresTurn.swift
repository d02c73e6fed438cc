import ESMCore
import ESMStorage
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A node's turn at the head of the log: a transaction, on a connection of the node's own, that
/// takes the head row's lock before the node decides a batch and keeps it until that batch
/// commits. What is decided in a turn cannot go stale, and while one node holds it the others'
/// requests gather into fuller batches instead of racing for the head and losing.
///
/// A turn never keeps the log in order: `esm_append` checks the head in a turn as it does
/// outside one. And no lock outlives a turn its node cannot finish. On any failure or time-out
/// the connection is closed, which ends the transaction. The server ends a transaction left
/// idle longer than `idleMilliseconds`, the case of a node cut off mid-turn. So another node
/// waits at most that long.
///
/// The turn's COMMIT answer is the acknowledgement. PostgreSQL commits a transaction control
/// statement before it sends that statement's CommandComplete, so no visibility check follows.
/// An autocommit `esm_append` is different: its answer comes before the commit (see
/// `PostgresAppender`).
final class PostgresTurn {
    let url: PostgresURL
    let node: String
    let logger: Logger
    let timeoutSeconds: Double
    private var connection: PostgresConnection?
    private var connections = 0
    /// Whether this node holds the head's lock now.
    private(set) var held = false

    /// How long the server lets a turn sit idle before it ends it.
    static let idleMilliseconds = 2000

    init(url: PostgresURL, node: String, timeoutSeconds: Double, logger: Logger) {
        self.url = url
        self.node = node
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
    }

    /// Opens the transaction, waits for the head's lock, and reads at most `limit` records after
    /// `follower`'s head (`esm_turn`). Returns the head's chain hash and those records.
    func begin(after follower: ChainFollower, limit: Int) throws -> (head: ChainHash, records: [PostgresLog.RecordRow]) {
        precondition(!held, "a turn is already held")
        let (segment, offset) = PostgresLog.position(after: follower)
        let rows: [(ByteBuffer, Int64?, Int64?, ByteBuffer?, ByteBuffer?)]
        do {
            let connection = try connected()
            try run(connection, "BEGIN")
            rows = try Blocking.run(timeoutSeconds) { [logger] in
                var rows: [(ByteBuffer, Int64?, Int64?, ByteBuffer?, ByteBuffer?)] = []
                for try await row in try await connection.query("SELECT * FROM esm_turn(\(segment), \(offset), \(Int32(limit)))", logger: logger)
                    .decode((ByteBuffer, Int64?, Int64?, ByteBuffer?, ByteBuffer?).self) { rows.append(row) }
                return rows
            }
        } catch {
            drop()
            throw error
        }
        held = true
        guard let first = rows.first, first.0.readableBytes == 32 else { throw StorageError(.corruption, "\(url): the head's hash is not 32 bytes") }
        let records = rows.compactMap { row -> PostgresLog.RecordRow? in
            guard let segment = row.1, let start = row.2, let header = row.3, let bytes = row.4 else { return nil }
            return PostgresLog.recordRow(segment, start, header, bytes)
        }
        return (ChainHash(bytes: Array(first.0.readableBytesView)), records)
    }

    /// The records after `follower`'s head, read in the turn.
    func records(after follower: ChainFollower, limit: Int) throws -> [PostgresLog.RecordRow] {
        let connection = try heldConnection()
        return try Blocking.run(timeoutSeconds) { [logger] in
            try await PostgresLog.records(after: follower, limit: limit) { try await connection.query($0, logger: logger) }
        }
    }

    /// `esm_append` in the turn; the records are durable only once `commit` returns.
    func append(_ batch: PostgresLog.Batch) throws -> PostgresLog.AppendAnswer {
        let connection = try heldConnection()
        return try Blocking.run(timeoutSeconds) { [logger, node] in
            try await PostgresLog.append(batch, node: node) { try await connection.query($0, logger: logger) }
        }
    }

    /// Commits the turn; what it appended is durable once this returns. A failure leaves the
    /// outcome unknown: the caller resolves it by the batch id.
    func commit() throws {
        let connection = try heldConnection()
        held = false
        do { try run(connection, "COMMIT") } catch {
            drop()
            throw error
        }
    }

    /// Ends the turn without appending.
    func rollback() {
        guard held, let connection else { return }
        held = false
        do { try run(connection, "ROLLBACK") } catch { drop() }
    }

    /// Closes the connection, which ends any transaction on it; the next turn connects again.
    func drop() {
        held = false
        guard let connection else { return }
        self.connection = nil
        // Not waited for: closing a connection the server already dropped can take until a time-out.
        Task(executorPreference: DatabaseExecutor.shared) { try? await connection.close() }
    }

    private func heldConnection() throws -> PostgresConnection {
        guard held, let connection else { throw StorageError(.io, "\(url): no turn is held") }
        // The server ended it (a turn left idle too long, a restart): asking would wait for the time-out.
        guard !connection.isClosed else { throw StorageError(.io, "\(url): the turn's connection was closed") }
        return connection
    }

    private func connected() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        var configuration = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                             database: url.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(2)
        configuration.options.additionalStartupParameters = [
            ("idle_in_transaction_session_timeout", "\(PostgresTurn.idleMilliseconds)"),
            ("lock_timeout", "\(Int(timeoutSeconds * 1000))"),
            ("application_name", "esmlog turn \(node)"),
        ]
        connections += 1
        let id = connections, logger = self.logger, settings = configuration
        let connection = try Blocking.run(timeoutSeconds) {
            try await PostgresConnection.connect(configuration: settings, id: id, logger: logger)
        }
        self.connection = connection
        return connection
    }

    private func run(_ connection: PostgresConnection, _ sql: String) throws {
        _ = try Blocking.run(timeoutSeconds) { [logger] in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }
}
