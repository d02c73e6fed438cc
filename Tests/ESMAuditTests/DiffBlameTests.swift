import ESMCore
import Testing
@testable import ESMAudit

let bob = Actor(accessKeyId: "AKIABOB", sourceIp: "10.9.9.9", userAgent: "Boto3/1.43", requestId: "req-b", region: "eu-west-1")

/// Two callers, two mappings: creates (one with tags), a system transition each, an update by
/// each caller, a tag and an untag, and a delete. Times are one second apart from
/// 2026-11-21T00:00:00Z (sequence n at second n).
func auditHistory() throws -> [TimelineEntry] {
    var p = Projection()
    var b = TimelineBuilder()
    var out: [TimelineEntry] = []
    let base: Int64 = 1_795_219_200_000
    func time() -> EventTime { EventTime(milliseconds: base + Int64(p.lastSequence + 1) * 1000) }
    func ctx(_ a: Actor) -> CommandContext { CommandContext(time: time(), actor: a, account: "123456789012") }
    func step(_ d: Decision) throws {
        let e = d.event(sequence: p.lastSequence + 1)
        try p.apply(e)
        out.append(try b.next(e))
    }
    let one = "00000000-0000-4000-8000-000000000001", two = "00000000-0000-4000-8000-000000000002"
    try step(Decider.create(body: ["EventSourceArn": "arn:aws:sqs:eu-west-1:123456789012:orders", "FunctionName": "orders",
                                   "Tags": ["team": "payments"]], uuid: one, context: ctx(alice), state: p).get())  // 1
    try step(Decider.completeTransition(uuid: one, time: time(), state: p)!)  // 2
    try step(Decider.create(body: ["EventSourceArn": "arn:aws:sqs:eu-west-1:123456789012:audit", "FunctionName": "audit"],
                            uuid: two, context: ctx(bob), state: p).get())  // 3
    try step(Decider.completeTransition(uuid: two, time: time(), state: p)!)  // 4
    try step(Decider.update(uuid: one, body: ["BatchSize": 5], context: ctx(alice), state: p).get())  // 5
    try step(Decider.completeTransition(uuid: one, time: time(), state: p)!)  // 6
    let arn = p.mappings[one]!.configuration["EventSourceMappingArn"]!.stringValue!
    try step(Decider.tag(arn, body: ["Tags": ["owner": "checkout"]], context: ctx(bob), state: p).get()!)  // 7
    try step(Decider.update(uuid: one, body: ["BatchSize": 8, "Enabled": false], context: ctx(bob), state: p).get())  // 8
    try step(Decider.completeTransition(uuid: one, time: time(), state: p)!)  // 9
    try step(Decider.untag(arn, keys: ["team"], context: ctx(alice), state: p).get()!)  // 10
    try step(Decider.delete(uuid: two, context: ctx(alice), state: p).get()!)  // 11
    try step(Decider.completeTransition(uuid: two, time: time(), state: p)!)  // 12
    return out
}

@Suite struct DiffBlameTests {
    func diff(_ from: LogPoint, _ to: LogPoint, mapping: String? = nil) throws -> WindowDiff {
        var d = WindowDiffBuilder(from: from, to: to, mapping: mapping)
        for e in try auditHistory() { d.add(e) }
        return d.result()
    }

