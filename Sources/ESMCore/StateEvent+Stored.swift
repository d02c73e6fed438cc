extension StateEvent {
    /// Reads an event for state from its stored JSON: the state part of what `Event(json:)` reads,
    /// refused by the same rules with the same messages.
    ///
    /// An event that holds no `\u` escape, which is almost every event of a log, is read in one
    /// walk over its bytes that checks the syntax of all of it: the members the state
    /// needs are built, a created configuration is kept as its bytes when they are plainly
    /// canonical (`StoredConfiguration(plainCanonical:object:)`), and the actor and the request
    /// are checked for what `Event(json:)` requires of them without being built. Any other event,
    /// and any event the walk finds something wrong or unusual in, is decoded whole by
    /// `Event(json:)`, whose error is the one thrown.
    public init(stored b: UnsafeBufferPointer<UInt8>) throws(EventDecodingError) {
        if let e = StateEvent.plain(b) {
            self = e
            return
        }
        let json: JSON
        do { json = try JSON.parse(b) } catch { throw EventDecodingError(reason: error.description) }
        self.init(try Event(json: json))
    }

    /// Where each top-level member the state reads is, when present once.
    private struct Members {
        var actor, configuration, enabled, version, from, initiator, request, sequence: Range<Int>?
        var set, state, reason, tagKeys, tags, time, type, uuid, unset: Range<Int>?

        /// Records a member; false when it is one of those above and came before.
        mutating func record(_ key: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) -> Bool {
            func put(_ slot: inout Range<Int>?) -> Bool {
                if slot != nil { return false }
                slot = value
                return true
            }
            func named(_ name: StaticString) -> Bool { StateEvent.equal(key, name) }
            switch key.count {
            case 3: if named("Set") { return put(&set) }
            case 4:
                if named("Time") { return put(&time) }
                if named("UUID") { return put(&uuid) }
                if named("Type") { return put(&type) }
                if named("From") { return put(&from) }
                if named("Tags") { return put(&tags) }
            case 5:
                if named("Actor") { return put(&actor) }
                if named("State") { return put(&state) }
                if named("Unset") { return put(&unset) }
            case 7:
                if named("Enabled") { return put(&enabled) }
                if named("Request") { return put(&request) }
                if named("TagKeys") { return put(&tagKeys) }
            case 8: if named("Sequence") { return put(&sequence) }
            case 9: if named("Initiator") { return put(&initiator) }
            case 12: if named("EventVersion") { return put(&version) }
            case 13: if named("Configuration") { return put(&configuration) }
            case 21: if named("StateTransitionReason") { return put(&reason) }
            default: break
            }
            return true
        }
    }

    /// The one-walk reading of `init(stored:)`; nil for anything it leaves to `Event(json:)`.
    static func plain(_ b: UnsafeBufferPointer<UInt8>) -> StateEvent? {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), colon = UInt8(ascii: ":"), close = UInt8(ascii: "}")
        guard b.count >= 2, b[0] == UInt8(ascii: "{"), b[1] != close, isPlain(b) else { return nil }
        // Without `\u` escapes, skipping a string checks what parsing it checks, but its UTF-8:
        // that is checked here, once for the whole event, when it is not all ASCII.
        if !EventHeader.isASCII(b), String(validating: b, as: UTF8.self) == nil { return nil }
        var m = Members()
        // The walk: keys and values with no white space between them, each value's syntax
        // checked by the parser's own skipping, as deep as a whole parse would allow.
        var p = JSONParser(b)
        do throws(JSONParseError) {
            try p.enter()
            p.i = 1
            while true {
                guard p.i < b.count, b[p.i] == quote else { return nil }
                let keyStart = p.i + 1
                try p.skipString()
                let key = UnsafeBufferPointer(rebasing: b[keyStart..<(p.i - 1)])
                // A name is compared as its bytes: an escaped one is left to the whole decoding.
                guard !key.contains(UInt8(ascii: "\\")), p.i < b.count, b[p.i] == colon else { return nil }
                p.i += 1
                let valueStart = p.i
                try p.skipValue()
                guard m.record(key, valueStart..<p.i), p.i < b.count else { return nil }
                if b[p.i] == comma {
                    p.i += 1
                    continue
                }
                guard b[p.i] == close else { return nil }
                p.i += 1
                break
            }
        } catch {
            return nil
        }
        guard p.i == b.count else { return nil }

        // Members as `Event(json:)` reads them, strings by the parser's own reading.
        func integer(_ r: Range<Int>?) -> Int? {
            guard let r else { return nil }
            var q = JSONParser(b)
            q.i = r.lowerBound
            guard b[r.lowerBound] == UInt8(ascii: "-") || (b[r.lowerBound] >= 48 && b[r.lowerBound] <= 57),
                  let d = try? q.parseNumber() else { return nil }
            return JSON.number(d).intValue
        }
        func string(_ r: Range<Int>?) -> String? {
            guard let r, b[r.lowerBound] == quote else { return nil }
            var q = JSONParser(b)
            q.i = r.lowerBound
            return try? q.parseString()
        }
        func bool(_ r: Range<Int>?) -> Bool? {
            guard let r else { return nil }
            switch b[r.lowerBound] {
            case UInt8(ascii: "t"): return true
            case UInt8(ascii: "f"): return false
            default: return nil
            }
        }
        func state(_ r: Range<Int>?) -> MappingState? { string(r).flatMap(MappingState.init(rawValue:)) }
        func isObject(_ r: Range<Int>?) -> Bool { r.map { b[$0.lowerBound] == UInt8(ascii: "{") } ?? false }
        func tree(_ r: Range<Int>?) -> JSON? {
            guard let r else { return nil }
            var q = JSONParser(UnsafeBufferPointer(rebasing: b[r]))
            return try? q.parseValue()
        }

        guard let version = integer(m.version), version >= 1, version <= Event.formatVersion,
              let sequence = integer(m.sequence), sequence > 0, let ms = integer(m.time),
              let uuid = string(m.uuid) else { return nil }
        switch string(m.initiator) {
        case "System": break
        case "User": guard let actor = m.actor, hasActorFields(b, actor) else { return nil }
        default: return nil
        }
        let change: StateChange
        switch string(m.type) {
        case "Created":
            guard let c = m.configuration, isObject(c), let enabled = bool(m.enabled), let state = state(m.state),
                  let reason = string(m.reason), let tags = tree(m.tags)?.objectValue, isObject(m.request) else { return nil }
            guard let configuration = StoredConfiguration(plainCanonical: b, object: c)
                    ?? tree(c)?.objectValue.map(StoredConfiguration.init) else { return nil }
            change = .created(configuration: configuration, enabled: enabled, state: state, reason: reason, tags: tags)
        case "Updated":
            guard let unset = tree(m.unset)?.arrayValue?.compactMap(\.stringValue), let set = tree(m.set)?.objectValue,
                  let enabled = bool(m.enabled), let state = state(m.state), isObject(m.request) else { return nil }
            change = .updated(set: set, unset: unset, enabled: enabled, state: state)
        case "DeleteRequested": change = .deleteRequested
        case "StateChanged":
            guard let from = state(m.from), let to = state(m.state) else { return nil }
            change = .stateChanged(from: from, to: to)
        case "Removed": change = .removed
        case "Tagged" where version >= 2:
            guard let tags = tree(m.tags)?.objectValue else { return nil }
            change = .tagged(tags)
        case "Untagged" where version >= 2:
            guard let keys = tree(m.tagKeys)?.arrayValue, keys.allSatisfy({ $0.stringValue != nil }) else { return nil }
            change = .untagged(keys.compactMap(\.stringValue))
        default:
            return nil  // Imported, or not an event Type
        }
        return StateEvent(sequence: UInt64(sequence), time: EventTime(milliseconds: Int64(ms)), uuid: uuid, change: change)
    }

    /// Whether the actor object at `r` has, once each, the string members `Event(json:)` requires.
    private static func hasActorFields(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        guard b[r.lowerBound] == UInt8(ascii: "{") else { return false }
        let required: [StaticString] = ["AccessKeyId", "SourceIp", "UserAgent", "RequestId", "Region"]
        var found: UInt8 = 0
        var i = r.lowerBound + 1
        // The object's syntax was checked by the walk, and it holds no white space.
        while i < r.upperBound - 1 {
            let keyEnd = JSON.endOfString(in: b, from: i)
            let key = UnsafeBufferPointer(rebasing: b[(i + 1)..<(keyEnd - 1)])
            if key.contains(UInt8(ascii: "\\")) { return false }  // compared as bytes below
            let valueStart = keyEnd + 1
            let valueEnd = JSON.endOfValue(in: UnsafeBufferPointer(rebasing: b[..<(r.upperBound - 1)]), from: valueStart)
            for (k, name) in required.enumerated()
            where StateEvent.equal(key, name) {
                let bit: UInt8 = 1 << k
                guard found & bit == 0 else { return false }  // repeated: left to the whole decoding
                if b[valueStart] == UInt8(ascii: "\"") { found |= bit }
            }
            i = valueEnd + 1
        }
        return found == 0b11111
    }

    private static func equal(_ key: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        key.elementsEqual(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// Whether no string holds a `\u` escape (the one escape that skipping a string checks less
    /// than parsing it: surrogates are paired only when it is parsed). Backslashes are looked at
    /// eight bytes at a time.
    private static func isPlain(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let backslashes = ones &* UInt64(UInt8(ascii: "\\"))
        var i = 0
        while i < b.count {
            if i + 8 <= b.count {
                let x = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ backslashes
                if ((x &- ones) & ~x & highs) == 0 {
                    i += 8
                    continue
                }
            }
            if b[i] == UInt8(ascii: "\\") {
                if i + 1 < b.count, b[i + 1] == UInt8(ascii: "u") { return false }
                i += 2
            } else {
                i += 1
            }
        }
        return true
    }
}
