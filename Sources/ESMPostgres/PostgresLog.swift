import ESMCore
import ESMStorage
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The log on PostgreSQL: the same records, checksums and chain as the segment files, appended
/// by any number of esmlog nodes in one total order (see `PostgresSchema`).
///
/// The client runs in a service group of its own from `open` to `close`. Calls from synchronous
/// code wait at most `timeoutSeconds`.
public final class PostgresLog: LogBackend, Sendable {
    public let url: PostgresURL
    /// Who appends: written beside each record (host and process id by default).
    public let node: String
    let client: PostgresClient
    let group: ServiceGroup
    let running: Task<Void, Never>
    let logger: Logger
    /// How long one call may take, an append's retries included.
    public let timeoutSeconds: Double

    /// Connects (the client starts and keeps reconnecting on its own) and creates the schema
    /// if the database has none.
    /// - Throws: when the database cannot be reached within `timeoutSeconds`, or holds a
    ///   schema newer than this esmlog knows.
    public static func open(_ url: PostgresURL, node: String? = nil, timeoutSeconds: Double = 5, logger: Logger) throws -> PostgresLog {
        let log = PostgresLog(url: url, node: node ?? PostgresLog.defaultNode, timeoutSeconds: timeoutSeconds, logger: logger)
        do { try log.prepareSchema() } catch {
            log.close()
            throw error
        }
        return log
    }

    static var defaultNode: String {
        "\(ProcessInfo.processInfo.hostName):\(getpid())"
    }

    init(url: PostgresURL, node: String, timeoutSeconds: Double, logger: Logger) {
        self.url = url
        self.node = node
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
        var configuration = PostgresClient.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                         database: url.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(2)
        configuration.options.maximumConnections = 8
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        client = PostgresClient(configuration: configuration, backgroundLogger: quiet)
        let started = DispatchSemaphore(value: 0)
        group = ServiceGroup(services: [client, Started(semaphore: started)], gracefulShutdownSignals: [], cancellationSignals: [], logger: quiet)
        let group = self.group
        running = Task(executorPreference: DatabaseExecutor.shared) { try? await group.run() }
        // Leasing before the client runs works but warns; the group starts its services in order.
        started.wait()
    }

    /// Tells that the service group has started the services before it.
    struct Started: Service {
        let semaphore: DispatchSemaphore
        func run() async throws {
            semaphore.signal()
            try? await gracefulShutdown()
        }
    }

    /// Stops the client.
    public func close() {
        let group = self.group
        Task(executorPreference: DatabaseExecutor.shared) { await group.triggerGracefulShutdown() }
        _ = try? Blocking<Void>.run(timeoutSeconds) { [running] in await running.value }
    }

    /// Runs `body` on the client from synchronous code, waiting at most `seconds`.
    func call<T: Sendable>(_ seconds: Double? = nil, _ body: @escaping @Sendable (PostgresClient, Logger) async throws -> T) throws(StorageError) -> T {
        let client = self.client, logger = self.logger
        do { return try Blocking.run(seconds ?? timeoutSeconds) { try await body(client, logger) } } catch {
            // esmlog's own refusal inside a transaction is reported as itself (the transaction was rolled back).
            if let failed = error as? PostgresTransactionError, let own = failed.closureError as? StorageError { throw own }
            throw StorageError(.io, "\(url): \(PostgresLog.describe(error))")
        }
    }

