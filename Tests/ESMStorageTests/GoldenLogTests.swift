import ESMCore
import Foundation
import Testing
@testable import ESMStorage

/// The committed log under data/golden-v1 must replay to exactly the state and head hash that
/// were recorded when it was written. A change that breaks this breaks users' logs.
@Suite struct GoldenLogTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data/golden-v1").path

    @Test func goldenLogReplaysToTheRecordedStateAndHash() throws {
        var projection = Projection()
        let scan = try LogScanner(directory: Store.logDirectory(GoldenLogTests.folder)).scan { try projection.apply($0) }
        #expect(scan.problems.isEmpty)
        #expect(scan.segments.count == 4)

        let verify = try String(contentsOfFile: GoldenLogTests.folder + "/verify.txt", encoding: .utf8)
        #expect(verify.contains("head hash: \(scan.headHash.hex)\n"))
        #expect(verify.contains("head sequence: \(scan.lastSequence)\n"))

        let recorded = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: GoldenLogTests.folder + "/replay.json"))))
        let state = projection.mappings.values.sorted { $0.uuid < $1.uuid }.map(\.response)
        #expect(recorded["EventSourceMappings"] == .array(state))
        #expect(recorded["Sequence"] == .number(Double(projection.lastSequence)))
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
