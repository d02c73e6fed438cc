import Testing
@testable import ESMCore

@Suite struct ProjectorTests {
    let sqs: JSON = ["EventSourceArn": .string(sqsArn), "FunctionName": "fn"]

    @Test func createSettlesOnEnabled() throws {
        var h = Harness()
        let m = try h.create(sqs, uuid: uuid(1)).get()
        #expect(m.state == .creating)
        #expect(try h.settle(uuid(1)) == .enabled)
    }

    @Test func createDisabledStartsDisabledAndOwesNothing() throws {
        var h = Harness()
        var body = sqs.objectValue!
        body["Enabled"] = false
        #expect(try h.create(.object(body), uuid: uuid(1)).get().state == .disabled)
        #expect(Decider.completeTransition(uuid: uuid(1), time: EventTime(milliseconds: h.tick()), state: h.projection) == nil)
    }

    @Test func everyUserTransitionAndItsSettlement() throws {
        var h = Harness()
        _ = try h.create(sqs, uuid: uuid(1)).get()
        try h.settle(uuid(1))
        #expect(try h.update(uuid(1), ["BatchSize": 5]).get().state == .updating)
        #expect(try h.settle(uuid(1)) == .enabled)
        #expect(try h.update(uuid(1), ["Enabled": false]).get().state == .disabling)
        #expect(try h.settle(uuid(1)) == .disabled)
        #expect(try h.update(uuid(1), ["BatchSize": 6]).get().state == .updating)
        #expect(try h.settle(uuid(1)) == .disabled)
        #expect(try h.update(uuid(1), ["Enabled": true]).get().state == .enabling)
        #expect(try h.settle(uuid(1)) == .enabled)
        #expect(try h.delete(uuid(1)).get()?.state == .deleting)
        #expect(try h.settle(uuid(1)) == nil)
        #expect(h.projection.mappings.isEmpty)
    }

    @Test(arguments: [MappingState.creating, .updating, .enabling, .disabling])
    func updateAndDeleteDuringATransitionAreInUse(_ state: MappingState) throws {
        var h = Harness()
        var body = sqs.objectValue!
        body["Enabled"] = .bool(state != .enabling)
        _ = try h.create(.object(body), uuid: uuid(1)).get()
        if state != .creating {
            if state != .enabling { try h.settle(uuid(1)) }
            let change: JSON = switch state {
            case .updating: ["BatchSize": 3]
            case .enabling: ["Enabled": true]
            default: ["Enabled": false]
            }
            #expect(try h.update(uuid(1), change).get().state == state)
        }
        #expect(try h.update(uuid(1), ["BatchSize": 4]) == .failure(.inUse("Cannot update the event source mapping because it is in use.")))
        #expect(try h.delete(uuid(1)) == .failure(.inUse("Cannot delete the event source mapping because it is in use.")))
    }

    @Test func deleteWhileDeletingIsIdempotentAndWritesNothing() throws {
        var h = Harness()
        _ = try h.create(sqs, uuid: uuid(1)).get()
        try h.settle(uuid(1))
        _ = try h.delete(uuid(1)).get()
        let before = h.projection.lastSequence
        #expect(try h.delete(uuid(1)).get()?.state == .deleting)
        #expect(h.projection.lastSequence == before)
    }

    @Test func lastModifiedMovesOnEveryEventAndNeverGoesBack() throws {
        var h = Harness()
        _ = try h.create(sqs, uuid: uuid(1)).get()
        let created = h.projection.mappings[uuid(1)]!.lastModified
        // A clock that went back still gives a later LastModified.
        let d = Decider.completeTransition(uuid: uuid(1), time: EventTime(milliseconds: 5), state: h.projection)!
        try h.apply(d)
        #expect(h.projection.mappings[uuid(1)]!.lastModified == created.successor)
    }

    @Test func unknownUUIDIsNotFound() throws {
        var h = Harness()
        #expect(try h.update(uuid(9), ["BatchSize": 1]) == .failure(.notFound))
        #expect(try h.delete(uuid(9)) == .failure(.notFound))
    }

