/// A JSON value with a canonical serialization.
///
/// The log stores events as JSON, and replay must give byte-identical state, so this type
/// owns both directions: objects serialize with their keys sorted by UTF-8 bytes, numbers with
/// the shortest text that reads back to the same `Double`, and strings with one fixed escaping.
/// The parser is strict (RFC 8259, no trailing garbage, valid UTF-8) and bounded in nesting
/// depth, so request bodies and bytes from disk cannot exhaust the stack.
public enum JSON: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// The object's members, or nil when this is not an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The string, or nil when this is not a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The array, or nil when this is not an array.
    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The number, or nil when this is not a number.
    public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The number as an integer when it is one exactly, else nil.
    public var intValue: Int? {
        guard case .number(let n) = self, n.rounded(.towardZero) == n, abs(n) < 9.007_199_254_740_992e15 else { return nil }
        return Int(n)
    }

    /// The Boolean, or nil when this is not a Boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Member lookup on an object; nil for a missing member or a non-object.
    public subscript(key: String) -> JSON? {
        objectValue?[key]
    }

    /// The name of this value's JSON type, as used in error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// An object's members, kept sorted by key so that equality and serialization are canonical.
///
/// A sorted array of pairs is smaller than a dictionary for the 5 to 30 members a mapping has,
/// and it makes the serialized order a property of the value rather than of the encoder.
public struct JSONObject: Sendable, Equatable, Hashable, Sequence {
    public private(set) var members: [(key: String, value: JSON)]

    public init() { members = [] }

