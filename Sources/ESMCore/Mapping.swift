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

    /// The members `response` adds to the configuration, in canonical key order.
    static let responseKeys = ["LastModified", "State", "StateTransitionReason", "UUID"]

    /// Writes `response.canonicalBytes` without building the object: the configuration's
    /// members (already in key order) merged with the four the response adds. Lists write a
    /// hundred of these per page.
    public func writeResponse(to out: inout [UInt8]) {
        var first = true
        func key(_ key: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSON.writeString(key, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        func extra(_ index: Int) {
            key(Mapping.responseKeys[index])
            switch index {
            case 0: lastModified.writeEpochSeconds(to: &out)
            case 1: JSON.writeString(state.rawValue, to: &out)
            case 2: JSON.writeString(stateTransitionReason, to: &out)
            default: JSON.writeString(uuid, to: &out)
            }
        }
        let keys = Mapping.responseKeys
        var next = 0
        out.append(UInt8(ascii: "{"))
        for m in configuration.members {
            while next < keys.count && JSONObject.less(keys[next], m.key) {
                extra(next)
                next += 1
            }
            if next < keys.count && keys[next] == m.key { continue }  // the response's own value wins
            key(m.key)
            m.value.write(to: &out)
        }
        while next < keys.count {
            extra(next)
            next += 1
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The state a finished transition leads to, or nil when removal or nothing is owed.
    public var settledState: MappingState { enabled ? .enabled : .disabled }
}
