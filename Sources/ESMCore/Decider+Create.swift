/// CreateEventSourceMapping: the request checked and the configuration built, then decided
/// against the state.
extension Decider {
    /// A create request checked and turned into its change: everything a create decides that
    /// does not depend on the state, so a server can do it before taking the store's lock.
    public struct PreparedCreate: Sendable {
        let uuid: String
        let request: JSONObject
        let kind: SourceKind
        let functionText: String
        let functionArn: String
        let change: Change
    }

    /// Decides CreateEventSourceMapping: `prepareCreate`, then `create(_:context:state:)`.
    /// - Parameters:
    ///   - body: the parsed request body.
    ///   - uuid: the new mapping's UUID, made by the caller (the core has no randomness).
    public static func create(body: JSON, uuid: String, context: CommandContext, state: some MappingLookup) -> Result<Decision, AWSError> {
        prepareCreate(body: body, uuid: uuid, context: context).flatMap { create($0, context: context, state: state) }
    }

    /// The checks of a create that need no state (its shape and every rule of its members) and
    /// the configuration it makes. Every refusal of a create but a duplicate comes from here, in
    /// the order AWS gives them; the time of `context` is not used.
    public static func prepareCreate(body: JSON, uuid: String, context: CommandContext) -> Result<PreparedCreate, AWSError> {
        let request: JSONObject
        switch checkShape(body, RequestShapes.create, required: ["FunctionName"]) {
        case .success(let r): request = r
        case .failure(let e): return .failure(e)
        }
        let region = context.actor.region
        let functionText = request["FunctionName"]!.stringValue!
        let function = FunctionReference(functionText, region: region, account: context.account)
        if let e = checkFunctionNameLength(functionText, function) { return .failure(e) }

        let sourceArn = request["EventSourceArn"]?.stringValue
        guard let kind = SourceKind.of(eventSourceArn: sourceArn, selfManaged: request["SelfManagedEventSource"] != nil) else {
            return .failure(.invalidParameter("Unrecognized event source."))
        }
        if kind == .selfManagedKafka, sourceArn == nil, request["SelfManagedEventSource"] == nil {
            return .failure(.invalidParameter("Unrecognized event source."))
        }
        if let e = checkMembers(request, kind: kind) { return .failure(e) }
        if let e = checkStartingPosition(request, kind: kind, sourceArn: sourceArn) { return .failure(e) }
        if let e = checkRequiredPerSource(request, kind: kind) { return .failure(e) }
        if let e = checkBatching(batchSize: request["BatchSize"]?.intValue, window: request["MaximumBatchingWindowInSeconds"]?.intValue,
                                 kind: kind, batchGiven: request["BatchSize"] != nil, windowGiven: request["MaximumBatchingWindowInSeconds"] != nil) {
            return .failure(e)
        }
        if let e = checkCommonRules(request, kind: kind) { return .failure(e) }
        if let tags = request["Tags"]?.objectValue, let e = checkTagRules(tags, total: tags.count) { return .failure(e) }

        var configuration = kind.defaults
        for member in request where copiedOnCreate.contains(member.key) {
            configuration[member.key] = member.value
        }
        normalize(&configuration, kind: kind, uuid: uuid)
        configuration["FunctionArn"] = .string(function.arn)
        configuration["EventSourceMappingArn"] = .string("arn:aws:lambda:\(region):\(context.account):event-source-mapping:\(uuid)")
        if let sourceArn { configuration["EventSourceArn"] = .string(sourceArn) }

        let enabled = request["Enabled"]?.boolValue ?? true
        let change = Change.created(
            configuration: configuration, enabled: enabled, state: enabled ? .creating : .disabled,
            reason: kind.userReason, tags: request["Tags"]?.objectValue ?? JSONObject(), request: request)
        return .success(PreparedCreate(uuid: uuid, request: request, kind: kind, functionText: functionText, functionArn: function.arn, change: change))
    }

