import ESMCore
import Testing
@testable import ESMStorage

@Suite struct CodecTests {
    @Test func crc32cKnownVectors() {
        #expect(CRC32C.checksum("123456789") == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        let data = Array("The quick brown fox jumps over the lazy dog".utf8)
        #expect(CRC32C.update(CRC32C.checksum(Array(data[0..<10])), Array(data[10...])) == CRC32C.checksum(data))
    }

    @Test func zstdRoundTripsAndRefusesDamage() {
        let z = Zstd()
        let input = Array(String(repeating: "arn:aws:sqs:us-east-1:123456789012:queue ", count: 50).utf8)
        let packed = z.compress(input)
        #expect(packed.count < input.count / 10)
        #expect(z.decompress(packed, size: input.count) == input)
        #expect(z.decompress(packed, size: input.count + 1) == nil)
        var bad = packed
        bad[bad.count / 2] ^= 0xFF
        #expect(z.decompress(bad, size: input.count) != input)
    }

    @Test func recordRoundTripsWithItsChainLink() throws {
        let codec = RecordCodec(salt: 42, zstd: Zstd())
        let events = (1...3).map { Event(sequence: UInt64($0), time: EventTime(milliseconds: 5), uuid: uuid($0), actor: testActor, change: .deleteRequested) }
        let (bytes, hash) = codec.encode(kind: LogFormat.kindEvents, firstSequence: 1, count: 3, body: RecordCodec.eventsBody(events), previous: .genesis)
        #expect(bytes.count % LogFormat.alignment == 0)
        let file = [UInt8](repeating: 0, count: LogFormat.segmentHeaderSize) + bytes
        let record = try codec.decode(file, at: LogFormat.segmentHeaderSize, previous: .genesis).get()
        #expect(record.hash == hash)
        #expect(try RecordCodec.events(in: record).get() == events)
        // The same bytes under another segment's salt do not validate.
        let other = RecordCodec(salt: 43, zstd: Zstd())
        #expect(throws: RecordCodec.DecodeFailure.self) { try other.decode(file, at: LogFormat.segmentHeaderSize, previous: .genesis).get() }
        // Nor under another chain position.
        #expect(throws: RecordCodec.DecodeFailure.self) { try codec.decode(file, at: LogFormat.segmentHeaderSize, previous: hash).get() }
    }

    @Test func segmentHeaderRoundTripsAndChecksItself() throws {
        let h = SegmentHeader(index: 3, firstSequence: 1024, salt: 7, createdMilliseconds: 9, previousHash: ChainHash(bytes: Array(0..<32)))
        var b = h.encode()
        #expect(try SegmentHeader.decode(b[...]).get() == h)
        b[20] ^= 1
        #expect(throws: StorageError.self) { try SegmentHeader.decode(b[...]).get() }
        #expect(LogFormat.segmentName(index: 3, firstSequence: 1024) == "0000000003-00000000000000001024.seg")
        #expect(LogFormat.parseSegmentName("0000000003-00000000000000001024.seg")! == (3, 1024))
        #expect(LogFormat.parseSegmentName("notes.txt") == nil)
    }
}
