import Testing
@testable import ESMCore

@Suite struct JSONTests {
    @Test func canonicalBytesSortKeysAndUseShortestNumbers() throws {
        let v = try JSON.parse(#"{"b": [1, 2.5, -0.001, 1e3], "a": {"z": true, "y": null}, "c": "q\"\n\u00e9"}"#)
        #expect(v.canonicalString == #"{"a":{"y":null,"z":true},"b":[1,2.5,-0.001,1000],"c":"q\"\né"}"#)
    }

    @Test func parseOfCanonicalBytesIsIdentity() throws {
        let text = #"{"LastModified":1569284520.333,"Nested":{"List":["x",{"k":false}]},"Zero":0}"#
        let v = try JSON.parse(text)
        #expect(v.canonicalString == text)
        #expect(try JSON.parse(v.canonicalBytes) == v)
    }

    @Test(arguments: [
        "", "{", "{\"a\":}", "[1,]", "{\"a\":1}x", "01", "1.", "-", "\"\\x\"", "\"\u{01}\"", "nul", "{\"a\" 1}",
        "\"\\ud800\"", "1e999",
    ])
    func malformedTextIsRefused(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONParseError.self) { try JSON.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func nestingIsBounded() throws {
        let ok = String(repeating: "[", count: JSON.nestingDepthMax) + String(repeating: "]", count: JSON.nestingDepthMax)
        _ = try JSON.parse(ok)
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
    }

    @Test func packedFormRoundTripsAndRefusesDamage() throws {
        let v = try JSON.parse(#"{"a":[1,-2,2.5,1e300,-0.0,9007199254740993,true,false,null,"é\n"],"b":{},"c":"","d":{"x":{"y":[]}}}"#)
        let packed = v.packedBytes
        #expect(try JSON.unpack(packed) == v)
        #expect(try JSON.unpack(packed[...]) == v)
        for cut in 0..<packed.count {
            #expect(throws: JSONParseError.self) { try JSON.unpack(packed[0..<cut]) }
        }
        #expect(throws: JSONParseError.self) { try JSON.unpack(packed + [0]) }
        #expect(throws: JSONParseError.self) { try JSON.unpack([9]) }
        #expect(throws: JSONParseError.self) { try JSON.unpack([5, 2, 0xC3, 0x28]) }
        #expect(throws: JSONParseError.self) { try JSON.unpack([UInt8](repeating: 6, count: 200) + [0]) }
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func objectMembersStaySortedWhateverTheInsertOrder() {
        var o = JSONObject()
        o["b"] = 1
        o["a"] = 2
        o["c"] = 3
        o["a"] = nil
        #expect(o.keys == ["b", "c"])
        #expect(o["a"] == nil)
        #expect(o["b"] == .number(1))
    }
}

@Suite struct EventTimeTests {
    @Test func rfc3339RoundTrips() throws {
        let t = try #require(EventTime(rfc3339: "2026-11-29T06:41:35.123Z"))
        #expect(t.description == "2026-11-29T06:41:35.123Z")
        #expect(EventTime(rfc3339: "2026-11-29T07:41:35.123+01:00") == t)
        #expect(EventTime(rfc3339: "1970-01-01T00:00:00Z")?.milliseconds == 0)
        #expect(EventTime(rfc3339: "2026-13-01T00:00:00Z") == nil)
        #expect(EventTime(rfc3339: "yesterday") == nil)
    }

    @Test func epochSecondsCarryMilliseconds() {
        #expect(EventTime(milliseconds: 1_569_284_520_333).epochSeconds == 1_569_284_520.333)
    }
}
