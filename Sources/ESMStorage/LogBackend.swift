import ESMCore
import Logging

/// What one append did.
public enum AppendOutcome: Sendable, Equatable {
    /// The record is durable and follows the appender's previous head.
    case appended
    /// Another writer appended first: nothing was written, and the events (decided on the state
    /// before that writer's records) must be decided again after `catchUp`.
    case stale
}

/// The writing end of a log: the store's commit thread is its only caller.
public protocol LogAppender: AnyObject {
    /// The chain hash after the last record this appender knows of.
    var hash: ChainHash { get }
    /// The last events record it knows of: where a snapshot of the state points.
    var lastEvents: RecordPosition? { get }
    /// Set once the appender can no longer vouch for what it wrote (a failed fsync): every
    /// later append fails with it until a restart. Outages that leave nothing in doubt (a
    /// database out of reach) do not set it.
    var failure: StorageError? { get }
    /// Whether other processes append to the same log (then the store follows it with `catchUp`).
    var isShared: Bool { get }
    /// Where appends, batch sizes, sync times and bytes are reported.
    var metrics: StorageMetrics? { get set }
    /// Appends one record holding `events`, which continue the appender's head, and returns once
    /// it is durable, or `.stale` when another writer got there first.
    func append(_ events: [Event]) throws(StorageError) -> AppendOutcome
    /// The events other writers appended after this appender's head, in log order, each record
    /// checked (frame, checksum, chain link, sequence) before its events are returned; the head
    /// moves past them.
    func catchUp() throws(StorageError) -> [Event]
    /// On a shared log: waits until no other writer may append before this one, reads what
    /// they appended after this appender's head (checked as `catchUp` checks it), and returns
    /// those events. The turn lasts until the next `append`, which ends it, or `endTurn`. The
    /// turn is a way to avoid stale appends, never what keeps the log in order: when it cannot
    /// be taken (the database is out of reach, or the lock did not come in time), it returns
    /// what it read before that and no turn is held; the append then checks the head as before.
    func takeTurn() -> [Event]
    /// Gives the turn up without appending.
    func endTurn()
    func close()
}

extension LogAppender {
    /// A log nobody else appends to: it is always this appender's turn.
    public func takeTurn() -> [Event] { [] }
    public func endTurn() {}
}

/// Where a log's segments can be read: a directory of a file system (the data folder's, or an
/// image of a database's log built in memory).
public struct LogLocation: Sendable {
    public var fileSystem: any FileSystem
    public var directory: String
    /// How messages name the log: a folder path, or a database URL without its password.
    public var name: String
    /// Whether a writer holds the log now (a reader then takes an incomplete last record for the
    /// write under way).
    public var writerLive: Bool

    public init(fileSystem: any FileSystem, directory: String, name: String, writerLive: Bool) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.name = name
        self.writerLive = writerLive
    }

    /// A scan of the whole log (see `LogScanner.scan`), a live writer's half-written record set aside.
    public func scan(through: UInt64? = nil, from point: SnapshotPoint? = nil, boundaries: Bool = false,
                     reading: EventReading = .events,
                     visit: (Event) throws -> Void = { _ in },
                     visitRecord: ((RecordPosition, [Event]) throws -> Void)? = nil) throws -> LogScan {
        try LogScanner(directory: directory, fileSystem: fileSystem)
            .scan(through: through, from: point, collectBoundaries: boundaries, reading: reading, visit: visit, visitRecord: visitRecord)
            .settingAsideLiveTail(writerLive: writerLive)
    }
}

/// Where the store's log lives. The state, snapshots and decisions do not depend on it: the
/// records, checksums and chain are the same bytes on every backend.
public protocol LogBackend: Sendable {
    /// The log as it is now, to read.
    func location() throws -> LogLocation
    /// Opens the log for appending after `scan`, a scan of `location` with no corruption.
    func appender(_ location: LogLocation, scan: LogScan, options: StoreOptions, logger: Logger) throws -> any LogAppender
}

/// The default backend: segment files under `DATA_DIR/wal`, one writer at a time.
public struct SegmentFiles: LogBackend {
    public let dataDirectory: String
    public let fileSystem: any FileSystem

    public init(dataDirectory: String, fileSystem: any FileSystem = POSIXFileSystem()) {
        self.dataDirectory = dataDirectory
        self.fileSystem = fileSystem
    }

    public func location() throws -> LogLocation {
        LogLocation(fileSystem: fileSystem, directory: Store.logDirectory(dataDirectory), name: Store.logDirectory(dataDirectory),
                    writerLive: DataFolder.holder(dataDirectory, fileSystem: fileSystem) != nil)
    }

    public func appender(_ location: LogLocation, scan: LogScan, options: StoreOptions, logger: Logger) throws -> any LogAppender {
        try LogWriter(directory: location.directory, scan: scan, segmentSizeBytes: options.segmentSizeBytes, sync: options.sync,
                      fileSystem: fileSystem, logger: logger)
    }
}

extension LogWriter: LogAppender {
    public var isShared: Bool { false }

    public func append(_ events: [Event]) throws(StorageError) -> AppendOutcome {
        try write(events)
        return .appended
    }

    public func catchUp() throws(StorageError) -> [Event] { [] }
}
