import Foundation
import Testing
@testable import ESMCore

@Suite struct JSONTests {
    @Test func canonicalBytesSortKeysAndUseShortestNumbers() throws {
        let v = try JSON.parse(#"{"b": [1, 2.5, -0.001, 1e3], "a": {"z": true, "y": null}, "c": "q\"\n\u00e9"}"#)
        #expect(v.canonicalString == #"{"a":{"y":null,"z":true},"b":[1,2.5,-0.001,1000],"c":"q\"\né"}"#)
    }

    /// Every byte that needs an escape, in runs and alone, next to bytes that do not.
    @Test func stringsEscapeExactlyTheBytesJSONRequires() throws {
        var all = ""
        for b in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(UInt8(b))) }
        all += "é€😀"
        var written: [UInt8] = []
        JSON.writeString(all, to: &written)
        var expected = "\""
        for b in 0..<0x20 {
            switch b {
            case 0x09: expected += "\\t"
            case 0x0A: expected += "\\n"
            case 0x0D: expected += "\\r"
            default: expected += "\\u00" + (b < 16 ? "0" : "1") + String(b & 15, radix: 16)
            }
        }
        for b in 0x20..<0x80 {
            if b == 0x22 { expected += "\\\"" } else if b == 0x5C { expected += "\\\\" } else {
                expected.unicodeScalars.append(Unicode.Scalar(UInt8(b)))
            }
        }
        expected += "é€😀\""
        #expect(String(decoding: written, as: UTF8.self) == expected)
        for s in ["", "plain", "\"", "a\"b\\c\n", "\u{1}x"] {
            var out: [UInt8] = []
            JSON.writeString(s, to: &out)
            #expect(try JSON.parse(out) == .string(s))
        }
    }

    /// Random strings of every length around the eight-byte steps, against a byte-by-byte writer.
    @Test func stringsMatchAByteByByteWriter() {
        func reference(_ s: String) -> [UInt8] {
            var out: [UInt8] = [34]
            for b in s.utf8 {
                switch b {
                case 34, 92: out += [92, b]
                case 0x0A: out += [92, 110]
                case 0x0D: out += [92, 114]
                case 0x09: out += [92, 116]
                case 0..<0x20: out += Array(String(format: "\\u%04x", b).utf8)
                default: out.append(b)
                }
            }
            return out + [34]
        }
        let alphabet: [String] = ["a", "Z", "\"", "\\", "\n", "\u{1}", "\u{1f}", " ", "~", "\u{7f}", "é", "😀", ":", "/"]
        var state: UInt64 = 7  // a linear congruential sequence: the same strings every run
        for n in 0..<2000 {
            var s = ""
            for _ in 0..<(n % 40) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                s += alphabet[Int(state >> 33) % alphabet.count]
            }
            var out: [UInt8] = []
            JSON.writeString(s, to: &out)
            #expect(out == reference(s), "\(s.debugDescription)")
        }
    }

    @Test func epochSecondsWriteAsTheNumberFormatDoes() {
        var state: UInt64 = 11
        var samples: [Int64] = [0, 1, 10, 100, 999, 1000, 1001, 1_795_935_404_000, 1_795_935_404_300, 1_795_935_404_030,
                                1_795_935_404_003, 9_999_999_999_999, 10_000_000_000_000, -1, -1500]
        for _ in 0..<20000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            samples.append(Int64(state >> 20) % 10_000_000_000_000)
        }
        for ms in samples {
            var fast: [UInt8] = []
            EventTime(milliseconds: ms).writeEpochSeconds(to: &fast)
            #expect(fast == JSON.number(EventTime(milliseconds: ms).epochSeconds).canonicalBytes, "\(ms)")
        }
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
