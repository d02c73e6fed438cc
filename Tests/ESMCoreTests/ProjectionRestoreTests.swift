@testable import ESMCore
import Testing

@Suite struct ProjectionRestoreTests {
    /// Mappings of three functions, one without an event source (a self-managed Kafka one)
    /// and one whose source holds an escaped character, in several states.
    func mappings() -> [Mapping] {
        let states: [MappingState] = [.enabled, .creating, .disabled, .updating]
        return (1...12).map { i in
            var configuration = JSONObject([("FunctionArn", .string("arn:aws:lambda:us-east-1:123456789012:function:fn\(i % 3)")), ("BatchSize", 10)])
            if i == 5 {
                configuration["SelfManagedEventSource"] = ["Endpoints": ["KAFKA_BOOTSTRAP_SERVERS": ["b-1:9092"]]]
            } else {
                configuration["EventSourceArn"] = .string(sqsArn + (i == 7 ? "-\"q\"" : "-\(i)"))
            }
            return Mapping(uuid: uuid(i), configuration: configuration, state: states[i % 4], stateTransitionReason: "USER_INITIATED",
                           lastModified: EventTime(milliseconds: Int64(i)), enabled: i % 4 != 2, tags: JSONObject(),
                           createdSequence: UInt64(2 * i), sequence: UInt64(2 * i + 1))
        }
    }

    /// The keys read in one walk are what the two separate readers give.
    @Test func indexKeysAreTheArnsReadOneByOne() {
        for m in mappings() {
            let keys = m.indexKeys
            #expect(keys.eventSourceArn == m.eventSourceArn)
            #expect(keys.functionArn == m.functionArn)
        }
        #expect(mappings()[6].indexKeys.eventSourceArn == sqsArn + "-\"q\"")
        #expect(mappings()[4].indexKeys.eventSourceArn == nil)
    }

    /// Parts with the keys read by their readers restore what one array does, and every index
    /// answers as it would after the events.
    @Test func partsWithTheirKeysRestoreTheSameProjection() throws {
        let all = mappings()
        let whole = try Projection(restoring: all, lastSequence: 30, lastTime: EventTime(milliseconds: 99))
        let parts = [Array(all[0..<5]), [], Array(all[5...])]
        let inParts = try Projection(restoring: parts, indexKeys: parts.map { $0.map(\.indexKeys) }, lastSequence: 30,
                                     lastTime: EventTime(milliseconds: 99))
        let halves = Projection(restoring: try Projection.RestoredTable(parts, lastSequence: 30),
                                try Projection.RestoredIndexes(parts, indexKeys: [], lastSequence: 30), lastSequence: 30,
                                lastTime: EventTime(milliseconds: 99))
        #expect(halves.document() == whole.document())
        for p in [whole, inParts, halves] {
            #expect(p.all.map(\.uuid) == all.map(\.uuid))
            #expect(p.mappings(functionArn: "arn:aws:lambda:us-east-1:123456789012:function:fn1").map(\.uuid) == [1, 4, 7, 10].map(uuid))
            #expect(p.mappings(eventSourceArn: sqsArn + "-\"q\"").map(\.uuid) == [uuid(7)])
            #expect(p.mappings(eventSourceArn: sqsArn + "-5").isEmpty)
            #expect(p.stateCounts[.creating] == 3 && p.stateCounts[.updating] == 3 && p.stateCounts[.enabled] == 3)
            #expect(p.lastSequence == 30 && p.lastTime == EventTime(milliseconds: 99))
        }
        #expect(whole.document() == inParts.document())
    }

    /// A snapshot whose mappings share a UUID or a creation sequence, or claim an event after
    /// the snapshot's own sequence, is refused whole.
    @Test func mappingsThatDoNotFitAreRefused() {
        let all = mappings()
        #expect(throws: ProjectionError.self) { try Projection(restoring: all + [all[3]], lastSequence: 30, lastTime: EventTime(milliseconds: 0)) }
        var twin = all[3]
        twin.uuid = uuid(99)
        #expect(throws: ProjectionError.self) { try Projection(restoring: all + [twin], lastSequence: 30, lastTime: EventTime(milliseconds: 0)) }
        #expect(throws: ProjectionError.self) { try Projection(restoring: all, lastSequence: 24, lastTime: EventTime(milliseconds: 0)) }
        #expect(throws: Never.self) { try Projection(restoring: all, lastSequence: 25, lastTime: EventTime(milliseconds: 0)) }
        // Each half of a restore refuses what it can see, and only that.
        #expect(throws: ProjectionError.self) { try Projection.RestoredTable([all, [all[3]]], lastSequence: 30) }
        #expect(throws: Never.self) { try Projection.RestoredTable([all, [twin]], lastSequence: 30) }
        #expect(throws: ProjectionError.self) { try Projection.RestoredIndexes([all, [twin]], indexKeys: [], lastSequence: 30) }
        #expect(throws: Never.self) { try Projection.RestoredTable([all], lastSequence: 24) }
        #expect(throws: ProjectionError.self) { try Projection.RestoredIndexes([all], indexKeys: [], lastSequence: 24) }
    }

    /// Indexes only checked, not built, refuse the same mappings with the same error, and
    /// accept what the built ones accept.
    @Test func checkedIndexesRefuseWhatBuiltOnesRefuse() {
        let all = mappings()
        var twin = all[3], late = all[8]
        twin.uuid = uuid(99)
        late.sequence = 31
        func refusal(_ parts: [[Mapping]], build: Bool) -> ProjectionError? {
            do {
                _ = try Projection.RestoredIndexes(parts, indexKeys: [], lastSequence: 30, build: build)
                return nil
            } catch { return error }
        }
        for parts in [[all, [twin]], [[twin], all], [Array(all[0..<8]) + [late] + Array(all[9...])], [all, [late, twin]], [all, [twin, late]]] {
            let built = refusal(parts, build: true)
            #expect(built != nil)
            #expect(refusal(parts, build: false) == built)
        }
        #expect(refusal([all], build: false) == nil)
        #expect(refusal([[], all, []], build: false) == nil)
    }
}
