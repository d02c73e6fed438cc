import ESMCore

/// An index file as read: looked up in place (a binary search over its sorted mappings), so that
/// one lookup costs what its own records cost, not a decoding of the whole file.
public struct MappingIndexFile {
    /// The file's bytes, mapped (or copied) into memory and kept there as long as this value lives.
    let storage: FileBytes
    var bytes: UnsafeRawBufferPointer { storage.bytes }
    let dictionaryRanges: [Range<Int>]
    let recordsAt: Int, mappingsAt: Int, keysAt: Int, postingsAt: Int
    let recordCount: Int, mappingCount: Int
    /// The last record the file covers (nil: none).
    public let point: SnapshotPoint?
    /// Dictionaries made on first use (making one costs more than a lookup).
    private let made: Made

    final class Made: @unchecked Sendable {  // used by the thread that reads the file
        var dictionaries: [Int: ZstdDictionary] = [:]
    }

    /// - Returns: nil when the bytes are not a whole index file of this version (a reader then
    ///   rebuilds it from the log).
    public init?(_ storage: FileBytes) {
        let bytes = storage.bytes
        let h = MappingIndex.headerSize
        guard bytes.count >= h + 4, bytes.starts(with: MappingIndex.magic),
            bytes.readLE(UInt16.self, at: 8) == MappingIndex.version,
            CRC32C.update(0, UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 4)])) == bytes.readLE(UInt32.self, at: bytes.count - 4)
        else { return nil }
        let dictionaries = Int(bytes.readLE(UInt32.self, at: 12)), records = Int(bytes.readLE(UInt32.self, at: 16))
        let mappings = Int(bytes.readLE(UInt32.self, at: 20)), postings = Int(bytes.readLE(UInt32.self, at: 24))
        let keyBytes = Int(bytes.readLE(UInt32.self, at: 28))
        var at = h
        var ranges: [Range<Int>] = []
        for _ in 0..<dictionaries {
            guard at + 4 <= bytes.count else { return nil }
            let n = Int(bytes.readLE(UInt32.self, at: at))
            guard at + 4 + n <= bytes.count else { return nil }
            ranges.append((at + 4)..<(at + 4 + n))
            at += 4 + n
        }
        dictionaryRanges = ranges
        recordsAt = at
        mappingsAt = recordsAt + records * MappingIndex.recordEntrySize
        keysAt = mappingsAt + mappings * MappingIndex.mappingEntrySize
        postingsAt = keysAt + keyBytes
        guard postingsAt + postings * 4 + 4 == bytes.count else { return nil }
        recordCount = records
        mappingCount = mappings
        self.storage = storage
        made = Made()
        let sequence = bytes.readLE(UInt64.self, at: 56)
        if sequence == 0 {
            point = nil
        } else {
            let d = bytes.readLE(Int32.self, at: 72)
            guard d < Int32(dictionaries) else { return nil }
            let dictionary: ZstdDictionary?
            if d < 0 { dictionary = nil } else {
                guard let made = MappingIndexFile.make(bytes, ranges[Int(d)]) else { return nil }
                self.made.dictionaries[Int(d)] = made
                dictionary = made
            }
            let position = RecordPosition(
                segmentIndex: bytes.readLE(UInt64.self, at: 32), start: Int(bytes.readLE(UInt64.self, at: 40)),
                end: Int(bytes.readLE(UInt64.self, at: 48)), previousHash: ChainHash(bytes: Array(bytes[80..<112])),
                hash: ChainHash(bytes: Array(bytes[112..<144])), lastSequence: sequence, dictionary: dictionary)
            point = SnapshotPoint(sequence: sequence, time: EventTime(milliseconds: bytes.readLE(Int64.self, at: 64)), position: position)
        }
    }

    static func make(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> ZstdDictionary? { ZstdDictionary(Array(bytes[range])) }

    /// The dictionary a record needs; nil when it needs none. Throws when the file's dictionary is
    /// not one.
    func dictionary(_ id: Int32) throws(StorageError) -> ZstdDictionary? {
        guard id >= 0 else { return nil }
        let i = Int(id)
        if let d = made.dictionaries[i] { return d }
        guard i < dictionaryRanges.count, let d = MappingIndexFile.make(bytes, dictionaryRanges[i]) else {
            throw StorageError(.corruption, "the mapping index names a dictionary it does not hold")
        }
        made.dictionaries[i] = d
        return d
    }

    func entry(_ r: Int) -> MappingIndex.Entry {
        let at = recordsAt + r * MappingIndex.recordEntrySize
        let start = Int(bytes.readLE(UInt64.self, at: at + 8))
        return MappingIndex.Entry(
            segmentIndex: bytes.readLE(UInt64.self, at: at), start: start, end: start + Int(bytes.readLE(UInt32.self, at: at + 16)),
            firstSequence: bytes.readLE(UInt64.self, at: at + 24), previousHash: ChainHash(bytes: Array(bytes[(at + 32)..<(at + 64)])),
            dictionary: bytes.readLE(Int32.self, at: at + 20))
    }

    private func key(_ m: Int) -> Slice<UnsafeRawBufferPointer> {
        let at = mappingsAt + m * MappingIndex.mappingEntrySize
        let offset = keysAt + Int(bytes.readLE(UInt32.self, at: at)), n = Int(bytes.readLE(UInt32.self, at: at + 4))
        return bytes[offset..<min(offset + n, postingsAt)]
    }

    private func postings(_ m: Int) -> [UInt32] {
        let at = mappingsAt + m * MappingIndex.mappingEntrySize
        let start = Int(bytes.readLE(UInt32.self, at: at + 8)), n = Int(bytes.readLE(UInt32.self, at: at + 12))
        return (0..<n).map { bytes.readLE(UInt32.self, at: postingsAt + (start + $0) * 4) }
    }

    /// The records of `uuid` in log order.
    /// - Throws: when the file points at a record it does not hold.
    public func records(of uuid: String) throws(StorageError) -> [MappingIndex.Entry] {
        let target = Array(uuid.utf8)
        var lo = 0, hi = mappingCount
        while lo < hi {
            let mid = (lo + hi) / 2
            if key(mid).lexicographicallyPrecedes(target) { lo = mid + 1 } else { hi = mid }
        }
        guard lo < mappingCount, key(lo).elementsEqual(target) else { return [] }
        return try postings(lo).map { r throws(StorageError) in
            guard Int(r) < recordCount else { throw StorageError(.corruption, "the mapping index names a record it does not hold") }
            return entry(Int(r))
        }
    }

    /// The whole index, to add records to and write again.
    public func decoded() throws(StorageError) -> MappingIndex {
        var index = MappingIndex()
        for i in dictionaryRanges.indices { _ = index.adopt(try dictionary(Int32(i))!) }
        index.entries = (0..<recordCount).map(entry)
        for m in 0..<mappingCount {
            guard let uuid = String(validating: key(m), as: UTF8.self) else {
                throw StorageError(.corruption, "the mapping index holds a key that is not UTF-8")
            }
            index.postings[uuid] = postings(m)
        }
        if let point { index.restorePoint(point) }
        return index
    }
}
