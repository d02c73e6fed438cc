/// What the decider reads of the current state.
public protocol MappingLookup {
    func mapping(_ uuid: String) -> Mapping?
    func mappings(eventSourceArn: String) -> [Mapping]
    func mappings(functionArn: String) -> [Mapping]
}

extension Projection: MappingLookup {
    public func mapping(_ uuid: String) -> Mapping? { mappings[uuid] }
}

/// The facts of one request that are not in its body.
public struct CommandContext: Sendable {
    public var time: EventTime
    public var actor: Actor
    /// The account id used in ARNs the server makes.
    public var account: String

    public init(time: EventTime, actor: Actor, account: String) {
        self.time = time
        self.actor = actor
        self.account = account
    }
}

/// An accepted change and the time it takes effect; the store gives it its sequence.
public struct Decision: Sendable, Equatable {
    public var uuid: String
    public var time: EventTime
    public var actor: Actor?
    public var change: Change

    /// The event this decision becomes at `sequence`.
    public func event(sequence: UInt64) -> Event {
        Event(sequence: sequence, time: time, uuid: uuid, actor: actor, change: change)
    }
}

/// Turns requests into changes, or into the error AWS would answer. Pure: the same state and
/// request always give the same decision.
public enum Decider {
    static let bareFunctionNameLengthMax = 64

    // MARK: Create

