/// Version 4 UUIDs as AWS writes mapping UUIDs and request ids: lower case, 36 characters.
///
/// The random bits come from the standard library's generator (`getrandom` on Linux).
/// Foundation's `UUID()` opens, reads and closes /dev/urandom for each UUID there, which took
/// about 6% of the server's CPU for a get (every request has a request id).
enum RandomUUID {
    static func string() -> String {
        var generator = SystemRandomNumberGenerator()
        return format((generator.next(), generator.next()))
    }

    static let hex = Array("0123456789abcdef".utf8)

    /// The text of 128 bits with the version (4) and variant (10xx) bits set, as RFC 9562 lays
    /// them out: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
    static func format(_ bits: (UInt64, UInt64)) -> String {
        var raw = bits
        return withUnsafeMutableBytes(of: &raw) { b in
            b[6] = (b[6] & 0x0F) | 0x40
            b[8] = (b[8] & 0x3F) | 0x80
            let hex = RandomUUID.hex
            return String(unsafeUninitializedCapacity: 36) { out in
                var o = 0
                for i in 0..<16 {
                    if i == 4 || i == 6 || i == 8 || i == 10 {
                        out[o] = UInt8(ascii: "-")
                        o += 1
                    }
                    out[o] = hex[Int(b[i] >> 4)]
                    out[o + 1] = hex[Int(b[i] & 0x0F)]
                    o += 2
                }
                return o
            }
        }
    }
}
