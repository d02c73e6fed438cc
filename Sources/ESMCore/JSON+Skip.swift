/// Reading a large JSON document without building it: each value's syntax is checked and its
/// byte range reported, so that a reader can build only the parts it wants (CloudTrail trail
/// files, where most records are other services').
extension JSONParser {
    mutating func skipValue() throws(JSONParseError) {
        guard i < b.count else { throw fail("unexpected end of input") }
        switch b[i] {
        case UInt8(ascii: "{"):
            try enter()
            i += 1
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") {
                i += 1
                depth -= 1
                return
            }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                try skipString()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                skipSpace()
                try skipValue()
                skipSpace()
                guard i < b.count else { throw fail("unexpected end of input") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; break }
                throw fail("expected ',' or '}'")
            }
            depth -= 1
        case UInt8(ascii: "["):
            try enter()
            i += 1
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") {
                i += 1
                depth -= 1
                return
            }
            while true {
                skipSpace()
                try skipValue()
                skipSpace()
                guard i < b.count else { throw fail("unexpected end of input") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; break }
                throw fail("expected ',' or ']'")
            }
            depth -= 1
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    /// A string's escapes and control characters checked; its UTF-8 is checked when it is built.
    mutating func skipString() throws(JSONParseError) {
        i += 1
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
    /// When `bytes` is one JSON object and nothing else: calls `visit` with each member's name
    /// and the byte range of its value, after checking the whole document's syntax. Returns
    /// false, visiting nothing, when the document is something else (several values, an array).
    /// - Throws: `JSONParseError` for a syntax error in the object.
    public static func members(of bytes: [UInt8], _ visit: (String, Range<Int>) throws -> Void) throws -> Bool {
        var found: [(String, Range<Int>)] = []
        let single: Bool = try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> Bool in
            var p = JSONParser(buffer)
            p.skipSpace()
            guard p.i < buffer.count, buffer[p.i] == UInt8(ascii: "{") else { return false }
            let start = p.i
            try p.skipValue()
            p.skipSpace()
            guard p.i == buffer.count else { return false }
            // Valid: walk the members again, recording each value's range.
            p.i = start + 1
            while true {
                p.skipSpace()
                guard p.i < buffer.count, buffer[p.i] == UInt8(ascii: "\"") else { return true }
                let name = try p.parseString()
                p.skipSpace()
                p.i += 1  // ':'
                p.skipSpace()
                let valueStart = p.i
                try p.skipValue()
                found.append((name, valueStart..<p.i))
                p.skipSpace()
                if buffer[p.i] == UInt8(ascii: ",") { p.i += 1 } else { return true }
            }
        }
        guard single else { return false }
        for (name, range) in found { try visit(name, range) }
        return true
    }

    /// The byte ranges of the elements of the (already checked) array at `range`.
    public static func elements(of bytes: [UInt8], array range: Range<Int>) throws -> [Range<Int>] {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> [Range<Int>] in
            var p = JSONParser(UnsafeBufferPointer(rebasing: buffer[..<range.upperBound]))
            p.i = range.lowerBound
            guard p.i < range.upperBound, buffer[p.i] == UInt8(ascii: "[") else { throw p.fail("not an array") }
            p.i += 1
            var out: [Range<Int>] = []
            while true {
                p.skipSpace()
                if p.i < range.upperBound, buffer[p.i] == UInt8(ascii: "]") { return out }
                let start = p.i
                try p.skipValue()
                out.append(start..<p.i)
                p.skipSpace()
                guard p.i < range.upperBound, buffer[p.i] == UInt8(ascii: ",") else { return out }
                p.i += 1
            }
        }
    }
}
