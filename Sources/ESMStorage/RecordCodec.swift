import Crypto
import ESMCore

// The log format, version 1 (docs/log-format.md has the full description).
//
// A log is a folder of segment files named `SSSSSSSSSS-QQQQQQQQQQQQQQQQQQQQ.seg`: segment index,
// then the sequence of its first event, both zero-padded decimal, so that names sort in log order.
//
// Segment header, 96 bytes, little-endian:
//   0  8  magic "ESMLOGv1"        8  2  format version (1)     10 2  header size (96)
//   12 4  flags (0)               16 8  segment index          24 8  first sequence
//   32 8  salt (random per segment: stale bytes from another file never validate)
//   40 8  creation time, ms       48 32 chain hash before this segment's first record
//   80 12 zero                    92 4  CRC-32C of bytes 0..<92
//
// Record, directly after the header or the previous record (no padding):
//   0  4  length of the record (24 + stored body)
//   4  4  CRC-32C seeded with the salt, over bytes 0..<4 and 8..<length
//   8  2  length check: ~(low 16 bits of length XOR high 16 bits). A damaged length field
//         disagrees with it, so damage is never mistaken for a record that runs past the end of
//         the file (a torn write)
//   10 1  kind: 1 events, 2 seal, 3 dictionary
//   11 1  codec: 0 none, 1 zstd, 2 zstd with the segment's current dictionary
//   12 4  sequence of the record's first event minus the segment's first sequence
//   16 8  chain link: SHA-256(previous chain hash ‖ bytes 10..<16 ‖ uncompressed body), first 8 bytes
//   24 .. body
// An events body is, per event, a 4-byte length and the event's canonical JSON; the events
// carry their own sequence numbers, which must continue from the record's. One group commit
// writes one record with one write call, so a crash can tear at most the last record.
// A dictionary record (codec 0) holds a zstd dictionary trained on earlier events; codec-2
// records of the same segment use the last one before them. A seal record (codec 0) closes a
// full segment; its body is the segment's event count (8), its last sequence (8) and the full
// chain hash after its last events record (32).

/// Constants of log format version 1.
public enum LogFormat {
    public static let version: UInt16 = 1
    public static let magic: [UInt8] = Array("ESMLOGv1".utf8)
    public static let segmentHeaderSize = 96
    public static let recordHeaderSize = 24
    /// No record is larger: a bigger length field is damage, not data.
    public static let recordSizeBytesMax = 64 << 20
    /// A torn tail is told from damage by whether any whole record follows; this is the sector
    /// size for zeroed-region checks.
    public static let sectorSize = 512

    public static let kindEvents: UInt8 = 1
    public static let kindSeal: UInt8 = 2
    public static let kindDictionary: UInt8 = 3
    public static let codecNone: UInt8 = 0
    public static let codecZstd: UInt8 = 1
    public static let codecZstdDictionary: UInt8 = 2
    /// Stored chain-link bytes per record. The full 32-byte hash is carried from record to
    /// record and stored in seals and segment headers; the head hash is the tamper anchor.
    public static let linkSize = 8

    public static let sealBodySize = 48
    public static let segmentSuffix = ".seg"

    /// The file name of a segment.
    public static func segmentName(index: UInt64, firstSequence: UInt64) -> String {
        pad(index, 10) + "-" + pad(firstSequence, 20) + segmentSuffix
    }

    /// Index and first sequence from a segment's file name, or nil for other files.
    public static func parseSegmentName(_ name: String) -> (index: UInt64, firstSequence: UInt64)? {
        guard name.hasSuffix(segmentSuffix) else { return nil }
        let stem = name.dropLast(segmentSuffix.count).split(separator: "-")
        guard stem.count == 2, stem[0].count == 10, stem[1].count == 20,
            let i = UInt64(stem[0]), let s = UInt64(stem[1])
        else { return nil }
        return (i, s)
    }