    /// A database error as one line: the server's message and SQLSTATE when it sent one.
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] {
                return "\(message) (SQLSTATE \(e.serverInfo?[.sqlState] ?? "?"))"
            }
            return "\(e.code)"
        }
        return "\(error)"
    }

    func prepareSchema() throws(StorageError) {
        let (found, upgraded): (Int?, [Int]) = try call { client, logger in
            try await client.withTransaction(logger: logger) { conn in
                try await conn.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.creationLock))", logger: logger)
                let exists = try await conn.query("SELECT to_regclass('esm_schema') IS NOT NULL", logger: logger)
                    .collect().first!.decode(Bool.self)
                var found: Int? = nil
                if exists {
                    found = try await conn.query("SELECT max(version) FROM esm_schema", logger: logger).collect().first!.decode(Int?.self)
                } else {
                    for sql in PostgresSchema.create { try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                }
                let at = found ?? 1
                guard at <= PostgresSchema.version else { return (found, []) }
                var upgraded: [Int] = []
                for upgrade in PostgresSchema.upgrades where upgrade.version > at {
                    for sql in upgrade.statements { try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                    upgraded.append(upgrade.version)
                }
                return (found, upgraded)
            }
        }
        if let found {
            guard found <= PostgresSchema.version else {
                throw StorageError(.unsupportedVersion, "\(url) holds esmlog schema version \(found); this esmlog knows up to \(PostgresSchema.version)")
            }
            if upgraded.isEmpty {
                logger.debug("schema found", metadata: ["pg.schema": "\(found)"])
            } else {
                logger.notice("schema upgraded", metadata: ["pg.schema.from": "\(found)", "pg.schema": "\(PostgresSchema.version)", "pg.database": "\(url)"])
            }
        } else {
            logger.info("schema created", metadata: ["pg.schema": "\(PostgresSchema.version)", "pg.database": "\(url)"])
        }
    }

    // MARK: Reading

    /// The whole log as segment images, read row by row. Appends are serialised on the head's
    /// lock and become visible at commit in log order, so what is read is always a prefix of the log.
    public func location() throws -> LogLocation {
        let rows = try call { client, logger in try await PostgresLog.readAll { try await client.query($0, logger: logger) } }
        return try image(rows)
    }

    /// Every segment header and record row, in log order.
    typealias AllRows = (headers: [(Int64, ByteBuffer)], records: [(Int64, Int64, ByteBuffer)])

    static func readAll(_ run: Run) async throws -> AllRows {
        var headers: [(Int64, ByteBuffer)] = []
        for try await row in try await run("SELECT idx, header FROM esm_segment ORDER BY idx").decode((Int64, ByteBuffer).self) { headers.append(row) }
        var records: [(Int64, Int64, ByteBuffer)] = []
        for try await row in try await run("SELECT segment, start_offset, bytes FROM esm_record ORDER BY segment, start_offset")
            .decode((Int64, Int64, ByteBuffer).self) { records.append(row) }
        return (headers, records)
    }

    /// The segments the rows make, as a location readers scan.
    func image(_ rows: AllRows) throws -> LogLocation {
        let directory = "postgres/wal"
        let (headers, records) = rows
        var segments: [(header: SegmentHeader, bytes: [UInt8])] = []
        var byIndex: [Int64: Int] = [:]
        for (index, buffer) in headers {
            let bytes = Array(buffer.readableBytesView)
            switch SegmentHeader.decode(bytes[...]) {
            case .success(let h):
                byIndex[index] = segments.count
                segments.append((h, bytes))
            case .failure(let e):
                throw StorageError(.corruption, "\(url) segment \(index): header: \(e.message)")
            }
        }
        for (segment, start, buffer) in records {
            // A record of a segment committed after the headers were read lies past the prefix.
            guard let k = byIndex[segment] else { continue }
            guard Int(start) == segments[k].bytes.count else {
                throw StorageError(.corruption, "\(url) segment \(segment): a record starts at offset \(start) where \(segments[k].bytes.count) belongs (a row is missing or out of place)")
            }
            segments[k].bytes.append(contentsOf: buffer.readableBytesView)
        }
        return LogLocation(fileSystem: LogImage(directory: directory, segments: segments), directory: directory,
                           name: url.description, writerLive: false)
    }

    /// The records after `follower`'s head, at most `limit`, with their segments' headers.
    func records(after follower: ChainFollower, limit: Int) throws(StorageError) -> [RecordRow] {
        try call { client, logger in
            try await PostgresLog.records(after: follower, limit: limit) { try await client.query($0, logger: logger) }
        }
    }

    /// One record as a row: its segment, where it starts, the segment's header, its bytes.
    typealias RecordRow = (segment: UInt64, start: Int, header: [UInt8], bytes: [UInt8])

    static func recordRow(_ segment: Int64, _ start: Int64, _ header: ByteBuffer, _ bytes: ByteBuffer) -> RecordRow {
        (UInt64(segment), Int(start), Array(header.readableBytesView), Array(bytes.readableBytesView))
    }

    /// Where the records after `follower`'s head start, as `(segment, start_offset)`.
    static func position(after follower: ChainFollower) -> (segment: Int64, offset: Int64) {
        (Int64(follower.header?.index ?? 0), Int64(follower.header == nil ? 0 : follower.offset))
    }

    /// Runs one query: on the client's pool, or on the connection of a turn.
    typealias Run = @Sendable (PostgresQuery) async throws -> PostgresRowSequence

    static func records(after follower: ChainFollower, limit: Int, _ run: Run) async throws -> [RecordRow] {
        let (segment, offset) = position(after: follower)
        var rows: [RecordRow] = []
        for try await row in try await run("""
            SELECT r.segment, r.start_offset, s.header, r.bytes FROM esm_record r JOIN esm_segment s ON s.idx = r.segment
            WHERE (r.segment, r.start_offset) >= (\(segment), \(offset)) ORDER BY r.segment, r.start_offset LIMIT \(limit)
            """).decode((Int64, Int64, ByteBuffer, ByteBuffer).self) {
            rows.append(recordRow(row.0, row.1, row.2, row.3))
        }
        return rows
    }

    // MARK: Writing

    public func appender(_ location: LogLocation, scan: LogScan, options: StoreOptions, logger: Logger) throws -> any LogAppender {
        PostgresAppender(log: self, follower: ChainFollower(scan: scan), logger: logger)
    }

    /// What `esm_append` answered.
    enum AppendAnswer: String {
        case appended, present, stale
    }

    /// The records of one append, as `esm_append` takes them.
    struct Batch: Sendable {
        let id: UUID
        let previous: ChainHash
        let segment: UInt64
        let header: [UInt8]?
        let firstSequence: UInt64
        let starts: [Int64]
        let records: [[UInt8]]
        let lastSequences: [Int64]
        let hashes: [ChainHash]
    }

    /// One call of `esm_append` (see `PostgresSchema`), on the pool.
    func append(_ batch: Batch, seconds: Double) throws -> AppendAnswer {
        try Blocking.run(seconds) { [client, logger, node] in
            try await PostgresLog.append(batch, node: node) { try await client.query($0, logger: logger) }
        }
    }

    static func append(_ batch: Batch, node: String, _ run: Run) async throws -> AppendAnswer {
        let previousBytes = ByteBuffer(bytes: batch.previous.bytes)
        let headerBytes = batch.header.map { ByteBuffer(bytes: $0) }
        let recordBytes = batch.records.map { ByteBuffer(bytes: $0) }
        let hashBytes = batch.hashes.map { ByteBuffer(bytes: $0.bytes) }
        let answer = try await run("""
            SELECT esm_append(\(batch.id), \(node), \(previousBytes), \(Int64(batch.segment)), \(headerBytes), \(Int64(batch.firstSequence)),
                              \(batch.starts), \(recordBytes), \(batch.lastSequences), \(hashBytes))
            """).collect().first!.decode(String.self)
        guard let known = AppendAnswer(rawValue: answer) else { throw StorageError(.io, "esm_append answered \(answer)") }
        return known
    }

    /// Whether a committed record with this batch id is visible: with `synchronous_commit` on, a
    /// commit becomes visible only after its WAL record is flushed, so this is what makes an
    /// append's answer an acknowledgement.
    func holds(batch: UUID, seconds: Double) throws(StorageError) -> Bool {
        try call(seconds) { client, logger in
            try await client.query("SELECT EXISTS (SELECT 1 FROM esm_record WHERE batch = \(batch))", logger: logger)
                .collect().first!.decode(Bool.self)
        }
    }

    // MARK: Following

    /// Calls `wake` whenever another node's append is notified, and once each time listening
    /// (re)starts; runs until cancelled, reconnecting after a second when the connection drops.
    /// Notifications are a hint: a store follows the log on a timer as well.
    public func listen(_ wake: @escaping @Sendable () -> Void) async {
        let client = self.client, logger = self.logger
        while !Task.isCancelled {
            do {
                try await client.withConnection { conn in
                    try await conn.listen(on: PostgresSchema.channel) { notifications in
                        wake()
                        for try await _ in notifications { wake() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("listen ended", metadata: ["pg.error": "\(PostgresLog.describe(error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

extension PostgresLog {
    /// Copies a whole log (segment headers and records, byte for byte) into this database, in
    /// one transaction, checking every record and link on the way; the database must hold no
    /// log yet. Returns the number of records copied.
    public func copy(from source: LogLocation) throws -> Int {
        var segments: [(index: Int64, firstSequence: Int64, header: ByteBuffer)] = []
        var rows: [(segment: Int64, start: Int64, end: Int64, lastSequence: Int64, hash: ByteBuffer, bytes: ByteBuffer)] = []
        var follower = ChainFollower.empty
        let zstd = Zstd()
        for name in try source.fileSystem.list(source.directory) where LogFormat.parseSegmentName(name) != nil {
            let bytes = try source.fileSystem.read(source.directory + "/" + name)
            let (index, first) = LogFormat.parseSegmentName(name)!
            segments.append((Int64(index), Int64(first), ByteBuffer(bytes: bytes.prefix(LogFormat.segmentHeaderSize))))
            try follower.acceptSegment(bytes, zstd: zstd) { (start: Int, record: [UInt8], head: ChainFollower) in
                let end = Int64(start + record.count), last = Int64(head.nextSequence - 1)
                let hash = ByteBuffer(bytes: head.hash.bytes), stored = ByteBuffer(bytes: record)
                rows.append((segment: Int64(index), start: Int64(start), end: end, lastSequence: last, hash: hash, bytes: stored))
            }
        }
        let head = follower
        let (segmentsToCopy, rowsToCopy) = (segments, rows)
        try call(max(timeoutSeconds, 600)) { client, logger in
            try await client.withTransaction(logger: logger) { conn in
                let held = try await conn.query("SELECT (SELECT count(*) FROM esm_segment) + (SELECT count(*) FROM esm_record) FROM esm_head FOR UPDATE",
                                                logger: logger).collect().first!.decode(Int64.self)
                guard held == 0 else { throw PostgresURLError("the database already holds a log: migrate copies into an empty one") }
                for s in segmentsToCopy {
                    try await conn.query("INSERT INTO esm_segment (idx, first_seq, header) VALUES (\(s.index), \(s.firstSequence), \(s.header))", logger: logger)
                }
                var k = 0
                while k < rowsToCopy.count {
                    let chunk = rowsToCopy[k..<min(k + 1000, rowsToCopy.count)]
                    try await conn.query("""
                        INSERT INTO esm_record (segment, start_offset, end_offset, last_seq, hash, bytes, node)
                        SELECT s, o, e, l, h, b, 'migrate' FROM unnest(\(chunk.map(\.segment)), \(chunk.map(\.start)), \(chunk.map(\.end)),
                                                          \(chunk.map(\.lastSequence)), \(chunk.map(\.hash)), \(chunk.map(\.bytes))) AS t(s, o, e, l, h, b)
                        """, logger: logger)
                    k += chunk.count
                }
                if let segment = head.header?.index {
                    try await conn.query("""
                        UPDATE esm_head SET segment = \(Int64(segment)), end_offset = \(Int64(head.offset)), last_seq = \(Int64(head.nextSequence - 1)),
                                            hash = \(ByteBuffer(bytes: head.hash.bytes)) WHERE one_row
                        """, logger: logger)
                }
            }
        }
        return rows.count
    }
}
