/// UpdateEventSourceMapping.
extension Decider {
    /// Decides UpdateEventSourceMapping: `updateRequest`, then `update(uuid:request:context:state:)`.
    public static func update(uuid: String, body: JSON, context: CommandContext, state: some MappingLookup) -> Result<Decision, AWSError> {
        updateRequest(body).flatMap { update(uuid: uuid, request: $0, context: context, state: state) }
    }

    /// The request's shape, checked before anything else and without the state (so a server can
    /// check it before taking the store's lock); the request as validated.
    public static func updateRequest(_ body: JSON) -> Result<JSONObject, AWSError> {
        checkShape(body, RequestShapes.update, required: [])
    }

    /// Decides an update whose shape `updateRequest` has checked.
    public static func update(uuid: String, request: JSONObject, context: CommandContext, state: some MappingLookup) -> Result<Decision, AWSError> {
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
}
