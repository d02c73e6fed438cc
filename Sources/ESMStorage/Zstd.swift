import CZstd

/// zstd compression through libzstd, with a reusable context per direction.
///
/// Not thread-safe: one instance belongs to one writer or one reader.
public final class Zstd {
    /// The level used for log records: level 3 is zstd's default balance of speed and size.
    public static let levelDefault: Int32 = 3

    private let cctx: OpaquePointer
    private let dctx: OpaquePointer
    public let level: Int32

    public init(level: Int32 = Zstd.levelDefault) {
        cctx = ZSTD_createCCtx()
        dctx = ZSTD_createDCtx()
        self.level = level
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        ZSTD_freeDCtx(dctx)
    }

    /// Compresses `input` into a zstd frame.
    public func compress(_ input: [UInt8]) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { o in
            input.withUnsafeBytes { i in
                ZSTD_compressCCtx(cctx, o.baseAddress, bound, i.baseAddress, i.count, level)
            }
        }
        // Compression into a buffer of compressBound bytes cannot fail.
        precondition(ZSTD_isError(n) == 0, "zstd compress: \(String(cString: ZSTD_getErrorName(n)))")
        out.removeLast(out.count - n)
        return out
    }

    /// Decompresses one zstd frame that must expand to exactly `size` bytes.
    /// - Returns: the bytes, or nil when the frame is damaged or of another size.
    public func decompress(_ input: [UInt8], size: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: size)
        let n = out.withUnsafeMutableBytes { o in
            input.withUnsafeBytes { i in
                ZSTD_decompressDCtx(dctx, o.baseAddress, size, i.baseAddress, i.count)
            }
        }
        guard ZSTD_isError(n) == 0, n == size else { return nil }
        return out
    }
}
