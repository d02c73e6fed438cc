/// The request shapes of CreateEventSourceMapping and UpdateEventSourceMapping
/// (Lambda API 2015-03-31, including ProvisionedPollerConfig and the newer LoggingConfig and
/// MetricsConfig members that current SDKs send).
public enum RequestShapes {
    private static func regex(_ swiftPattern: String) -> @Sendable (Substring) -> Bool {
        nonisolated(unsafe) let r = try! Regex(swiftPattern)
        return { s in (try? r.wholeMatch(in: s)) != nil }
    }

    static let arnPattern = Pattern(
        #"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)"#,
        PatternMatchers.arn)

    /// The model's FunctionName pattern; `FunctionReference` parses the same grammar.
    public static let functionNamePattern = Pattern(
        #"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"#,
        PatternMatchers.functionName)

    static let destinationPattern = Pattern(
        #"^$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)"#,
        regex(#"|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9\-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d)?:(\d{12})?:(.*)"#))

    static let kmsKeyArnPattern = Pattern(
        #"(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()"#,
        regex(#"(arn:(aws[a-zA-Z\-]*)?:[a-z0-9\-.]+:.*)|()"#))

    static let uriPattern = Pattern(#"[a-zA-Z0-9-\/*:_+=.@-]*"#, regex(#"[a-zA-Z0-9\-/*:_+=.@]*"#))
    static let topicPattern = Pattern(#"^[^.]([a-zA-Z0-9\-_.]+)"#, regex(#"[^.]([a-zA-Z0-9\-_.]+)"#))
    static let queuePattern = Pattern(#"[\s\S]*"#, { _ in true })
    static let endpointPattern = Pattern(
        #"^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]):[0-9]{1,5}"#,
        regex(#"(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]):[0-9]{1,5}"#))
    static let pollerGroupPattern = Pattern(#"[a-zA-Z0-9-_]*"#, regex(#"[a-zA-Z0-9\-_]*"#))
    static let databaseNamePattern = Pattern(#"[^ /\.$\x22]*"#, regex(#"[^ /.$"]*"#))
    static let collectionNamePattern = Pattern(#"(^(?!(system\x2e)))(^[_a-zA-Z0-9])([^$]*)"#, regex(#"(?!system\.)[_a-zA-Z0-9][^$]*"#))

    /// A Kafka mapping's schema registry (botocore 1.43's model; newer than the seed document).
    static let schemaRegistryConfig: Shape = .structure([
        .init("SchemaRegistryURI", .string(min: 1, max: 10000, pattern: uriPattern)),
        .init("EventRecordFormat", .enumeration(shown: ["JSON", "SOURCE"])),
        .init("AccessConfigs", .list(of: .structure([
            .init("Type", .enumeration(shown: ["BASIC_AUTH", "CLIENT_CERTIFICATE_TLS_AUTH", "SERVER_ROOT_CA_CERTIFICATE"])),
            .init("URI", .string(pattern: arnPattern)),
        ]))),
        .init("SchemaValidationConfigs", .list(of: .structure([.init("Attribute", .enumeration(shown: ["KEY", "VALUE"]))]))),
    ])

    static let destination: Shape = .structure([.init("Destination", .string(min: 0, max: 350, pattern: destinationPattern))])

    static let commonMembers: [Shape.Member] = [
        .init("FunctionName", .string(min: 1, max: 256, pattern: functionNamePattern)),
        .init("Enabled", .boolean),
        .init("BatchSize", .integer(min: 1, max: 10000)),
        .init("FilterCriteria", .structure([
            .init("Filters", .list(of: .structure([.init("Pattern", .string(min: 0, max: 4096))]))),
        ])),
        .init("MaximumBatchingWindowInSeconds", .integer(min: 0, max: 300)),
        .init("ParallelizationFactor", .integer(min: 1, max: 10)),
        .init("DestinationConfig", .structure([.init("OnSuccess", destination), .init("OnFailure", destination)])),
        .init("MaximumRecordAgeInSeconds", .integer(min: -1, max: 604_800)),
        .init("BisectBatchOnFunctionError", .boolean),
        .init("MaximumRetryAttempts", .integer(min: -1, max: 10000)),
        .init("TumblingWindowInSeconds", .integer(min: 0, max: 900)),
        .init("SourceAccessConfigurations", .list(of: .structure([
            .init("Type", .enumeration(shown: [
                "BASIC_AUTH", "VPC_SUBNET", "VPC_SECURITY_GROUP", "SASL_SCRAM_512_AUTH", "SASL_SCRAM_256_AUTH",
                "VIRTUAL_HOST", "CLIENT_CERTIFICATE_TLS_AUTH", "SERVER_ROOT_CA_CERTIFICATE",
            ])),
            .init("URI", .string(min: 1, max: 200, pattern: uriPattern)),
        ]), min: 0, max: 22)),
        .init("FunctionResponseTypes", .list(of: .enumeration(shown: ["ReportBatchItemFailures"]), min: 0, max: 1)),
        .init("ScalingConfig", .structure([.init("MaximumConcurrency", .integer(min: 2, max: 1000))])),
        .init("AmazonManagedKafkaEventSourceConfig", .structure([
            .init("ConsumerGroupId", .string(min: 1, max: 200, pattern: uriPattern)),
            .init("SchemaRegistryConfig", schemaRegistryConfig),
        ])),
        .init("SelfManagedKafkaEventSourceConfig", .structure([
            .init("ConsumerGroupId", .string(min: 1, max: 200, pattern: uriPattern)),
            .init("SchemaRegistryConfig", schemaRegistryConfig),
        ])),
        .init("DocumentDBEventSourceConfig", .structure([
            .init("DatabaseName", .string(min: 1, max: 63, pattern: databaseNamePattern)),
            .init("CollectionName", .string(min: 1, max: 57, pattern: collectionNamePattern)),
            .init("FullDocument", .enumeration(shown: ["UpdateLookup", "Default"])),
        ])),
        .init("KMSKeyArn", .string(pattern: kmsKeyArnPattern)),
        .init("MetricsConfig", .structure([
            .init("Metrics", .list(of: .enumeration(shown: ["EventCount", "ErrorCount", "KafkaMetrics"]), min: 0, max: 3)),
        ])),
        .init("LoggingConfig", .structure([.init("SystemLogLevel", .enumeration(shown: ["DEBUG", "INFO", "WARN"]))])),
        .init("ProvisionedPollerConfig", .structure([
            .init("MinimumPollers", .integer(min: 1, max: 200)),
            .init("MaximumPollers", .integer(min: 1, max: 2000)),
            .init("PollerGroupName", .string(min: 0, max: 128, pattern: pollerGroupPattern)),
        ])),
    ]

    /// CreateEventSourceMapping's body.
    public static let create: Shape = .structure(commonMembers + [
        .init("EventSourceArn", .string(min: 12, max: 1024, pattern: arnPattern)),
        .init("StartingPosition", .enumeration(shown: ["LATEST", "AT_TIMESTAMP", "TRIM_HORIZON"])),
        .init("StartingPositionTimestamp", .timestamp),
        .init("Tags", .map(key: .string(min: 1, max: 128), value: .string(min: 0, max: 256))),
        .init("Topics", .list(of: .string(min: 1, max: 249, pattern: topicPattern), min: 1, max: 1)),
        .init("Queues", .list(of: .string(min: 1, max: 1000, pattern: queuePattern), min: 1, max: 1)),
        .init("SelfManagedEventSource", .structure([
            .init("Endpoints", .map(
                key: .enumeration(shown: ["KAFKA_BOOTSTRAP_SERVERS"]),
                value: .list(of: .string(min: 1, max: 300, pattern: endpointPattern), min: 1, max: 10),
                min: 1, max: 2)),
        ])),
    ])

    /// UpdateEventSourceMapping's body: the members that can change after create.
    public static let update: Shape = .structure(commonMembers)
}
