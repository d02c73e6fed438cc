import Foundation
import Testing
@testable import ESMCore

/// `StateEvent(stored:)` is how a replay reads each event. Whatever bytes it is given, it must
/// give what decoding the whole event and taking its state part gives: the same state event, or
/// the same error. Most events take its one-walk reading, so that is checked to be taken.
@Suite struct StateEventTests {
    typealias Outcome = Result<StateEvent, EventDecodingError>

    static func read(_ bytes: [UInt8]) -> Outcome {
        bytes.withUnsafeBufferPointer { b in Result { () throws(EventDecodingError) in try StateEvent(stored: b) } }
    }

    /// The reference: the whole event decoded, as every other reader does.
    static func whole(_ bytes: [UInt8]) -> Outcome {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { return .failure(EventDecodingError(reason: error.description)) }
        do { return .success(StateEvent(try Event(json: json))) } catch { return .failure(error) }
    }

    static func tookTheWalk(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { StateEvent.plain($0) != nil }
    }

    static func expectSame(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch (read(bytes), whole(bytes)) {
        case (.success(let a), .success(let b)): #expect(a == b, "\(text)", sourceLocation: sourceLocation)
        case (.failure(let a), .failure(let b)): #expect(a.reason == b.reason, "\(text)", sourceLocation: sourceLocation)
        case (let a, let b): Issue.record("read \(a), whole \(b) for \(text)", sourceLocation: sourceLocation)
        }
    }

    /// A configuration with members on both sides of each member the response adds, nested
    /// values, negative and zero numbers, and a member whose name sorts among the response's.
    static let configuration = JSONObject([
        ("BatchSize", 10), ("EventSourceArn", "arn:aws:sqs:us-east-1:123456789012:q"), ("Enabled", true),
        ("FilterCriteria", .object(JSONObject([("Filters", .array([.object(JSONObject([("Pattern", "{}")]))]))]))),
        ("FunctionArn", "arn:aws:lambda:us-east-1:123456789012:function:f"), ("MaximumRetryAttempts", -1),
        ("ParallelizationFactor", 0), ("Queues", .array([])), ("ScalingConfig", .object(JSONObject())),
        ("SelfManagedEventSource", .null), ("StartingPosition", "LATEST"), ("Topics", .array(["a", "b"])),
        ("Tumbling", false), ("Zeta", 123_456_789_012_345), ("Ωmega", "naïve \"quoted\" \\ tab\tline\nreturn\r"),
    ])

    static var events: [Event] {
        var changes = EventTests.changes
        changes.append(.created(configuration: configuration, enabled: false, state: .creating, reason: "USER_INITIATED",
                                tags: JSONObject(), request: JSONObject([("FunctionName", "f"), ("BatchSize", 10)])))
        changes.append(.created(configuration: JSONObject(), enabled: true, state: .creating, reason: "", tags: JSONObject(), request: JSONObject()))
        changes.append(.updated(set: configuration, unset: [], enabled: true, state: .updating, request: JSONObject()))
        // Escapes the walk leaves to the whole decoding: a control character, written as `\u0001`.
        changes.append(.tagged(JSONObject([("bell", "\u{01}")])))
        changes.append(.created(configuration: JSONObject([("Note", "\u{08}")]), enabled: true, state: .creating, reason: "",
                                tags: JSONObject(), request: JSONObject()))
        return EventHeaderTests.events + changes.flatMap { change in
            [testActor, nil].map { Event(sequence: 8, time: EventTime(milliseconds: 1_790_000_000_999), uuid: uuid(4), actor: $0, change: change) }
        }
    }

    @Test func readsWhatTheWholeDecodingReads() throws {
        var walked = 0
        for e in StateEventTests.events {
            let bytes = e.json.canonicalBytes
            #expect(try StateEventTests.read(bytes).get() == StateEvent(e))
            if StateEventTests.tookTheWalk(bytes) { walked += 1 }
            // Only an event with a `\u` escape is left to the whole decoding.
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(StateEventTests.tookTheWalk(bytes) == !text.contains("\\u"), "\(text)")
        }
        #expect(walked >= StateEventTests.events.count - 4)
        // A created configuration kept as its bytes is the one encoding the tree would store.
        let created = Event(sequence: 1, time: EventTime(milliseconds: 5), uuid: uuid(1), actor: testActor,
                            change: StateEventTests.events.last { if case .created = $0.change { true } else { false } }!.change)
        let m = try Projector.next(nil, try StateEventTests.read(created.json.canonicalBytes).get())!
        #expect(m == (try Projector.next(nil, created))!)
    }

