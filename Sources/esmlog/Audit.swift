import ArgumentParser
import ESMAudit
import ESMCore
import ESMStorage
import Foundation

/// Reads the log for the audit commands: once to verify it, then the entries of exactly the
/// prefix that the first read covered, so that the sequence range and head hash an export
/// states are those of the events in it, even while a live server appends.
///
/// One mapping's history on segment files is read through the mapping index instead (unless
/// `walkWholeLog`): its own records, each checked, and the log after the index in full.
final class AuditReader {
    let dataDir: String
    let log: OpenedLog
    let filter: TimelineFilter
    let walkWholeLog: Bool
    /// The mapping's events, once `coverage()` has read them through the index.
    private var history: MappingHistory?

    /// Opens the log `folder` names (kept open while the reader lives).
    init(folder: LogFolder, filter: TimelineFilter, walkWholeLog: Bool = false) throws {
        dataDir = folder.dataDir
        log = try folder.open()
        self.filter = filter
        self.walkWholeLog = walkWholeLog
    }

    var location: LogLocation { log.location }

    /// What the log holds and whether it verifies, from a first pass.
    func coverage() throws -> ExportCoverage {
        if let mapping = filter.mapping, !walkWholeLog, log.postgres == nil {
            let history = try MappingHistory.read(mapping, dataDirectory: dataDir, location: location)
            self.history = history
            if !history.walkedWholeLog { return indexedCoverage(history) }
            return coverage(of: history.scan)
        }
        return coverage(of: try location.scan(boundaries: true))
    }

    private func coverage(of scan: LogScan) -> ExportCoverage {
        var coverage = ExportCoverage(firstSequence: scan.lastSequence == 0 ? 0 : 1, lastSequence: scan.lastSequence, headHash: scan.headHash.hex,
                                      verification: scan.problems.isEmpty ? "ok" : AuditReader.problems(scan.problems), filter: filterWords)
        let checkpoints = (try? CheckpointFile.read(CheckpointFile.path(dataDir))) ?? []
        if let c = CheckpointFile.newest(checkpoints, in: scan, through: scan.lastSequence) {
            coverage.checkpoint = ExportCoverage.CheckpointNote(sequence: c.sequence, time: c.time.description,
                                                                publicKey: Data(c.publicKey).base64EncodedString())
        }
        return coverage
    }

    /// What a read through the index checked, and what it did not: the chain before the index's
    /// last record is not walked, so it says so instead of "ok" (and states no checkpoint).
    private func indexedCoverage(_ h: MappingHistory) -> ExportCoverage {
        let problems = h.problems + h.scan.problems
        let checked = "this mapping's \(h.recordsChecked) record(s) through sequence \(h.indexedThrough) checked through the mapping index"
            + " (checksum and chain link), and every record after it; the chain before it was not walked (esmlog verify, or --verify, walks it)"
        return ExportCoverage(firstSequence: h.scan.lastSequence == 0 ? 0 : 1, lastSequence: h.scan.lastSequence, headHash: h.scan.headHash.hex,
                              verification: problems.isEmpty ? checked : AuditReader.problems(problems) + "; " + checked, filter: filterWords)
    }

    static func problems(_ p: [LogProblem]) -> String { "\(p.count) problem(s): \(p[0])" }

    private var filterWords: String {
        var words: [String] = []
        if let m = filter.mapping { words.append("mapping \(m)") }
        if let s = filter.since { words.append("since \(s)") }
        if let u = filter.until { words.append("until \(u)") }
        return words.isEmpty ? "all events" : words.joined(separator: ", ")
    }

    /// Calls `emit` with every entry the filter selects among the events `coverage` covers, in
    /// log order.
    func entries(of coverage: ExportCoverage, _ emit: (TimelineEntry) throws -> Void) throws {
        var builder = TimelineBuilder(oneMapping: history != nil)
        let progress = Progress()
        var imported: [Event] = []
        func next(_ event: Event) throws {
            if HistoryOrder.isImported(event) {
                imported.append(event)
                return
            }
            let entry = try builder.next(event)
            progress.step(event.sequence)
            if filter.includes(event) { try emit(entry) }
        }
        if let history {
            for event in history.events { try next(event) }
        } else {
            _ = try location.scan(through: coverage.lastSequence, visit: next)
        }
        // Imported history is told in event-time order; each entry keeps its log sequence.
        for (event, original) in HistoryOrder.ordered(imported) {
            var entry = try builder.next(event)
            entry.event.sequence = original
            progress.step(original)
            if filter.includes(entry.event) { try emit(entry) }
        }
        progress.finish()
    }
}

/// A progress line on stderr when it is a terminal: a count every 10,000 events, so that only
/// long reads show it.
final class Progress {
    let enabled = isatty(2) == 1
    private var last: UInt64 = 0
    private var shown = false

