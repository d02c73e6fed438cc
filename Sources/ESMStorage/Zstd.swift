import CZstd

/// zstd compression through libzstd: plain frames, or frames against a trained dictionary.
///
/// Frames carry their content size and no checksum (the record's CRC-32C and chain link cover
/// the bytes) and no dictionary id (the record's codec names the segment's dictionary).
/// Not thread-safe: one instance belongs to one writer or one reader.
public final class Zstd {
    /// The level used for log records: zstd's default balance of speed and size.
    public static let levelDefault: Int32 = 3

    private let cctx: OpaquePointer
    private let dctx: OpaquePointer
    public let level: Int32

    public init(level: Int32 = Zstd.levelDefault) {
        cctx = ZSTD_createCCtx()
        dctx = ZSTD_createDCtx()
        self.level = level
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0)
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        ZSTD_freeDCtx(dctx)
    }

    /// Compresses `input` into one frame, against `dictionary` when given.
    public func compress(_ input: [UInt8], dictionary: ZstdDictionary? = nil) -> [UInt8] {
        compress(input[...], dictionary: dictionary)
    }

    /// `compress(_:dictionary:)` of a slice.
    public func compress(_ input: ArraySlice<UInt8>, dictionary: ZstdDictionary? = nil) -> [UInt8] {
        ZSTD_CCtx_refCDict(cctx, dictionary?.cdict)
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { o in
            input.withUnsafeBytes { i in ZSTD_compress2(cctx, o.baseAddress, bound, i.baseAddress, i.count) }
        }
        // Compression into a buffer of compressBound bytes cannot fail.
        precondition(ZSTD_isError(n) == 0, "zstd compress: \(String(cString: ZSTD_getErrorName(n)))")
        out.removeLast(out.count - n)
        return out
    }

    /// Decompresses one frame whose declared content size is at most `sizeMax`.
    /// - Returns: the bytes, or nil when the frame is damaged, too large, or needs another dictionary.
    public func decompress(_ input: ArraySlice<UInt8>, sizeMax: Int, dictionary: ZstdDictionary? = nil) -> [UInt8]? {
        let declared = input.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard declared != ZSTD_CONTENTSIZE_ERROR, declared != ZSTD_CONTENTSIZE_UNKNOWN, declared <= UInt64(sizeMax) else { return nil }
        let size = Int(declared)
        var out = [UInt8](repeating: 0, count: max(size, 1))
        let ok = out.withUnsafeMutableBytes { o in decompress(input, into: UnsafeMutableRawBufferPointer(rebasing: o[0..<size]), dictionary: dictionary) }
        guard ok else { return nil }
        out.removeLast(out.count - size)
        return out
    }
}

extension Zstd {
    /// The frames one after another in `input` (offsets relative to its start): each one's bytes
    /// and declared content size.
    /// - Returns: nil when a frame is damaged or does not declare its size.
    public static func frames(in input: ArraySlice<UInt8>) -> [(bytes: Range<Int>, contentSize: Int)]? {
        input.withUnsafeBytes { b -> [(bytes: Range<Int>, contentSize: Int)]? in
            var frames: [(bytes: Range<Int>, contentSize: Int)] = []
            var at = 0
            while at < b.count {
                let n = ZSTD_findFrameCompressedSize(b.baseAddress! + at, b.count - at)
                let size = ZSTD_getFrameContentSize(b.baseAddress! + at, b.count - at)
                guard ZSTD_isError(n) == 0, size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN, size <= UInt64(Int.max) else { return nil }
                frames.append((at..<(at + n), Int(size)))
                at += n
            }
            return frames
        }
    }

    /// Decompresses one frame into `out`, which must be exactly its declared content size.
    /// - Returns: false when the frame is damaged or its size is not `out.count`.
    public func decompress(_ frame: ArraySlice<UInt8>, into out: UnsafeMutableRawBufferPointer, dictionary: ZstdDictionary? = nil) -> Bool {
        ZSTD_DCtx_refDDict(dctx, dictionary?.ddict)
        let n = frame.withUnsafeBytes { i in ZSTD_decompressDCtx(dctx, out.baseAddress, out.count, i.baseAddress, i.count) }
        return ZSTD_isError(n) == 0 && n == out.count
    }
}

/// A zstd dictionary, digested for compression and decompression.
public final class ZstdDictionary: @unchecked Sendable {
    /// The dictionary's bytes, as stored in a dictionary record.
    public let bytes: [UInt8]
    fileprivate let cdict: OpaquePointer
    fileprivate let ddict: OpaquePointer

    /// - Returns: nil when `bytes` is not a zstd dictionary.
    public init?(_ bytes: [UInt8], level: Int32 = Zstd.levelDefault) {
        guard !bytes.isEmpty, bytes.withUnsafeBytes({ ZDICT_getDictID($0.baseAddress, $0.count) }) != 0 else { return nil }
        guard let c = bytes.withUnsafeBytes({ ZSTD_createCDict($0.baseAddress, $0.count, level) }) else { return nil }
        guard let d = bytes.withUnsafeBytes({ ZSTD_createDDict($0.baseAddress, $0.count) }) else {
            ZSTD_freeCDict(c)
            return nil
        }
        self.bytes = bytes
        cdict = c
        ddict = d
    }

    deinit {
        ZSTD_freeCDict(cdict)
        ZSTD_freeDDict(ddict)
    }

    /// The id zstd wrote into the dictionary.
    public var id: UInt32 { bytes.withUnsafeBytes { ZDICT_getDictID($0.baseAddress, $0.count) } }

    /// Trains a dictionary of at most `capacity` bytes from sample events.
    /// - Returns: nil when zstd cannot train on these samples (too few or too alike).
    public static func train(samples: [[UInt8]], capacity: Int) -> ZstdDictionary? {
        let joined = samples.flatMap { $0 }
        let sizes = samples.map { Int($0.count) }
        var buffer = [UInt8](repeating: 0, count: capacity)
        let n = buffer.withUnsafeMutableBytes { b in
            joined.withUnsafeBytes { j in
                sizes.withUnsafeBufferPointer { s in
                    ZDICT_trainFromBuffer(b.baseAddress, capacity, j.baseAddress, s.baseAddress, UInt32(samples.count))
                }
            }
        }
        guard ZDICT_isError(n) == 0 else { return nil }
        return ZstdDictionary(Array(buffer[0..<n]))
    }
}
