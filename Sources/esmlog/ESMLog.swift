import ArgumentParser
import ESMCore
import ESMPostgres
import ESMServer
import ESMStorage
import Foundation
import Logging

@main
struct ESMLog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "esmlog",
        abstract: "A local AWS Lambda event source mapping endpoint whose storage is an audit log.",
        subcommands: [Serve.self, Replay.self, Snapshot.self, Timeline.self, Export.self, Verify.self, Inspect.self, Repair.self,
                      Diff.self, BlameCommand.self, Keygen.self, CheckpointCommand.self, Import.self, Migrate.self, Shapes.self])

    /// Parses the command line with `serve`'s config file and environment settings in front.
    static func main() async {
        let arguments: [String]
        do {
            arguments = try Settings.expand(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        } catch {
            // Only serve's settings are expanded: tell the mistake with serve's usage.
            FileHandle.standardError.write(Data("""
                Error: \(error)
                Usage: esmlog serve <options>
                  See 'esmlog serve --help' for more information.

                """.utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the ESM API on the AWS REST-JSON wire protocol.",
        discussion: """
            Every option can also be set in a file given with --config FILE (one 'name = value' per line, \
            e.g. 'port = 9321', '#' comments) or in an environment variable ESMLOG_<NAME> \
            (e.g. ESMLOG_PORT, ESMLOG_CREDENTIALS_FILE). The command line wins over the environment, \
            and the environment over the file.
            """)

    @Option(name: .customLong("config"), help: "A file of settings, 'name = value' per line (read before the other options).")
    var configFile: String?

    @Option(help: "Folder of the log (created if missing; with --storage: of this node's snapshots and checkpoints).")
    var dataDir: String = dataDirectoryDefault
    @Option(help: storageHelp)
    var storage: String?
    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).")
    var port: Int = 9321
    @Option(help: "Account id used in the ARNs esmlog makes.")
    var account: String = "000000000000"
    @Option(help: "Seconds before Creating, Updating, Enabling, Disabling or Deleting moves on (0 allowed).")
    var transitionDelay: Double = 1.0
    @Option(help: "Durability: 'always' syncs before answering; 'none' is unsafe, for tests and benchmarks only.")
    var sync: String = "always"
    @Option(help: "A log segment is sealed once it passes this many bytes.")
    var segmentSizeBytes: Int = 64 << 20
    @Option(help: "Take a snapshot in the background after this many events (0: never).")
    var snapshotEveryEvents: UInt64 = 100_000
    @Option(help: "Largest accepted request body, in bytes.")
    var bodyBytesMax: Int = 256 * 1024
    @Option(help: "Requests answered at once; one more gets 429 TooManyRequestsException.")
    var inFlightMax: Int = 512
    @Option(help: "Connections served at once; more wait in the listen backlog.")
    var connectionsMax: Int = 1024
    @Option(help: "Seconds a connection may stay silent, between requests or inside one, before it is closed.")
    var idleTimeout: Double = 60
    @Option(help: "Seconds a request body may take to arrive before the answer is 408.")
    var requestTimeout: Double = 30
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"
    @Option(help: "Authentication: 'none' records the key id callers claim; 'sigv4' verifies AWS Signature Version 4 against --credentials-file.")
    var auth: String = "none"
    @Option(help: "Keys accepted with --auth sigv4, in the AWS credentials file layout (aws_access_key_id, aws_secret_access_key, optional aws_account_id per section).")
    var credentialsFile: String?
    @Option(help: "Sign a checkpoint of the log's head into DATA_DIR/checkpoints.jsonl with this private key (from esmlog keygen) as the server runs, and at shutdown.")
    var signingKey: String?
    @Option(help: "Seconds between signed checkpoints with --signing-key (a checkpoint is written only when events came since the last).")
    var checkpointEvery: Double = 60

    func validate() throws {
        guard SyncMode(rawValue: sync) != nil else { throw ValidationError("--sync must be 'always' or 'none'") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard transitionDelay >= 0, transitionDelay <= 3600 else { throw ValidationError("--transition-delay must be 0...3600") }
        guard segmentSizeBytes >= 4096 else { throw ValidationError("--segment-size-bytes must be at least 4096") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard inFlightMax >= 1, connectionsMax >= 1 else { throw ValidationError("--in-flight-max and --connections-max must be at least 1") }
        guard idleTimeout > 0, requestTimeout > 0 else { throw ValidationError("--idle-timeout and --request-timeout must be positive") }
        guard auth == "none" || auth == "sigv4" else { throw ValidationError("--auth must be 'none' or 'sigv4'") }
        guard auth == "none" || credentialsFile != nil else { throw ValidationError("--auth sigv4 needs --credentials-file") }
        guard checkpointEvery > 0 else { throw ValidationError("--checkpoint-every must be positive") }
        if let storage { do { _ = try PostgresURL(storage) } catch { throw ValidationError("\(error)") } }
    }

    func run() async throws {
        Heap.limitArenas(to: ProcessInfo.processInfo.activeProcessorCount)
        Heap.mapAllocations(atLeast: 1 << 20)
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { _ in LineLogHandler(logLevel: level) }
        let logger = Logger(label: "esmlog")
        var options = StoreOptions()
        options.sync = SyncMode(rawValue: sync)!
        options.segmentSizeBytes = segmentSizeBytes
        options.snapshotEveryEvents = snapshotEveryEvents
        let metrics = ServerMetrics()
        options.metrics = metrics.factory
        if options.sync == .none { logger.warning("--sync none: acknowledged events can be lost in a crash") }
        var api = APIConfiguration()
        api.account = account
        api.bodyBytesMax = bodyBytesMax
        api.inFlightMax = inFlightMax
        api.requestTimeoutSeconds = requestTimeout
        api.metrics = metrics
        var limits = NetworkLimits()
        limits.connectionsMax = connectionsMax
        limits.idleTimeoutSeconds = idleTimeout
        if auth == "sigv4", let credentialsFile {
            let text: String
            do { text = try String(contentsOfFile: credentialsFile, encoding: .utf8) } catch {
                throw ValidationError("cannot read --credentials-file \(credentialsFile): \(error.localizedDescription)")
            }
            do { api.verifier = SigV4Verifier(credentials: try CredentialsFile(text: text)) } catch {
                throw ValidationError("--credentials-file \(credentialsFile): \(error)")
            }
            logger.info("verifying SigV4 signatures", metadata: ["keys": "\(api.verifier!.credentials.keys.count)"])
        }
        var signer: CheckpointSigner?
        if let signingKey {
            do { signer = CheckpointSigner(key: try SigningKeys.readPrivate(signingKey), dataDirectory: dataDir, everySeconds: checkpointEvery) } catch {
                throw ValidationError("--signing-key \(signingKey): \(error)")
            }
        }
        let store: Store
        var alongside: [@Sendable () async -> Void] = []
        if let storage {
            let url = try PostgresURL(storage)
            let log = try PostgresLog.open(url, logger: logger)
            store = try Store(dataDirectory: dataDir, backend: log, options: options, logger: logger)
            alongside.append { await log.listen { store.wake() } }
            logger.info("log on PostgreSQL", metadata: ["pg.database": "\(url)", "pg.node": "\(log.node)"])
        } else {
            store = try Store(dataDirectory: dataDir, options: options, logger: logger)
        }
        let host = self.host
        try await Server.run(store: store, host: host, port: port, configuration: api, limits: limits,
                             transitionDelaySeconds: transitionDelay, checkpoints: signer, alongside: alongside, logger: logger) { port in
            FileHandle.standardOutput.write(Data("esmlog listening on http://\(host):\(port)\n".utf8))
        }
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild state from the log files alone and print it as GetEventSourceMapping would have.")

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }
    @Option(help: "The state after this sequence number (default: the whole log).")
    var atSeq: UInt64?
    @Option(help: "The state at this time, RFC 3339 (after the last event at or before it).")
    var at: String?
    @Option(help: "Print only this mapping (read through the mapping index: its own records, each checked, and the log after the index).")
    var mapping: String?
    @Flag(help: "With --mapping: rebuild every mapping's state as without --mapping (the newest snapshot at or before the point, then the log after it) and print this one, instead of reading the mapping's own records through the mapping index.")
    var verify = false
    @Option(help: "Output format: json.")
    var format: String = "json"

    func validate() throws {
        guard format == "json" else { throw ValidationError("--format must be json") }
        guard atSeq == nil || at == nil else { throw ValidationError("give --at or --at-seq, not both") }
    }

    func run() throws {
        var point = TimeTravel.Point.head
        if let atSeq { point = .sequence(atSeq) }
        if let t = try parseTime(at, "--at") { point = .time(t) }
        var logger = Logger(label: "esmlog")
        logger.logLevel = .warning
        let progress = Progress()
        let projection = try folder.withLocation { location in
            if let mapping, !verify, try folder.postgres == nil,
                let one = try TimeTravel.mapping(mapping, dataDirectory: dataDir, location: location, at: point) {
                return one
            }
            // The document reads the table of mappings alone: no index is built or kept.
            return try TimeTravel.state(dataDirectory: dataDir, location: location, at: point, indexed: false, logger: logger) {
                progress.step($0)
            }.0
        }
        progress.finish()
        try projection.writeDocumentOnEveryCore(mapping: mapping) { try FileHandle.standardOutput.write(contentsOf: $0) }
        try FileHandle.standardOutput.write(contentsOf: [UInt8(ascii: "\n")])
        ProcessEnd.keep(projection)
    }
}

/// The request shapes esmlog checks, as member paths: for the test that compares them with the
/// Lambda model the AWS SDKs ship. Not listed in help.
struct Shapes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the request members esmlog accepts (for the model check).", shouldDisplay: false)

    func run() throws {
        func object(_ paths: [String: [String]]) -> JSON {
            var o = JSONObject()
            for (path, values) in paths { o[path] = .array(values.map { .string($0) }) }
            return .object(o)
        }
        let out: JSON = ["CreateEventSourceMapping": object(RequestShapes.create.memberPaths()),
                         "UpdateEventSourceMapping": object(RequestShapes.update.memberPaths())]
        print(out.canonicalString)
    }
}

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a snapshot of the state at the end of the log (the log itself is not changed).")

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }

    func run() throws {
        var logger = Logger(label: "esmlog")
        logger.logLevel = .warning
        let lock = try DataFolder.lock(dataDir)
        defer { lock.release() }
        let store = SnapshotStore(directory: SnapshotStore.directory(dataDir))
        let loaded = try folder.withLocation { location in
            do { return try StateLoader.load(location, snapshots: store, imported: .refuse, logger: logger) } catch let e as StorageError where e.code == .invalidArgument {
                throw ValidationError("the log holds imported CloudTrail history, which is read in event-time order from the whole log; snapshots are of served history only")
            }
        }
        let scan = loaded.scan!
        if let problem = scan.problems.first { throw ValidationError("the log has problems; run esmlog verify: \(problem)") }
        guard let position = scan.lastEvents else { throw ValidationError("the log has no events to snapshot") }
        let projection = loaded.projection
        let name = try store.write(projection, at: position)
        try store.prune()
        print("snapshot \(SnapshotStore.directory(dataDir))/\(name): sequence \(projection.lastSequence), \(projection.mappings.count) mappings")
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every record, checksum and hash-chain link of the log, and its signed checkpoints; exit 1 on any problem.")

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }
    @Option(help: "Check every checkpoint's signature with this public key (from esmlog keygen).")
    var publicKey: String?
    @Option(help: "Also check the checkpoints in this file (one kept apart from the data folder); may be repeated.")
    var checkpoint: [String] = []

    func run() throws {
        let log = try folder.open()
        // Every record is checked whole; its events are read as far as their headers (the
        // syntax of each, its version, sequence, time, type and initiator): nothing is applied.
        let scan = try log.location.scan(boundaries: true, reading: .headers)
        let events = scan.segments.reduce(0) { $0 + $1.events }
        print("segments: \(scan.segments.count)")
        print("events: \(events)")
        print("head sequence: \(scan.lastSequence)")
        print("head hash: \(scan.headHash.hex)")
        for p in scan.problems { print("problem: \(p)") }
        if let w = scan.inFlight { print("not counted: the record a live esmlog is writing at \(w.file) offset \(w.offset)") }
        let checkpoints = try checkpointReport(dataDir: dataDir, scan: scan, publicKey: publicKey, extra: checkpoint)
        for line in checkpoints.lines { print(line) }
        for p in checkpoints.problems { print("problem: \(p)") }
        if let database = log.postgres {
            for entry in try database.repairs() { print("repair: \(entry)") }
        } else if let repairs = try? String(contentsOfFile: Store.logDirectory(dataDir) + "/" + LogRepair.journalName, encoding: .utf8) {
            for line in repairs.split(separator: "\n") { print("repair: \(line)") }
        }
        if scan.problems.isEmpty && checkpoints.problems.isEmpty {
            print("ok")
        } else {
            throw ExitCode(1)
        }
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe the log: segments, event counts, sequences and times, bytes per event, compression ratio.")

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }

    func run() throws {
        let scan = try folder.withLocation { try $0.scan() }
        func time(_ t: EventTime?) -> String { t.map(\.description) ?? "-" }
        func range(_ a: UInt64?, _ b: UInt64?) -> String { a.map { "\($0)-\(b ?? $0)" } ?? "-" }
        func perEvent(_ bytes: Int, _ events: Int) -> String {
            events == 0 ? "-" : String(format: "%.1f", Double(bytes) / Double(events))
        }
        func ratio(_ raw: Int, _ stored: Int) -> String { stored == 0 ? "-" : String(format: "%.2f", Double(raw) / Double(stored)) }
        print("segment                               sealed  events  sequences            first event               last event                bytes  bytes/event  ratio")
        for s in scan.segments {
            let name = s.name.padding(toLength: 38, withPad: " ", startingAt: 0)
            print("\(name)\(s.sealed ? "yes" : "no ")     \(pad(s.events, 6))  \(range(s.firstSequence, s.lastSequence).padding(toLength: 19, withPad: " ", startingAt: 0))  \(time(s.firstTime))  \(time(s.lastTime))  \(pad(s.fileSize, 10))  \(perEvent(s.fileSize, s.events).leftPadded(11))  \(ratio(s.rawBytes, s.fileSize).leftPadded(5))")
        }
        let events = scan.segments.reduce(0) { $0 + $1.events }
        let bytes = scan.segments.reduce(0) { $0 + $1.fileSize }
        let raw = scan.segments.reduce(0) { $0 + $1.rawBytes }
        print("total: \(scan.segments.count) segments, \(events) events, \(bytes) bytes, \(perEvent(bytes, events)) bytes/event, event JSON \(perEvent(raw, events)) bytes/event, compression ratio \(ratio(raw, bytes))")
        print("head sequence: \(scan.lastSequence)")
        print("head hash: \(scan.headHash.hex)")
        for p in scan.problems { print("problem: \(p)") }
    }

    func pad(_ n: Int, _ width: Int) -> String { String(n).leftPadded(width) }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

struct Repair: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cut a corrupt log after an event: keeps events 1...SEQ, moves the rest aside, journals the repair.",
        discussion: """
            On segment files the cut bytes and later segments are renamed aside in the log folder and the repair \
            is journaled in its repairs.jsonl. With --storage postgres://..., the cut records and segments move \
            to the tables esm_record_cut and esm_segment_cut and the repair is journaled in esm_repair, in one \
            transaction that holds the head. Either way the data folder's snapshots past the cut are renamed \
            aside. Other nodes' snapshots past the cut are skipped when they start; stop every node before a \
            repair and start them after it.
            """)

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }
    @Option(help: "Keep events up to and including this sequence (the end of a valid record).")
    var truncateAfter: UInt64

    func run() throws {
        var logger = Logger(label: "esmlog")
        logger.logLevel = .warning
        if let url = try folder.postgres {
            // The data folder's lock: no node serves from this folder meanwhile (its snapshots move).
            let lock = try DataFolder.lock(dataDir)
            defer { lock.release() }
            let log = try PostgresLog.open(url, logger: logger)
            defer { log.close() }
            let outcome = try log.repair(truncateAfter: truncateAfter, now: WallClock.now())
            let snapshots = try LogRepair.moveSnapshotsAside(in: SnapshotStore.directory(dataDir), past: truncateAfter, fileSystem: POSIXFileSystem())
            print("kept events 1...\(outcome.keptSequence)")
            print("head hash: \(outcome.headHash.hex)")
            if outcome.movedRecords > 0 { print("moved aside: \(outcome.movedRecords) records to esm_record_cut") }
            if outcome.movedSegments > 0 { print("moved aside: \(outcome.movedSegments) segments to esm_segment_cut") }
            for m in snapshots { print("moved aside: \(m)") }
            print("journal: esm_repair row \(outcome.repair) in \(url)")
            return
        }
        let lock = try DataFolder.lock(dataDir)
        defer { lock.release() }
        let outcome = try LogRepair(directory: Store.logDirectory(dataDir), snapshotDirectory: SnapshotStore.directory(dataDir), logger: logger)
            .truncate(after: truncateAfter, now: WallClock.now())
        print("kept events 1...\(outcome.keptSequence)")
        print("head hash: \(outcome.headHash.hex)")
        for m in outcome.moved { print("moved aside: \(m)") }
        print("journal: \(Store.logDirectory(dataDir))/\(LogRepair.journalName)")
    }
}
