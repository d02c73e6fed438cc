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
}