    /// Builds an object from pairs; a later duplicate key replaces an earlier one.
    public init(_ pairs: [(String, JSON)]) {
        members = []
        members.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    /// Builds an object from members in any order; a later duplicate key replaces an earlier
    /// one. Members already in key order (as canonical JSON has them) take one pass.
    init(parsed pairs: [(key: String, value: JSON)]) {
        var sorted = true
        for k in pairs.indices.dropFirst() where !JSONObject.less(pairs[k - 1].key, pairs[k].key) {
            sorted = false
            break
        }
        if sorted {
            members = pairs
        } else {
            members = []
            members.reserveCapacity(pairs.count)
            for (k, v) in pairs { self[k] = v }
        }
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> {
        members.makeIterator()
    }

    private func index(of key: String) -> (found: Bool, at: Int) {
        var lo = 0, hi = members.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if JSONObject.less(members[mid].key, key) { lo = mid + 1 } else { hi = mid }
        }
        return (lo < members.count && members[lo].key == key, lo)
    }

    /// Keys order by their UTF-8 bytes, which is stable across platforms and locales.
    static func less(_ a: String, _ b: String) -> Bool {
        // Over the contiguous UTF-8 of native strings: the generic sequence comparison walks
        // each view through its iterator, and every object lookup and parse pays for it.
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let n = Swift.min(x.count, y.count)
                var i = 0
                while i < n {
                    if x[i] != y[i] { return x[i] < y[i] }
                    i += 1
                }
                return x.count < y.count
            }
        }
    }

    public subscript(key: String) -> JSON? {
        get {
            let (found, i) = index(of: key)
            return found ? members[i].value : nil
        }
        set {
            let (found, i) = index(of: key)
            switch (found, newValue) {
            case (true, .some(let v)): members[i].value = v
            case (true, .none): members.remove(at: i)
            case (false, .some(let v)): members.insert((key, v), at: i)
            case (false, .none): break
            }
        }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into h: inout Hasher) {
        h.combine(members.count)
        for m in members {
            h.combine(m.key)
            h.combine(m.value)
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}

// MARK: - Serialization

extension JSON {
    /// The canonical UTF-8 bytes of this value: sorted keys, no insignificant white space.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    /// The canonical text of this value.
    public var canonicalString: String {
        String(decoding: canonicalBytes, as: UTF8.self)
    }

    /// Appends the canonical bytes of this value to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: JSON.format(n).utf8)
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, m) in o.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSON.writeKey(m.key, to: &out)
                m.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Integral values print without a fraction; others use Swift's shortest round-trip form.
    /// Non-finite values cannot be parsed from JSON, and are written as null if ever built.
    static func format(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n.rounded(.towardZero) == n, abs(n) < 9.007_199_254_740_992e15 {
            return String(Int64(n))
        }
        return "\(n)"
    }

    /// Writes an object member's key and its colon.
    static func writeKey(_ key: String, to out: inout [UInt8]) {
        writeString(key, to: &out)
        out.append(UInt8(ascii: ":"))
    }

    /// Writes `s` quoted. Runs of bytes that need no escape (all but quote, backslash and controls)
    /// are copied whole; lists render hundreds of strings per page.
    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var run = 0
            var i = 0
            while i < bytes.count {
                // Eight bytes at a time while none of them needs an escape.
                if i + 8 <= bytes.count && !JSON.needsEscape(UnsafeRawBufferPointer(bytes).loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                    i += 8
                    continue
                }
                let b = bytes[i]
                i += 1
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                if run < i - 1 { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<(i - 1)])) }
                run = i
                out.append(92)
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    let hex = UInt8(ascii: "0")
                    let low = b & 15
                    out.append(contentsOf: [UInt8(ascii: "u"), hex, hex, hex + (b >> 4), low < 10 ? hex + low : UInt8(ascii: "a") + low - 10])
                }
            }
            if run < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The string value of `key` among the comma-separated members of a canonical object
    /// (without its braces), found by skipping over the other members' values; nil when the key
    /// is absent or its value is not a string.
    static func topLevelString(_ key: String, inMembers b: UnsafeBufferPointer<UInt8>) -> String? {
        var key = key
        return key.withUTF8 { wanted in
            var found: String?
            topLevelStrings([wanted], inMembers: b) { _, value in found = value }
            return found
        }
    }

    /// `topLevelString` for several keys in one walk: `found` is called with the index of each
    /// key that is present, and its value (nil when it is not a string), in the members' order.
    static func topLevelStrings(_ keys: [UnsafeBufferPointer<UInt8>], inMembers b: UnsafeBufferPointer<UInt8>,
                                found: (Int, String?) -> Void) {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        precondition(keys.count <= 64)
        var left = keys.count
        var seen: UInt64 = 0  // a key given twice is read where it first appears, as before
        var i = 0
        while left > 0, i < b.count, b[i] == quote {
            let keyEnd = JSON.endOfString(in: b, from: i)
            let valueStart = keyEnd + 1  // after the colon
            let valueEnd = JSON.endOfValue(in: b, from: valueStart)
            let name = UnsafeBufferPointer(rebasing: b[(i + 1)..<(keyEnd - 1)])
            if let k = keys.firstIndex(where: { $0.count == name.count && $0.elementsEqual(name) }), seen & (1 << k) == 0 {
                seen |= 1 << k
                left -= 1
                if valueStart < valueEnd, b[valueStart] == quote {
                    let inner = UnsafeBufferPointer(rebasing: b[(valueStart + 1)..<(valueEnd - 1)])
                    found(k, inner.contains(backslash)
                        ? (try? JSON.parse(UnsafeBufferPointer(rebasing: b[valueStart..<valueEnd])))?.stringValue
                        : String(decoding: inner, as: UTF8.self))
                } else {
                    found(k, nil)
                }
            }
            i = valueEnd + 1  // past the comma
        }
    }

    /// In canonical JSON, where the string whose opening quote is at `start` ends (just after
    /// its closing quote).
    static func endOfString(in b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var i = start + 1
        // Eight bytes at a time while none of them is a quote or a backslash (or a control
        // character, which canonical strings do not hold).
        if let base = b.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= b.count, !needsEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
        }
        while i < b.count && b[i] != quote { i += b[i] == backslash ? 2 : 1 }
        return i + 1
    }

    /// In canonical JSON (no white space), where the value starting at `start` ends: just after
    /// it, at the comma that follows it or at the end of the bytes.
    static func endOfValue(in b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let quote = UInt8(ascii: "\"")
        var i = start, depth = 0
        while i < b.count {
            switch b[i] {
            case quote: i = endOfString(in: b, from: i); if depth == 0 { return i }; continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return i + 1 }
            case UInt8(ascii: ","): if depth == 0 { return i }
            default: break
            }
            i += 1
        }
        return i
    }

    /// Whether any of the eight bytes of `w` is a control character, `"` or a backslash (the
    /// classic "has a zero byte" and "has a byte less than n" word tricks, exact for "any").
    @inline(__always)
    static func needsEscape(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
        let control = (w &- ones &* 0x20) & ~w & highs
        return control | hasZero(w ^ (ones &* 0x22)) | hasZero(w ^ (ones &* 0x5C)) != 0
    }
}

