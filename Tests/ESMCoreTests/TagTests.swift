import Testing
@testable import ESMCore

/// ListTags, TagResource and UntagResource on mapping ARNs, decided against a projection.
@Suite struct TagTests {
    static let sqs = "arn:aws:sqs:us-east-1:123456789012:q"

    func mapping(_ h: inout Harness, tags: JSONObject = JSONObject()) throws -> Mapping {
        try h.create(["EventSourceArn": .string(TagTests.sqs), "FunctionName": "fn", "Tags": .object(tags)], uuid: uuid(1)).get()
    }

    func arn(_ m: Mapping) -> String { m.configuration["EventSourceMappingArn"]!.stringValue! }

    @Test func tagsGivenOnCreateAreListedAndNeverInTheResponse() throws {
        var h = Harness()
        let m = try mapping(&h, tags: JSONObject([("team", "payments")]))
        #expect(try Decider.listTags(arn(m), state: h.projection).get() == JSONObject([("team", "payments")]))
        #expect(m.response["Tags"] == nil)
    }

    @Test func tagMergesAndRecordsOnlyWhatChanged() throws {
        var h = Harness()
        let m = try mapping(&h, tags: JSONObject([("team", "payments"), ("tier", "1")]))
        let lastModified = m.lastModified
        let d = try #require(try Decider.tag(arn(m), body: ["Tags": ["team": "payments", "owner": "checkout"]], context: context(h.tick()),
                                              state: h.projection).get())
        #expect(d.change == .tagged(JSONObject([("owner", "checkout")])))
        try h.apply(d)
        let after = h.projection.mappings[uuid(1)]!
        #expect(after.tags == JSONObject([("owner", "checkout"), ("team", "payments"), ("tier", "1")]))
        #expect(after.lastModified == lastModified && after.state == m.state)
        // Setting what is already there changes nothing and writes no event.
        #expect(try Decider.tag(arn(m), body: ["Tags": ["owner": "checkout"]], context: context(h.tick()), state: h.projection).get() == nil)
    }

    @Test func untagRemovesOnlyKeysThatArePresent() throws {
        var h = Harness()
        let m = try mapping(&h, tags: JSONObject([("team", "payments"), ("tier", "1")]))
        let d = try #require(try Decider.untag(arn(m), keys: ["tier", "absent", "tier"], context: context(h.tick()), state: h.projection).get())
        #expect(d.change == .untagged(["tier"]))
        try h.apply(d)
        #expect(h.projection.mappings[uuid(1)]!.tags == JSONObject([("team", "payments")]))
        #expect(try Decider.untag(arn(m), keys: ["absent"], context: context(h.tick()), state: h.projection).get() == nil)
    }

    @Test func unknownOrDeletedMappingArnsAreNotFoundWithAWSsText() throws {
        var h = Harness()
        let m = try mapping(&h)
        let missing = "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:00000000-0000-4000-8000-0000000000ff"
        let e = try #require(Decider.listTags(missing, state: h.projection).failure)
        #expect(e.status == 404 && e.code == "ResourceNotFoundException")
        #expect(e.message == "Event source mapping not found: \(missing)")
        // The right UUID in another region's ARN is not this mapping.
        let elsewhere = arn(m).replacingOccurrences(of: "us-east-1", with: "eu-west-1")
        #expect(Decider.listTags(elsewhere, state: h.projection).failure?.message == "Event source mapping not found: \(elsewhere)")
        try h.apply(Decider.completeTransition(uuid: uuid(1), time: EventTime(milliseconds: h.tick()), state: h.projection)!)
        try h.apply(Decider.delete(uuid: uuid(1), context: context(h.tick()), state: h.projection).get()!)
        try h.apply(Decider.completeTransition(uuid: uuid(1), time: EventTime(milliseconds: h.tick()), state: h.projection)!)
        #expect(Decider.listTags(arn(m), state: h.projection).failure?.status == 404)
    }

    @Test func otherResourcesAndMalformedArnsGetAClear4xx() {
        let p = Projection()
        let function = Decider.listTags("arn:aws:lambda:us-east-1:123456789012:function:f", state: p).failure
        #expect(function?.status == 404 && function?.message == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f")
        for bad in ["", "arn:aws:sqs:us-east-1:123456789012:q", "event-source-mapping:x", String(repeating: "a", count: 300)] {
            let e = Decider.listTags(bad, state: p).failure
            #expect(e?.status == 400 && e?.code == "ValidationException", "\(bad): \(String(describing: e))")
        }
    }

    @Test func tagValidationFollowsTheModelAndLambdasLimits() throws {
        var h = Harness()
        let m = try mapping(&h, tags: JSONObject((0..<49).map { ("k\($0)", .string("v")) }))
        func tag(_ tags: JSON) -> AWSError? {
            Decider.tag(arn(m), body: ["Tags": tags], context: context(h.tick()), state: h.projection).failure
        }
        #expect(tag(["": "v"])?.code == "ValidationException")
        #expect(tag([.init(String(repeating: "k", count: 129)): "v"])?.code == "ValidationException")
        #expect(tag(["k": .string(String(repeating: "v", count: 257))])?.code == "ValidationException")
        #expect(tag(["aws:cloudformation:stack-name": "s"])?.code == "InvalidParameterValueException")
        #expect(tag(["a": "1", "b": "2"])?.message.contains("at most 50 tags") == true)
        #expect(tag(["k1": "replaced", "new": "1"]) == nil)
        #expect(tag(["k": 5])?.code == "InvalidRequestContentException")
        #expect(Decider.tag(arn(m), body: [:], context: context(h.tick()), state: h.projection).failure?.code == "ValidationException")
        let create = Decider.create(body: ["EventSourceArn": .string(TagTests.sqs + "2"), "FunctionName": "fn", "Tags": ["aws:x": "y"]],
                                    uuid: uuid(2), context: context(h.tick()), state: h.projection)
        #expect(create.failure?.code == "InvalidParameterValueException")
    }

    @Test func timelineShowsTagChangesByField() throws {
        var b = TimelineBuilder()
        let created = try Decider.create(body: ["EventSourceArn": .string(TagTests.sqs), "FunctionName": "fn"], uuid: uuid(1),
                                         context: context(1), state: Projection()).get()
        _ = try b.next(created.event(sequence: 1))
        let tagged = try b.next(Event(sequence: 2, time: EventTime(milliseconds: 5), uuid: uuid(1), actor: testActor,
                                      change: .tagged(JSONObject([("owner", "checkout")]))))
        #expect(tagged.operation == "TagResource")
        #expect(tagged.changes == [FieldChange(path: "Tags.owner", before: nil, after: "checkout")])
        let untagged = try b.next(Event(sequence: 3, time: EventTime(milliseconds: 6), uuid: uuid(1), actor: testActor,
                                        change: .untagged(["owner"])))
        #expect(untagged.operation == "UntagResource")
        #expect(untagged.changes == [FieldChange(path: "Tags.owner", before: "checkout", after: nil)])
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