    @Test func eventsThatDoNotFitAreRefused() throws {
        var p = Projection()
        let t = EventTime(milliseconds: 1)
        #expect(throws: ProjectionError.self) {
            try p.apply(Event(sequence: 1, time: t, uuid: uuid(1), actor: nil, change: .removed))
        }
        #expect(throws: ProjectionError.self) {
            try p.apply(Event(sequence: 2, time: t, uuid: uuid(1), actor: nil, change: .deleteRequested))
        }
        let created = Change.created(configuration: JSONObject(), enabled: true, state: .creating, reason: "r", tags: JSONObject(), request: JSONObject())
        try p.apply(Event(sequence: 1, time: t, uuid: uuid(1), actor: nil, change: created))
        #expect(throws: ProjectionError.self) {
            try p.apply(Event(sequence: 2, time: t, uuid: uuid(1), actor: nil, change: created))
        }
        #expect(throws: ProjectionError.self) {
            try p.apply(Event(sequence: 2, time: t, uuid: uuid(1), actor: nil, change: .stateChanged(from: .disabling, to: .disabled)))
        }
        // A refused event leaves the mapping as it was (events change mappings in place), and
        // the next event that fits applies.
        let before = try #require(p.mappings[uuid(1)])
        #expect(throws: ProjectionError(sequence: 2, reason: "removal of a mapping that is Creating")) {
            try p.apply(Event(sequence: 2, time: t, uuid: uuid(1), actor: nil, change: .removed))
        }
        #expect(throws: ProjectionError(sequence: 2, reason: "update of unknown mapping \(uuid(2))")) {
            try p.apply(Event(sequence: 2, time: t, uuid: uuid(2), actor: nil, change: .updated(
                set: JSONObject(), unset: [], enabled: true, state: .updating, request: JSONObject())))
        }
        #expect(p.mappings[uuid(1)] == before && p.lastSequence == 1 && p.mappings.count == 1)
        try p.apply(Event(sequence: 2, time: EventTime(milliseconds: 2), uuid: uuid(1), actor: nil, change: .stateChanged(from: .creating, to: .enabled)))
        #expect(p.mappings[uuid(1)]?.state == .enabled && p.mappings[uuid(1)]?.lastModified == EventTime(milliseconds: 2))
        #expect(p.stateCounts[.enabled] == 1 && (p.stateCounts[.creating] ?? 0) == 0)
    }

    @Test func replayOfTheSameEventsGivesTheSameState() throws {
        var h = Harness()
        var events: [Event] = []
        for i in 1...20 {
            let d = try Decider.create(body: ["EventSourceArn": .string(sqsArn + "\(i)"), "FunctionName": "fn"], uuid: uuid(i),
                                       context: context(h.tick()), state: h.projection).get()
            events.append(try h.apply(d))
            if i % 3 == 0, let t = Decider.completeTransition(uuid: uuid(i), time: EventTime(milliseconds: h.tick()), state: h.projection) {
                events.append(try h.apply(t))
            }
        }
        var again = Projection()
        for e in events { try again.apply(e) }
        #expect(again.all.map(\.response) == h.projection.all.map(\.response))
        #expect(again.lastSequence == h.projection.lastSequence)
    }

    /// A projection without indexes, from the start or from a restore, holds after the same
    /// events the same mappings as one with them: creates, an update that moves the function,
    /// tags, a delete and its removal, and every transition.
    @Test func aProjectionWithoutIndexesReplaysToTheSameMappings() throws {
        var h = Harness()
        for i in 1...12 {
            _ = try h.create(["EventSourceArn": .string(sqsArn + "-\(i)"), "FunctionName": .string("fn\(i % 3)"), "Enabled": .bool(i != 4)],
                             uuid: uuid(i)).get()
        }
        let half = h.projection, halfway = h.events.count
        try (1...12).forEach { try h.settle(uuid($0)) }
        _ = try h.update(uuid(3), ["FunctionName": "moved", "BatchSize": 7]).get()
        _ = try h.update(uuid(5), ["Enabled": false]).get()
        _ = try h.apply(Decision(uuid: uuid(6), time: EventTime(milliseconds: h.tick()), actor: testActor, change: .tagged(JSONObject([("team", "a")]))))
        _ = try h.apply(Decision(uuid: uuid(6), time: EventTime(milliseconds: h.tick()), actor: testActor, change: .untagged(["team"])))
        _ = try h.delete(uuid(2)).get()
        try h.settle(uuid(2))
        try h.settle(uuid(3))

        var bare = Projection(indexed: false)
        for e in h.events { try bare.apply(e) }
        let restored = Projection(restoring: try Projection.RestoredTable([Array(half.mappings.values)], lastSequence: half.lastSequence),
                                  try Projection.RestoredIndexes([Array(half.mappings.values)], indexKeys: [], lastSequence: half.lastSequence, build: false),
                                  lastSequence: half.lastSequence, lastTime: half.lastTime)
        var fromRestore = restored
        for e in h.events[halfway...] { try fromRestore.apply(e) }
        #expect(h.projection.isIndexed && !bare.isIndexed && !restored.isIndexed)
        for p in [bare, fromRestore] {
            #expect(p.mappings == h.projection.mappings)
            #expect(p.document() == h.projection.document())
            #expect(p.lastSequence == h.projection.lastSequence && p.lastTime == h.projection.lastTime)
        }
        #expect(h.projection.mappings[uuid(2)] == nil && h.projection.mappings[uuid(3)]?.functionArn.hasSuffix(":moved") == true)
    }
}

