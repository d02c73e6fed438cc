/// The checks a create or update request passes, in the order AWS applies them.
extension Decider {
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
