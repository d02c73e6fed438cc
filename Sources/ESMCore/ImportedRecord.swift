/// One CloudTrail record of a Lambda event source mapping call, as `esmlog import` stores it:
/// the mapping as the service's answer (`responseElements`) showed it, what the caller asked
/// for (`requestParameters`), and the record's provenance. State is taken from the answer, never
/// guessed from the request.
public struct ImportedRecord: Sendable, Equatable {
    public enum Action: String, Sendable {
        case create = "Create", update = "Update", delete = "Delete", tag = "Tag", untag = "Untag"
        /// `LambdaESMDisabled`: Lambda disabled the mapping after errors.
        case disabled = "Disabled"
        /// A state change esmlog's own CloudTrail-shaped export carries (`EventSourceMappingStateChange`).
        case stateChange = "StateChange"
    }

    public var action: Action
    /// `eventName` as CloudTrail wrote it (`CreateEventSourceMapping20150331`).
    public var eventName: String
    /// CloudTrail's id of the record: what makes an import idempotent.
    public var eventID: String
    public var requestID: String?
    /// `recipientAccountId` (else the mapping ARN's account).
    public var account: String
    public var region: String
    /// The mapping's EventSourceMappingArn.
    public var arn: String
    /// The mapping after the call, in the API's member names, without UUID, State,
    /// StateTransitionReason and LastModified; nil when the record carries no answer.
    public var configuration: JSONObject?
    /// The state after the call; for a state change to removal, nil with `removed` set.
    public var state: MappingState?
    public var removed: Bool
    public var stateTransitionReason: String?
    /// `requestParameters`, in the API's member names.
    public var request: JSONObject
    /// Tags set (TagResource, or given on create) and keys removed (UntagResource).
    public var tags: JSONObject?
    public var tagKeys: [String]?
    /// A refused call: it is in the timeline as an attempt and changes nothing.
    public var errorCode: String?
    public var errorMessage: String?
    /// Configuration members CloudTrail hid (FilterCriteria since 2024-08-06): their value is
    /// unknown, and the configuration holds `ImportedRecord.redactedValue` for them.
    public var redacted: [String]
    /// A tie-break among records of the same millisecond: the original sequence of esmlog's own
    /// export, when the record came from one.
    public var order: UInt64?
    /// The eventID of an earlier record this one corrects (CloudTrail's `addendum` with reason
    /// `UPDATED_DATA` and `originalEventID`): the earlier record is then left out of the history.
    public var corrects: String?

    public static let redactedValue: JSON = "(redacted by CloudTrail)"

    public init(action: Action, eventName: String, eventID: String, requestID: String?, account: String, region: String, arn: String,
                configuration: JSONObject?, state: MappingState?, removed: Bool = false, stateTransitionReason: String?,
                request: JSONObject, tags: JSONObject? = nil, tagKeys: [String]? = nil, errorCode: String? = nil,
                errorMessage: String? = nil, redacted: [String] = [], order: UInt64? = nil, corrects: String? = nil) {
        self.action = action
        self.eventName = eventName
        self.eventID = eventID
        self.requestID = requestID
        self.account = account
        self.region = region
        self.arn = arn
        self.configuration = configuration
        self.state = state
        self.removed = removed
        self.stateTransitionReason = stateTransitionReason
        self.request = request
        self.tags = tags
        self.tagKeys = tagKeys
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.redacted = redacted
        self.order = order
        self.corrects = corrects
    }

    /// The API operation (or Lambda's own event) the record is of.
    public var operation: String {
        switch action {
        case .create: "CreateEventSourceMapping"
        case .update: "UpdateEventSourceMapping"
        case .delete: "DeleteEventSourceMapping"
        case .tag: "TagResource"
        case .untag: "UntagResource"
        case .disabled: "LambdaESMDisabled"
        case .stateChange: "StateChange"
        }
    }

    public var json: JSON {
        var o = JSONObject()
        o["Action"] = .string(action.rawValue)
        o["EventName"] = .string(eventName)
        o["EventID"] = .string(eventID)
        if let requestID { o["RequestID"] = .string(requestID) }
        o["Account"] = .string(account)
        o["Region"] = .string(region)
        o["EventSourceMappingArn"] = .string(arn)
        if let configuration { o["Configuration"] = .object(configuration) }
        if let state { o["State"] = .string(state.rawValue) }
        if removed { o["Removed"] = true }
        if let stateTransitionReason { o["StateTransitionReason"] = .string(stateTransitionReason) }
        o["Request"] = .object(request)
        if let tags { o["Tags"] = .object(tags) }
        if let tagKeys { o["TagKeys"] = .array(tagKeys.map { .string($0) }) }
        if let errorCode { o["ErrorCode"] = .string(errorCode) }
        if let errorMessage { o["ErrorMessage"] = .string(errorMessage) }
        if !redacted.isEmpty { o["Redacted"] = .array(redacted.map { .string($0) }) }
        if let order { o["Order"] = .number(Double(order)) }
        if let corrects { o["Corrects"] = .string(corrects) }
        return .object(o)
    }