@Suite struct ListTests {
    /// The replay document written from each mapping's bytes is the tree's canonical bytes:
    /// every mapping or one, with tags on some, and with a filter that matches none.
    @Test func theReplayDocumentIsTheCanonicalBytesOfItsTree() throws {
        var h = try filled(30)
        for i in [3, 7, 8] {
            _ = try h.apply(Decision(uuid: uuid(i), time: EventTime(milliseconds: h.tick()), actor: testActor, change: .tagged(JSONObject([("team", .string("t\(i)")), ("é", "ü")]))))
        }
        _ = try h.settle(uuid(5))
        for mapping in [nil, uuid(7), uuid(5), uuid(99)] {
            let p = h.projection
            #expect(p.document(mapping: mapping) == p.documentJSON(mapping: mapping).canonicalBytes, "\(mapping ?? "all")")
            // Cut into pieces (more than there are mappings, too), the same bytes in order.
            for count in [1, 2, 3, 7, 31, 100] {
                let pieces = p.documentPieces(mapping: mapping, count: count)
                #expect(pieces.count == min(count, max(1, mapping == nil ? 30 : (p.mappings[mapping!] == nil ? 0 : 1))) + 1)
                #expect((0..<pieces.count).flatMap(pieces.write) == p.documentJSON(mapping: mapping).canonicalBytes, "\(count)")
            }
        }
        let empty = Projection().documentPieces(count: 4)
        #expect((0..<empty.count).flatMap(empty.write) == Projection().documentJSON().canonicalBytes)
        #expect(try JSON.parse(h.projection.document())["EventSourceMappings"]?.arrayValue?.count == 30)
    }