    /// Decides a prepared create against the state: refused only when its function and source
    /// already have a mapping.
    public static func create(_ p: PreparedCreate, context: CommandContext, state: some MappingLookup) -> Result<Decision, AWSError> {
        if let e = duplicate(of: p.request, kind: p.kind, functionText: p.functionText, functionArn: p.functionArn, excluding: nil, state: state) {
            return .failure(e)
        }
        return .success(Decision(uuid: p.uuid, time: context.time, actor: context.actor, change: p.change))
    }

    /// The Kafka configs: MSK's, then the self-managed one's.
    static let kafkaConfigs = ["AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig"]

    /// Request members stored in the configuration as given (after `normalize`).
    static let copiedOnCreate: Set<String> = [
        "BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "StartingPosition",
        "StartingPositionTimestamp", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
        "TumblingWindowInSeconds", "Topics", "Queues", "SourceAccessConfigurations", "SelfManagedEventSource",
        "FunctionResponseTypes", "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
        "ScalingConfig", "DocumentDBEventSourceConfig", "KMSKeyArn", "MetricsConfig", "LoggingConfig",
        "ProvisionedPollerConfig", "FilterCriteria", "DestinationConfig",
    ]

    /// Brings stored members to the form AWS returns: empty filter lists and empty KMS keys are
    /// left out, stream destinations always show OnFailure, brokers are sorted, and consumer
    /// groups and poller limits get their defaults.
    static func normalize(_ c: inout JSONObject, kind: SourceKind, uuid: String) {
        if let filters = c["FilterCriteria"]?["Filters"]?.arrayValue, !filters.isEmpty {
            c["FilterCriteria"] = ["Filters": .array(filters)]
        } else {
            c["FilterCriteria"] = nil
        }
        if c["KMSKeyArn"]?.stringValue == "" { c["KMSKeyArn"] = nil }
        if c["ScalingConfig"]?.objectValue?.isEmpty == true { c["ScalingConfig"] = nil }
        if c["MetricsConfig"]?.objectValue?.isEmpty == true { c["MetricsConfig"] = nil }
        if c["DestinationConfig"]?.objectValue?.isEmpty == true { c["DestinationConfig"] = nil }
        if kind.isStream {
            var d = c["DestinationConfig"]?.objectValue ?? JSONObject()
            if d["OnFailure"] == nil { d["OnFailure"] = .object(JSONObject()) }
            c["DestinationConfig"] = .object(d)
        }
        if var endpoints = c["SelfManagedEventSource"]?["Endpoints"]?.objectValue {
            for e in endpoints {
                if let list = e.value.arrayValue {
                    endpoints[e.key] = .array(list.compactMap(\.stringValue).sorted().map { .string($0) })
                }
            }
            c["SelfManagedEventSource"] = ["Endpoints": .object(endpoints)]
        }
        // The consumer group defaults to the UUID; the rest of the config (SchemaRegistryConfig) stays.
        for (k, key) in zip([SourceKind.msk, .selfManagedKafka], kafkaConfigs) where kind == k && c[key]?["ConsumerGroupId"] == nil {
            var o = c[key]?.objectValue ?? JSONObject()
            o["ConsumerGroupId"] = .string(uuid)
            c[key] = .object(o)
        }
        if kind == .documentdb, var d = c["DocumentDBEventSourceConfig"]?.objectValue, d["FullDocument"] == nil {
            d["FullDocument"] = "Default"
            c["DocumentDBEventSourceConfig"] = .object(d)
        }
        if var p = c["ProvisionedPollerConfig"]?.objectValue {
            if p.isEmpty {
                c["ProvisionedPollerConfig"] = nil
            } else {
                if p["MinimumPollers"] == nil { p["MinimumPollers"] = kind.isSQS ? 2 : 1 }
                if p["MaximumPollers"] == nil { p["MaximumPollers"] = 200 }
                c["ProvisionedPollerConfig"] = .object(p)
            }
        }
    }
}
