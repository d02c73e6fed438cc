import ESMCore

/// What an export covers, stated at its top so a reviewer can check it against `esmlog verify`.
public struct ExportCoverage: Sendable {
    /// The sequence range of the log that was read (not only of the events shown).
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    /// The chain hash after the last event read.
    public var headHash: String
    /// "ok", or the problems `esmlog verify` would list.
    public var verification: String
    /// The filter applied, in words.
    public var filter: String
    /// The newest signed checkpoint at or before the last sequence that the log agrees with (its
    /// signature is checked by `esmlog verify --public-key`, not here).
    public var checkpoint: CheckpointNote?

    public struct CheckpointNote: Sendable {
        public var sequence: UInt64
        public var time: String
        public var publicKey: String
        public init(sequence: UInt64, time: String, publicKey: String) {
            self.sequence = sequence
            self.time = time
            self.publicKey = publicKey
        }
    }

    public init(firstSequence: UInt64, lastSequence: UInt64, headHash: String, verification: String, filter: String) {
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.headHash = headHash
        self.verification = verification
        self.filter = filter
    }

    public var json: JSON {
        var o = JSONObject([("FirstSequence", .number(Double(firstSequence))), ("LastSequence", .number(Double(lastSequence))),
                            ("HeadHash", .string(headHash)), ("Verification", .string(verification)), ("Filter", .string(filter))])
        if let c = checkpoint {
            o["Checkpoint"] = ["Sequence": .number(Double(c.sequence)), "Time": .string(c.time), "PublicKey": .string(c.publicKey)]
        }
        return .object(o)
    }

    /// The coverage in one line, as the text formats state it.
    public var line: String {
        var s = "log events \(firstSequence)-\(lastSequence), head hash \(headHash), verification: \(verification)"
        if let c = checkpoint { s += ", signed checkpoint at sequence \(c.sequence) (\(c.time))" }
        return s
    }
}

extension Actor {
    /// Who, as the text views name it: the principal ARN CloudTrail gave (imported history),
    /// else the access key id.
    public var principal: String {
        if let arn = identity?["PrincipalArn"]?.stringValue { return arn }
        return accessKeyId.isEmpty ? "(unsigned)" : accessKeyId
    }
}

/// A value as a person reads it: strings bare, everything else as JSON, absence as "(none)".
func display(_ v: JSON?) -> String {
    guard let v else { return "(none)" }
    if case .string(let s) = v { return s }
    return v.canonicalString
}

extension TimelineEntry {
    /// The entry with stable member names: one line of JSONL, one element of `timeline --format json`.
    public var json: JSON {
        var o = JSONObject()
        o["Sequence"] = .number(Double(event.sequence))
        o["Time"] = .string(event.time.description)
        o["UUID"] = .string(event.uuid)
        o["Operation"] = .string(operation)
        o["Initiator"] = .string(event.actor == nil ? "System" : "User")
        if let a = event.actor {
            o["Actor"] = a.json
        }
        o["StateBefore"] = stateBefore.map { .string($0.rawValue) } ?? .null
        o["StateAfter"] = stateAfter.map { .string($0.rawValue) } ?? .null
        o["Changes"] = .array(changes.map { c in
            ["Field": .string(c.path), "Before": c.before ?? .null, "After": c.after ?? .null]
        })
        if case .imported(let r) = event.change {
            o["CloudTrail"] = ["EventID": .string(r.eventID), "EventName": .string(r.eventName), "Account": .string(r.account),
                               "Region": .string(r.region), "EventSourceMappingArn": .string(r.arn),
                               "ErrorCode": r.errorCode.map { .string($0) } ?? .null]
        }
        if !notes.isEmpty { o["Notes"] = .array(notes.map { .string($0) }) }
        return .object(o)
    }
}

/// The terminal timeline: one line per event, its changes indented below it.
public struct TextTimeline {
    public var color: Bool
    public var showUUID: Bool

    public init(color: Bool, showUUID: Bool) {
        self.color = color
        self.showUUID = showUUID
    }

    func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    /// The lines for one entry.
    public func render(_ e: TimelineEntry) -> String {
        let states = "\(e.stateBefore?.rawValue ?? "-") → \(e.stateAfter?.rawValue ?? "removed")"
        var who = "system"
        if let a = e.event.actor {
            who = "\(a.principal)\(a.verified ? " (verified)" : "") from \(a.sourceIp) request \(a.requestId) [\(a.userAgent.split(separator: " ").first ?? "")]"
        }
        var line = "\(e.event.time)  #\(TextTimeline.pad(String(e.event.sequence), 6)) "
        if showUUID { line += " \(e.event.uuid) " }
        line += " \(paint(TextTimeline.pad(e.operation, 25), "1"))  \(TextTimeline.pad(states, 22))  \(who)"
        var out = [line]
        for c in e.changes where c.path != "State" {
            out.append("      \(c.path): \(paint(TextTimeline.oneLine(c.before), "31")) → \(paint(TextTimeline.oneLine(c.after), "32"))")
        }
        for n in e.notes { out.append("      note: \(n)") }
        return out.joined(separator: "\n")
    }