    func step(_ n: UInt64) {
        last = n
        guard enabled, n % 10_000 == 0 else { return }
        shown = true
        FileHandle.standardError.write(Data("\rreading events: \(n)".utf8))
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\rreading events: \(last), done\n".utf8)) }
    }
}

/// Buffered output to a file or stdout.
final class Output {
    let handle: FileHandle
    var buffer: [UInt8] = []

    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ValidationError("cannot write \(path)")
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        } else {
            handle = FileHandle.standardOutput
        }
    }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}

/// What a command built and leaves to the end of the process instead of freeing it: the
/// process ends just after, and freeing a projection of 100,000 mappings one allocation at a
/// time took 7% of the samples of a `replay --at` in a profile.
enum ProcessEnd {
    nonisolated(unsafe) private static var kept: [Any] = []

    static func keep(_ value: Any) { kept.append(value) }
}

func parseTime(_ text: String?, _ option: String) throws -> EventTime? {
    guard let text else { return nil }
    guard let t = EventTime(rfc3339: text) else { throw ValidationError("\(option) must be RFC 3339, e.g. 2026-11-24T14:02:00Z") }
    return t
}

/// `--since` and `--until`, for the audit commands.
struct Period: ParsableArguments {
    @Option(help: "Only events at or after this time (RFC 3339).")
    var since: String?
    @Option(help: "Only events at or before this time (RFC 3339).")
    var until: String?

    func filter(mapping: String?) throws -> TimelineFilter {
        TimelineFilter(mapping: mapping, since: try parseTime(since, "--since"), until: try parseTime(until, "--until"))
    }
}

struct Timeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every event of one mapping (or all) in order: operation, state, actor, and what changed.")

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }
    @Argument(help: "The mapping's UUID (default: every mapping).")
    var uuid: String?
    @OptionGroup var period: Period
    @Option(help: "Output format: text or json.")
    var format: String = "text"
    @Flag(help: "With a UUID: walk and check the whole log first, as verify does, instead of reading the mapping's own records through the mapping index.")
    var verify = false

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }

    func run() throws {
        let reader = try AuditReader(folder: folder, filter: try period.filter(mapping: uuid), walkWholeLog: verify)
        let coverage = try reader.coverage()
        let out = try Output(path: nil)
        if format == "json" {
            var events: [JSON] = []
            try reader.entries(of: coverage) { events.append($0.json) }
            out.write((["Coverage": coverage.json, "Events": .array(events)] as JSON).canonicalBytes + [10])
        } else {
            let text = TextTimeline(color: isatty(1) == 1, showUUID: uuid == nil)
            out.write(coverage.line + "\n")
            try reader.entries(of: coverage) { out.write(text.render($0) + "\n") }
        }
        out.flush()
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export events for review: jsonl, csv, html (one self-contained file) or cloudtrail.")

    @OptionGroup var folder: LogFolder
    var dataDir: String { folder.dataDir }
    @Option(help: "jsonl, csv, html or cloudtrail.")
    var format: String
    @OptionGroup var period: Period
    @Option(help: "Only this mapping's events.")
    var mapping: String?
    @Flag(help: "With --mapping: walk and check the whole log first, as verify does, instead of reading the mapping's own records through the mapping index.")
    var verify = false
    @Option(help: "Write here instead of stdout.")
    var output: String?

    func validate() throws {
        guard ["jsonl", "csv", "html", "cloudtrail"].contains(format) else {
            throw ValidationError("--format must be jsonl, csv, html or cloudtrail")
        }
    }

    func run() throws {
        let reader = try AuditReader(folder: folder, filter: try period.filter(mapping: mapping), walkWholeLog: verify)
        let coverage = try reader.coverage()
        let out = try Output(path: output)
        switch format {
        case "jsonl":
            var header = JSONObject()
            header["RecordType"] = "ExportCoverage"
            for m in coverage.json.objectValue! { header[m.key] = m.value }
            out.write(JSON.object(header).canonicalBytes + [10])
            try reader.entries(of: coverage) { e in
                var o = e.json.objectValue!
                o["RecordType"] = "Event"
                out.write(JSON.object(o).canonicalBytes + [10])
            }
        case "csv":
            out.write("# esmlog export: \(coverage.line), filter: \(coverage.filter)\r\n")
            out.write(CSVExport.header)
            try reader.entries(of: coverage) { out.write(CSVExport.rows($0)) }
        case "html":
            var entries: [TimelineEntry] = []
            try reader.entries(of: coverage) { entries.append($0) }
            out.write(HTMLExport.document(entries, coverage: coverage))
        default:
            var records: [JSON] = []
            try reader.entries(of: coverage) { records.append(CloudTrailExport.record($0)) }
            out.write((["Records": .array(records), "EsmlogExport": coverage.json] as JSON).canonicalBytes + [10])
        }
        out.flush()
    }
}
