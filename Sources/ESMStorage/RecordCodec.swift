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
// Record, at an 8-byte-aligned offset, padded with zeros to the next multiple of 8:
//   0  4  length of the record without padding (56 + stored body)
//   4  4  CRC-32C seeded with the salt, over bytes 0..<4 and 8..<length
//   8  4  bitwise complement of the length: a damaged length field disagrees with it, so
//         damage is never mistaken for a record that runs past the end of the file (torn)
//   12 1  kind: 1 events, 2 seal          13 1  codec: 0 none, 1 zstd
//   14 2  zero                            16 8  first sequence
//   24 4  event count                     28 4  body length before compression
//   32 4  dictionary id (0: none)         36 4  zero
//   40 16 chain link: SHA-256(previous hash ‖ bytes 12..<40 ‖ uncompressed body), first 16 bytes
//   56 .. body
// An events body is, per event, a 4-byte length and the event's canonical JSON. One group
// commit writes one record with one write call, so a crash can tear at most the last record.
// A seal record (kind 2, codec 0, count 0) closes a full segment; its body is the segment's
// event count (8), its last sequence (8) and the full chain hash after its last record (32).

/// Constants of log format version 1.
public enum LogFormat {
    public static let version: UInt16 = 1
    public static let magic: [UInt8] = Array("ESMLOGv1".utf8)
    public static let segmentHeaderSize = 96
    public static let recordHeaderSize = 56
    public static let alignment = 8
    /// No record is larger: a bigger length field is damage, not data.
    public static let recordSizeBytesMax = 64 << 20
    /// A torn tail is told from damage by whether any whole record follows; this is the sector
    /// size for zeroed-region checks.
    public static let sectorSize = 512

    public static let kindEvents: UInt8 = 1
    public static let kindSeal: UInt8 = 2
    public static let codecNone: UInt8 = 0
    public static let codecZstd: UInt8 = 1

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

    static func aligned(_ n: Int) -> Int { (n + alignment - 1) & ~(alignment - 1) }
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

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }
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
    public var firstSequence: UInt64
    public var count: Int
    /// The uncompressed body.
    public var body: [UInt8]
    /// The chain hash after this record.
    public var hash: ChainHash
    /// Bytes the record takes in the file, padding included.
    public var storedSize: Int
}

/// Encodes and decodes records of one segment (the salt is per segment).
public struct RecordCodec {
    public let salt: UInt64
    let zstd: Zstd