    /// Decides CreateEventSourceMapping.
    /// - Parameters:
    ///   - body: the parsed request body.
    ///   - uuid: the new mapping's UUID, made by the caller (the core has no randomness).
    public static func create(body: JSON, uuid: String, context: CommandContext, state: some MappingLookup) -> Result<Decision, AWSError> {
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
        if let e = duplicate(of: request, kind: kind, functionText: functionText, functionArn: function.arn, excluding: nil, state: state) {
            return .failure(e)
        }

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
        return .success(Decision(uuid: uuid, time: context.time, actor: context.actor, change: change))
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

    // MARK: Update

    /// Decides UpdateEventSourceMapping.
    public static func update(uuid: String, body: JSON, context: CommandContext, state: some MappingLookup) -> Result<Decision, AWSError> {
        let request: JSONObject
        switch checkShape(body, RequestShapes.update, required: []) {
        case .success(let r): request = r
        case .failure(let e): return .failure(e)
        }
        guard let mapping = state.mapping(uuid) else { return .failure(.notFound) }
        guard !mapping.state.isTransitional else {
            return .failure(.inUse("Cannot update the event source mapping because it is in use."))
        }
        let current = mapping.configuration  // parsed once: the mapping keeps it as bytes
        let kind = kindOf(current)
        if let e = checkMembers(request, kind: kind) { return .failure(e) }

        var set = JSONObject()
        if let functionText = request["FunctionName"]?.stringValue {
            let function = FunctionReference(functionText, region: context.actor.region, account: context.account)
            if let e = checkFunctionNameLength(functionText, function) { return .failure(e) }
            if function.arn != mapping.functionArn {
                if let e = duplicate(of: current, kind: kind, functionText: functionText, functionArn: function.arn,
                                     excluding: uuid, state: state) {
                    return .failure(e)
                }
                set["FunctionArn"] = .string(function.arn)
            }
        }
        var merged = current
        // The update shape has already dropped every member an update cannot carry.
        for member in request where copiedOnCreate.contains(member.key) {
            merged[member.key] = member.value
        }
        // A Kafka config on update changes the members it names (SchemaRegistryConfig); the
        // consumer group set at create stays.
        for key in kafkaConfigs {
            if case .object(let given)? = request[key], case .object(var kept)? = current[key] {
                for m in given { kept[m.key] = m.value }
                merged[key] = .object(kept)
            }
        }
        normalize(&merged, kind: kind, uuid: uuid)
        if let e = checkBatching(batchSize: merged["BatchSize"]?.intValue, window: merged["MaximumBatchingWindowInSeconds"]?.intValue,
                                 kind: kind, batchGiven: request["BatchSize"] != nil, windowGiven: request["MaximumBatchingWindowInSeconds"] != nil) {
            return .failure(e)
        }
        if let e = checkCommonRules(request, kind: kind) { return .failure(e) }

        for member in merged where current[member.key] != member.value {
            set[member.key] = member.value
        }
        let unset = current.keys.filter { merged[$0] == nil }
        let enabled = request["Enabled"]?.boolValue ?? mapping.enabled
        let next: MappingState = enabled == mapping.enabled ? .updating : (enabled ? .enabling : .disabling)
        let change = Change.updated(set: set, unset: unset, enabled: enabled, state: next, request: request)
        return .success(Decision(uuid: uuid, time: timeAfter(mapping, context.time), actor: context.actor, change: change))
    }

    // MARK: Delete and system transitions

    /// Decides DeleteEventSourceMapping.
    /// - Returns: the decision, or nil when the mapping is already Deleting (delete is idempotent,
    ///   and the answer is the mapping as it is).
    public static func delete(uuid: String, context: CommandContext, state: some MappingLookup) -> Result<Decision?, AWSError> {
        guard let mapping = state.mapping(uuid) else { return .failure(.notFound) }
        if mapping.state == .deleting { return .success(nil) }
        guard !mapping.state.isTransitional else {
            return .failure(.inUse("Cannot delete the event source mapping because it is in use."))
        }
        return .success(Decision(uuid: uuid, time: timeAfter(mapping, context.time), actor: context.actor, change: .deleteRequested))
    }

    /// The transition the system owes a mapping, if any: Creating, Enabling and Updating settle
    /// on Enabled or Disabled, Disabling on Disabled, and Deleting ends in removal.
    public static func completeTransition(uuid: String, time: EventTime, state: some MappingLookup) -> Decision? {
        guard let mapping = state.mapping(uuid), mapping.state.isTransitional else { return nil }
        let change: Change
        switch mapping.state {
        case .deleting: change = .removed
        case .disabling: change = .stateChanged(from: .disabling, to: .disabled)
        default: change = .stateChanged(from: mapping.state, to: mapping.settledState)
        }
        return Decision(uuid: uuid, time: timeAfter(mapping, time), actor: nil, change: change)
    }

    /// LastModified never goes back and moves on every change, even when the clock stalls.
    static func timeAfter(_ mapping: Mapping, _ now: EventTime) -> EventTime {
        max(now, mapping.lastModified.successor)
    }

    static func kindOf(_ configuration: JSONObject) -> SourceKind {
        SourceKind.of(eventSourceArn: configuration["EventSourceArn"]?.stringValue,
                      selfManaged: configuration["SelfManagedEventSource"] != nil) ?? .sqs
    }

    // MARK: Checks

    /// The model checks: JSON types, then every constraint, reported together.
    static func checkShape(_ body: JSON, _ shape: Shape, required: [String]) -> Result<JSONObject, AWSError> {
        guard case .object = body else {
            return .failure(.invalidContent("Could not parse payload into json: the body must be a JSON object, found \(body.typeName)"))
        }
        var checker = ShapeChecker()
        let cleaned: JSONObject
        do {
            cleaned = try checker.check(body, shape, path: "")?.objectValue ?? JSONObject()
        } catch {
            return .failure(.invalidContent(
                "Could not parse payload into json: Unexpected value type for '\(error.path)': expected \(error.expected), found \(error.found)"))
        }
        for name in required where cleaned[name] == nil { checker.violateNull(ShapeChecker.camel(name)) }
        if let message = checker.message { return .failure(.validation(message)) }
        return .success(cleaned)
    }

    static func checkFunctionNameLength(_ text: String, _ function: FunctionReference) -> AWSError? {
        guard !text.hasPrefix("arn:"), function.name.count > bareFunctionNameLengthMax else { return nil }
        return .invalidParameter(
            "1 validation error detected: Value '\(text)' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to \(bareFunctionNameLengthMax)")
    }

    static func checkMembers(_ request: JSONObject, kind: SourceKind) -> AWSError? {
        // Only OnFailure destinations exist, and only for stream and Kafka sources.
        if let d = request["DestinationConfig"]?.objectValue {
            let takesOnFailure = !kind.isSQS && kind.allowedMembers.contains("DestinationConfig")
            if d["OnSuccess"] != nil || (d["OnFailure"] != nil && !takesOnFailure) {
                return .invalidParameter("Unsupported DestinationConfig parameter for given event source mapping type.")
            }
        }
        let always: Set<String> = ["FunctionName", "EventSourceArn", "Enabled", "Tags", "DestinationConfig"]
        for member in request where !always.contains(member.key) && !kind.allowedMembers.contains(member.key) {
            return .invalidParameter("Unsupported \(member.key) parameter for given event source mapping type.")
        }
        return nil
    }

    static func checkStartingPosition(_ request: JSONObject, kind: SourceKind, sourceArn: String?) -> AWSError? {
        guard let allowed = kind.startingPositions else { return nil }
        guard let position = request["StartingPosition"]?.stringValue else {
            if kind == .selfManagedKafka { return nil }
            return .invalidParameter(
                "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.")
        }
        guard allowed.contains(position) else {
            return .invalidParameter("Unsupported starting position for arn type: \(sourceArn ?? "")")
        }
        let hasTimestamp = request["StartingPositionTimestamp"] != nil
        if position == "AT_TIMESTAMP", !hasTimestamp {
            return .invalidParameter("StartingPositionTimestamp must be set when StartingPosition is AT_TIMESTAMP.")
        }
        if position != "AT_TIMESTAMP", hasTimestamp {
            return .invalidParameter("StartingPositionTimestamp can be set only when StartingPosition is AT_TIMESTAMP.")
        }
        return nil
    }

    static func checkRequiredPerSource(_ request: JSONObject, kind: SourceKind) -> AWSError? {
        func missing(_ member: String) -> AWSError {
            .invalidParameter("Required '\(ShapeChecker.camel(member))' parameter is missing.")
        }
        switch kind {
        case .selfManagedKafka:
            if request["SourceAccessConfigurations"] == nil { return missing("SourceAccessConfigurations") }
            if request["Topics"] == nil { return missing("Topics") }
        case .msk:
            if request["Topics"] == nil { return missing("Topics") }
        case .mq:
            if request["Queues"] == nil { return missing("Queues") }
            if request["SourceAccessConfigurations"] == nil { return missing("SourceAccessConfigurations") }
        case .documentdb:
            if request["DocumentDBEventSourceConfig"]?["DatabaseName"] == nil { return missing("DatabaseName") }
        case .sqs, .sqsFifo, .kinesis, .dynamodb:
            break
        }
        return nil
    }

    static func checkBatching(batchSize: Int?, window: Int?, kind: SourceKind, batchGiven: Bool, windowGiven: Bool) -> AWSError? {
        switch kind {
        case .sqsFifo:
            if windowGiven, let window, window > 0 { return .invalidParameter("Batching window is not supported for FIFO queues") }
            if let batchSize, batchSize > 10 { return .invalidParameter("Maximum batch size must be between 1 and 10 inclusive") }
        case .sqs:
            if let batchSize, batchSize > 10, (window ?? 0) == 0, batchGiven || windowGiven {
                return .invalidParameter("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
            }
        default:
            break
        }
        return nil
    }

    /// Rules the model documents without a recorded message (see docs/aws-compatibility.md).
    static func checkCommonRules(_ request: JSONObject, kind: SourceKind) -> AWSError? {
        if let age = request["MaximumRecordAgeInSeconds"]?.intValue, (0..<60).contains(age) {
            return .invalidParameter("The minimum valid value for maximum record age is 60 seconds.")
        }
        if let p = request["ProvisionedPollerConfig"]?.objectValue {
            let lo = p["MinimumPollers"]?.intValue, hi = p["MaximumPollers"]?.intValue
            if kind.isSQS, let lo, lo < 2 { return .invalidParameter("MinimumPollers must be at least 2 for Amazon SQS event sources.") }
            if kind.isSQS, let hi, hi < 2 { return .invalidParameter("MaximumPollers must be at least 2 for Amazon SQS event sources.") }
            if let lo, let hi, lo > hi { return .invalidParameter("MinimumPollers must be less than or equal to MaximumPollers.") }
        }
        if let filters = request["FilterCriteria"]?["Filters"]?.arrayValue {
            for f in filters {
                guard let text = f["Pattern"]?.stringValue, FilterPattern.isValid(text) else {
                    return .invalidParameter("Invalid filter pattern definition.")
                }
            }
        }
        return nil
    }

    /// The conflict AWS answers when the (source, function) pair already has a mapping.
    static func duplicate(of request: JSONObject, kind: SourceKind, functionText: String, functionArn: String,
                          excluding: String?, state: some MappingLookup) -> AWSError? {
        let existing: Mapping?
        if kind == .selfManagedKafka {
            let servers = Set(request["SelfManagedEventSource"]?["Endpoints"]?["KAFKA_BOOTSTRAP_SERVERS"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            let topics = request["Topics"]
            existing = state.mappings(functionArn: functionArn).first { m in
                guard m.uuid != excluding else { return false }
                let configuration = m.configuration
                guard configuration["Topics"] == topics else { return false }
                let theirs = configuration["SelfManagedEventSource"]?["Endpoints"]?["KAFKA_BOOTSTRAP_SERVERS"]?.arrayValue?.compactMap(\.stringValue) ?? []
                return !servers.isDisjoint(with: theirs)
            }
            guard let existing else { return nil }
            let list = request["SelfManagedEventSource"]?["Endpoints"]?["KAFKA_BOOTSTRAP_SERVERS"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let topic = topics?.arrayValue?.first?.stringValue ?? ""
            return .conflict(
                "An event source mapping with event source (\"\(list.joined(separator: ","))\"), function (\"\(functionArn)\"), topics (\"\(topic)\") already exists. Please update or delete the existing mapping with UUID \(existing.uuid)")
        }
        guard let sourceArn = request["EventSourceArn"]?.stringValue else { return nil }
        existing = state.mappings(eventSourceArn: sourceArn).first { $0.functionArn == functionArn && $0.uuid != excluding }
        guard let existing else { return nil }
        if kind.isSQS {
            return .conflict(
                "An event source mapping with SQS arn (\" \(sourceArn) \") and function (\" \(functionText) \") already exists. Please update or delete the existing mapping with UUID \(existing.uuid)")
        }
        return .conflict(
            "The event source arn (\" \(sourceArn) \") and function (\" \(functionText) \") provided mapping already exists. Please update or delete the existing mapping with UUID \(existing.uuid)")
    }
}

/// The grammar of an event filter pattern, as far as Lambda checks it at create and update:
/// a JSON object whose leaves are non-empty arrays and whose inner members are such objects.
public enum FilterPattern {
    public static func isValid(_ text: String) -> Bool {
        guard let value = try? JSON.parse(text), case .object(let o) = value, !o.isEmpty else { return false }
        return isValidObject(o)
    }

    static func isValidObject(_ o: JSONObject) -> Bool {
        for member in o {
            switch member.value {
            case .array(let a): if a.isEmpty { return false }
            case .object(let inner): if inner.isEmpty || !isValidObject(inner) { return false }
            default: return false
            }
        }
        return true
    }
}