    /// A value on one terminal line: strings with line breaks or other control characters are
    /// shown as quoted JSON literals, so a value can never pass for a line of its own.
    static func oneLine(_ v: JSON?) -> String {
        if case .string(let s)? = v, s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return JSON.string(s).canonicalString
        }
        return display(v)
    }
}

/// CSV with one row per changed field (RFC 4180: CRLF line ends, fields with a comma, quote or
/// line break quoted, quotes doubled).
public enum CSVExport {
    public static let columns = [
        "sequence", "time", "uuid", "operation", "initiator", "access_key_id", "principal_arn", "source_ip", "user_agent", "request_id",
        "region", "state_before", "state_after", "field", "before", "after",
    ]

    public static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    public static func line(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\r\n" }

    public static var header: String { line(columns) }

    /// The rows for one entry: one per changed field (every event changes at least State).
    public static func rows(_ e: TimelineEntry) -> String {
        let a = e.event.actor
        let common = [
            String(e.event.sequence), e.event.time.description, e.event.uuid, e.operation, a == nil ? "System" : "User",
            a?.accessKeyId ?? "", a?.identity?["PrincipalArn"]?.stringValue ?? "", a?.sourceIp ?? "", a?.userAgent ?? "", a?.requestId ?? "", a?.region ?? "",
            e.stateBefore?.rawValue ?? "", e.stateAfter?.rawValue ?? "",
        ]
        let changes = e.changes.isEmpty ? [FieldChange(path: "", before: nil, after: nil)] : e.changes
        return changes.map { c in
            line(common + [c.path, c.before.map(display) ?? "", c.after.map(display) ?? ""])
        }.joined()
    }
}

/// Records shaped like AWS CloudTrail management events, for tools built for CloudTrail.
public enum CloudTrailExport {
    /// CloudTrail's names for the ESM operations carry the API version.
    public static func eventName(_ e: TimelineEntry) -> String {
        switch e.event.change {
        case .created: "CreateEventSourceMapping20150331"
        case .updated: "UpdateEventSourceMapping20150331"
        case .deleteRequested: "DeleteEventSourceMapping20150331"
        case .stateChanged, .removed: "EventSourceMappingStateChange"
        case .tagged: "TagResource20170331v2"
        case .untagged: "UntagResource20170331v2"
        case .imported(let r): r.action == .stateChange ? "EventSourceMappingStateChange" : r.eventName
        }
    }

    /// The account in the mapping's ARN.
    static func account(_ e: TimelineEntry) -> String {
        (e.after ?? e.before)?.account ?? ""
    }

    /// A stable event id in UUID form: the same event gets the same id in every export, and no
    /// two events of a log share one. The first 18 hex digits are a hash of the mapping and the
    /// event's time; the last 12 are the event's sequence, which is unique in its log.
    static func eventID(_ e: TimelineEntry) -> String {
        func fnv(_ seed: UInt64) -> UInt64 {
            var h: UInt64 = seed
            for b in "\(e.event.uuid):\(e.event.time.milliseconds)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return h
        }
        func hex(_ v: UInt64, _ digits: Int) -> [Character] {
            let h = String(v, radix: 16)
            return Array(String(repeating: "0", count: max(0, digits - h.count)) + h.suffix(digits))
        }
        let h = hex(fnv(0xcbf2_9ce4_8422_2325), 16) + hex(fnv(0x8422_2325_cbf2_9ce4), 16)
        let sequence = hex(e.event.sequence & 0xFFFF_FFFF_FFFF, 12)
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-8" + String(h[12..<15]) + "-a" + String(h[15..<18]) + "-" + String(sequence)
    }

