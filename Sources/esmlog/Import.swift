import ArgumentParser
import ESMAudit
import ESMCore
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
        for (i, file) in files.enumerated() {
            if tty { FileHandle.standardError.write(Data("\rreading file \(i + 1) of \(files.count)".utf8)) }
            do {
                var raw: [UInt8]
                if file == "-" {
                    raw = Array(FileHandle.standardInput.readDataToEndOfFile())
                } else {
                    raw = try POSIXFileSystem().read(file)
                }
                if Gzip.isGzip(raw) { raw = try Gzip.decompress(raw) }
                var found: [(time: EventTime, uuid: String, actor: Actor?, record: ImportedRecord)] = []
                var local = Counts()
                try CloudTrailReader.records(in: raw) { r in
                    local.records += 1
                    switch try CloudTrailReader.record(r) {
                    case .mapping(let e):
                        local.mappingRecords += 1
                        if e.record.errorCode != nil { local.refused += 1 }
                        found.append((e.time, e.uuid, e.actor, e.record))
                    case .other: local.other += 1
                    }
                }
                events += found
                counts.records += local.records
                counts.mappingRecords += local.mappingRecords
                counts.refused += local.refused
                counts.other += local.other
                counts.files += 1
            } catch {
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
        let outcome = try ImportedLog.append(events, dataDirectory: dataDir, logger: logger)
        var summary = "files: \(counts.files)\(counts.badFiles > 0 ? " (\(counts.badFiles) skipped)" : ""), records read: \(counts.records), "
        summary += "imported: \(outcome.imported), duplicates: \(outcome.duplicates), not mapping records: \(counts.other), "
        summary += "refused calls: \(counts.refused), log head sequence: \(outcome.lastSequence)\n"
        FileHandle.standardError.write(Data(summary.utf8))
    }
}
