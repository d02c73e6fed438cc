import Testing
@testable import ESMCore

@Suite struct EventTests {
    static let changes: [Change] = [
        .created(configuration: JSONObject([("BatchSize", 10)]), enabled: true, state: .creating, reason: "USER_INITIATED",
                 tags: JSONObject([("team", "a")]), request: JSONObject([("FunctionName", "f")])),
        .updated(set: JSONObject([("BatchSize", 50)]), unset: ["FilterCriteria"], enabled: false, state: .disabling,
                 request: JSONObject([("Enabled", false)])),
        .deleteRequested,
        .stateChanged(from: .creating, to: .enabled),
        .removed,
        .tagged(JSONObject([("owner", "checkout"), ("team", "")])),
        .untagged(["owner", "cost center"]),
    ]

    @Test(arguments: changes)
    func jsonRoundTrips(_ change: Change) throws {
        var verified = testActor
        verified.verified = true
        verified.account = "111122223333"
        for actor in [testActor, verified, nil] {
            let e = Event(sequence: 7, time: EventTime(milliseconds: 1234), uuid: uuid(1), actor: actor, change: change)
            let bytes = e.json.canonicalBytes
            #expect(try Event(json: JSON.parse(bytes)) == e)
        }
    }

    /// An unverified actor is written exactly as before the verification members existed.
    @Test func verificationMembersAppearOnlyWhenSet() throws {
        #expect(testActor.json.objectValue!.keys == ["AccessKeyId", "Region", "RequestId", "SourceIp", "UserAgent"])
        var verified = testActor
        verified.verified = true
        verified.account = "111122223333"
        #expect(verified.json["Authentication"] == "SigV4")
        #expect(verified.json["AccountId"] == "111122223333")
    }

    /// Events of the version-1 kinds keep their bytes; tag events are version 2, which a
    /// version-1 reader refuses by its version number.
    @Test func tagEventsAreVersionTwoAndTheRestStayVersionOne() throws {
        for change in EventTests.changes {
            let e = Event(sequence: 1, time: EventTime(milliseconds: 1), uuid: uuid(1), actor: testActor, change: change)
            let tag: Bool
            switch change {
            case .tagged, .untagged: tag = true
            default: tag = false
            }
            #expect(e.json["EventVersion"] == .number(tag ? 2 : 1))
        }
        var o = Event(sequence: 1, time: EventTime(milliseconds: 1), uuid: uuid(1), actor: testActor, change: .tagged(JSONObject([("a", "b")])))
            .json.objectValue!
        o["EventVersion"] = 1
        #expect(throws: EventDecodingError.self) { try Event(json: .object(o)) }
    }

    @Test func unknownVersionIsRefused() throws {
        var o = Event(sequence: 1, time: EventTime(milliseconds: 1), uuid: uuid(1), actor: nil, change: .removed).json.objectValue!
        o["EventVersion"] = .number(Double(Event.formatVersion + 1))
        #expect(throws: EventDecodingError.self) { try Event(json: .object(o)) }
    }
}