    /// The document's UUID order is `String`'s: for UUIDs that differ in their first eight bytes,
    /// in the next eight, only after sixteen, only in length or by a NUL, and, once one of them is
    /// not ASCII, for a set that sorts the strings themselves.
    @Test func theReplayDocumentSortsUUIDsAsStringsDo() throws {
        let ascii = ["b", "a", "ab", "ab\u{0}", "abcdefgh", "abcdefgi", "abcdefgh01234567", "abcdefgh01234566",
                     "abcdefgh01234567x", "abcdefgh01234567w", "abcdefgh01234567", "Z", "~", "0f8e5d1c-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
                     "0f8e5d1c-2b3a-4c5d-8e9f-0a1b2c3d4e5e"]
        for uuids in [ascii, ascii + ["abcé", "e\u{301}", "\u{e9}", "abcdefgh0123456\u{e9}"]] {
            var h = Harness()
            for (i, uuid) in uuids.enumerated() where h.projection.mappings[uuid] == nil {
                _ = try h.create(["EventSourceArn": .string(sqsArn + "sort\(i)"), "FunctionName": "fn"], uuid: uuid).get()
            }
            let written = try JSON.parse(h.projection.document())["EventSourceMappings"]!.arrayValue!.map { $0["UUID"]!.stringValue! }
            #expect(written == h.projection.mappings.keys.sorted())
            #expect(h.projection.document() == h.projection.documentJSON().canonicalBytes)
            // Sorted in parts and merged (more parts than mappings, too), the same order.
            for parts in [2, 3, 4, 7, 40] {
                let order = h.projection.uuidOrder(parts: parts).map { h.projection.mappings.keys[$0] }
                #expect(order == h.projection.mappings.keys.sorted(), "\(parts) parts")
            }
        }
    }

    func filled(_ n: Int) throws -> Harness {
        var h = Harness()
        for i in 1...n {
            let arn = i % 2 == 0 ? sqsArn : sqsArn + "-odd\(i)"
            _ = try h.create(["EventSourceArn": .string(arn + "\(i % 2 == 0 ? "-\(i)" : "")"), "FunctionName": .string(i % 3 == 0 ? "three" : "other")],
                             uuid: uuid(i)).get()
        }
        return h
    }

    func pages(_ p: Projection, source: String? = nil, function: String? = nil, limit: Int) -> [[String]] {
        var out: [[String]] = []
        var after: UInt64?
        repeat {
            let (page, next) = p.page(eventSourceArn: source, functionArn: function, after: after, limit: limit)
            out.append(page.map(\.uuid))
            after = next
        } while after != nil
        return out
    }

    @Test func pagingSeesEveryMappingOnceAndNextMarkerOnlyWhenMoreRemain() throws {
        let h = try filled(250)
        let all = pages(h.projection, limit: 100)
        #expect(all.map(\.count) == [100, 100, 50])
        #expect(Set(all.flatMap { $0 }).count == 250)
        #expect(pages(h.projection, limit: 50).count == 5)
        let exact = try filled(100)
        #expect(exact.projection.page(eventSourceArn: nil, functionArn: nil, after: nil, limit: 100).next == nil)
    }