// MARK: - Parsing

/// Why a JSON text was refused, with the byte offset where the parser stopped.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at offset \(offset)" }
}

extension JSON {
    /// The deepest nesting the parser accepts; request shapes nest at most 5 levels.
    public static let nestingDepthMax = 64

    /// Parses one JSON text.
    /// - Parameter bytes: UTF-8 bytes; invalid UTF-8 is refused.
    /// - Returns: the value.
    /// - Throws: `JSONParseError` naming the offset.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(JSONParseError) -> JSON {
        // Concrete, so callers in other modules do not run the generic version unspecialized.
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in try parse(buffer) }
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSON {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in try parse(buffer) }
    }

    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSON {
        var p = JSONParser(buffer)
        return try p.parseDocument()
    }

    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(JSONParseError) -> JSON {
        let result: Result<JSON, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            var p = JSONParser(buffer)
            do throws(JSONParseError) { return .success(try p.parseDocument()) } catch { return .failure(error) }
        }
        if let result { return try result.get() }
        return try parse(Array(bytes))
    }

    /// Parses one JSON text from a string.
    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8))
    }

    /// Parses JSON texts that follow each other, separated by white space or nothing (pages of
    /// CLI output written one after another, JSON Lines), calling `visit` with each and the
    /// offset it starts at.
    public static func parseSequence(_ bytes: [UInt8], _ visit: (JSON, Int) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { buffer in
            var p = JSONParser(buffer)
            p.skipSpace()
            while p.i < buffer.count {
                let start = p.i
                let value = try p.parseValue()
                try visit(value, start)
                p.skipSpace()
            }
        }
    }
}

