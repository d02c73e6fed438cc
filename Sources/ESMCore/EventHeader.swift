/// What a check of the log needs of an event, read without building it: its place in the
/// sequence and its time.
///
/// `esmlog verify` reads events this way. One walk over the stored JSON checks the syntax of the
/// whole event (as the parser would, UTF-8 included) and reads its top-level members
/// EventVersion, Sequence, Time, UUID, Type and Initiator with the rules `Event(json:)` applies to
/// them. The members under them (a configuration, a request, the actor's fields) are checked for
/// syntax only; decoding them is what a replay does.
public struct EventHeader: Sendable, Equatable {
    public var sequence: UInt64
    public var time: EventTime

    public init(sequence: UInt64, time: EventTime) {
        self.sequence = sequence
        self.time = time
    }
}

extension EventHeader {
    /// Reads the header of an event from its stored JSON.
    /// - Throws: `EventDecodingError`, with the parser's message for a syntax error and the
    ///   decoder's for a member that is missing or wrong.
    public init(stored bytes: UnsafeBufferPointer<UInt8>) throws(EventDecodingError) {
        var p = JSONParser(bytes)
        // A member's value when it is of the right kind; `seen` holds every member present.
        var version: Int?, sequence: Int?, time: Int?
        var type: String?, initiator: String?
        var seen: UInt16 = 0
        // A number counts as an integer by the decoder's rule (`JSON.intValue`).
        func integer(_ d: Double) -> Int? { JSON.number(d).intValue }
        p.skipSpace()
        guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "{") else {
            // Not an object: the parser's message when it is not JSON either.
            do { _ = try JSON.parse(bytes) } catch { throw EventDecodingError(reason: error.description) }
            throw EventDecodingError(reason: "event is not an object")
        }
        do throws(JSONParseError) {
            try p.enter()
            p.i += 1
            p.skipSpace()
            guard p.i < bytes.count else { throw p.fail("unexpected end of input") }
            var more = bytes[p.i] != UInt8(ascii: "}")
            if !more { p.i += 1 }
            while more {
                p.skipSpace()
                guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "\"") else { throw p.fail("expected a member name") }
                let keyStart = p.i + 1
                try p.skipString()
                let key = UnsafeBufferPointer(rebasing: bytes[keyStart..<(p.i - 1)])
                p.skipSpace()
                guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: ":") else { throw p.fail("expected ':'") }
                p.i += 1
                p.skipSpace()
                guard p.i < bytes.count else { throw p.fail("unexpected end of input") }
                let c = bytes[p.i]
                let isNumber = c == UInt8(ascii: "-") || (c >= 48 && c <= 57)
                let isString = c == UInt8(ascii: "\"")
                let member = EventHeader.member(key)
                seen |= member.bit
                switch member {
                case .version where isNumber: version = integer(try p.parseNumber())
                case .sequence where isNumber: sequence = integer(try p.parseNumber())
                case .time where isNumber: time = integer(try p.parseNumber())
                case .type where isString: type = try p.parseString()
                case .initiator where isString: initiator = try p.parseString()
                case .uuid where isString, .actor where c == UInt8(ascii: "{"):
                    seen |= (member == .uuid ? Member.uuidString : Member.actorObject).bit
                    try p.skipValue()
                default: try p.skipValue()
                }
                p.skipSpace()
                guard p.i < bytes.count else { throw p.fail("unexpected end of input") }
                if bytes[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
                guard bytes[p.i] == UInt8(ascii: "}") else { throw p.fail("expected ',' or '}'") }
                p.i += 1
                more = false
            }
            p.depth -= 1
            p.skipSpace()
            if p.i != bytes.count { throw p.fail("unexpected data after the JSON value") }
        } catch {
            throw EventDecodingError(reason: error.description)
        }
        // Strings were checked for escapes and control characters on the way; their UTF-8 is
        // checked here, once for the whole event, when it is not all ASCII.
        if !EventHeader.isASCII(bytes), String(validating: bytes, as: UTF8.self) == nil {
            throw EventDecodingError(reason: "invalid UTF-8 in string")
        }
        // The same rules, in the same order and with the same messages, as `Event(json:)`.
        func has(_ m: Member, _ name: String) throws(EventDecodingError) {
            if seen & m.bit == 0 { throw EventDecodingError(reason: "event has no \(name)") }
        }
        try has(.version, "EventVersion")
        guard let version, version >= 1, version <= Event.formatVersion else { throw EventDecodingError(reason: "unsupported EventVersion") }
        try has(.sequence, "Sequence")
        guard let sequence, sequence > 0 else { throw EventDecodingError(reason: "bad Sequence or Time") }
        try has(.time, "Time")
        guard let time else { throw EventDecodingError(reason: "bad Sequence or Time") }
        try has(.uuid, "UUID")
        if seen & Member.uuidString.bit == 0 { throw EventDecodingError(reason: "UUID is not a string") }
        try has(.initiator, "Initiator")
        switch initiator {
        case "System": break
        case "User":
            try has(.actor, "Actor")
            if seen & Member.actorObject.bit == 0 { throw EventDecodingError(reason: "Actor is not an object") }
        case nil: throw EventDecodingError(reason: "Initiator is not a string")
        default: throw EventDecodingError(reason: "unknown Initiator")
        }
        try has(.type, "Type")
        switch type {
        case "Created", "Updated", "DeleteRequested", "StateChanged", "Removed": break
        case "Tagged" where version >= 2, "Untagged" where version >= 2, "Imported" where version >= 2: break
        case nil: throw EventDecodingError(reason: "Type is not a string")
        default: throw EventDecodingError(reason: "unknown event Type")
        }
        self.init(sequence: UInt64(sequence), time: EventTime(milliseconds: Int64(time)))
    }

    private enum Member: UInt16 {
        case version, sequence, time, uuid, uuidString, type, initiator, actor, actorObject, other
        var bit: UInt16 { 1 << rawValue }
    }

    /// Which member a name is, by comparing its bytes as words (names are ASCII).
    private static func member(_ key: UnsafeBufferPointer<UInt8>) -> Member {
        guard let base = key.baseAddress else { return .other }
        let raw = UnsafeRawPointer(base)
        func word<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T { T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self)) }
        func word<T: FixedWidthInteger>(_ name: StaticString, _ at: Int, _: T.Type) -> T {
            T(littleEndian: UnsafeRawPointer(name.utf8Start).loadUnaligned(fromByteOffset: at, as: T.self))
        }
        switch key.count {
        case 4:
            let w = word(0, UInt32.self)
            return w == word("Time", 0, UInt32.self) ? .time : w == word("UUID", 0, UInt32.self) ? .uuid
                : w == word("Type", 0, UInt32.self) ? .type : .other
        case 5:
            return word(0, UInt32.self) == word("Actor", 0, UInt32.self) && key[4] == UInt8(ascii: "r") ? .actor : .other
        case 8:
            return word(0, UInt64.self) == word("Sequence", 0, UInt64.self) ? .sequence : .other
        case 9:
            return word(0, UInt64.self) == word("Initiator", 0, UInt64.self) && key[8] == UInt8(ascii: "r") ? .initiator : .other
        case 12:
            return word(0, UInt64.self) == word("EventVersion", 0, UInt64.self)
                && word(8, UInt32.self) == word("EventVersion", 8, UInt32.self) ? .version : .other
        default: return .other
        }
    }

    /// Whether every byte is below 0x80, eight at a time.
    static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        var i = 0
        let raw = UnsafeRawPointer(base)
        while i + 8 <= b.count {
            if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < b.count {
            if b[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }
}
