import ESMCore
import Foundation
import Logging

/// The operator's way out of a corrupt log: keep events 1 through a sequence, move everything
/// after it out of the log, and say so in the log folder's repair journal.
///
/// Nothing is deleted. The bytes cut from the segment that holds the sequence go to
/// `<segment>.cut-<offset>`, later segments are renamed to `<segment>.cut`, snapshots of a
/// state past the cut are renamed to `<snapshot>.cut` (no later start could use them), and
/// `repairs.jsonl` gets one line naming the time, the sequence kept, the head hash kept and every
/// file moved, so that an auditor can see that history was shortened, by how much and when.
public struct LogRepair {
    public struct Outcome: Sendable {
        public var keptSequence: UInt64
        public var headHash: ChainHash
        public var moved: [String]
    }

    public static let journalName = "repairs.jsonl"

    let directory: String
    /// The data folder's snapshot folder, whose snapshots past the cut are moved aside.
    let snapshotDirectory: String?
    let fs: any FileSystem
    let logger: Logger

    /// - Parameters:
    ///   - directory: the log folder (`DIR/wal`).
    ///   - snapshotDirectory: the snapshot folder (`DIR/snapshots`), when there is one.
    public init(directory: String, snapshotDirectory: String? = nil, fileSystem: any FileSystem = POSIXFileSystem(), logger: Logger) {
        self.directory = directory
        self.snapshotDirectory = snapshotDirectory
        self.fs = fileSystem
        self.logger = logger
    }

    /// Cuts the log after event `sequence`, which must be the last event of a whole, valid
    /// record before the first problem.
    /// - Throws: `StorageError(.invalidArgument)` naming the nearest sequences that can be kept.
    public func truncate(after sequence: UInt64, now: EventTime) throws -> Outcome {
        let scanner = LogScanner(directory: directory, fileSystem: fs)
        let scan = try scanner.scan(collectBoundaries: true)
        let cut = try LogRepair.cutPoint(in: scan, after: sequence)
        var moved: [String] = []
        let name = scan.segments[cut.segment].name
        let path = directory + "/" + name
        let aside = "\(path).cut-\(cut.offset)"
        if try fs.cutTail(path, at: cut.offset, keepingIn: aside) > 0 { moved.append(aside) }
        for later in scan.segments[(cut.segment + 1)...] {
            try fs.rename(directory + "/" + later.name, directory + "/" + later.name + ".cut")
            moved.append(directory + "/" + later.name + ".cut")
        }
        try fs.syncDirectory(directory)
        if let snapshotDirectory { moved += try LogRepair.moveSnapshotsAside(in: snapshotDirectory, past: sequence, fileSystem: fs) }
        let after = try scanner.scan()
        guard after.problems.isEmpty, after.lastSequence == sequence else {
            throw StorageError(.corruption, "after the cut the log still has problems: \(after.problems.map(\.description))")
        }
        let kept = after.headHash
        let entry = LogRepair.journalEntry(now: now, kept: sequence, before: scan, headHash: kept, moved: moved)
        let journal = directory + "/" + LogRepair.journalName
        let existing = fs.exists(journal) ? try fs.read(journal) : []
        let line = entry.canonicalBytes + [10]
        let file = fs.exists(journal) ? try fs.open(journal) : try fs.create(journal)
        try file.write(line, at: existing.count)
        try file.sync()
        file.close()
        try fs.syncDirectory(directory)
        logger.warning("log repaired", metadata: [
            "wal.kept_through": "\(sequence)", "wal.head_hash": "\(kept.hex)", "wal.moved": "\(moved)",
        ])
        return Outcome(keptSequence: sequence, headHash: kept, moved: moved)
    }

    /// Where a cut after event `sequence` goes: the index in `scan.segments` of the segment that
    /// keeps it, the offset the kept part ends at, and the chain hash the kept part ends with.
    /// - Throws: `StorageError(.invalidArgument)` when `sequence` is past the last valid event or
    ///   is not the end of a record, naming the nearest sequences that can be kept.
    public static func cutPoint(in scan: LogScan, after sequence: UInt64) throws(StorageError) -> (segment: Int, offset: Int, hash: ChainHash) {
        guard sequence <= scan.lastSequence else {
            throw StorageError(.invalidArgument, "sequence \(sequence) is past the last valid event (\(scan.lastSequence))")
        }
        if sequence == 0, !scan.segments.isEmpty { return (0, LogFormat.segmentHeaderSize, .genesis) }
        for (i, s) in scan.segments.enumerated() {
            if let b = s.boundaries.first(where: { $0.lastSequence == sequence }) { return (i, b.end, b.hash) }
        }
        let all = scan.segments.flatMap { $0.boundaries.map(\.lastSequence) }
        let below = all.last { $0 < sequence }.map(String.init) ?? "0"
        let above = all.first { $0 > sequence }.map { ", \($0)" } ?? ""
        throw StorageError(.invalidArgument, "sequence \(sequence) is not the end of a record; the nearest that can be kept: \(below)\(above)")
    }

    /// Moves the snapshots of a state past `sequence` aside (`<snapshot>.cut`): no later start
    /// could use them. Returns the paths they moved to.
    public static func moveSnapshotsAside(in snapshotDirectory: String, past sequence: UInt64, fileSystem fs: any FileSystem) throws -> [String] {
        guard fs.exists(snapshotDirectory) else { return [] }
        var moved: [String] = []
        let snapshots = SnapshotStore(directory: snapshotDirectory, fileSystem: fs)
        for (name, s) in try snapshots.list() where s > sequence {
            let path = snapshotDirectory + "/" + name
            try fs.rename(path, path + ".cut")
            moved.append(path + ".cut")
        }
        try fs.syncDirectory(snapshotDirectory)
        return moved
    }

    /// The journal's account of one repair: when, what was kept, what the log held before, and
    /// where everything cut went.
    public static func journalEntry(now: EventTime, kept sequence: UInt64, before scan: LogScan, headHash: ChainHash, moved: [String]) -> JSON {
        [
            "Time": .string(now.description), "KeptThroughSequence": .number(Double(sequence)),
            "PreviousLastValidSequence": .number(Double(scan.lastSequence)), "HeadHash": .string(headHash.hex),
            "Problems": .array(scan.problems.map { .string($0.description) }), "Moved": .array(moved.map { .string($0) }),
        ]
    }
}
