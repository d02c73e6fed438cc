import CZlib

/// gzip decompression (RFC 1952), for CloudTrail's `.json.gz` trail files: every member of a
/// file that holds several, and a clear error for one that is cut short or damaged.
public enum Gzip {
    public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func decompress(_ input: [UInt8]) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 8)
        var stream = z_stream()
        // 16 + MAX_WBITS: gzip framing.
        guard inflateInit2_(&stream, 16 + 15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var consumed = 0
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { (inBuf) throws(Failure) in
            while true {
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress! + consumed)
                stream.avail_in = UInt32(input.count - consumed)
                repeat {
                    let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                        stream.next_out = outBuf.baseAddress
                        stream.avail_out = UInt32(outBuf.count)
                        status = inflate(&stream, Z_NO_FLUSH)
                        return outBuf.count - Int(stream.avail_out)
                    }
                    out.append(contentsOf: chunk[0..<produced])
                } while status == Z_OK && stream.avail_out == 0
                consumed = input.count - Int(stream.avail_in)
                if status == Z_STREAM_END {
                    // Another member may follow (concatenated gzip files).
                    guard consumed < input.count, isGzip(Array(input[consumed...].prefix(2))) else { return }
                    inflateReset(&stream)
                    continue
                }
                if status == Z_OK || status == Z_BUF_ERROR {
                    throw Failure(description: "the gzip data ends early (truncated file) after \(out.count) bytes")
                }
                throw Failure(description: "the gzip data is damaged at byte \(consumed): \(stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")")
            }
        }
        return out
    }
}
