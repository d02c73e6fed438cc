/// Recognising bytes that are already canonical, so that a reader can keep them as they are
/// instead of building the value and writing it again.
extension JSON {
    /// How deep `plainCanonicalEnd` follows nested values before it gives up.
    static let plainCanonicalDepthMax = 32

    /// Where the value that starts at `start` ends, when its bytes are exactly what `write(to:)`
    /// writes for the value they parse to; nil when that is not certain.
    ///
    /// The check is strict rather than complete: no white space, object keys without escapes
    /// in strictly ascending byte order, strings with no escapes but `\"`, `\\`, `\n`, `\r` and
    /// `\t` (the writer's), integers in their shortest form with at most 15 digits, no fractions
    /// or exponents, nesting no deeper than `plainCanonicalDepthMax`. A value it refuses may
    /// still be canonical; the caller then builds the value and writes it instead. The bytes
    /// must be valid UTF-8, which it does not check.
    static func plainCanonicalEnd(in b: UnsafeBufferPointer<UInt8>, from start: Int, depth: Int = 0) -> Int? {
        guard start < b.count, depth < plainCanonicalDepthMax else { return nil }
        switch b[start] {
        case UInt8(ascii: "{"):
            var i = start + 1
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "}") { return i + 1 }
            var previousKey: Range<Int>?
            while true {
                guard let keyEnd = plainStringEnd(in: b, from: i) else { return nil }
                let key = (i + 1)..<(keyEnd - 1)
                // Keys order by their unescaped bytes.
                if b[key].contains(UInt8(ascii: "\\")) { return nil }
                if let p = previousKey, !b[p].lexicographicallyPrecedes(b[key]) { return nil }
                previousKey = key
                guard keyEnd < b.count, b[keyEnd] == UInt8(ascii: ":"),
                      let end = plainCanonicalEnd(in: b, from: keyEnd + 1, depth: depth + 1), end < b.count else { return nil }
                if b[end] == UInt8(ascii: "}") { return end + 1 }
                guard b[end] == UInt8(ascii: ",") else { return nil }
                i = end + 1
            }
        case UInt8(ascii: "["):
            var i = start + 1
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "]") { return i + 1 }
            while true {
                guard let end = plainCanonicalEnd(in: b, from: i, depth: depth + 1), end < b.count else { return nil }
                if b[end] == UInt8(ascii: "]") { return end + 1 }
                guard b[end] == UInt8(ascii: ",") else { return nil }
                i = end + 1
            }
        case UInt8(ascii: "\""): return plainStringEnd(in: b, from: start)
        case UInt8(ascii: "t"): return literalEnd("true", in: b, from: start)
        case UInt8(ascii: "f"): return literalEnd("false", in: b, from: start)
        case UInt8(ascii: "n"): return literalEnd("null", in: b, from: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return plainIntegerEnd(in: b, from: start)
        default: return nil
        }
    }

    /// Just after the closing quote of the string whose opening quote is at `start`, when
    /// between them there is no control character and no escape but those `writeString` writes
    /// for a quote, a backslash, a line feed, a carriage return and a tab.
    static func plainStringEnd(in b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        guard start < b.count, b[start] == quote else { return nil }
        var i = start + 1
        while i < b.count {
            let c = b[i]
            if c == quote { return i + 1 }
            if c < 0x20 { return nil }
            if c == backslash {
                guard i + 1 < b.count else { return nil }
                switch b[i + 1] {
                case quote, backslash, UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"): i += 2
                default: return nil
                }
                continue
            }
            i += 1
        }
        return nil
    }

    /// Just after an integer as `format` writes it: `0`, or an optional minus and 1 to 15 digits
    /// without a leading zero, followed by neither a fraction nor an exponent.
    static func plainIntegerEnd(in b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start
        let negative = b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        let digits = i
        while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
        let n = i - digits
        guard n >= 1, n <= 15 else { return nil }
        if b[digits] == UInt8(ascii: "0") && (n > 1 || negative) { return nil }  // 01, -0
        if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { return nil }
        return i
    }

    private static func literalEnd(_ word: StaticString, in b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        let n = word.utf8CodeUnitCount
        guard start + n <= b.count else { return nil }
        for k in 0..<n where b[start + k] != word.utf8Start[k] { return nil }
        return start + n
    }
}

extension StoredConfiguration {
    /// The stored form of the object whose bytes are `b[object]`, taken as those bytes: nil unless
    /// they are plainly canonical (`JSON.plainCanonicalEnd`). The result is the one
    /// `init(_:)` gives for the object they parse to.
    init?(plainCanonical b: UnsafeBufferPointer<UInt8>, object: Range<Int>) {
        guard JSON.plainCanonicalEnd(in: b, from: object.lowerBound) == object.upperBound,
              b[object.lowerBound] == UInt8(ascii: "{") else { return nil }
        let m = UnsafeBufferPointer(rebasing: b[(object.lowerBound + 1)..<(object.upperBound - 1)])
        let keys = Mapping.responseKeysUTF8
        var offsets: [UInt32] = []
        var i = 0
        // Each of the response's members goes just before the first stored member whose key
        // sorts after it, as `Mapping.merge` places them. Keys hold no escapes here.
        while i < m.count {
            let keyEnd = JSON.plainStringEnd(in: m, from: i)!
            let key = m[(i + 1)..<(keyEnd - 1)]
            while offsets.count < keys.count && keys[offsets.count].lexicographicallyPrecedes(key) {
                offsets.append(UInt32(i))
            }
            i = JSON.endOfValue(in: m, from: keyEnd + 1) + 1
        }
        while offsets.count < keys.count { offsets.append(UInt32(m.count)) }
        self.init(members: Array(m), insertAt: (offsets[0], offsets[1], offsets[2], offsets[3]))
    }
}