/// Reads bytes through an unsafe buffer: every read below is preceded by an explicit
/// `i < b.count` check (debug builds check bounds again).
struct JSONParser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: i, reason: reason) }

    mutating func parseDocument() throws(JSONParseError) -> JSON {
        skipSpace()
        let v = try parseValue()
        skipSpace()
        if i != b.count { throw fail("unexpected data after the JSON value") }
        return v
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func parseValue() throws(JSONParseError) -> JSON {
        guard i < b.count else { throw fail("unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw fail("unexpected end of input") }
        let w = UnsafeBufferPointer(start: word.utf8Start, count: n)
        for k in 0..<n where b[i + k] != w[k] { throw fail("invalid literal") }
        i += n
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > JSON.nestingDepthMax { throw fail("nesting deeper than \(JSON.nestingDepthMax)") }
    }

    mutating func parseObject() throws(JSONParseError) -> JSON {
        try enter()
        i += 1
        var pairs: [(key: String, value: JSON)] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") {
            i += 1; depth -= 1
            return .object(JSONObject())
        }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let key = JSONKeys.intern(try parseString())
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            pairs.append((key, try parseValue()))
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; break }
            throw fail("expected ',' or '}'")
        }
        depth -= 1
        return .object(JSONObject(parsed: pairs))
    }

    mutating func parseArray() throws(JSONParseError) -> JSON {
        try enter()
        i += 1
        var a: [JSON] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "]") {
            i += 1; depth -= 1
            return .array(a)
        }
        while true {
            skipSpace()
            a.append(try parseValue())
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; break }
            throw fail("expected ',' or ']'")
        }
        depth -= 1
        return .array(a)
    }

    mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = i
        var negative = false
        if b[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < b.count, isDigit(b[i]) else { throw fail("invalid number") }
        // Fast path: an integer of at most 15 digits is exact in a Double and needs no text.
        var value: Int64 = 0
        var digits = 0
        if b[i] == UInt8(ascii: "0") {
            i += 1
            digits = 1
        } else {
            while i < b.count, isDigit(b[i]) {
                if digits < 16 { value = value * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
        }
        let integral = i >= b.count || (b[i] != UInt8(ascii: ".") && b[i] != UInt8(ascii: "e") && b[i] != UInt8(ascii: "E"))
        if integral && digits <= 15 { return Double(negative ? -value : value) }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < b.count, isDigit(b[i]) else { throw fail("invalid number") }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, isDigit(b[i]) else { throw fail("invalid number") }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        let text = String(decoding: b[start..<i], as: UTF8.self)
        guard let d = Double(text), d.isFinite else {
            i = start
            throw fail("number out of range")
        }
        return d
    }

    func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    mutating func parseString() throws(JSONParseError) -> String {
        i += 1
        // Fast path: no escapes, so the string is the bytes up to the closing quote.
        let start = i
        var ascii = true
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let bytes = UnsafeBufferPointer(rebasing: b[start..<i])
                i += 1
                // ASCII needs no validation (and is almost every string of a log); the
                // validating initializer is generic and costs a metadata lookup per call.
                if ascii { return String(decoding: bytes, as: UTF8.self) }
                guard let s = String(validating: bytes, as: UTF8.self) else {
                    i -= 1
                    throw fail("invalid UTF-8 in string")
                }
                return s
            }
            ascii = ascii && c < 0x80
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string") }
            i += 1
        }
        var out: [UInt8] = Array(b[start..<i])
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") {
                out.append(c); i += 1
                continue
            }
            i += 1
            guard i < b.count else { throw fail("unterminated string") }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(34)
            case UInt8(ascii: "\\"): out.append(92)
            case UInt8(ascii: "/"): out.append(47)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < b.count, b[i] == 92, b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("unpaired surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("invalid escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
        return s
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= b.count else { throw fail("invalid escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw fail("invalid escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}

/// Member names that every mapping and event repeats, kept once: a parsed key equal to one of
/// these is replaced by the literal, whose storage is in the binary. Names up to 15 bytes are
/// stored inline in a String anyway; longer ones would otherwise cost a heap block per use.
enum JSONKeys {
    static let table: [String: String] = {
        let names = [
            "AccessKeyId", "AmazonManagedKafkaEventSourceConfig", "BisectBatchOnFunctionError", "CollectionName",
            "Configuration", "ConsumerGroupId", "CreatedSequence", "DatabaseName", "DestinationConfig",
            "DocumentDBEventSourceConfig", "EventSourceArn", "EventSourceMappingArn", "EventSourceMappings", "EventVersion",
            "FilterCriteria", "FunctionArn", "FunctionName", "FunctionResponseTypes", "KAFKA_BOOTSTRAP_SERVERS",
            "LastModified", "LastProcessingResult", "LoggingConfig", "MaximumBatchingWindowInSeconds", "MaximumConcurrency",
            "MaximumPollers", "MaximumRecordAgeInSeconds", "MaximumRetryAttempts", "MetricsConfig", "MinimumPollers",
            "ParallelizationFactor", "PollerGroupName", "ProvisionedPollerConfig", "ScalingConfig",
            "SelfManagedEventSource", "SelfManagedKafkaEventSourceConfig", "SourceAccessConfigurations", "StartingPosition",
            "StartingPositionTimestamp", "StateTransitionReason", "SystemLogLevel", "TumblingWindowInSeconds",
        ]
        return Dictionary(uniqueKeysWithValues: names.map { ($0, $0) })
    }()

    static func intern(_ key: String) -> String {
        key.utf8.count > 15 ? (table[key] ?? key) : key
    }
}
