import Testing
@testable import ESMCore

/// `EventHeader(stored:)` is what `esmlog verify` reads of each event. It must never refuse an
/// event that decodes, must read the same sequence and time, must refuse every byte string that
/// is not JSON, and must apply the decoder's rules to the members it reads, with its messages.
@Suite struct EventHeaderTests {
    static func header(_ bytes: [UInt8]) throws(EventDecodingError) -> EventHeader {
        try bytes.withUnsafeBufferPointer { (b) throws(EventDecodingError) in try EventHeader(stored: b) }
    }

    static func decode(_ bytes: [UInt8]) -> Result<Event, any Error> {
        Result { try Event(json: JSON.parse(bytes)) }
    }

    /// Every kind of event, by a user (verified or not, with a non-ASCII user agent) and by the system.
    static var events: [Event] {
        var verified = testActor
        verified.verified = true
        verified.account = "111122223333"
        verified.userAgent = "Boto3/1.35 — ünïcode"
        return EventTests.changes.flatMap { change in
            [testActor, verified, nil].map { Event(sequence: 41, time: EventTime(milliseconds: 1_790_000_000_123), uuid: uuid(3), actor: $0, change: change) }
        }
    }

    @Test func readsWhatTheDecoderReads() throws {
        for e in EventHeaderTests.events {
            #expect(try EventHeaderTests.header(e.json.canonicalBytes) == EventHeader(sequence: e.sequence, time: e.time))
        }
    }

    /// Cut at every length and with single bytes replaced: whatever decodes, the header reads the
    /// same; whatever is not JSON, the header refuses.
    @Test func refusesWhatIsNotJSONAndKeepsWhatDecodes() throws {
        var checked = 0, refused = 0
        for e in EventHeaderTests.events.prefix(9) {
            let bytes = e.json.canonicalBytes
            var variants: [[UInt8]] = (0..<bytes.count).map { Array(bytes.prefix($0)) }
            for at in stride(from: 0, to: bytes.count, by: 3) {
                for c in [UInt8(ascii: "\""), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: "1"), 0x01, 0xC3, 0xFF] {
                    var v = bytes
                    v[at] = c
                    variants.append(v)
                }
            }
            for v in variants {
                let header = Result { () throws(EventDecodingError) in try EventHeaderTests.header(v) }
                let parsed = Result { () throws(JSONParseError) in try JSON.parse(v) }
                if case .failure = parsed {
                    #expect(throws: EventDecodingError.self, "\(String(decoding: v, as: UTF8.self))") { try header.get() }
                    refused += 1
                }
                if case .success(let d) = EventHeaderTests.decode(v) {
                    #expect(try header.get() == EventHeader(sequence: d.sequence, time: d.time))
                }
                checked += 1
            }
        }
        #expect(checked > 5000 && refused > checked / 2)
    }

    /// The members the header reads are held to the decoder's rules, with its messages.
    @Test func holdsItsMembersToTheDecodersRules() throws {
        let base = Event(sequence: 5, time: EventTime(milliseconds: 9), uuid: uuid(1), actor: testActor, change: .tagged(JSONObject([("a", "b")])))
            .json.objectValue!
        var cases: [JSONObject] = []
        for key in ["EventVersion", "Sequence", "Time", "UUID", "Type", "Initiator", "Actor"] {
            var o = base
            o[key] = nil
            cases.append(o)
            for wrong: JSON in ["x", 1.5, .array([]), .null, -3, 0] {
                o = base
                o[key] = wrong
                cases.append(o)
            }
        }
        for (key, value) in [("EventVersion", JSON.number(1)), ("EventVersion", .number(Double(Event.formatVersion + 1))),
                             ("Type", "Deleted"), ("Initiator", "Robot"), ("Sequence", 9.007_199_254_740_993e15)] {
            var o = base
            o[key] = value
            cases.append(o)
        }
        var refused = 0
        for o in cases {
            let bytes = JSON.object(o).canonicalBytes
            let header = Result { () throws(EventDecodingError) in try EventHeaderTests.header(bytes) }
            switch (EventHeaderTests.decode(bytes), header) {
            case (.success(let d), .success(let h)):
                #expect(h == EventHeader(sequence: d.sequence, time: d.time))
            case (.failure(let d), .failure(let h)):
                #expect(h.reason == (d as? EventDecodingError)?.reason, "\(JSON.object(o).canonicalString)")
                refused += 1
            case (let d, let h):
                Issue.record("decoder \(d), header \(h) for \(JSON.object(o).canonicalString)")
            }
        }
        #expect(refused > 40)
        // What it does not read: a member under Actor, which a replay decodes.
        var o = base
        o["Actor"] = .object(JSONObject([("AccessKeyId", "AKIA")]))
        let bytes = JSON.object(o).canonicalBytes
        #expect(throws: EventDecodingError.self) { try Event(json: JSON.parse(bytes)) }
        #expect(try EventHeaderTests.header(bytes) == EventHeader(sequence: 5, time: EventTime(milliseconds: 9)))
    }
}
