/// Who asked for a change: the caller's identity as the request showed it.
public struct Actor: Sendable, Equatable {
    /// The access key id from the SigV4 `Authorization` header, or "" when the request was unsigned.
    public var accessKeyId: String
    public var sourceIp: String
    public var userAgent: String
    public var requestId: String
    /// The region from the SigV4 credential scope (default us-east-1).
    public var region: String
    /// Whether the server verified the request's signature (`--auth sigv4`), so that the access
    /// key id is a checked identity rather than what the caller claimed.
    public var verified: Bool
    /// The account the verified key acts in; nil when not verified.
    public var account: String?
    /// For imported history, the caller as CloudTrail's `userIdentity` names it (`Type`,
    /// `PrincipalArn`, `SessionIssuerArn`, `InvokedBy`, `Console`, ...); nil for served history.
    public var identity: JSONObject?

    public init(accessKeyId: String, sourceIp: String, userAgent: String, requestId: String, region: String,
                verified: Bool = false, account: String? = nil, identity: JSONObject? = nil) {
        self.identity = identity
        self.accessKeyId = accessKeyId
        self.sourceIp = sourceIp
        self.userAgent = userAgent
        self.requestId = requestId
        self.region = region
        self.verified = verified
        self.account = account
    }
}

extension Actor {
    /// The actor as events store it. `Authentication` and `AccountId` are written only when set,
    /// so that the events of a server without `--auth sigv4` keep the bytes they always had.
    public var json: JSON {
        var a = JSONObject([
            ("AccessKeyId", .string(accessKeyId)), ("SourceIp", .string(sourceIp)), ("UserAgent", .string(userAgent)),
            ("RequestId", .string(requestId)), ("Region", .string(region)),
        ])
        if verified { a["Authentication"] = "SigV4" }
        if let account { a["AccountId"] = .string(account) }
        if let identity { a["Identity"] = .object(identity) }
        return .object(a)
    }
}

/// What one event did to one mapping.
public enum Change: Sendable, Equatable {
    /// A user created the mapping; `configuration` is the full resolved configuration after defaults.
    case created(configuration: JSONObject, enabled: Bool, state: MappingState, reason: String, tags: JSONObject, request: JSONObject)
    /// A user updated the mapping: members set to new values, members removed, the new Enabled
    /// target and the state the mapping entered.
    case updated(set: JSONObject, unset: [String], enabled: Bool, state: MappingState, request: JSONObject)
    /// A user asked for deletion; the mapping is Deleting until the system removes it.
    case deleteRequested
    /// The system finished a transition (Creating→Enabled, Updating→Enabled, Disabling→Disabled, ...).
    case stateChanged(from: MappingState, to: MappingState)
    /// The system finished a deletion; the mapping is gone.
    case removed
    /// A user tagged the mapping (TagResource, merged into its tags): only the tags whose value
    /// changed.
    case tagged(JSONObject)
    /// A user removed tags (UntagResource): only the keys the mapping had.
    case untagged([String])
    /// A CloudTrail record of a call on a mapping in an AWS account (`esmlog import`).
    case imported(ImportedRecord)

    /// What kind of user request the change records, served or imported alike (refused
    /// imported calls are none of these).
    public var request: RequestKind? {
        switch self {
        case .created: .create
        case .updated: .update
        case .deleteRequested: .delete
        case .tagged, .untagged: .tags
        case .imported(let r) where r.errorCode == nil:
            switch r.action {
            case .create: .create
            case .update: .update
            case .delete: .delete
            case .tag, .untag: .tags
            case .disabled, .stateChange: nil
            }
        default: nil
        }
    }

    public enum RequestKind: Sendable { case create, update, delete, tags }

    /// The name written in the log and shown in timelines.
    public var name: String {
        switch self {
        case .created: "Created"
        case .updated: "Updated"
        case .deleteRequested: "DeleteRequested"
        case .stateChanged: "StateChanged"
        case .removed: "Removed"
        case .tagged: "Tagged"
        case .untagged: "Untagged"
        case .imported: "Imported"
        }
    }

    /// The EventVersion this change is written with: 2 for the tag changes that version 2
    /// added, 1 for the rest, so that events of the older kinds keep the bytes they always had
    /// and an older reader refuses a log with tag events by name instead of misreading it.
    var formatVersion: Int {
        switch self {
        case .tagged, .untagged, .imported: 2
        default: 1
        }
    }
}

/// One entry of the audit log: one accepted mutation of one mapping.
public struct Event: Sendable, Equatable {
    /// The newest version of the event's JSON shape. Readers accept every version up to this one.
    public static let formatVersion = 2

    public var sequence: UInt64
    public var time: EventTime
    public var uuid: String
    /// The caller; nil when the system made the change.
    public var actor: Actor?
    public var change: Change

    public init(sequence: UInt64, time: EventTime, uuid: String, actor: Actor?, change: Change) {
        self.sequence = sequence
        self.time = time
        self.uuid = uuid
        self.actor = actor
        self.change = change
    }
}

/// Why stored event bytes could not be read as an event.
public struct EventDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

