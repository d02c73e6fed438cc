import ArgumentParser
import ESMAudit
import ESMCore
import ESMPostgres
import ESMStorage
import Foundation
import Logging

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import CloudTrail records of Lambda event source mapping calls (trail files, lookup-events output, JSON Lines) into a data folder of their own.",
        discussion: """
            PATH is a file (.json or .json.gz), a folder walked recursively (as 'aws s3 sync' leaves \
            account and organization trails), or '-' for standard input. The kind of each file is told \
            by its content. Records already imported (by eventID) are skipped, so a run can be repeated \
            and trails that overlap can both be imported. A file that cannot be read stops the run before \
            anything is written, unless --skip-bad.
            """)

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }
    @Argument(help: "Files, folders or '-'.")
    var paths: [String]
    @Flag(help: "Report files that cannot be read and import the rest.")
    var skipBad = false

    struct Counts {
        var files = 0, records = 0, mappingRecords = 0, refused = 0, other = 0, badFiles = 0

        mutating func add(_ o: Counts) {
            files += o.files
            records += o.records
            mappingRecords += o.mappingRecords
            refused += o.refused
            other += o.other
            badFiles += o.badFiles
        }
    }

    typealias Found = [(time: EventTime, uuid: String, actor: Actor?, record: ImportedRecord)]

    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// One file's mapping records and counts, or why it cannot be read.
    static func read(_ file: String) -> Result<(Found, Counts), ReadError> {
        do {
            var raw: [UInt8] = file == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : try POSIXFileSystem().read(file)
            if Gzip.isGzip(raw) { raw = try Gzip.decompress(raw) }
            var found: Found = []
            var local = Counts(files: 1)
            try CloudTrailReader.records(in: raw) { item in
                local.records += 1
                guard case .record(let r) = item else {
                    local.other += 1
                    return
                }
                switch try CloudTrailReader.record(r) {
                case .mapping(let e):
                    local.mappingRecords += 1
                    if e.record.errorCode != nil { local.refused += 1 }
                    found.append((e.time, e.uuid, e.actor, e.record))
                case .other: local.other += 1
                }
            }
            return .success((found, local))
        } catch {
            return .failure(ReadError(description: "\(error)"))
        }
    }

    /// The per-file results of the parallel read.
    final class Results: @unchecked Sendable {  // guarded by `lock`
        private let lock = NSLock()
        private var slots: [Result<(Found, Counts), ReadError>?]
        private(set) var done = 0
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ r: Result<(Found, Counts), ReadError>) {
            lock.withLock {
                slots[i] = r
                done += 1
            }
        }
        var all: [Result<(Found, Counts), ReadError>] { lock.withLock { slots.map { $0! } } }
    }

    func run() throws {
        var logger = Logger(label: "esmlog")
        logger.logLevel = .warning
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            if path == "-" {
                files.append(path)
            } else if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let walker = FileManager.default.enumerator(atPath: path)
                var found: [String] = []
                while let name = walker?.nextObject() as? String {
                    let full = path + "/" + name
                    var dir: ObjCBool = false
                    if FileManager.default.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue,
                       name.hasSuffix(".json") || name.hasSuffix(".json.gz") || name.hasSuffix(".jsonl") || name.hasSuffix(".jsonl.gz") {
                        found.append(full)
                    }
                }
                files += found.sorted()
            } else if FileManager.default.fileExists(atPath: path) {
                files.append(path)
            } else {
                throw ValidationError("\(path): no such file or folder")
            }
        }
        var counts = Counts()
        var events: [(time: EventTime, uuid: String, actor: Actor?, record: ImportedRecord)] = []
        let tty = isatty(2) == 1
        // Files are read, decompressed and parsed on every core; their results are taken in
        // file order, so the outcome (and the first bad file named) does not depend on timing.
        let list = files
        let results = Results(count: list.count)
        DispatchQueue.concurrentPerform(iterations: list.count) { i in
            let result = Import.read(list[i])
            results.set(i, result)
            if tty { FileHandle.standardError.write(Data("\rread \(results.done) of \(list.count) files".utf8)) }
        }
        for (file, result) in zip(files, results.all) {
            switch result {
            case .success(let (found, local)):
                events += found
                counts.add(local)
            case .failure(let error):
                let message = "\(file == "-" ? "standard input" : file): \(error)"
                guard skipBad else {
                    if tty { FileHandle.standardError.write(Data("\n".utf8)) }
                    throw ValidationError("\(message); nothing was imported (--skip-bad imports the other files)")
                }
                counts.badFiles += 1
                FileHandle.standardError.write(Data("\(tty ? "\n" : "")skipped \(message)\n".utf8))
            }
        }
        if tty, !files.isEmpty { FileHandle.standardError.write(Data("\n".utf8)) }
        let log = try folder.postgres.map { try PostgresLog.open($0, logger: logger) }
        defer { log?.close() }
        let outcome = try ImportedLog.append(events, dataDirectory: dataDir, backend: log, logger: logger)
        var summary = "files: \(counts.files)\(counts.badFiles > 0 ? " (\(counts.badFiles) skipped)" : ""), records read: \(counts.records), "
        summary += "imported: \(outcome.imported), duplicates: \(outcome.duplicates), not mapping records: \(counts.other), "
        summary += "refused calls: \(counts.refused), log head sequence: \(outcome.lastSequence)\n"
        FileHandle.standardError.write(Data(summary.utf8))
    }
}
