@testable import ESMCore

let testActor = Actor(accessKeyId: "AKIDTEST", sourceIp: "127.0.0.1", userAgent: "tests", requestId: "req-1", region: "us-east-1")

func context(_ ms: Int64) -> CommandContext {
    CommandContext(time: EventTime(milliseconds: ms), actor: testActor, account: "123456789012")
}

/// Applies decisions to a projection as the store would, numbering events in order.
struct Harness {
    var projection = Projection()
    var clock: Int64 = 1_700_000_000_000
    /// Every event applied, in order.
    var events: [Event] = []

    mutating func tick() -> Int64 {
        clock += 1000
        return clock
    }

    @discardableResult
    mutating func apply(_ decision: Decision) throws -> Event {
        let event = decision.event(sequence: projection.lastSequence + 1)
        try projection.apply(event)
        events.append(event)
        return event
    }

    mutating func create(_ body: JSON, uuid: String) throws -> Result<Mapping, AWSError> {
        switch Decider.create(body: body, uuid: uuid, context: context(tick()), state: projection) {
        case .success(let d):
            try apply(d)
            return .success(projection.mappings[uuid]!)
        case .failure(let e): return .failure(e)
        }
    }

    mutating func update(_ uuid: String, _ body: JSON) throws -> Result<Mapping, AWSError> {
        switch Decider.update(uuid: uuid, body: body, context: context(tick()), state: projection) {
        case .success(let d):
            try apply(d)
            return .success(projection.mappings[uuid]!)
        case .failure(let e): return .failure(e)
        }
    }

    mutating func delete(_ uuid: String) throws -> Result<Mapping?, AWSError> {
        switch Decider.delete(uuid: uuid, context: context(tick()), state: projection) {
        case .success(let d?):
            try apply(d)
            return .success(projection.mappings[uuid])
        case .success(nil): return .success(projection.mappings[uuid])
        case .failure(let e): return .failure(e)
        }
    }

    /// Completes the owed transition, if any; returns the state after it (nil when removed).
    @discardableResult
    mutating func settle(_ uuid: String) throws -> MappingState? {
        if let d = Decider.completeTransition(uuid: uuid, time: EventTime(milliseconds: tick()), state: projection) {
            try apply(d)
        }
        return projection.mappings[uuid]?.state
    }
}

func uuid(_ n: Int) -> String {
    let hex = String(n, radix: 16)
    return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex
}

let sqsArn = "arn:aws:sqs:us-east-1:123456789012:orders"
let kinesisArn = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
let dynamoArn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"
