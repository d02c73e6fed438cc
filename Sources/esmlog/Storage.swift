import ArgumentParser
import ESMPostgres
import ESMStorage
import Foundation
import Logging

/// The data folder used when none is given: inside the working tree, ignored by git.
let dataDirectoryDefault = "var/data"

/// What `--storage` says when it is given: the segment files of `--data-dir` (the default), or
/// the log on PostgreSQL.
let storageHelp = ArgumentHelp(
    "Where the log is: postgres://USER[:PASSWORD]@HOST:PORT/DB for a log on PostgreSQL (the data folder then keeps snapshots and checkpoints); default: segment files in --data-dir. Also ESMLOG_STORAGE.",
    valueName: "url")

/// `--data-dir` and `--storage`, for the commands that read a log.
struct LogFolder: ParsableArguments {
    @Option(help: "Folder of the log (with --storage: of its snapshots and checkpoints).")
    var dataDir: String = dataDirectoryDefault
    @Option(help: storageHelp)
    var storage: String?

    /// The PostgreSQL log named by `--storage` or ESMLOG_STORAGE; nil for segment files.
    var postgres: PostgresURL? {
        get throws {
            guard let text = storage ?? ProcessInfo.processInfo.environment["ESMLOG_STORAGE"], !text.isEmpty else { return nil }
            do { return try PostgresURL(text) } catch { throw ValidationError("\(error)") }
        }
    }

    func validate() throws { _ = try postgres }

    /// Opens the log for reading; a database log is connected to until the result is released.
    func open() throws -> OpenedLog {
        guard let url = try postgres else { return OpenedLog(try SegmentFiles(dataDirectory: dataDir).location(), postgres: nil) }
        let log = try PostgresLog.open(url, logger: quietLogger())
        do { return OpenedLog(try log.location(), postgres: log) } catch {
            log.close()
            throw error
        }
    }

    /// Runs `body` on the log's location, then lets go of it.
    func withLocation<T>(_ body: (LogLocation) throws -> T) throws -> T {
        let log = try open()
        return try body(log.location)
    }
}

/// A log opened for reading: its location, and the database connection behind it, if any.
final class OpenedLog {
    let location: LogLocation
    let postgres: PostgresLog?

    init(_ location: LogLocation, postgres: PostgresLog?) {
        self.location = location
        self.postgres = postgres
    }

    deinit { postgres?.close() }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "esmlog")
    logger.logLevel = .warning
    return logger
}

/// Copies a log between backends, byte for byte, after checking it.
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a log between a data folder and PostgreSQL: every record, checksum and chain link as it is.",
        discussion: """
            Each of --from and --to is a data folder or a postgres://USER[:PASSWORD]@HOST:PORT/DB URL. The source \
            is verified first and must have no problems; the target must hold no log. The copy is verified \
            again at the target, which then has the same head sequence and head hash. No esmlog may write the \
            source meanwhile (a data folder's lock is taken).
            """)

    @Option(help: "The log to copy: a data folder or a postgres:// URL.")
    var from: String
    @Option(help: "Where to copy it: an empty data folder or a postgres:// URL whose database holds no log.")
    var to: String

    func validate() throws {
        guard PostgresURL.isPostgres(from) != PostgresURL.isPostgres(to) else {
            throw ValidationError("copy from a data folder to a postgres:// URL or back")
        }
    }

    func run() throws {
        let logger = quietLogger()
        if PostgresURL.isPostgres(to) {
            let lock = try DataFolder.lock(from)
            defer { lock.release() }
            let source = try SegmentFiles(dataDirectory: from).location()
            let scan = try checked(source)
            let log = try PostgresLog.open(try PostgresURL(to), logger: logger)
            defer { log.close() }
            let copied = try log.copy(from: source)
            report(scan, copied: copied, target: try checked(try log.location()))
        } else {
            let log = try PostgresLog.open(try PostgresURL(from), logger: logger)
            defer { log.close() }
            let source = try log.location()
            let scan = try checked(source)
            let lock = try DataFolder.lock(to)
            defer { lock.release() }
            let wal = Store.logDirectory(to)
            let fs = POSIXFileSystem()
            if fs.exists(wal), !(try fs.list(wal)).isEmpty { throw ValidationError("\(wal) is not empty: migrate writes into a folder that holds no log") }
            try fs.makeDirectory(wal)
            for name in try source.fileSystem.list(source.directory) {
                try fs.writeAtomically(try source.fileSystem.read(source.directory + "/" + name), to: wal + "/" + name, directory: wal)
            }
            report(scan, copied: scan.segments.reduce(0) { $0 + $1.records }, target: try checked(try SegmentFiles(dataDirectory: to).location()))
        }
    }

    /// Scans a log and refuses it unless it is whole.
    func checked(_ location: LogLocation) throws -> LogScan {
        let scan = try location.scan()
        if let problem = scan.problems.first { throw ValidationError("\(location.name): \(problem); run esmlog verify (and repair) first") }
        return scan
    }

    func report(_ source: LogScan, copied: Int, target: LogScan) {
        print("copied: \(source.segments.count) segments, \(copied) records, \(source.lastSequence) events")
        print("head sequence: \(target.lastSequence)")
        print("head hash: \(target.headHash.hex)")
        if target.lastSequence != source.lastSequence || target.headHash != source.headHash {
            print("problem: the copy's head differs from the source's")
            Foundation.exit(1)
        }
        print("ok")
    }
}
