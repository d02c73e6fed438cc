import ArgumentParser
import ESMAudit
import ESMCore
import Foundation

/// A start or end point from `--X T` or `--X-seq N`.
func logPoint(time: String?, sequence: UInt64?, _ name: String) throws -> LogPoint? {
    guard time == nil || sequence == nil else { throw ValidationError("give --\(name) or --\(name)-seq, not both") }
    if let sequence { return .sequence(sequence) }
    return try parseTime(time, "--\(name)").map { .time($0) }
}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What changed between two points of the log: mappings created and deleted, and each changed field's start and end values with every change between.")

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }
    @Option(help: "Start: the state at this time (RFC 3339).")
    var from: String?
    @Option(help: "Start: the state after this sequence.")
    var fromSeq: UInt64?
    @Option(help: "End: the state at this time (RFC 3339).")
    var to: String?
    @Option(help: "End: the state after this sequence.")
    var toSeq: UInt64?
    @Option(help: "Only this mapping.")
    var mapping: String?
    @Option(help: "Output format: text or json.")
    var format: String = "text"

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
        guard from != nil || fromSeq != nil else { throw ValidationError("give --from or --from-seq") }
        guard to != nil || toSeq != nil else { throw ValidationError("give --to or --to-seq") }
    }

    func run() throws {
        let start = try logPoint(time: from, sequence: fromSeq, "from")!
        let end = try logPoint(time: to, sequence: toSeq, "to")!
        let reader = try AuditReader(folder: folder, filter: TimelineFilter(mapping: mapping))
        let coverage = try reader.coverage()
        if case .sequence(let s) = end, s > coverage.lastSequence {
            throw ValidationError("--to-seq \(s) is past the end of the log (last sequence \(coverage.lastSequence))")
        }
        var builder = WindowDiffBuilder(from: start, to: end, mapping: mapping)
        try reader.entries(of: coverage) { builder.add($0) }
        let diff = builder.result()
        if format == "json" {
            var o = diff.json.objectValue!
            o["Coverage"] = coverage.json
            print(JSON.object(o).canonicalString)
        } else {
            print(coverage.line)
            print(diff.text())
        }
    }
}

struct BlameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blame",
        abstract: "Every field of a mapping (as GetEventSourceMapping shows it, plus tags) with the event that last set it.")

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }
    @Argument(help: "The mapping's UUID.")
    var uuid: String
    @Option(help: "As the mapping was at this time (RFC 3339; default: the end of the log).")
    var at: String?
    @Option(help: "Output format: text or json.")
    var format: String = "text"

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }

    func run() throws {
        let point = try parseTime(at, "--at").map { LogPoint.time($0) }
        let reader = try AuditReader(folder: folder, filter: TimelineFilter(mapping: uuid))
        let coverage = try reader.coverage()
        var builder = BlameBuilder(uuid: uuid, at: point)
        try reader.entries(of: coverage) { builder.add($0) }
        guard let blame = builder.result() else {
            FileHandle.standardError.write(Data("esmlog: mapping \(uuid) does not exist \(point?.description ?? "at the end of the log")\n".utf8))
            throw ExitCode(1)
        }
        if format == "json" {
            var o = blame.json.objectValue!
            o["Coverage"] = coverage.json
            print(JSON.object(o).canonicalString)
        } else {
            print(blame.text())
        }
    }
}
