/// A compact binary form of a JSON value, for snapshots: reading it needs no escape handling,
/// no number parsing and no search for the end of a string, which makes a start-up from a
/// snapshot several times faster than parsing text. (The log itself stays canonical JSON text.)
///
/// Tags: 0 null, 1 false, 2 true, 3 number (8-byte little-endian IEEE double), 4 integer
/// (zigzag varint, for integral values within ±2^53), 5 string (varint length, UTF-8), 6 array
/// (varint count, items), 7 object (varint count, then per member a varint key length, the
/// key's UTF-8 and the value; members in key order).
extension JSON {
    public var packedBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        pack(into: &out)
        return out
    }

    public func pack(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(0)
        case .bool(let b): out.append(b ? 2 : 1)
        case .number(let n):
            if n.rounded(.towardZero) == n, abs(n) < 9.007_199_254_740_992e15, !(n == 0 && n.sign == .minus) {
                out.append(4)
                let v = Int64(n)
                JSON.varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), into: &out)
            } else {
                out.append(3)
                var bits = n.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
            }
        case .string(let s):
            out.append(5)
            JSON.varint(UInt64(s.utf8.count), into: &out)
            out.append(contentsOf: s.utf8)
        case .array(let a):
            out.append(6)
            JSON.varint(UInt64(a.count), into: &out)
            for v in a { v.pack(into: &out) }
        case .object(let o):
            out.append(7)
            JSON.varint(UInt64(o.count), into: &out)
            for m in o {
                JSON.varint(UInt64(m.key.utf8.count), into: &out)
                out.append(contentsOf: m.key.utf8)
                m.value.pack(into: &out)
            }
        }
    }

    static func varint(_ v: UInt64, into out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Reads a packed value that must fill `bytes` exactly.
    /// - Throws: `JSONParseError` for anything malformed: a bad tag, a length past the end,
    ///   invalid UTF-8, nesting deeper than `nestingDepthMax`, trailing bytes.
    public static func unpack<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(JSONParseError) -> JSON {
        let result: Result<JSON, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            var r = PackedReader(b: buffer)
            do throws(JSONParseError) {
                let v = try r.value(depth: 0)
                guard r.i == buffer.count else { throw r.fail("trailing bytes") }
                return .success(v)
            } catch {
                return .failure(error)
            }
        }
        if let result { return try result.get() }
        return try unpack(Array(bytes))
    }
}

struct PackedReader {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: i, reason: reason) }

    mutating func byte() throws(JSONParseError) -> UInt8 {
        guard i < b.count else { throw fail("unexpected end of packed value") }
        defer { i += 1 }
        return b[i]
    }

    mutating func varint() throws(JSONParseError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let c = try byte()
            guard shift < 64 else { throw fail("varint too long") }
            v |= UInt64(c & 0x7F) << shift
            if c < 0x80 { return v }
            shift += 7
        }
    }

    mutating func count() throws(JSONParseError) -> Int {
        let n = try varint()
        guard n <= UInt64(b.count - i) else { throw fail("length past the end") }
        return Int(n)
    }

    mutating func string() throws(JSONParseError) -> String {
        let n = try count()
        guard let s = String(validating: UnsafeBufferPointer(rebasing: b[i..<(i + n)]), as: UTF8.self) else {
            throw fail("invalid UTF-8")
        }
        i += n
        return s
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSON {
        switch try byte() {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3:
            guard b.count - i >= 8 else { throw fail("number cut short") }
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(b[i + k]) << (8 * UInt64(k)) }
            i += 8
            let d = Double(bitPattern: bits)
            guard d.isFinite else { throw fail("number not finite") }
            return .number(d)
        case 4:
            let z = try varint()
            let v = Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
            guard abs(v) < 1 << 53 else { throw fail("integer out of range") }
            return .number(Double(v))
        case 5: return .string(try string())
        case 6:
            guard depth < JSON.nestingDepthMax else { throw fail("nesting too deep") }
            let n = try count()
            var a: [JSON] = []
            a.reserveCapacity(n)
            for _ in 0..<n { a.append(try value(depth: depth + 1)) }
            return .array(a)
        case 7:
            guard depth < JSON.nestingDepthMax else { throw fail("nesting too deep") }
            let n = try count()
            var pairs: [(key: String, value: JSON)] = []
            pairs.reserveCapacity(n)
            for _ in 0..<n {
                let key = JSONKeys.intern(try string())
                pairs.append((key, try value(depth: depth + 1)))
            }
            return .object(JSONObject(parsed: pairs))
        default:
            i -= 1
            throw fail("unknown tag")
        }
    }
}