    public static func record(_ e: TimelineEntry) -> JSON {
        var o = JSONObject()
        let account = account(e)
        o["eventVersion"] = "1.09"
        o["eventTime"] = .string(String(e.event.time.description.prefix(19)) + "Z")
        o["eventSource"] = "lambda.amazonaws.com"
        o["eventName"] = .string(eventName(e))
        o["eventID"] = .string(eventID(e))
        o["readOnly"] = false
        o["managementEvent"] = true
        o["eventCategory"] = "Management"
        o["recipientAccountId"] = .string(account)
        if let a = e.event.actor {
            let type = a.accessKeyId.hasPrefix("ASIA") ? "AssumedRole" : a.accessKeyId.hasPrefix("AKIA") ? "IAMUser" : "Unknown"
            o["userIdentity"] = ["type": .string(type), "accessKeyId": .string(a.accessKeyId), "accountId": .string(account)]
            o["eventType"] = "AwsApiCall"
            o["awsRegion"] = .string(a.region)
            o["sourceIPAddress"] = .string(a.sourceIp)
            o["userAgent"] = .string(a.userAgent)
            o["requestID"] = .string(a.requestId)
            var parameters = JSONObject()
            switch e.event.change {
            case .created(_, _, _, _, _, let request): parameters = request
            case .updated(_, _, _, _, let request):
                parameters = request
                parameters["uUID"] = .string(e.event.uuid)
            case .tagged(let tags): parameters = tagParameters(mappingArn(e), tags: tags, keys: nil)
            case .untagged(let keys): parameters = tagParameters(mappingArn(e), tags: nil, keys: keys)
            default: parameters["uUID"] = .string(e.event.uuid)
            }
            o["requestParameters"] = .object(parameters)
            switch e.event.change {
            case .tagged, .untagged: o["responseElements"] = .null  // TagResource and UntagResource answer 204
            default: o["responseElements"] = (e.after ?? e.before)?.response ?? .null
            }
        } else {
            o["userIdentity"] = ["type": "AWSService", "invokedBy": "lambda.amazonaws.com"]
            o["eventType"] = "AwsServiceEvent"
            o["awsRegion"] = .string(regionOf(e))
            o["sourceIPAddress"] = "lambda.amazonaws.com"
            o["userAgent"] = "lambda.amazonaws.com"
            o["serviceEventDetails"] = [
                "uUID": .string(e.event.uuid), "fromState": .string(e.stateBefore?.rawValue ?? ""),
                "toState": .string(e.stateAfter?.rawValue ?? "Deleted"),
            ]
        }
        // esmlog's own members, so that importing this export gives the same timeline: the
        // event's time to the millisecond and its place in the log.
        o["additionalEventData"] = ["esmlogSequence": .number(Double(e.event.sequence)),
                                    "esmlogTimeMilliseconds": .number(Double(e.event.time.milliseconds))]
        if case .imported(let r) = e.event.change { imported(r, e, into: &o) }
        return .object(o)
    }

    /// An imported record goes back out as the record it came from: its own eventID, request
    /// id, region, account, parameters and error.
    static func imported(_ r: ImportedRecord, _ e: TimelineEntry, into o: inout JSONObject) {
        o["eventID"] = .string(r.eventID)
        o["recipientAccountId"] = .string(r.account)
        o["awsRegion"] = .string(r.region)
        if let id = r.requestID { o["requestID"] = .string(id) }
        // The record's own order, not the imported event's place in this log.
        var extra = JSONObject([("esmlogTimeMilliseconds", .number(Double(e.event.time.milliseconds)))])
        if let order = r.order { extra["esmlogSequence"] = .number(Double(order)) }
        o["additionalEventData"] = .object(extra)
        if let a = e.event.actor {
            var identity = JSONObject()
            for m in a.identity ?? JSONObject() {
                switch m.key {
                case "PrincipalArn": identity["arn"] = m.value
                case "SessionIssuerArn": identity["sessionContext"] = ["sessionIssuer": ["arn": m.value]]
                case "Console": o["sessionCredentialFromConsole"] = "true"
                default: identity[ShapeChecker.camel(m.key)] = m.value
                }
            }
            identity["accessKeyId"] = .string(a.accessKeyId)
            if let account = a.account { identity["accountId"] = .string(account) }
            o["userIdentity"] = .object(identity)
        }
        var parameters = r.request
        switch r.action {
        case .tag, .untag: parameters = tagParameters(r.arn, tags: r.tags, keys: r.tagKeys)
        case .update, .delete: parameters["uUID"] = .string(e.event.uuid)
        default: break
        }
        if e.event.actor != nil { o["requestParameters"] = .object(parameters) }
        if let code = r.errorCode {
            o["errorCode"] = .string(code)
            if let message = r.errorMessage { o["errorMessage"] = .string(message) }
            o["responseElements"] = .null
        }
        if r.action == .disabled {
            o["eventName"] = "LambdaESMDisabled"
            o["resources"] = [["ARN": .string(r.arn), "accountId": .string(r.account), "type": "AWS::Lambda::EventSourceMapping"]]
            o["serviceEventDetails"] = ["ESMDisableReason": .string(r.stateTransitionReason ?? "")]
        }
    }

    /// TagResource's `{resource, tags}` and UntagResource's `{resource, tagKeys}`.
    static func tagParameters(_ arn: String, tags: JSONObject?, keys: [String]?) -> JSONObject {
        var parameters = JSONObject([("resource", .string(arn))])
        if let tags { parameters["tags"] = .object(tags) }
        if let keys { parameters["tagKeys"] = .array(keys.map { .string($0) }) }
        return parameters
    }

    static func mappingArn(_ e: TimelineEntry) -> String {
        (e.after ?? e.before)?.configuration["EventSourceMappingArn"]?.stringValue ?? ""
    }

    static func regionOf(_ e: TimelineEntry) -> String {
        let arn = mappingArn(e)
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count > 3 ? String(parts[3]) : ""
    }
}
