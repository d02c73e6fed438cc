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

    /// The CPU instruction and the tables agree at every length and alignment, continued or not.
    @Test func crc32cInstructionEqualsTables() {
        var rng = SystemRandomNumberGenerator()
        let data = (0..<4099).map { _ in UInt8.random(in: 0...255, using: &rng) }
        data.withUnsafeBytes { raw in
            for start in 0..<9 {
                for end in [start, start + 1, start + 7, start + 8, start + 9, start + 63, 1000, 4099] where end >= start {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                    #expect(CRC32C.update(0, slice) == CRC32C.table(0, slice))
                    #expect(CRC32C.update(0x1234_5678, slice) == CRC32C.table(0x1234_5678, slice))
                }
            }
        }
    }

    @Test func zstdRoundTripsAndRefusesDamage() {
        let z = Zstd()
        let input = Array(String(repeating: "arn:aws:sqs:us-east-1:123456789012:queue ", count: 50).utf8)
        let packed = z.compress(input)
        #expect(packed.count < input.count / 10)
        #expect(z.decompress(packed[...], sizeMax: input.count) == input)
        #expect(z.decompress(packed[...], sizeMax: input.count - 1) == nil)
        var bad = packed
        bad[bad.count / 2] ^= 0xFF
        #expect(z.decompress(bad[...], sizeMax: input.count) != input)
    }

    @Test func trainedDictionaryShrinksSmallEventsAndIsNeededToRead() throws {
        let events = (1...600).map { i in
            Event(sequence: UInt64(i), time: EventTime(milliseconds: 1_700_000_000_000 + Int64(i)), uuid: uuid(i), actor: testActor,
                  change: .stateChanged(from: .creating, to: .enabled)).json.canonicalBytes
        }
        let dictionary = try #require(ZstdDictionary.train(samples: Array(events[0..<500]), capacity: 16 * 1024))
        #expect(dictionary.id != 0)
        let z = Zstd()
        let plain = events[500...].reduce(0) { $0 + z.compress($1).count }
        let trained = events[500...].reduce(0) { $0 + z.compress($1, dictionary: dictionary).count }
        #expect(trained * 2 < plain)
        let one = z.compress(events[550], dictionary: dictionary)
        #expect(z.decompress(one[...], sizeMax: 1 << 20, dictionary: dictionary) == events[550])
        #expect(z.decompress(one[...], sizeMax: 1 << 20) == nil)
        #expect(ZstdDictionary([1, 2, 3]) == nil)
    }

    @Test func recordRoundTripsWithItsChainLink() throws {
        let codec = RecordCodec(salt: 42, segmentFirstSequence: 1, zstd: Zstd())
        let events = (1...3).map { Event(sequence: UInt64($0), time: EventTime(milliseconds: 5), uuid: uuid($0), actor: testActor, change: .deleteRequested) }
        let (bytes, hash) = codec.encode(kind: LogFormat.kindEvents, firstSequence: 1, body: RecordCodec.eventsBody(events), previous: .genesis)
        let file = [UInt8](repeating: 0, count: LogFormat.segmentHeaderSize) + bytes
        let record = try codec.decode(file, at: LogFormat.segmentHeaderSize, previous: .genesis, dictionary: nil).get()
        #expect(record.hash == hash)
        #expect(record.storedSize == bytes.count)
        #expect(try RecordCodec.events(in: record).get() == events)
        // The same bytes under another segment's salt do not validate.
        let other = RecordCodec(salt: 43, segmentFirstSequence: 1, zstd: Zstd())
        #expect(throws: RecordCodec.DecodeFailure.self) { try other.decode(file, at: LogFormat.segmentHeaderSize, previous: .genesis, dictionary: nil).get() }
        // Nor under another chain position.
        #expect(throws: RecordCodec.DecodeFailure.self) { try codec.decode(file, at: LogFormat.segmentHeaderSize, previous: hash, dictionary: nil).get() }
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