extension Event {
    /// The event as canonical JSON, the form stored in the log.
    public var json: JSON {
        var o = JSONObject()
        o["EventVersion"] = .number(Double(change.formatVersion))
        o["Sequence"] = .number(Double(sequence))
        o["Time"] = .number(Double(time.milliseconds))
        o["UUID"] = .string(uuid)
        o["Type"] = .string(change.name)
        if let actor {
            o["Initiator"] = "User"
            o["Actor"] = actor.json
        } else {
            o["Initiator"] = "System"
        }
        switch change {
        case .created(let configuration, let enabled, let state, let reason, let tags, let request):
            o["Configuration"] = .object(configuration)
            o["Enabled"] = .bool(enabled)
            o["State"] = .string(state.rawValue)
            o["StateTransitionReason"] = .string(reason)
            o["Tags"] = .object(tags)
            o["Request"] = .object(request)
        case .updated(let set, let unset, let enabled, let state, let request):
            o["Set"] = .object(set)
            o["Unset"] = .array(unset.map { .string($0) })
            o["Enabled"] = .bool(enabled)
            o["State"] = .string(state.rawValue)
            o["Request"] = .object(request)
        case .deleteRequested:
            o["State"] = .string(MappingState.deleting.rawValue)
        case .stateChanged(let from, let to):
            o["From"] = .string(from.rawValue)
            o["State"] = .string(to.rawValue)
        case .removed:
            break
        case .tagged(let tags):
            o["Tags"] = .object(tags)
        case .untagged(let keys):
            o["TagKeys"] = .array(keys.map { .string($0) })
        case .imported(let record):
            o["CloudTrail"] = record.json
        }
        return .object(o)
    }

    /// Reads an event from its stored JSON.
    /// - Throws: `EventDecodingError` naming the member that is missing or malformed.
    public init(json: JSON) throws(EventDecodingError) {
        guard let o = json.objectValue else { throw EventDecodingError(reason: "event is not an object") }
        func member(_ k: String) throws(EventDecodingError) -> JSON {
            guard let v = o[k] else { throw EventDecodingError(reason: "event has no \(k)") }
            return v
        }
        func string(_ k: String) throws(EventDecodingError) -> String {
            guard let s = try member(k).stringValue else { throw EventDecodingError(reason: "\(k) is not a string") }
            return s
        }
        func object(_ k: String) throws(EventDecodingError) -> JSONObject {
            guard let v = try member(k).objectValue else { throw EventDecodingError(reason: "\(k) is not an object") }
            return v
        }
        func bool(_ k: String) throws(EventDecodingError) -> Bool {
            guard let v = try member(k).boolValue else { throw EventDecodingError(reason: "\(k) is not a boolean") }
            return v
        }
        func state(_ k: String) throws(EventDecodingError) -> MappingState {
            guard let s = MappingState(rawValue: try string(k)) else { throw EventDecodingError(reason: "\(k) is not a state") }
            return s
        }
        guard let version = try member("EventVersion").intValue, version >= 1, version <= Event.formatVersion else {
            throw EventDecodingError(reason: "unsupported EventVersion")
        }
        guard let seq = try member("Sequence").intValue, seq > 0, let ms = try member("Time").intValue else {
            throw EventDecodingError(reason: "bad Sequence or Time")
        }
        sequence = UInt64(seq)
        time = EventTime(milliseconds: Int64(ms))
        uuid = try string("UUID")
        switch try string("Initiator") {
        case "System": actor = nil
        case "User":
            let a = try object("Actor")
            func field(_ k: String) throws(EventDecodingError) -> String {
                guard let s = a[k]?.stringValue else { throw EventDecodingError(reason: "Actor.\(k) is missing") }
                return s
            }
            actor = Actor(
                accessKeyId: try field("AccessKeyId"), sourceIp: try field("SourceIp"), userAgent: try field("UserAgent"),
                requestId: try field("RequestId"), region: try field("Region"),
                verified: a["Authentication"]?.stringValue == "SigV4", account: a["AccountId"]?.stringValue)
            actor?.identity = a["Identity"]?.objectValue
        default: throw EventDecodingError(reason: "unknown Initiator")
        }
        switch try string("Type") {
        case "Created":
            change = .created(
                configuration: try object("Configuration"), enabled: try bool("Enabled"), state: try state("State"),
                reason: try string("StateTransitionReason"), tags: try object("Tags"), request: try object("Request"))
        case "Updated":
            guard let unset = try member("Unset").arrayValue?.compactMap(\.stringValue) else {
                throw EventDecodingError(reason: "Unset is not a list")
            }
            change = .updated(
                set: try object("Set"), unset: unset, enabled: try bool("Enabled"), state: try state("State"),
                request: try object("Request"))
        case "DeleteRequested": change = .deleteRequested
        case "StateChanged": change = .stateChanged(from: try state("From"), to: try state("State"))
        case "Removed": change = .removed
        case "Tagged" where version >= 2: change = .tagged(try object("Tags"))
        case "Untagged" where version >= 2:
            guard let keys = try member("TagKeys").arrayValue, keys.allSatisfy({ $0.stringValue != nil }) else {
                throw EventDecodingError(reason: "TagKeys is not a list of strings")
            }
            change = .untagged(keys.compactMap(\.stringValue))
        case "Imported" where version >= 2: change = .imported(try ImportedRecord(json: try member("CloudTrail")))
        default: throw EventDecodingError(reason: "unknown event Type")
        }
    }
}