    static func pad(_ v: UInt64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

/// A SHA-256 chain value: the hash of everything in the log up to a record.
public struct ChainHash: Sendable, Equatable, CustomStringConvertible {
    public var bytes: [UInt8]

    public static let genesis = ChainHash(bytes: [UInt8](repeating: 0, count: 32))

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32)
        self.bytes = bytes
    }

    /// The next link: SHA-256(this ‖ record header fields ‖ uncompressed body).
    func next(headerFields: ArraySlice<UInt8>, body: [UInt8]) -> ChainHash {
        var h = SHA256()
        h.update(data: bytes)
        h.update(data: Array(headerFields))
        h.update(data: body)
        return ChainHash(bytes: Array(h.finalize()))
    }

    public var hex: String { bytes.hexString }

    public var description: String { hex }
}

extension Sequence<UInt8> {
    /// The bytes as lower-case hexadecimal, two digits each.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Little-endian helpers over byte arrays.
extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        var x = v.littleEndian
        Swift.withUnsafeBytes(of: &x) { append(contentsOf: $0) }
    }
}

extension Collection where Element == UInt8, Index == Int {
    func readLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var v: T = 0
        for k in 0..<MemoryLayout<T>.size { v |= T(self[self.startIndex + offset + k]) << (8 * k) }
        return v
    }
}

/// A segment's header.
public struct SegmentHeader: Sendable, Equatable {
    public var index: UInt64
    public var firstSequence: UInt64
    public var salt: UInt64
    public var createdMilliseconds: Int64
    public var previousHash: ChainHash

    public func encode() -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(LogFormat.segmentHeaderSize)
        b.append(contentsOf: LogFormat.magic)
        b.appendLE(LogFormat.version)
        b.appendLE(UInt16(LogFormat.segmentHeaderSize))
        b.appendLE(UInt32(0))
        b.appendLE(index)
        b.appendLE(firstSequence)
        b.appendLE(salt)
        b.appendLE(createdMilliseconds)
        b.append(contentsOf: previousHash.bytes)
        b.append(contentsOf: [UInt8](repeating: 0, count: 12))
        b.appendLE(CRC32C.checksum(b))
        assert(b.count == LogFormat.segmentHeaderSize)
        return b
    }

    /// Reads a header; the error text says which check failed.
    public static func decode(_ b: ArraySlice<UInt8>) -> Result<SegmentHeader, StorageError> {
        let b = Array(b)
        guard b.count >= LogFormat.segmentHeaderSize else {
            return .failure(StorageError(.corruption, "segment header is short (\(b.count) bytes)"))
        }
        guard Array(b[0..<8]) == LogFormat.magic else {
            return .failure(StorageError(.corruption, "segment header has no ESMLOGv1 magic"))
        }
        guard CRC32C.checksum(Array(b[0..<92])) == b.readLE(UInt32.self, at: 92) else {
            return .failure(StorageError(.corruption, "segment header checksum mismatch"))
        }
        let version = b.readLE(UInt16.self, at: 8)
        guard version == LogFormat.version, b.readLE(UInt16.self, at: 10) == LogFormat.segmentHeaderSize else {
            return .failure(StorageError(.unsupportedVersion, "segment format version \(version) is not supported (this build reads \(LogFormat.version))"))
        }
        return .success(SegmentHeader(
            index: b.readLE(UInt64.self, at: 16), firstSequence: b.readLE(UInt64.self, at: 24),
            salt: b.readLE(UInt64.self, at: 32), createdMilliseconds: b.readLE(Int64.self, at: 40),
            previousHash: ChainHash(bytes: Array(b[48..<80]))))
    }
}

/// One decoded record.
public struct Record: Sendable {
    public var kind: UInt8
    public var codec: UInt8
    /// The sequence of the record's first event (for a seal, the next sequence).
    public var firstSequence: UInt64
    /// The uncompressed body.
    public var body: [UInt8]
    /// The chain hash after this record.
    public var hash: ChainHash
    /// Bytes the record takes in the file.
    public var storedSize: Int
}

