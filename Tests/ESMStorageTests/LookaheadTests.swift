import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// Reading ahead on every core is a cache of pure work: a scan with it must say exactly what a
/// scan without it says, on whole logs and on damaged ones.
@Suite struct LookaheadTests {
    /// What a scan says and delivers, as text that can be compared. A scan of events delivers
    /// each event and its state part (`StateEvent`); with `reading: .states` (what a replay
    /// reads) only the state parts are delivered, and with `.headers` (what `verify` reads)
    /// nothing is, and the rest must be the same.
    func scan(_ directory: String, readAhead: Bool, reading: EventReading = .events) throws -> [String] {
        var scanner = LogScanner(directory: directory)
        scanner.readAheadBytesMin = readAhead ? 0 : Int.max
        var seen: [String] = []
        let scan = try scanner.scan(collectBoundaries: true, reading: reading, visit: {
            seen.append("event \($0.sequence) \($0.json.canonicalString)")
            seen.append("state \(StateEvent($0))")
        }, visitState: { seen.append("state \($0)") })
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
        let states = whole.filter { !$0.hasPrefix("event ") }
        #expect(try scan(dir.wal, readAhead: false, reading: .states) == states)
        #expect(try scan(dir.wal, readAhead: true, reading: .states) == states)
        let summary = states.filter { !$0.hasPrefix("state ") }
        #expect(summary.count < whole.count - 2000)
        #expect(try scan(dir.wal, readAhead: false, reading: .headers) == summary)
        #expect(try scan(dir.wal, readAhead: true, reading: .headers) == summary)

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
        let damagedStates = damaged.filter { !$0.hasPrefix("event ") }
        #expect(try scan(dir.wal, readAhead: false, reading: .states) == damagedStates)
        #expect(try scan(dir.wal, readAhead: true, reading: .states) == damagedStates)
        let damagedSummary = damagedStates.filter { !$0.hasPrefix("state ") }
        #expect(try scan(dir.wal, readAhead: false, reading: .headers) == damagedSummary)
        #expect(try scan(dir.wal, readAhead: true, reading: .headers) == damagedSummary)
    }

    /// An event the writer should never have written, in a record whose checksum and chain link
    /// are right: a scan of headers refuses it as a scan of events does, with the same message,
    /// at the same place, when it breaks a rule the header reads; and one that only a replay
    /// would refuse (a member under Actor) passes a scan of headers and fails a scan of events or states.
    @Test func aBadEventInAWellFormedRecordIsFoundByAScanOfHeaders() async throws {
        let good = Event(sequence: 1, time: EventTime(milliseconds: 1_700_000_000_000), uuid: uuid(1), actor: testActor,
                         change: .deleteRequested).json.objectValue!
        func log(_ second: JSONObject) throws -> TempDirectory {
            let dir = TempDirectory()
            try FileManager.default.createDirectory(atPath: dir.wal, withIntermediateDirectories: true)
            let header = SegmentHeader(index: 1, firstSequence: 1, salt: 99, createdMilliseconds: 1, previousHash: .genesis)
            let codec = RecordCodec(salt: 99, segmentFirstSequence: 1, zstd: Zstd())
            var body: [UInt8] = []
            for event in [good, second] {
                let bytes = JSON.object(event).canonicalBytes
                body.appendLE(UInt32(bytes.count))
                body.append(contentsOf: bytes)
            }
            let (record, _) = codec.encode(kind: LogFormat.kindEvents, firstSequence: 1, body: body, previous: .genesis)
            try dir.write(LogFormat.segmentName(index: 1, firstSequence: 1), header.encode() + record)
            return dir
        }
        var next = good
        next["Sequence"] = 2
        var refused = 0
        for (key, value) in [("Type", JSON.string("Deleted")), ("Sequence", .number(3)), ("Initiator", .null), ("EventVersion", .number(9))] {
            var o = next
            o[key] = value
            let dir = try log(o)
            let events = try scan(dir.wal, readAhead: false)
            #expect(events.contains { $0.contains("corruption") }, "\(key)")
            #expect(try scan(dir.wal, readAhead: false, reading: .states) == events.filter { !$0.hasPrefix("event ") })
            #expect(try scan(dir.wal, readAhead: false, reading: .headers) == events.filter { !$0.hasPrefix("event ") && !$0.hasPrefix("state ") })
            refused += 1
        }
        #expect(refused == 4)
        var o = next
        o["Actor"] = .object(JSONObject([("AccessKeyId", "AKIA")]))
        let dir = try log(o)
        #expect(try scan(dir.wal, readAhead: false).contains { $0.contains("Actor.SourceIp is missing") })
        #expect(try scan(dir.wal, readAhead: false, reading: .states).contains { $0.contains("Actor.SourceIp is missing") })
        #expect(try !scan(dir.wal, readAhead: false, reading: .headers).contains { $0.contains("corruption") })
    }
}
