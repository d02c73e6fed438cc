import Testing
@testable import ESMCore

/// One create request and what AWS answers to it.
struct CreateCase: Sendable, CustomTestStringConvertible {
    var name: String
    var body: JSON
    var expected: Result<[String: JSON], AWSError>
    var testDescription: String { name }
}

@Suite struct DeciderTests {
    static let cases: [CreateCase] = [
        CreateCase(name: "R3.2 SQS defaults", body: ["EventSourceArn": .string(sqsArn), "FunctionName": "fn"], expected: .success([
            "BatchSize": 10, "MaximumBatchingWindowInSeconds": 0, "FunctionResponseTypes": [], "StateTransitionReason": "USER_INITIATED",
            "State": "Creating", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:fn",
        ])),
        CreateCase(name: "R3.3 Kinesis defaults", body: ["EventSourceArn": .string(kinesisArn), "FunctionName": "fn", "StartingPosition": "LATEST"],
                   expected: .success([
                       "BatchSize": 100, "ParallelizationFactor": 1, "BisectBatchOnFunctionError": false, "MaximumRecordAgeInSeconds": -1,
                       "MaximumRetryAttempts": -1, "TumblingWindowInSeconds": 0, "DestinationConfig": ["OnFailure": [:]],
                       "LastProcessingResult": "No records processed", "StateTransitionReason": "User action", "StartingPosition": "LATEST",
                   ])),
        CreateCase(name: "R3.4 self-managed Kafka defaults", body: [
            "FunctionName": "fn", "Topics": ["orders"],
            "SelfManagedEventSource": ["Endpoints": ["KAFKA_BOOTSTRAP_SERVERS": ["kafka:2000", "kafka:1000"]]],
            "SourceAccessConfigurations": [["Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-east-1:123456789012:secret:s"]],
        ], expected: .success([
            "BatchSize": 100, "StartingPosition": "TRIM_HORIZON", "SelfManagedKafkaEventSourceConfig": ["ConsumerGroupId": .string(uuid(1))],
            "SelfManagedEventSource": ["Endpoints": ["KAFKA_BOOTSTRAP_SERVERS": ["kafka:1000", "kafka:2000"]]],
            "LastProcessingResult": "No records processed", "StateTransitionReason": "USER_INITIATED",
        ])),
        CreateCase(name: "R4 qualifier kept", body: ["EventSourceArn": .string(sqsArn), "FunctionName": "fn:prod"],
                   expected: .success(["FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:fn:prod"])),
        CreateCase(name: "R3.1 empty filter list is left out", body: ["EventSourceArn": .string(sqsArn), "FunctionName": "fn", "FilterCriteria": ["Filters": []]],
                   expected: .success(["FilterCriteria": .null])),
        CreateCase(name: "R6.1 no event source", body: ["FunctionName": "fn"], expected: .failure(.invalidParameter("Unrecognized event source."))),
        CreateCase(name: "R6.1 SQS OnSuccess", body: ["EventSourceArn": .string(sqsArn), "FunctionName": "fn", "DestinationConfig": ["OnSuccess": ["Destination": .string(sqsArn)]]],
                   expected: .failure(.invalidParameter("Unsupported DestinationConfig parameter for given event source mapping type."))),
        CreateCase(name: "R6.1 stream without StartingPosition", body: ["EventSourceArn": .string(kinesisArn), "FunctionName": "fn"],
                   expected: .failure(.invalidParameter("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null."))),
        CreateCase(name: "R6.1 StartingPosition enum", body: ["EventSourceArn": .string(kinesisArn), "FunctionName": "fn", "StartingPosition": "invalid"],
                   expected: .failure(.validation("1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"))),
        CreateCase(name: "R6.1 DynamoDB AT_TIMESTAMP", body: ["EventSourceArn": .string(dynamoArn), "FunctionName": "fn", "StartingPosition": "AT_TIMESTAMP", "StartingPositionTimestamp": 1],
                   expected: .failure(.invalidParameter("Unsupported starting position for arn type: \(dynamoArn)"))),
        CreateCase(name: "R6.1 SQS batch over 10 without window", body: ["EventSourceArn": .string(sqsArn), "FunctionName": "fn", "BatchSize": 11],
                   expected: .failure(.invalidParameter("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"))),
        CreateCase(name: "R6.1 invalid filter pattern", body: ["EventSourceArn": .string(sqsArn), "FunctionName": "fn", "FilterCriteria": ["Filters": [["Pattern": #"{"eventSource": "aws:sqs"}"#]]]],
                   expected: .failure(.invalidParameter("Invalid filter pattern definition."))),
        CreateCase(name: "R6.1 Kafka without access configurations", body: [
            "FunctionName": "fn", "Topics": ["orders"], "SelfManagedEventSource": ["Endpoints": ["KAFKA_BOOTSTRAP_SERVERS": ["kafka:1000"]]],
        ], expected: .failure(.invalidParameter("Required 'sourceAccessConfigurations' parameter is missing."))),
        CreateCase(name: "R6.2 range violations are listed together", body: ["EventSourceArn": .string(sqsArn), "FunctionName": "fn", "BatchSize": 0, "MaximumBatchingWindowInSeconds": 301],
                   expected: .failure(.validation("2 validation errors detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1; Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300"))),
        CreateCase(name: "R6.2 nested path", body: ["EventSourceArn": .string(sqsArn), "FunctionName": "fn", "ScalingConfig": ["MaximumConcurrency": 1]],
                   expected: .failure(.validation("1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value greater than or equal to 2"))),
        CreateCase(name: "R6.2 missing FunctionName", body: ["EventSourceArn": .string(sqsArn)],
                   expected: .failure(.validation("1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null"))),
        CreateCase(name: "wrong JSON type", body: ["EventSourceArn": .string(sqsArn), "FunctionName": "fn", "BatchSize": "ten"],
                   expected: .failure(.invalidContent("Could not parse payload into json: Unexpected value type for 'batchSize': expected integer, found string"))),
        CreateCase(name: "body not an object", body: ["a"],
                   expected: .failure(.invalidContent("Could not parse payload into json: the body must be a JSON object, found array"))),
    ]

    @Test(arguments: cases)
    func createFollowsAWS(_ c: CreateCase) throws {
        var h = Harness()
        let result = try h.create(c.body, uuid: uuid(1))
        switch (result, c.expected) {
        case (.success(let m), .success(let fields)):
            let response = m.response.objectValue!
            for (key, value) in fields {
                if value == .null { #expect(response[key] == nil, "\(key)") } else { #expect(response[key] == value, "\(key)") }
            }
            #expect(response["EventSourceMappingArn"] == .string("arn:aws:lambda:us-east-1:123456789012:event-source-mapping:\(uuid(1))"))
            for absent in ["Enabled", "FunctionName", "Tags"] { #expect(response[absent] == nil) }
        case (.failure(let e), .failure(let expected)):
            #expect(e == expected)
        default:
            Issue.record("got \(result), expected \(c.expected)")
        }
    }

    @Test func duplicatesNameTheExistingMapping() throws {
        var h = Harness()
        _ = try h.create(["EventSourceArn": .string(sqsArn), "FunctionName": "fn"], uuid: uuid(1)).get()
        #expect(try h.create(["EventSourceArn": .string(sqsArn), "FunctionName": "fn"], uuid: uuid(2)) == .failure(.conflict(
            "An event source mapping with SQS arn (\" \(sqsArn) \") and function (\" fn \") already exists. Please update or delete the existing mapping with UUID \(uuid(1))")))
        _ = try h.create(["EventSourceArn": .string(sqsArn), "FunctionName": "other"], uuid: uuid(3)).get()
        _ = try h.create(["EventSourceArn": .string(kinesisArn), "FunctionName": "fn", "StartingPosition": "LATEST"], uuid: uuid(4)).get()
        #expect(try h.create(["EventSourceArn": .string(kinesisArn), "FunctionName": "fn", "StartingPosition": "TRIM_HORIZON"], uuid: uuid(5)) == .failure(.conflict(
            "The event source arn (\" \(kinesisArn) \") and function (\" fn \") provided mapping already exists. Please update or delete the existing mapping with UUID \(uuid(4))")))
    }

