/// What the projection needs of an event: its place, its mapping and what it did to the
/// mapping's state. Who asked and the words of the request are not part of it.
///
/// A replay reads events into this form straight from their stored bytes
/// (`StateEvent(stored:)`), so that it builds neither the actor nor the request, and takes a
/// created configuration as the canonical bytes it is stored as. Every other reader decodes
/// whole `Event`s, and the projection applies one by taking this form of it.
public struct StateEvent: Sendable, Equatable {
    public var sequence: UInt64
    public var time: EventTime
    public var uuid: String
    public var change: StateChange

    public init(sequence: UInt64, time: EventTime, uuid: String, change: StateChange) {
        self.sequence = sequence
        self.time = time
        self.uuid = uuid
        self.change = change
    }
}

/// `Change` without the request: what an event did to a mapping's state.
public enum StateChange: Sendable, Equatable {
    case created(configuration: StoredConfiguration, enabled: Bool, state: MappingState, reason: String, tags: JSONObject)
    case updated(set: JSONObject, unset: [String], enabled: Bool, state: MappingState)
    case deleteRequested
    case stateChanged(from: MappingState, to: MappingState)
    case removed
    case tagged(JSONObject)
    case untagged([String])
    case imported(ImportedRecord)

    /// Whether the change may move a mapping between the projection's index entries: an
    /// update that sets or removes a member they are keyed by, or an imported record, which
    /// replaces the whole configuration. No other change touches the configuration.
    var movesIndexEntries: Bool {
        switch self {
        case .updated(let set, let unset, _, _): Mapping.indexedKeys.contains { set[$0] != nil || unset.contains($0) }
        case .imported: true
        default: false
        }
    }
}

extension StateEvent {
    /// The state part of a whole event.
    public init(_ event: Event) {
        let change: StateChange
        switch event.change {
        case .created(let configuration, let enabled, let state, let reason, let tags, _):
            change = .created(configuration: StoredConfiguration(configuration), enabled: enabled, state: state, reason: reason, tags: tags)
        case .updated(let set, let unset, let enabled, let state, _):
            change = .updated(set: set, unset: unset, enabled: enabled, state: state)
        case .deleteRequested: change = .deleteRequested
        case .stateChanged(let from, let to): change = .stateChanged(from: from, to: to)
        case .removed: change = .removed
        case .tagged(let tags): change = .tagged(tags)
        case .untagged(let keys): change = .untagged(keys)
        case .imported(let record): change = .imported(record)
        }
        self.init(sequence: event.sequence, time: event.time, uuid: event.uuid, change: change)
    }
}

/// An event as a reader of the log holds it, whole (`Event`) or for state (`StateEvent`): what
/// folding imported history in its own order needs.
public protocol LoggedEvent: Sendable {
    var sequence: UInt64 { get set }
    var time: EventTime { get }
    /// The CloudTrail record, for an imported event.
    var importedRecord: ImportedRecord? { get }
}

extension Event: LoggedEvent {
    public var importedRecord: ImportedRecord? {
        if case .imported(let r) = change { return r }
        return nil
    }
}

extension StateEvent: LoggedEvent {
    public var importedRecord: ImportedRecord? {
        if case .imported(let r) = change { return r }
        return nil
    }
}