    public init(json: JSON) throws(EventDecodingError) {
        func string(_ k: String) throws(EventDecodingError) -> String {
            guard let s = json[k]?.stringValue else { throw EventDecodingError(reason: "CloudTrail.\(k) is missing") }
            return s
        }
        guard let action = Action(rawValue: try string("Action")) else { throw EventDecodingError(reason: "unknown CloudTrail.Action") }
        guard let request = json["Request"]?.objectValue else { throw EventDecodingError(reason: "CloudTrail.Request is missing") }
        var state: MappingState?
        if let s = json["State"]?.stringValue {
            guard let known = MappingState(rawValue: s) else { throw EventDecodingError(reason: "CloudTrail.State is not a state") }
            state = known
        }
        self.init(action: action, eventName: try string("EventName"), eventID: try string("EventID"),
                  requestID: json["RequestID"]?.stringValue, account: try string("Account"), region: try string("Region"),
                  arn: try string("EventSourceMappingArn"), configuration: json["Configuration"]?.objectValue, state: state,
                  removed: json["Removed"]?.boolValue ?? false, stateTransitionReason: json["StateTransitionReason"]?.stringValue,
                  request: request, tags: json["Tags"]?.objectValue, tagKeys: json["TagKeys"]?.arrayValue?.compactMap(\.stringValue),
                  errorCode: json["ErrorCode"]?.stringValue, errorMessage: json["ErrorMessage"]?.stringValue,
                  redacted: json["Redacted"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  order: json["Order"]?.intValue.map { UInt64($0) }, corrects: json["Corrects"]?.stringValue)
    }

    /// The mapping after this record, from the mapping before it. A refused call changes nothing;
    /// a record for a mapping first seen after its create starts it from the record's answer.
    func apply(to mapping: Mapping?, _ event: StateEvent) -> Mapping? {
        if errorCode != nil { return mapping }
        switch action {
        case .tag, .untag:
            return mapping?.retagged(set: tags ?? JSONObject(), removing: tagKeys ?? [], sequence: event.sequence)
        default:
            if removed { return nil }
            guard let state else { return mapping }
            var m = mapping ?? Mapping(uuid: event.uuid, configuration: JSONObject(), state: state, stateTransitionReason: "",
                                       lastModified: event.time, enabled: true, tags: JSONObject(), createdSequence: event.sequence,
                                       sequence: event.sequence)
            if let configuration { m.configuration = configuration }
            m.state = state
            if let stateTransitionReason { m.stateTransitionReason = stateTransitionReason }
            if action == .create, let tags { m.tags = tags }
            m.enabled = state != .disabled && state != .disabling
            m.lastModified = event.time
            m.sequence = event.sequence
            return m
        }
    }
}

/// The order imported history is read in: by event time, then by the record's own order (an
/// esmlog export's sequence), then by eventID. Append order does not matter: CloudTrail
/// delivers late and out of order, so the same records imported in any order and in any number
/// of runs give the same history.
public enum HistoryOrder {
    /// Whether a log holds imported history (its events are all of kind `Imported`).
    public static func isImported(_ e: some LoggedEvent) -> Bool { e.importedRecord != nil }

    /// The events in history order, each renumbered 1, 2, 3, ... in that order so that they fold
    /// like a log; `original` gives each one's sequence in the log.
    public static func ordered<E: LoggedEvent>(_ events: [E]) -> [(event: E, original: UInt64)] {
        // A record that a later one corrects (CloudTrail's UPDATED_DATA addendum) is replaced by it.
        var corrected = Set<String>()
        for e in events { if let id = e.importedRecord?.corrects { corrected.insert(id) } }
        let events = corrected.isEmpty ? events : events.filter { e in
            guard let r = e.importedRecord else { return true }
            return !corrected.contains(r.eventID)
        }
        func key(_ e: E) -> (Int64, UInt64, String) {
            guard let r = e.importedRecord else { return (e.time.milliseconds, e.sequence, "") }
            return (e.time.milliseconds, r.order ?? 0, r.eventID)
        }
        let sorted = events.sorted { a, b in
            let x = key(a), y = key(b)
            if x.0 != y.0 { return x.0 < y.0 }
            if x.1 != y.1 { return x.1 < y.1 }
            return x.2.utf8.lexicographicallyPrecedes(y.2.utf8)
        }
        return sorted.enumerated().map { i, e in
            var renumbered = e
            renumbered.sequence = UInt64(i + 1)
            return (renumbered, e.sequence)
        }
    }
}