    @Test func writesBetweenPagesNeitherRepeatNorSkipExistingMappings() throws {
        var h = try filled(30)
        var seen: [String] = []
        var after: UInt64?
        var created = 1000
        repeat {
            let (page, next) = h.projection.page(eventSourceArn: nil, functionArn: nil, after: after, limit: 7)
            seen += page.map(\.uuid)
            after = next
            // Between pages: delete a mapping not yet seen and create a new one.
            created += 1
            _ = try h.create(["EventSourceArn": .string(sqsArn + "-new\(created)"), "FunctionName": "fn"], uuid: uuid(created)).get()
        } while after != nil
        #expect(Set(seen).count == seen.count)
        for i in 1...30 { #expect(seen.contains(uuid(i))) }
    }

    @Test func filtersCombineAndUnknownValuesGiveEmptyPages() throws {
        let h = try filled(30)
        let fn = FunctionReference("three", region: "us-east-1", account: "123456789012").arn
        let byFunction = pages(h.projection, function: fn, limit: 100).flatMap { $0 }
        #expect(byFunction.count == 10)
        let bySource = h.projection.page(eventSourceArn: sqsArn + "-6", functionArn: nil, after: nil, limit: 100).mappings
        #expect(bySource.map(\.uuid) == [uuid(6)])
        #expect(h.projection.page(eventSourceArn: sqsArn + "-6", functionArn: fn, after: nil, limit: 100).mappings.map(\.uuid) == [uuid(6)])
        #expect(h.projection.page(eventSourceArn: sqsArn + "-8", functionArn: fn, after: nil, limit: 100).mappings.isEmpty)
        #expect(h.projection.page(eventSourceArn: "arn:aws:sqs:us-east-1:1:none", functionArn: nil, after: nil, limit: 10).mappings.isEmpty)
    }

    @Test func functionNameFormsResolveToTheSameArn() {
        let forms = ["my-fn", "123456789012:function:my-fn", "arn:aws:lambda:us-east-1:123456789012:function:my-fn"]
        let arns = Set(forms.map { FunctionReference($0, region: "us-east-1", account: "123456789012").arn })
        #expect(arns == ["arn:aws:lambda:us-east-1:123456789012:function:my-fn"])
        #expect(FunctionReference("my-fn:$LATEST", region: "eu-west-1", account: "1").arn == "arn:aws:lambda:eu-west-1:1:function:my-fn:$LATEST")
        #expect(FunctionReference("my-fn:prod", region: "us-east-1", account: "1").arn == "arn:aws:lambda:us-east-1:1:function:my-fn:prod")
    }

    @Test func writtenResponsesAreTheResponsesCanonicalBytes() throws {
        var h = Harness()
        let bodies: [JSON] = [
            ["EventSourceArn": .string(sqsArn + "w"), "FunctionName": "fn",
             "FilterCriteria": ["Filters": [["Pattern": #"{"body": {"say": ["\"hi\"\n"]}}"#]]]],
            ["EventSourceArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f:live",
             "StartingPosition": "LATEST", "DestinationConfig": ["OnFailure": ["Destination": "arn:aws:sqs:us-east-1:123456789012:dlq"]]],
            ["FunctionName": "k", "Topics": ["orders"], "StartingPosition": "TRIM_HORIZON",
             "SelfManagedEventSource": ["Endpoints": ["KAFKA_BOOTSTRAP_SERVERS": ["b1:9092", "b2:9092"]]],
             "SourceAccessConfigurations": [["Type": "SASL_SCRAM_512_AUTH", "URI": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s"]]],
        ]
        for (i, body) in bodies.enumerated() {
            let m = try h.create(body, uuid: uuid(100 + i)).get()
            var written: [UInt8] = []
            m.writeResponse(to: &written)
            #expect(written == m.response.canonicalBytes)
            try h.settle(uuid(100 + i))
            var settled: [UInt8] = []
            h.projection.mappings[uuid(100 + i)]!.writeResponse(to: &settled)
            #expect(settled == h.projection.mappings[uuid(100 + i)]!.response.canonicalBytes)
        }
    }

    /// Configurations whose keys sort before, between and after the four the response adds,
    /// and top-level strings read past nested members, escapes and look-alike keys.
    @Test func compactConfigurationsWriteAndReadAsTheirObjects() throws {
        let configurations: [JSONObject] = [
            JSONObject(), JSONObject([("A", 1)]), JSONObject([("Zeta", "z")]), JSONObject([("Salt", "s"), ("Tail", [1, 2])]),
            JSONObject([("A", ["FunctionArn": "nested"]), ("B", "x,\"y\"}"), ("FunctionArn", "arn:\"q\""), ("M", 2.5), ("Zed", .null)]),
        ]
        for c in configurations {
            let m = Mapping(uuid: "u", configuration: c, state: .enabled, stateTransitionReason: "USER_INITIATED",
                            lastModified: EventTime(milliseconds: 1_795_935_404_365), enabled: true, tags: JSONObject(),
                            createdSequence: 1, sequence: 1)
            #expect(m.configuration == c)
            var written: [UInt8] = []
            m.writeResponse(to: &written)
            #expect(written == m.response.canonicalBytes, "\(String(decoding: written, as: UTF8.self))")
            // Every state, reasons that need escapes, and times with and without a fraction.
            let reasons = ["", "USER_INITIATED", "a \"quoted\"\n\u{1}reason", "é", "APIs", "x\\y", "PROBLEM: Function not found."]
            let times: [Int64] = [0, 1_795_935_404_000, 1_795_935_404_005, 999, 1000, 9_999_999_999_999, 1_795_935_404_050]
            for (i, state) in MappingState.allCases.enumerated() {
                let reason = reasons[i], ms = times[i]
                var other = m
                other.state = state
                other.stateTransitionReason = reason
                other.lastModified = EventTime(milliseconds: ms)
                other.uuid = "1c7a8b4e-\(state.rawValue)"
                var bytes: [UInt8] = []
                other.writeResponse(to: &bytes)
                #expect(bytes == other.response.canonicalBytes, "\(String(decoding: bytes, as: UTF8.self))")
            }
            #expect(m.functionArn == (c["FunctionArn"]?.stringValue ?? ""))
            #expect(m.eventSourceArn == nil)
        }
    }

    /// Imported history moves a mapping between index entries too: a CloudTrail update whose
    /// response names another function.
    @Test func indexesFollowAnImportedUpdateOfTheFunction() throws {
        let id = uuid(1), arn = "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:\(uuid(1))"
        let f1 = "arn:aws:lambda:us-east-1:123456789012:function:one", f2 = "arn:aws:lambda:us-east-1:123456789012:function:two"
        func imported(_ n: UInt64, _ action: ImportedRecord.Action, function: String) -> Event {
            let record = ImportedRecord(
                action: action, eventName: action == .create ? "CreateEventSourceMapping20150331" : "UpdateEventSourceMapping20150331v2",
                eventID: "event-\(n)", requestID: nil, account: "123456789012", region: "us-east-1", arn: arn,
                configuration: JSONObject([("EventSourceMappingArn", .string(arn)), ("FunctionArn", .string(function))]), state: .enabled,
                stateTransitionReason: "USER_INITIATED", request: JSONObject())
            return Event(sequence: n, time: EventTime(milliseconds: 1_700_000_000_000 + Int64(n)), uuid: id, actor: nil, change: .imported(record))
        }
        var p = Projection()
        try p.apply(imported(1, .create, function: f1))
        try p.apply(imported(2, .update, function: f2))
        #expect(p.page(eventSourceArn: nil, functionArn: f2, after: nil, limit: 10).mappings.map(\.uuid) == [id])
        #expect(p.page(eventSourceArn: nil, functionArn: f1, after: nil, limit: 10).mappings.isEmpty)
    }

    /// The indexes follow an update of FunctionName and every state change, without a mapping
    /// moving in list order.
    @Test func indexesFollowUpdatesAndTransitions() throws {
        var h = try filled(6)
        try (1...6).forEach { try h.settle(uuid($0)) }
        let arn = { (name: String) in FunctionReference(name, region: "us-east-1", account: "123456789012").arn }
        let before = h.projection.page(eventSourceArn: nil, functionArn: nil, after: nil, limit: 100).mappings.map(\.uuid)
        _ = try h.update(uuid(3), ["FunctionName": "moved"]).get()
        #expect(h.projection.page(eventSourceArn: nil, functionArn: arn("moved"), after: nil, limit: 100).mappings.map(\.uuid) == [uuid(3)])
        #expect(h.projection.page(eventSourceArn: nil, functionArn: arn("three"), after: nil, limit: 100).mappings.map(\.uuid) == [uuid(6)])
        #expect(h.projection.page(eventSourceArn: nil, functionArn: nil, after: nil, limit: 100).mappings.map(\.uuid) == before)
        #expect(h.projection.transitional(dueAt: EventTime(milliseconds: h.clock + 10_000), delayMilliseconds: 0) == [uuid(3)])
        try h.settle(uuid(3))
        #expect(h.projection.transitional(dueAt: EventTime(milliseconds: h.clock + 10_000), delayMilliseconds: 0).isEmpty)
        #expect(h.projection.mappings(functionArn: arn("moved")).map(\.uuid) == [uuid(3)])
        _ = try h.update(uuid(1), ["Enabled": false]).get()
        _ = try h.delete(uuid(2)).get()
        try h.settle(uuid(2))
        let recount = h.projection.mappings.values.reduce(into: [MappingState: Int]()) { $0[$1.state, default: 0] += 1 }
        #expect(h.projection.stateCounts.filter { $0.value != 0 } == recount)
        #expect(recount == [.enabled: 4, .disabling: 1])
    }
}