/// Encodes and decodes records of one segment (the salt and first sequence are per segment).
public struct RecordCodec {
    public let salt: UInt64
    public let segmentFirstSequence: UInt64
    let zstd: Zstd

    public init(salt: UInt64, segmentFirstSequence: UInt64, zstd: Zstd) {
        self.salt = salt
        self.segmentFirstSequence = segmentFirstSequence
        self.zstd = zstd
    }

    /// The body of an events record: each event's canonical JSON behind its 4-byte length.
    public static func eventsBody(_ events: [Event]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(events.count * 600)
        for e in events {
            let json = e.json.canonicalBytes
            body.appendLE(UInt32(json.count))
            body.append(contentsOf: json)
        }
        return body
    }

    /// Encodes a record. Events records are compressed, against `dictionary` when given;
    /// seal and dictionary records are stored as they are.
    /// - Returns: the bytes to write and the chain hash after the record.
    public func encode(kind: UInt8, firstSequence: UInt64, body: [UInt8], dictionary: ZstdDictionary? = nil,
                       previous: ChainHash) -> (bytes: [UInt8], hash: ChainHash) {
        precondition(firstSequence >= segmentFirstSequence && firstSequence - segmentFirstSequence <= UInt64(UInt32.max))
        let codec = kind != LogFormat.kindEvents ? LogFormat.codecNone
            : dictionary == nil ? LogFormat.codecZstd : LogFormat.codecZstdDictionary
        let stored = codec == LogFormat.codecNone ? body : zstd.compress(body, dictionary: dictionary)
        let length = LogFormat.recordHeaderSize + stored.count
        var b: [UInt8] = []
        b.reserveCapacity(length)
        b.appendLE(UInt32(length))
        b.appendLE(UInt32(0))  // CRC, filled in below
        b.appendLE(RecordCodec.lengthCheck(length))
        b.append(kind)
        b.append(codec)
        b.appendLE(UInt32(firstSequence - segmentFirstSequence))
        let hash = previous.next(headerFields: b[10..<16], body: body)
        b.append(contentsOf: hash.bytes[0..<LogFormat.linkSize])
        assert(b.count == LogFormat.recordHeaderSize)
        b.append(contentsOf: stored)
        let crc = checksum(b[...])
        b.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self) }
        return (b, hash)
    }

    /// The salted CRC of a whole record: bytes 0..<4 and 8..<end.
    func checksum(_ record: ArraySlice<UInt8>) -> UInt32 {
        var seed: [UInt8] = []
        seed.appendLE(salt)
        return record.withUnsafeBytes { raw in
            var c = CRC32C.checksum(seed)
            c = CRC32C.update(c, UnsafeRawBufferPointer(rebasing: raw[0..<4]))
            return CRC32C.update(c, UnsafeRawBufferPointer(rebasing: raw[8...]))
        }
    }

    /// Why a record could not be read, and whether more bytes could have completed it.
    public enum DecodeFailure: Error {
        /// The bytes end inside the record: a write that did not finish.
        case incomplete(String)
        /// The record is whole but wrong.
        case damaged(String)

        public var reason: String {
            switch self {
            case .incomplete(let s), .damaged(let s): s
            }
        }
    }

    /// Folds all 32 bits of a length into 16, so that any one flipped bit of the length changes it.
    static func lengthCheck(_ length: Int) -> UInt16 {
        let l = UInt32(truncatingIfNeeded: length)
        return ~UInt16(truncatingIfNeeded: l ^ (l >> 16))
    }

    /// The length at `offset` if its check agrees and it is in range, else nil.
    static func plausibleLength(_ file: [UInt8], at offset: Int) -> Int? {
        guard file.count - offset >= 10 else { return nil }
        let length = Int(file.readLE(UInt32.self, at: offset))
        guard lengthCheck(length) == file.readLE(UInt16.self, at: offset + 8),
            length >= LogFormat.recordHeaderSize, length <= LogFormat.recordSizeBytesMax
        else { return nil }
        return length
    }

    /// Decodes the record at `offset` of a segment's bytes.
    /// - Parameter dictionary: the segment's current dictionary, for codec-2 records.
    public func decode(_ file: [UInt8], at offset: Int, previous: ChainHash, dictionary: ZstdDictionary?) -> Result<Record, DecodeFailure> {
        decodeUnlinked(file, at: offset, dictionary: dictionary).flatMap { linked($0, file, at: offset, previous: previous) }
    }

    /// A record checked and decompressed, but not yet against the chain: everything of `decode`
    /// that does not need the hash before it, so records can be read ahead, in parallel.
    public struct Unlinked: Sendable {
        public var kind: UInt8
        public var codec: UInt8
        public var firstSequence: UInt64
        public var body: [UInt8]
        public var storedSize: Int
    }

    /// `decode` up to the chain link: length, checksum, kind, codec, decompression.
    public func decodeUnlinked(_ file: [UInt8], at offset: Int, dictionary: ZstdDictionary?) -> Result<Unlinked, DecodeFailure> {
        let remaining = file.count - offset
        guard remaining >= 10 else {
            return .failure(.incomplete("\(remaining) bytes left, less than a record's length fields"))
        }
        let length = Int(file.readLE(UInt32.self, at: offset))
        guard RecordCodec.lengthCheck(length) == file.readLE(UInt16.self, at: offset + 8) else {
            return .failure(.damaged("record length \(length) disagrees with its check"))
        }
        guard length >= LogFormat.recordHeaderSize, length <= LogFormat.recordSizeBytesMax else {
            return .failure(.damaged("record length \(length) out of range"))
        }
        guard length <= remaining else {
            return .failure(.incomplete("record of \(length) bytes, only \(remaining) left"))
        }
        let stored = file[offset..<(offset + length)]
        guard checksum(stored) == file.readLE(UInt32.self, at: offset + 4) else {
            return .failure(.damaged("checksum mismatch"))
        }
        let kind = file[offset + 10], codec = file[offset + 11]
        let first = segmentFirstSequence + UInt64(file.readLE(UInt32.self, at: offset + 12))
        guard kind == LogFormat.kindEvents || kind == LogFormat.kindSeal || kind == LogFormat.kindDictionary else {
            return .failure(.damaged("unknown record kind \(kind)"))
        }
        guard kind == LogFormat.kindEvents || codec == LogFormat.codecNone else {
            return .failure(.damaged("record kind \(kind) with codec \(codec)"))
        }
        let payload = file[(offset + LogFormat.recordHeaderSize)..<(offset + length)]
        let body: [UInt8]
        switch codec {
        case LogFormat.codecNone:
            body = Array(payload)
        case LogFormat.codecZstd, LogFormat.codecZstdDictionary:
            let dict = codec == LogFormat.codecZstdDictionary ? dictionary : nil
            if codec == LogFormat.codecZstdDictionary, dict == nil {
                return .failure(.damaged("record needs a dictionary and the segment has none before it"))
            }
            guard let d = zstd.decompress(payload, sizeMax: LogFormat.recordSizeBytesMax, dictionary: dict) else {
                return .failure(.damaged("zstd body does not decompress"))
            }
            body = d
        default:
            return .failure(.damaged("unknown codec \(codec)"))
        }
        return .success(Unlinked(kind: kind, codec: codec, firstSequence: first, body: body, storedSize: length))
    }

    /// The rest of `decode`: the record's chain link must follow `previous`.
    public func linked(_ u: Unlinked, _ file: [UInt8], at offset: Int, previous: ChainHash) -> Result<Record, DecodeFailure> {
        let hash = previous.next(headerFields: file[(offset + 10)..<(offset + 16)], body: u.body)
        guard hash.bytes[0..<LogFormat.linkSize].elementsEqual(file[(offset + 16)..<(offset + 24)]) else {
            return .failure(.damaged("hash chain mismatch"))
        }
        return .success(Record(kind: u.kind, codec: u.codec, firstSequence: u.firstSequence, body: u.body, hash: hash, storedSize: u.storedSize))
    }

    /// Splits an events body into events, which must number on from the record's sequence.
    public static func events(in record: Record) -> Result<[Event], StorageError> {
        events(body: record.body, firstSequence: record.firstSequence)
    }

    /// `events(in:)` on a body and the sequence its first event must have.
    public static func events(body b: [UInt8], firstSequence: UInt64) -> Result<[Event], StorageError> {
        split(b, firstSequence: firstSequence, sequence: \.sequence) { bytes throws(StorageError) in
            do {
                return try Event(json: try JSON.parse(bytes))
            } catch {
                throw StorageError(.corruption, "\(error)")
            }
        }
    }

    /// `events(body:firstSequence:)` with each event read for state (`StateEvent(stored:)`).
    public static func stateEvents(body b: [UInt8], firstSequence: UInt64) -> Result<[StateEvent], StorageError> {
        split(b, firstSequence: firstSequence, sequence: \.sequence) { bytes throws(StorageError) in
            do {
                return try bytes.withUnsafeBufferPointer { (buffer) throws(EventDecodingError) in try StateEvent(stored: buffer) }
            } catch {
                throw StorageError(.corruption, "\(error)")
            }
        }
    }

    /// What `events(body:firstSequence:)` checks, but each event read only as far as its header
    /// (`EventHeader`): for a check of the log that hands no event on.
    public static func eventHeaders(body b: [UInt8], firstSequence: UInt64) -> Result<[EventHeader], StorageError> {
        split(b, firstSequence: firstSequence, sequence: \.sequence) { bytes throws(StorageError) in
            do {
                return try bytes.withUnsafeBufferPointer { (buffer) throws(EventDecodingError) in try EventHeader(stored: buffer) }
            } catch {
                throw StorageError(.corruption, "\(error)")
            }
        }
    }

    /// An events body split at its length prefixes, each event read by `read`, which must
    /// number on from `firstSequence`.
    private static func split<T>(_ b: [UInt8], firstSequence: UInt64, sequence: (T) -> UInt64,
                                 read: (ArraySlice<UInt8>) throws(StorageError) -> T) -> Result<[T], StorageError> {
        var out: [T] = []
        var i = 0
        while i < b.count {
            guard b.count - i >= 4 else { return .failure(StorageError(.corruption, "event length cut short")) }
            let n = Int(b.readLE(UInt32.self, at: i))
            i += 4
            guard n <= b.count - i else { return .failure(StorageError(.corruption, "event runs past its record")) }
            do {
                out.append(try read(b[i..<(i + n)]))
            } catch {
                return .failure(StorageError(.corruption, "event \(out.count) of record: \(error.message)"))
            }
            i += n
        }
        guard !out.isEmpty else { return .failure(StorageError(.corruption, "events record holds no event")) }
        for (k, e) in out.enumerated() where sequence(e) != firstSequence + UInt64(k) {
            return .failure(StorageError(.corruption, "event sequence \(sequence(e)) where \(firstSequence + UInt64(k)) belongs"))
        }
        return .success(out)
    }

    /// The number of events in an events record, from their length prefixes alone; nil when the
    /// prefixes do not add up to the body.
    public static func eventCount(in record: Record) -> Int? {
        var i = 0, n = 0
        let b = record.body
        while i < b.count {
            guard b.count - i >= 4 else { return nil }
            i += 4 + Int(b.readLE(UInt32.self, at: i))
            n += 1
        }
        return i == b.count && n > 0 ? n : nil
    }

    /// The body of a seal record.
    public static func sealBody(eventCount: UInt64, lastSequence: UInt64, hash: ChainHash) -> [UInt8] {
        var b: [UInt8] = []
        b.appendLE(eventCount)
        b.appendLE(lastSequence)
        b.append(contentsOf: hash.bytes)
        return b
    }
}
