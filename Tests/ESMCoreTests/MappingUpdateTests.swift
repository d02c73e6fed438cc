import Testing
@testable import ESMCore

/// `updateConfiguration` merges changes into the stored canonical bytes; it must leave exactly
/// what parsing, setting and encoding again leaves.
@Suite struct MappingUpdateTests {
    /// A small generator with a fixed seed, so a failure can be replayed.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state ^ (state >> 29)
        }
    }

    static let keys = ["BatchSize", "Enabled", "EventSourceArn", "FilterCriteria", "FunctionArn", "LastProcessingResult",
                       "MaximumBatchingWindowInSeconds", "Queues", "ScalingConfig", "Topics", "Zeta", "ä-key", "a\"quoted", "Állapot"]

    func value(_ rng: inout Seeded, depth: Int = 0) -> JSON {
        switch Int.random(in: 0..<(depth > 1 ? 4 : 6), using: &rng) {
        case 0: return .number(Double(Int.random(in: -5...100_000, using: &rng)))
        case 1: return .string(["arn:aws:sqs:us-east-1:123456789012:q", "tab\there", "quote\"and\\slash", "ünïcode ✓", ""].randomElement(using: &rng)!)
        case 2: return .bool(Bool.random(using: &rng))
        case 3: return .null
        case 4: return .array((0..<Int.random(in: 0...3, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            return .object(JSONObject((0..<Int.random(in: 0...3, using: &rng)).map { _ in
                (MappingUpdateTests.keys.randomElement(using: &rng)!, value(&rng, depth: depth + 1))
            }))
        }
    }

    func object(_ rng: inout Seeded, members: ClosedRange<Int>) -> JSONObject {
        JSONObject((0..<Int.random(in: members, using: &rng)).map { _ in (MappingUpdateTests.keys.randomElement(using: &rng)!, value(&rng)) })
    }

    @Test func mergingChangesLeavesWhatParsingAndEncodingAgainLeaves() {
        var rng = Seeded(state: 20_261_202)
        for round in 0..<2000 {
            let configuration = object(&rng, members: 0...9)
            let set = object(&rng, members: 0...3)
            let unset = (0..<Int.random(in: 0...2, using: &rng)).map { _ in MappingUpdateTests.keys.randomElement(using: &rng)! }
            let start = Mapping(uuid: "u", configuration: configuration, state: .enabled, stateTransitionReason: "USER_INITIATED",
                                lastModified: EventTime(milliseconds: 1_700_000_000_000), enabled: true, tags: JSONObject(),
                                createdSequence: 1, sequence: 1)
            var merged = start
            merged.updateConfiguration(set: set, unset: unset)
            var expected = start
            var c = expected.configuration
            for member in set { c[member.key] = member.value }
            for key in unset { c[key] = nil }
            expected.configuration = c
            #expect(merged == expected, "round \(round)")
            var a: [UInt8] = [], b: [UInt8] = []
            merged.writeResponse(to: &a)
            expected.writeResponse(to: &b)
            #expect(a == b, "round \(round): the response's insertion points differ")
            if merged != expected || a != b { return }
        }
    }
}