    @Test func diffBetweenTwoSequencesShowsStartEndAndEveryChangeBetween() throws {
        let d = try diff(.sequence(4), .sequence(12))
        #expect(d.created == [] && d.deleted == ["00000000-0000-4000-8000-000000000002"])
        #expect(d.text() == """
            diff after sequence 4 → after sequence 12: 2 mapping(s) changed, 0 created, 1 deleted

            mapping 00000000-0000-4000-8000-000000000001  state Enabled → Disabled
              BatchSize   10 → 8
                            #5 2026-11-21T00:00:05.000Z  UpdateEventSourceMapping AKIAALICE            10 → 5
                            #8 2026-11-21T00:00:08.000Z  UpdateEventSourceMapping AKIABOB              5 → 8
              Tags.owner  (none) → checkout
                            #7 2026-11-21T00:00:07.000Z  TagResource              AKIABOB              (none) → checkout
              Tags.team   payments → (none)
                            #10 2026-11-21T00:00:10.000Z  UntagResource            AKIAALICE            payments → (none)

            mapping 00000000-0000-4000-8000-000000000002  state Enabled → (removed)  (deleted)
            """)
    }

    @Test func diffByTimeAndForOneMappingAsJSON() throws {
        let d = try diff(.time(EventTime(rfc3339: "2026-11-21T00:00:06Z")!), .time(EventTime(rfc3339: "2026-11-21T00:00:09.5Z")!),
                         mapping: "00000000-0000-4000-8000-000000000001")
        #expect(d.json.canonicalString == #"{"Created":[],"Deleted":[],"From":{"Time":"2026-11-21T00:00:06.000Z"},"Mappings":[{"Created":false,"Deleted":false,"Fields":[{"Changes":[{"Actor":{"AccessKeyId":"AKIABOB","Region":"eu-west-1","RequestId":"req-b","SourceIp":"10.9.9.9","UserAgent":"Boto3/1.43"},"After":8,"Before":5,"Operation":"UpdateEventSourceMapping","Sequence":8,"Time":"2026-11-21T00:00:08.000Z"}],"End":8,"Field":"BatchSize","Start":5},{"Changes":[{"Actor":{"AccessKeyId":"AKIABOB","Region":"eu-west-1","RequestId":"req-b","SourceIp":"10.9.9.9","UserAgent":"Boto3/1.43"},"After":"checkout","Before":null,"Operation":"TagResource","Sequence":7,"Time":"2026-11-21T00:00:07.000Z"}],"End":"checkout","Field":"Tags.owner","Start":null}],"StateAtEnd":"Disabled","StateAtStart":"Enabled","UUID":"00000000-0000-4000-8000-000000000001"}],"To":{"Time":"2026-11-21T00:00:09.500Z"}}"#)
    }

    @Test func aWindowWithACreateListsItAsCreated() throws {
        let d = try diff(.sequence(0), .sequence(3))
        #expect(d.created == ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"])
        #expect(d.mappings[0].stateAtStart == nil && d.mappings[0].stateAtEnd == .enabled)
        #expect(d.mappings[1].fields.first { $0.path == "BatchSize" }?.start == nil)
    }

    @Test func blameNamesTheEventThatLastSetEachField() throws {
        var b = BlameBuilder(uuid: "00000000-0000-4000-8000-000000000001")
        for e in try auditHistory() { b.add(e) }
        #expect(try #require(b.result()).text() == """
            blame 00000000-0000-4000-8000-000000000001
            BatchSize                       8                                         #8 2026-11-21T00:00:08.000Z  UpdateEventSourceMapping AKIABOB
            EventSourceArn                  arn:aws:sqs:eu-west-1:123456789012:orders  #1 2026-11-21T00:00:01.000Z  CreateEventSourceMapping AKIAALICE
            EventSourceMappingArn           arn:aws:lambda:eu-west-1:123456789012:event-source-mapping:00000000-0000-4000-8000-000000000001  #1 2026-11-21T00:00:01.000Z  CreateEventSourceMapping AKIAALICE
            FunctionArn                     arn:aws:lambda:eu-west-1:123456789012:function:orders  #1 2026-11-21T00:00:01.000Z  CreateEventSourceMapping AKIAALICE
            FunctionResponseTypes           []                                        #1 2026-11-21T00:00:01.000Z  CreateEventSourceMapping AKIAALICE
            MaximumBatchingWindowInSeconds  0                                         #1 2026-11-21T00:00:01.000Z  CreateEventSourceMapping AKIAALICE
            State                           Disabled                                  #9 2026-11-21T00:00:09.000Z  Disabling → Disabled     system
            StateTransitionReason           USER_INITIATED                            #1 2026-11-21T00:00:01.000Z  CreateEventSourceMapping AKIAALICE
            Tags.owner                      checkout                                  #7 2026-11-21T00:00:07.000Z  TagResource              AKIABOB
            UUID                            00000000-0000-4000-8000-000000000001      #1 2026-11-21T00:00:01.000Z  CreateEventSourceMapping AKIAALICE
            """)
    }

    @Test func blameAtAnEarlierTimeAndOfAMappingThatIsGone() throws {
        var b = BlameBuilder(uuid: "00000000-0000-4000-8000-000000000001", at: .time(EventTime(rfc3339: "2026-11-21T00:00:06Z")!))
        var gone = BlameBuilder(uuid: "00000000-0000-4000-8000-000000000002")
        for e in try auditHistory() {
            b.add(e)
            gone.add(e)
        }
        let lines = try #require(b.result()).lines
        let batch = try #require(lines.first { $0.path == "BatchSize" })
        #expect(batch.value == 5 && batch.setBy.sequence == 5 && batch.setBy.who == "AKIAALICE")
        #expect(lines.first { $0.path == "Tags.team" }?.setBy.sequence == 1)
        #expect(lines.first { $0.path == "Tags.owner" } == nil)
        #expect(gone.result() == nil)
    }
}
