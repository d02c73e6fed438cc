import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// The committed logs under data/golden-vN must replay to exactly the state and head hash that
/// were recorded when they were written. A change that breaks this breaks users' logs.
@Suite struct GoldenLogTests {
    static let data = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data")
    static let folder = data.appendingPathComponent("golden-v1").path

    /// Each golden log, with its segment count and the event kinds it must hold.
    static let logs: [(name: String, segments: Int, kinds: Set<String>)] = [
        ("golden-v1", 4, ["Created", "Updated", "DeleteRequested", "StateChanged", "Removed"]),
        ("golden-v2", 5, ["Created", "Updated", "DeleteRequested", "StateChanged", "Removed", "Tagged", "Untagged"]),
    ]

    @Test(arguments: logs.map(\.name))
    func goldenLogReplaysToTheRecordedStateAndHash(name: String) throws {
        let log = try #require(GoldenLogTests.logs.first { $0.name == name })
        let folder = GoldenLogTests.data.appendingPathComponent(name).path
        var projection = Projection()
        var kinds = Set<String>()
        let scan = try LogScanner(directory: Store.logDirectory(folder)).scan {
            kinds.insert($0.change.name)
            try projection.apply($0)
        }
        #expect(scan.problems.isEmpty)
        #expect(scan.segments.count == log.segments)
        #expect(kinds == log.kinds)

        let verify = try String(contentsOfFile: folder + "/verify.txt", encoding: .utf8)
        #expect(verify.contains("head hash: \(scan.headHash.hex)\n"))
        #expect(verify.contains("head sequence: \(scan.lastSequence)\n"))

        let recorded = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/replay.json"))))
        let state = projection.mappings.values.sorted { $0.uuid < $1.uuid }.map(\.response)
        #expect(recorded["EventSourceMappings"] == .array(state))
        #expect(recorded["Sequence"] == .number(Double(projection.lastSequence)))
        // Replay shows tags beside the mappings since version 2; v1's replay.json predates that.
        if name != "golden-v1" {
            var tags = JSONObject()
            for m in projection.mappings.values where !m.tags.isEmpty { tags[m.uuid] = .object(m.tags) }
            #expect(recorded["Tags"] == .object(tags))
        }
    }

    @Test func goldenRecordsReencodeToTheSameBytes() throws {
        // The writer's bytes for the same input must not change without a format version bump:
        // decode every record of the first segment and encode it again with its salt.
        // (Seal and dictionary records are compared byte for byte.)
        let wal = Store.logDirectory(GoldenLogTests.folder)
        let name = try #require(try LogScanner(directory: wal).segmentNames().first)
        let bytes = try POSIXFileSystem().read(wal + "/" + name)
        let header = try SegmentHeader.decode(bytes[...]).get()
        #expect(header.encode() == Array(bytes[0..<LogFormat.segmentHeaderSize]))
        let codec = RecordCodec(salt: header.salt, segmentFirstSequence: header.firstSequence, zstd: Zstd())
        var offset = LogFormat.segmentHeaderSize
        var hash = header.previousHash
        var dictionary: ZstdDictionary?
        var records = 0
        while offset < bytes.count {
            let record = try codec.decode(bytes, at: offset, previous: hash, dictionary: dictionary).get()
            let body = record.kind == LogFormat.kindEvents
                ? RecordCodec.eventsBody(try RecordCodec.events(in: record).get())
                : record.body
            let (again, againHash) = codec.encode(kind: record.kind, firstSequence: record.firstSequence, body: body,
                                                  dictionary: record.codec == LogFormat.codecZstdDictionary ? dictionary : nil,
                                                  previous: hash)
            let original = Array(bytes[offset..<(offset + record.storedSize)])
            if record.kind != LogFormat.kindEvents {
                #expect(again == original)
            } else {
                // Length and CRC follow the compressed size, which is libzstd's business; every
                // other field, and the chain link over the uncompressed body, is ours.
                #expect(Array(again[10..<LogFormat.recordHeaderSize]) == Array(original[10..<LogFormat.recordHeaderSize]))
            }
            #expect(againHash == record.hash)
            if record.kind == LogFormat.kindDictionary { dictionary = ZstdDictionary(record.body) }
            hash = record.hash
            offset += record.storedSize
            records += 1
        }
        #expect(records > 2)
    }
}
