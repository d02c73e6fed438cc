import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// Reading ahead on every core is a cache of pure work: a scan with it must say exactly what a
/// scan without it says, on whole logs and on damaged ones.
@Suite struct LookaheadTests {
    /// What a scan says and delivers, as text that can be compared.
    func scan(_ directory: String, readAhead: Bool) throws -> [String] {
        var scanner = LogScanner(directory: directory)
        scanner.readAheadBytesMin = readAhead ? 0 : Int.max
        var seen: [String] = []
        let scan = try scanner.scan(collectBoundaries: true) { seen.append("\($0.sequence) \($0.json.canonicalString)") }
        seen.append("last \(scan.lastSequence) head \(scan.headHash.hex) time \(String(describing: scan.lastTime))")
        for s in scan.segments {
            seen.append("\(s.name) records \(s.records) events \(s.events) valid \(s.validEnd) sealed \(s.sealed) dictionaries \(s.dictionaries) ends \(s.boundaries.map(\.end))")
        }
        seen += scan.problems.map(\.description)
        #expect(readAhead ? scan.recordsReadAhead > scan.segments.count : scan.recordsReadAhead == 0)
        return seen
    }

    @Test func aScanThatReadsAheadSaysWhatAScanInTurnSays() async throws {
        let dir = TempDirectory()
        // Several segments; the writer trains a dictionary after 512 events, so later records
        // are compressed against it.
        _ = try await makeLog(dir, count: 1200, segmentSizeBytes: 96 << 10)
        let whole = try scan(dir.wal, readAhead: false)
        #expect(whole.contains { $0.contains("dictionaries 1") }, "no segment holds a dictionary: the test would not cover them")
        #expect(try scan(dir.wal, readAhead: true) == whole)

        // One byte flipped inside a record of the second segment, and the last segment cut short.
        let names = try dir.segments()
        #expect(names.count >= 3)
        var second = try dir.bytes(names[1])
        second[second.count / 2] ^= 0x40
        try dir.write(names[1], second)
        let last = try dir.bytes(names.last!)
        try dir.write(names.last!, Array(last.prefix(last.count - 7)))
        let damaged = try scan(dir.wal, readAhead: false)
        #expect(damaged.contains { $0.contains("corruption") } && damaged.contains { $0.contains("torn") || $0.contains("incomplete") })
        #expect(try scan(dir.wal, readAhead: true) == damaged)
    }
}