    @Test func kafkaDuplicatesNeedTheSameTopicAndAnOverlappingBroker() throws {
        var h = Harness()
        func kafka(_ servers: [String], topic: String) -> JSON {
            ["FunctionName": "fn", "Topics": [.string(topic)],
             "SelfManagedEventSource": ["Endpoints": ["KAFKA_BOOTSTRAP_SERVERS": .array(servers.map { .string($0) })]],
             "SourceAccessConfigurations": [["Type": "BASIC_AUTH", "URI": "arn:aws:secretsmanager:us-east-1:1:secret:s"]]]
        }
        _ = try h.create(kafka(["kafka:1000"], topic: "orders"), uuid: uuid(1)).get()
        #expect(try h.create(kafka(["kafka:1000", "kafka:2000"], topic: "orders"), uuid: uuid(2)) == .failure(.conflict(
            "An event source mapping with event source (\"kafka:1000,kafka:2000\"), function (\"arn:aws:lambda:us-east-1:123456789012:function:fn\"), topics (\"orders\") already exists. Please update or delete the existing mapping with UUID \(uuid(1))")))
        #expect(throws: Never.self) { try h.create(kafka(["kafka:1000"], topic: "other"), uuid: uuid(3)).get() }
    }

    @Test func afterRemovalThePairCanBeCreatedAgain() throws {
        var h = Harness()
        _ = try h.create(["EventSourceArn": .string(sqsArn), "FunctionName": "fn"], uuid: uuid(1)).get()
        try h.settle(uuid(1))
        _ = try h.delete(uuid(1)).get()
        #expect(throws: AWSError.self) { try h.create(["EventSourceArn": .string(sqsArn), "FunctionName": "fn"], uuid: uuid(2)).get() }
        try h.settle(uuid(1))
        #expect(throws: Never.self) { try h.create(["EventSourceArn": .string(sqsArn), "FunctionName": "fn"], uuid: uuid(2)).get() }
    }

    @Test func sqsBatchWindowRuleAppliesOnUpdateToo() throws {
        var h = Harness()
        _ = try h.create(["EventSourceArn": .string(sqsArn), "FunctionName": "fn"], uuid: uuid(1)).get()
        try h.settle(uuid(1))
        #expect(try h.update(uuid(1), ["BatchSize": 11]) == .failure(.invalidParameter(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")))
        let m = try h.update(uuid(1), ["BatchSize": 11, "MaximumBatchingWindowInSeconds": 1]).get()
        #expect(m.configuration["BatchSize"] == 11)
    }

    @Test func updateRecordsOnlyWhatChanged() throws {
        var h = Harness()
        _ = try h.create(["EventSourceArn": .string(sqsArn), "FunctionName": "fn", "FilterCriteria": ["Filters": [["Pattern": #"{"a":[1]}"#]]]], uuid: uuid(1)).get()
        try h.settle(uuid(1))
        let d = try Decider.update(uuid: uuid(1), body: ["BatchSize": 10, "MaximumBatchingWindowInSeconds": 5, "FilterCriteria": ["Filters": []], "FunctionName": "fn2"],
                                   context: context(h.tick()), state: h.projection).get()
        guard case .updated(let set, let unset, let enabled, let state, _) = d.change else {
            Issue.record("not an update")
            return
        }
        #expect(set.keys == ["FunctionArn", "MaximumBatchingWindowInSeconds"])
        #expect(unset == ["FilterCriteria"])
        #expect(enabled && state == .updating)
    }
}
