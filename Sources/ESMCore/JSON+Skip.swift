/// Reading a large JSON document without building it: each value's syntax is checked and its
/// byte range reported, so that a reader can build only the parts it wants (CloudTrail trail
/// files, where most records are other services').
extension JSONParser {
    mutating func skipValue() throws(JSONParseError) {
        guard i < b.count else { throw fail("unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "{"): _ = try skipObject()
        case UInt8(ascii: "["): _ = try skipArray(recording: false)
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    /// Skips the object that starts here. With `wanted`, returns the element ranges of its
    /// member of that name when that member is an array.
    mutating func skipObject(recordingElementsOf wanted: String? = nil) throws(JSONParseError) -> [Range<Int>]? {
        try enter()
        i += 1
        var found: [Range<Int>]?
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return found
        }
        while true {
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            // Member names are built only when one is looked for.
            let key: String? = wanted == nil ? nil : try parseString()
            if wanted == nil { try skipString() }
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            if let key, key == wanted, i < b.count, b[i] == UInt8(ascii: "[") {
                found = try skipArray(recording: true)
            } else {
                try skipValue()
            }
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; break }
            throw fail("expected ',' or '}'")
        }
        depth -= 1
        return found
    }

    /// Skips the array that starts here; with `recording`, returns each element's range.
    mutating func skipArray(recording: Bool) throws(JSONParseError) -> [Range<Int>] {
        try enter()
        i += 1
        var out: [Range<Int>] = []
        skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "]") {
            i += 1
            depth -= 1
            return out
        }
        while true {
            skipSpace()
            let start = i
            try skipValue()
            if recording { out.append(start..<i) }
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; break }
            throw fail("expected ',' or ']'")
        }
        depth -= 1
        return out
    }

    /// A string's escapes and control characters checked; its UTF-8 is checked when it is built.
    mutating func skipString() throws(JSONParseError) {
        i += 1
        // Eight bytes at a time while none of them ends the string or needs a closer look.
        if let base = b.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= b.count, !JSON.needsEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
        }
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; return }
            if c < 0x20 { throw fail("control character in string") }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < b.count else { break }
                switch b[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                     UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    i += 1
                    _ = try hex4()
                default: throw fail("invalid escape")
                }
                continue
            }
            i += 1
        }
        throw fail("unterminated string")
    }
}

extension JSON {
    /// When `bytes` is one JSON object and nothing else, and its member `name` is an array: the
    /// byte ranges of that array's elements, found in a single walk that checks the syntax of the
    /// whole document (nothing is built). nil, when the document is something else (several
    /// values, an array, an object without such a member).
    /// - Throws: `JSONParseError` for a syntax error in the object.
    public static func elements(ofMember name: String, in bytes: [UInt8]) throws -> [Range<Int>]? {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> [Range<Int>]? in
            var p = JSONParser(buffer)
            p.skipSpace()
            guard p.i < buffer.count, buffer[p.i] == UInt8(ascii: "{") else { return nil }
            let found = try p.skipObject(recordingElementsOf: name)
            p.skipSpace()
            return p.i == buffer.count ? found : nil
        }
    }
}
