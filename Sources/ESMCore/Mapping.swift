/// One event source mapping as the projection holds it.
public struct Mapping: Sendable, Equatable {
    public var uuid: String
    /// The members of the AWS response other than UUID, State, StateTransitionReason and
    /// LastModified, exactly as they are returned.
    public var configuration: JSONObject
    public var state: MappingState
    public var stateTransitionReason: String
    public var lastModified: EventTime
    /// Where the mapping settles after a transition: Enabled when true, Disabled when false.
    public var enabled: Bool
    /// Tags given at create; not part of any ESM response.
    public var tags: JSONObject
    /// The sequence of the Created event: the mapping's place in list order, never reused.
    public var createdSequence: UInt64
    /// The sequence of the last event applied to this mapping.
    public var sequence: UInt64

    public var functionArn: String { configuration["FunctionArn"]?.stringValue ?? "" }
    public var eventSourceArn: String? { configuration["EventSourceArn"]?.stringValue }
    /// The account that owns the mapping: the one in its EventSourceMappingArn.
    public var account: String {
        guard let arn = configuration["EventSourceMappingArn"]?.stringValue else { return "" }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return parts.count > 4 ? String(parts[4]) : ""
    }

    /// The mapping as GetEventSourceMapping returns it.
    public var response: JSON {
        var o = configuration
        o["UUID"] = .string(uuid)
        o["State"] = .string(state.rawValue)
        o["StateTransitionReason"] = .string(stateTransitionReason)
        o["LastModified"] = .number(lastModified.epochSeconds)
        return .object(o)
    }

    /// The state a finished transition leads to, or nil when removal or nothing is owed.
    public var settledState: MappingState { enabled ? .enabled : .disabled }
}
