import ESMCore
import ESMStorage
import Foundation
import PostgresNIO

extension PostgresLog {
    /// What a repair of the database's log did.
    public struct RepairOutcome: Sendable {
        public var keptSequence: UInt64
        public var headHash: ChainHash
        /// The journal row's id in `esm_repair`.
        public var repair: Int64
        public var movedSegments: Int
        public var movedRecords: Int
    }

    /// Cuts the log after event `sequence`, as `LogRepair` cuts segment files, in one
    /// transaction that holds the head's lock (no node appends meanwhile).
    ///
    /// Nothing is deleted. The records after the cut move to `esm_record_cut` and the segments
    /// after the one that keeps `sequence` move to `esm_segment_cut`, both under the new
    /// `esm_repair` row. That row journals the repair as a data folder's `repairs.jsonl` does,
    /// with the same entry. The head moves back to the cut. The log is scanned again before the
    /// commit, and the repair is rolled back unless that scan has no problems and ends at
    /// `sequence`.
    /// - Throws: `StorageError(.invalidArgument)` naming the nearest sequences that can be kept.
    public func repair(truncateAfter sequence: UInt64, now: EventTime) throws -> RepairOutcome {
        try call(max(timeoutSeconds, 600)) { client, logger in
            try await client.withTransaction(logger: logger) { conn in
                try await conn.query("SELECT 1 FROM esm_head WHERE one_row FOR UPDATE", logger: logger)
                let rows = try await PostgresLog.readAll { try await conn.query($0, logger: logger) }
                return try await self.cut(rows, after: sequence, now: now) { sql in try await conn.query(sql, logger: logger) }
            }
        }
    }

    /// The repair journal's entries, oldest first, each as `repairs.jsonl` has it.
    public func repairs() throws -> [String] {
        try call { client, logger in
            var entries: [String] = []
            for try await entry in try await client.query("SELECT entry FROM esm_repair ORDER BY id", logger: logger).decode(String.self) {
                entries.append(entry)
            }
            return entries
        }
    }

    /// Plans and makes the cut on rows read under the head's lock; `run` runs in that transaction.
    private func cut(_ rows: AllRows, after sequence: UInt64, now: EventTime, _ run: Run) async throws -> RepairOutcome {
        let scan = try image(rows).scan(boundaries: true)
        let cut = try LogRepair.cutPoint(in: scan, after: sequence)
        guard let (segment, _) = LogFormat.parseSegmentName(scan.segments[cut.segment].name) else {
            throw StorageError(.corruption, "\(url): a segment is named \(scan.segments[cut.segment].name)")
        }
        let index = Int64(segment), offset = Int64(cut.offset)
        let movedRecords = rows.records.filter { ($0.0, $0.1) >= (index, offset) }.count
        let movedSegments = rows.headers.filter { $0.0 > index }.count
        var moved: [String] = []
        if movedRecords > 0 { moved.append("esm_record_cut: \(movedRecords) records from segment \(segment) offset \(cut.offset) on") }
        if movedSegments > 0 { moved.append("esm_segment_cut: \(movedSegments) segments after segment \(segment)") }
        // The head this cut leaves: the chain hash after the kept part's last record. The cut
        // log is scanned again before the commit.
        let entry = LogRepair.journalEntry(now: now, kept: sequence, before: scan, headHash: cut.hash, moved: moved)
        let entryText = String(decoding: entry.canonicalBytes, as: UTF8.self)
        let hash = ByteBuffer(bytes: cut.hash.bytes)
        let repair = try await run("""
            INSERT INTO esm_repair (kept_through, previous_last_valid, head_hash, entry)
            VALUES (\(Int64(sequence)), \(Int64(scan.lastSequence)), \(hash), \(entryText)) RETURNING id
            """).collect().first!.decode(Int64.self)
        _ = try await run("""
            INSERT INTO esm_record_cut SELECT \(repair), r.* FROM esm_record r WHERE (r.segment, r.start_offset) >= (\(index), \(offset))
            """)
        _ = try await run("DELETE FROM esm_record WHERE (segment, start_offset) >= (\(index), \(offset))")
        _ = try await run("INSERT INTO esm_segment_cut SELECT \(repair), s.* FROM esm_segment s WHERE s.idx > \(index)")
        _ = try await run("DELETE FROM esm_segment WHERE idx > \(index)")
        _ = try await run("""
            UPDATE esm_head SET segment = \(index), end_offset = \(offset), last_seq = \(Int64(sequence)), hash = \(hash) WHERE one_row
            """)
        // What the transaction now holds must be what was planned.
        let held = try image(try await PostgresLog.readAll(run)).scan()
        guard held.problems.isEmpty else {
            throw StorageError(.corruption, "after the cut the log would still have problems: \(held.problems.map(\.description)); nothing was changed")
        }
        guard held.lastSequence == sequence, held.headHash == cut.hash else {
            throw StorageError(.corruption, "the cut log does not scan as planned; nothing was changed")
        }
        return RepairOutcome(keptSequence: sequence, headHash: cut.hash, repair: repair, movedSegments: movedSegments, movedRecords: movedRecords)
    }
}