    /// Cut at every length and with single bytes replaced: the same state event or the same error.
    @Test func agreesWithTheWholeDecodingOnDamagedBytes() {
        var checked = 0, refused = 0
        let replacements: [UInt8] = [UInt8(ascii: "\""), UInt8(ascii: "}"), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: ":"),
                                     UInt8(ascii: "1"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: " "),
                                     UInt8(ascii: "\\"), UInt8(ascii: "]"), UInt8(ascii: "t"), 0x01, 0xC3, 0xFF]
        for e in StateEventTests.events where e.actor != nil {
            let bytes = e.json.canonicalBytes
            var variants: [[UInt8]] = stride(from: 0, to: bytes.count, by: 2).map { Array(bytes.prefix($0)) }
            for at in stride(from: 0, to: bytes.count, by: 5) {
                for c in replacements {
                    var v = bytes
                    v[at] = c
                    variants.append(v)
                }
            }
            for v in variants {
                StateEventTests.expectSame(v)
                if case .failure = StateEventTests.whole(v) { refused += 1 }
                checked += 1
            }
        }
        #expect(checked > 20_000 && refused > checked / 3)
    }

    /// Members missing, of the wrong kind or given twice, in the actor too: the same outcome as the
    /// whole decoding, which is what the walk leaves such events to.
    @Test func holdsEveryMemberToTheDecodersRules() {
        var cases: [[UInt8]] = []
        for e in StateEventTests.events where e.actor != nil && e.json.canonicalBytes.allSatisfy({ $0 < 0x80 }) {
            let base = e.json.objectValue!
            for key in base.keys + ["Configuration", "Set", "Unset", "Tags", "TagKeys", "From", "State", "Enabled"] {
                var o = base
                o[key] = nil
                cases.append(JSON.object(o).canonicalBytes)
                for wrong: JSON in ["x", "Enabled", 1.5, 2, .array([]), .array([1]), .object(JSONObject()), .null, true] {
                    o = base
                    o[key] = wrong
                    cases.append(JSON.object(o).canonicalBytes)
                }
            }
            for field in ["AccessKeyId", "SourceIp", "UserAgent", "RequestId", "Region"] {
                var actor = base["Actor"]!.objectValue!
                actor[field] = nil
                var o = base
                o["Actor"] = .object(actor)
                cases.append(JSON.object(o).canonicalBytes)
                actor[field] = 7
                o["Actor"] = .object(actor)
                cases.append(JSON.object(o).canonicalBytes)
            }
            // A member given twice, at the top and in the actor: the whole decoding keeps the last.
            let text = JSON.object(base).canonicalString
            for (key, value) in [("\"State\":", "\"Disabled\""), ("\"Sequence\":", "9"), ("\"SourceIp\":", "1"), ("\"Type\":", "\"Removed\"")] {
                if let r = text.range(of: key) {
                    cases.append(Array(text.replacingCharacters(in: r, with: "\(key)\(value),\(key)").utf8))
                }
            }
        }
        // Escapes that skipping a string would let through and parsing it refuses, in a member
        // the walk does not build: surrogates unpaired or reversed.
        let tagged = Event(sequence: 3, time: EventTime(milliseconds: 1), uuid: uuid(2), actor: testActor,
                           change: .tagged(JSONObject([("k", "SURROGATE")]))).json.canonicalString
        for escape in ["\\ud800", "\\udc00x", "\\ud800\\u0041", "\\udc00\\ud800", "\\ud83d\\ude00"] {
            cases.append(Array(tagged.replacingOccurrences(of: "SURROGATE", with: escape).utf8))
            cases.append(Array(tagged.replacingOccurrences(of: "req-1", with: escape).utf8))
        }
        for bytes in cases { StateEventTests.expectSame(bytes) }
        #expect(cases.count > 500)
    }

    /// The canonical check accepts what the writer writes and nothing that writes back otherwise.
    @Test func plainCanonicalBytesAreWhatTheWriterWrites() throws {
        func end(_ text: String) -> Int? {
            Array(text.utf8).withUnsafeBufferPointer { JSON.plainCanonicalEnd(in: $0, from: 0) }
        }
        for value in [JSON.object(StateEventTests.configuration), .object(JSONObject()), .array([]), 0, -1, 7, 999_999_999_999_999, "", "a b", true, .null] {
            let text = value.canonicalString
            #expect(end(text) == text.utf8.count, "\(text)")
        }
        for text in ["\"a\\\"b\\\\c\\td\"", "\"é\"", "{\"a\":1,\"b\":[\"x\\ny\"]}"] {
            #expect(end(text) == text.utf8.count, "\(text)")
        }
        for text in ["-0", "01", "1.5", "1e3", "1000000000000000", "{\"b\":1,\"a\":2}", "{\"a\":1,\"a\":2}", "{ \"a\":1}",
                     "[1, 2]", "\"\\u0041\"", "\"\\/\"", "\"\\b\"", "{\"a\\\"\":1}", "{\"a\":1", "[1,]", "tru", "nul", "\"a"] {
            let e = end(text)
            #expect(e == nil || e! < text.utf8.count, "\(text)")
        }
        // Whatever it accepts parses and writes back to the same bytes: checked over mutations.
        let base = Array(JSON.object(StateEventTests.configuration).canonicalString.utf8)
        var accepted = 0
        for at in base.indices {
            for c in [UInt8(ascii: "0"), UInt8(ascii: "-"), UInt8(ascii: "a"), UInt8(ascii: "Z"), UInt8(ascii: "}"), UInt8(ascii: ",")] {
                var v = base
                v[at] = c
                // The check is made on valid UTF-8 only (the event's, checked once).
                guard String(validating: v, as: UTF8.self) != nil,
                      v.withUnsafeBufferPointer({ JSON.plainCanonicalEnd(in: $0, from: 0) }) == v.count else { continue }
                #expect(try JSON.parse(v).canonicalBytes == v, "\(String(decoding: v, as: UTF8.self))")
                accepted += 1
            }
        }
        #expect(accepted > 100)
    }

    /// Taken as bytes, a configuration is stored as parsing and encoding it would store it,
    /// including where the response's own members go.
    @Test func aConfigurationTakenAsBytesIsStoredAsItsTreeWouldBe() throws {
        var configurations = [StateEventTests.configuration, JSONObject(), JSONObject([("A", 1)]), JSONObject([("Z", 1)])]
        for key in ["LastModifiedX", "Stat", "Statf", "StateTransitionReasons", "UUIC", "UUIDs", "L", "S", "T", "U"] {
            configurations.append(JSONObject([(key, 1), ("M", 2), ("Sz", 3)]))
        }
        for c in configurations {
            let bytes = JSON.object(c).canonicalBytes
            let stored = bytes.withUnsafeBufferPointer { StoredConfiguration(plainCanonical: $0, object: 0..<$0.count) }
            #expect(stored == StoredConfiguration(c), "\(JSON.object(c).canonicalString)")
        }
    }
}