    public init(salt: UInt64, zstd: Zstd) {
        self.salt = salt
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

    /// Encodes a record.
    /// - Returns: the padded bytes to write and the chain hash after the record.
    public func encode(kind: UInt8, firstSequence: UInt64, count: Int, body: [UInt8], previous: ChainHash) -> (bytes: [UInt8], hash: ChainHash) {
        let compress = kind == LogFormat.kindEvents
        let stored = compress ? zstd.compress(body) : body
        var b: [UInt8] = []
        let length = LogFormat.recordHeaderSize + stored.count
        b.reserveCapacity(LogFormat.aligned(length))
        b.appendLE(UInt32(length))
        b.appendLE(UInt32(0))  // CRC, filled in below
        b.appendLE(~UInt32(length))
        b.append(kind)
        b.append(compress ? LogFormat.codecZstd : LogFormat.codecNone)
        b.appendLE(UInt16(0))
        b.appendLE(firstSequence)
        b.appendLE(UInt32(count))
        b.appendLE(UInt32(body.count))
        b.appendLE(UInt32(0))  // dictionary id
        b.appendLE(UInt32(0))
        let hash = previous.next(headerFields: b[12..<40], body: body)
        b.append(contentsOf: hash.bytes[0..<16])
        assert(b.count == LogFormat.recordHeaderSize)
        b.append(contentsOf: stored)
        let crc = checksum(b, length: length)
        b.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self) }
        b.append(contentsOf: [UInt8](repeating: 0, count: LogFormat.aligned(length) - length))
        return (b, hash)
    }

    func checksum(_ b: [UInt8], length: Int) -> UInt32 {
        var seed: [UInt8] = []
        seed.appendLE(salt)
        return b.withUnsafeBytes { raw in
            var c = CRC32C.checksum(seed)
            c = CRC32C.update(c, UnsafeRawBufferPointer(rebasing: raw[0..<4]))
            return CRC32C.update(c, UnsafeRawBufferPointer(rebasing: raw[8..<length]))
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

    /// Decodes the record at `offset` of a segment's bytes.
    public func decode(_ file: [UInt8], at offset: Int, previous: ChainHash) -> Result<Record, DecodeFailure> {
        let remaining = file.count - offset
        guard remaining >= 12 else {
            return .failure(.incomplete("\(remaining) bytes left, less than a record's length fields"))
        }
        let length = Int(file.readLE(UInt32.self, at: offset))
        guard ~UInt32(length) == file.readLE(UInt32.self, at: offset + 8) else {
            return .failure(.damaged("record length \(length) disagrees with its complement"))
        }
        guard length >= LogFormat.recordHeaderSize, length <= LogFormat.recordSizeBytesMax else {
            return .failure(.damaged("record length \(length) out of range"))
        }
        guard length <= remaining else {
            return .failure(.incomplete("record of \(length) bytes, only \(remaining) left"))
        }
        let stored = Array(file[offset..<(offset + length)])
        guard checksum(stored, length: length) == stored.readLE(UInt32.self, at: 4) else {
            return .failure(.damaged("checksum mismatch"))
        }
        let kind = stored[12], codec = stored[13]
        let first = stored.readLE(UInt64.self, at: 16)
        let count = Int(stored.readLE(UInt32.self, at: 24))
        let rawSize = Int(stored.readLE(UInt32.self, at: 28))
        let dictionary = stored.readLE(UInt32.self, at: 32)
        guard kind == LogFormat.kindEvents || kind == LogFormat.kindSeal else {
            return .failure(.damaged("unknown record kind \(kind)"))
        }
        guard dictionary == 0 else { return .failure(.damaged("unknown dictionary id \(dictionary)")) }
        guard rawSize <= LogFormat.recordSizeBytesMax else { return .failure(.damaged("body size \(rawSize) out of range")) }
        let payload = stored[LogFormat.recordHeaderSize...]
        let body: [UInt8]
        switch codec {
        case LogFormat.codecNone:
            guard payload.count == rawSize else { return .failure(.damaged("body size mismatch")) }
            body = Array(payload)
        case LogFormat.codecZstd:
            guard let d = zstd.decompress(Array(payload), size: rawSize) else {
                return .failure(.damaged("zstd body does not decompress to \(rawSize) bytes"))
            }
            body = d
        default:
            return .failure(.damaged("unknown codec \(codec)"))
        }
        let hash = previous.next(headerFields: stored[12..<40], body: body)
        guard Array(hash.bytes[0..<16]) == Array(stored[40..<56]) else {
            return .failure(.damaged("hash chain mismatch"))
        }
        // Padding is outside the checksum, so it must be exactly zeros to count as written.
        let paddedEnd = offset + LogFormat.aligned(length)
        if paddedEnd > file.count { return .failure(.incomplete("record padding cut short")) }
        guard file[(offset + length)..<paddedEnd].allSatisfy({ $0 == 0 }) else {
            return .failure(.damaged("non-zero bytes in record padding"))
        }
        return .success(Record(kind: kind, firstSequence: first, count: count, body: body, hash: hash,
                               storedSize: LogFormat.aligned(length)))
    }

    /// Splits an events body into events.
    public static func events(in record: Record) -> Result<[Event], StorageError> {
        var out: [Event] = []
        out.reserveCapacity(record.count)
        var i = 0
        let b = record.body
        while i < b.count {
            guard b.count - i >= 4 else { return .failure(StorageError(.corruption, "event length cut short")) }
            let n = Int(b.readLE(UInt32.self, at: i))
            i += 4
            guard n <= b.count - i else { return .failure(StorageError(.corruption, "event runs past its record")) }
            do {
                let json = try JSON.parse(b[i..<(i + n)])
                out.append(try Event(json: json))
            } catch {
                return .failure(StorageError(.corruption, "event \(out.count) of record: \(error)"))
            }
            i += n
        }
        guard out.count == record.count else {
            return .failure(StorageError(.corruption, "record says \(record.count) events, holds \(out.count)"))
        }
        for (k, e) in out.enumerated() where e.sequence != record.firstSequence + UInt64(k) {
            return .failure(StorageError(.corruption, "event sequence \(e.sequence) where \(record.firstSequence + UInt64(k)) belongs"))
        }
        return .success(out)
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
