/// The kinds of event source, told apart by the EventSourceArn's service (or by
/// SelfManagedEventSource), and what each allows and defaults to.
public enum SourceKind: String, Sendable, CaseIterable {
    case sqs, sqsFifo, kinesis, dynamodb, msk, mq, documentdb, selfManagedKafka

    /// The kind for a create request, or nil for "Unrecognized event source.".
    public static func of(eventSourceArn: String?, selfManaged: Bool) -> SourceKind? {
        guard let arn = eventSourceArn else { return selfManaged ? .selfManagedKafka : nil }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        let resource = parts[5]
        switch parts[2] {
        case "sqs": return resource.hasSuffix(".fifo") ? .sqsFifo : .sqs
        case "kinesis": return resource.hasPrefix("stream/") ? .kinesis : nil
        case "dynamodb": return resource.contains("/stream/") ? .dynamodb : nil
        case "kafka": return .msk
        case "mq": return .mq
        case "rds": return resource.hasPrefix("cluster:") ? .documentdb : nil
        default: return nil
        }
    }

    public var isSQS: Bool { self == .sqs || self == .sqsFifo }
    public var isStream: Bool { self == .kinesis || self == .dynamodb }
    public var isKafka: Bool { self == .msk || self == .selfManagedKafka }

    /// StateTransitionReason for user actions: `User action` for streams, else `USER_INITIATED`.
    public var userReason: String { isStream ? "User action" : "USER_INITIATED" }

    /// The request members this kind accepts besides FunctionName, EventSourceArn, Enabled and Tags.
    public var allowedMembers: Set<String> {
        let common: Set<String> = ["BatchSize", "MaximumBatchingWindowInSeconds", "FilterCriteria", "KMSKeyArn", "MetricsConfig"]
        switch self {
        case .sqs, .sqsFifo:
            return common.union(["FunctionResponseTypes", "ScalingConfig", "ProvisionedPollerConfig", "DestinationConfig"])
        case .kinesis, .dynamodb:
            return common.union([
                "ParallelizationFactor", "StartingPosition", "StartingPositionTimestamp", "DestinationConfig",
                "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
                "TumblingWindowInSeconds", "FunctionResponseTypes",
            ])
        case .msk:
            return common.union([
                "StartingPosition", "StartingPositionTimestamp", "Topics", "SourceAccessConfigurations",
                "AmazonManagedKafkaEventSourceConfig", "ProvisionedPollerConfig", "DestinationConfig", "LoggingConfig",
            ])
        case .selfManagedKafka:
            return common.union([
                "StartingPosition", "StartingPositionTimestamp", "Topics", "SourceAccessConfigurations",
                "SelfManagedEventSource", "SelfManagedKafkaEventSourceConfig", "ProvisionedPollerConfig",
                "DestinationConfig", "LoggingConfig",
            ])
        case .mq:
            return common.union(["Queues", "SourceAccessConfigurations"])
        case .documentdb:
            return common.union(["StartingPosition", "StartingPositionTimestamp", "DocumentDBEventSourceConfig", "SourceAccessConfigurations"])
        }
    }

    /// The starting positions this kind accepts, or nil when it takes none.
    public var startingPositions: Set<String>? {
        switch self {
        case .sqs, .sqsFifo, .mq: nil
        case .dynamodb: ["TRIM_HORIZON", "LATEST"]
        case .kinesis, .msk, .selfManagedKafka, .documentdb: ["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"]
        }
    }

    /// Response members filled in when the request leaves them out.
    public var defaults: JSONObject {
        switch self {
        case .sqs, .sqsFifo:
            return JSONObject([("BatchSize", 10), ("MaximumBatchingWindowInSeconds", 0), ("FunctionResponseTypes", [])])
        case .kinesis, .dynamodb:
            return JSONObject([
                ("BatchSize", 100), ("MaximumBatchingWindowInSeconds", 0), ("ParallelizationFactor", 1),
                ("BisectBatchOnFunctionError", false), ("MaximumRecordAgeInSeconds", -1), ("MaximumRetryAttempts", -1),
                ("TumblingWindowInSeconds", 0), ("FunctionResponseTypes", []), ("LastProcessingResult", "No records processed"),
            ])
        case .selfManagedKafka:
            return JSONObject([("BatchSize", 100), ("StartingPosition", "TRIM_HORIZON"), ("LastProcessingResult", "No records processed")])
        case .msk, .mq, .documentdb:
            return JSONObject([("BatchSize", 100), ("LastProcessingResult", "No records processed")])
        }
    }
}

/// A FunctionName in any of its accepted forms, resolved to the ARN AWS returns as FunctionArn.
///
/// The qualifier the caller gave is kept (`:$LATEST`, `:1`, `:alias`); nothing is resolved
/// further, since esmlog manages mappings, not functions.
public struct FunctionReference: Sendable, Equatable {
    public var arn: String
    /// The function's name without qualifier: the part limited to 64 characters.
    public var name: String

    /// Resolves `text`, which already matched the model's FunctionName pattern, from that
    /// pattern's groups: the partition, region and account it names, else the caller's.
    public init(_ text: String, region: String, account: String) {
        guard let parts = PatternMatchers.functionNameParts(text[...]) else {
            name = text
            arn = "arn:aws:lambda:\(region):\(account):function:\(text)"
            return
        }
        name = parts.name
        let partition = parts.partition.flatMap { $0.isEmpty ? nil : $0 } ?? "aws"
        let qualifier = parts.qualifier.map { ":" + $0 } ?? ""
        arn = "arn:\(partition):lambda:\(parts.region ?? region):\(parts.account ?? account):function:\(parts.name)\(qualifier)"
    }
}
