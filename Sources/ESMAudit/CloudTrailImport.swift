import ESMCore

/// A CloudTrail record of an event source mapping call, ready to be appended to a log.
public struct ImportedEvent: Sendable, Equatable {
    public var time: EventTime
    public var uuid: String
    /// The caller; nil when Lambda itself acted (`userIdentity.type` `AWSService`).
    public var actor: Actor?
    public var record: ImportedRecord

    public func event(sequence: UInt64) -> Event {
        Event(sequence: sequence, time: time, uuid: uuid, actor: actor, change: .imported(record))
    }
}

/// Why a document or a record could not be read; `where` names the place in the document.
public struct CloudTrailReadError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// Reads CloudTrail's containers and records (see docs/log-format.md, "Imported history").
public enum CloudTrailReader {
    /// What one record is.
    public enum Outcome: Sendable {
        case mapping(ImportedEvent)
        /// Not a write on an event source mapping (another service, a read, a function call).
        case other
    }

    /// The records of one document, whatever its container: a trail file (`{"Records": [...]}`,
    /// esmlog's own `export --format cloudtrail` too), `aws cloudtrail lookup-events` output
    /// (`{"Events": [{"CloudTrailEvent": "<record as a string>"}]}`, pages one after another), JSON
    /// Lines of records, of EventBridge events (`detail`) or of Athena rows (lower-case column
    /// names, request and response as JSON strings).
    public static func records(in bytes: [UInt8], _ visit: (Item) throws -> Void) throws {
        if try trailFile(bytes, visit) { return }
        var index = 0
        do {
            try JSON.parseSequence(bytes) { value, offset in
                guard let o = value.objectValue else {
                    throw CloudTrailReadError(reason: "offset \(offset): a \(value.typeName) where a JSON object belongs")
                }
                if let records = o["Records"] {
                    guard let list = records.arrayValue else { throw CloudTrailReadError(reason: "offset \(offset): Records is not a list") }
                    for (i, r) in list.enumerated() {
                        guard r.objectValue != nil else {
                            throw CloudTrailReadError(reason: "offset \(offset): record \(i + 1) of Records is a \(r.typeName), not an object")
                        }
                        try visit(.record(r))
                    }
                } else if let events = o["Events"] {
                    guard let list = events.arrayValue else { throw CloudTrailReadError(reason: "offset \(offset): Events is not a list") }
                    for (i, e) in list.enumerated() {
                        guard let text = e["CloudTrailEvent"]?.stringValue else {
                            throw CloudTrailReadError(reason: "offset \(offset): event \(i + 1) of Events has no CloudTrailEvent string")
                        }
                        let record: JSON
                        do { record = try JSON.parse(text) } catch {
                            throw CloudTrailReadError(reason: "offset \(offset): the CloudTrailEvent of event \(i + 1) is not JSON: \(error)")
                        }
                        guard record.objectValue != nil else {
                            throw CloudTrailReadError(reason: "offset \(offset): the CloudTrailEvent of event \(i + 1) is not an object")
                        }
                        try visit(.record(record))
                    }
                } else if let detail = o["detail"], o["detail-type"] != nil {
                    guard detail.objectValue != nil else { throw CloudTrailReadError(reason: "offset \(offset): detail is not an object") }
                    try visit(.record(detail))
                } else if o["eventSource"] != nil || o["eventID"] != nil {
                    try visit(.record(value))
                } else if o["eventsource"] != nil || o["eventid"] != nil {
                    try visit(.record(athena(o)))
                } else {
                    throw CloudTrailReadError(reason: "offset \(offset): not a CloudTrail record, trail file or lookup-events page")
                }
                index += 1
            }
        } catch let e as JSONParseError {
            throw CloudTrailReadError(reason: "not valid JSON: \(e)")
        }
    }

    /// One record of a document.
    public enum Item {
        case record(JSON)
        /// A trail file's record that does not mention Lambda's service at all: not an event
        /// source mapping record, so it is checked for syntax but not built.
        case skipped
    }

    static let lambdaService = Array("lambda.amazonaws.com".utf8)

    /// The fast path for trail files, one `{"Records": [...]}` object: every record's syntax is
    /// checked, and only those that mention `lambda.amazonaws.com` are built.
    /// - Returns: false when the document is not one such object (the general reader takes it).
    static func trailFile(_ bytes: [UInt8], _ visit: (Item) throws -> Void) throws -> Bool {
        let records: [Range<Int>]
        do {
            guard let found = try JSON.elements(ofMember: "Records", in: bytes) else { return false }
            records = found
        } catch let e as JSONParseError {
            throw CloudTrailReadError(reason: "not valid JSON: \(e)")
        }
        for (i, r) in records.enumerated() {
            guard bytes[r.lowerBound] == UInt8(ascii: "{") else {
                throw CloudTrailReadError(reason: "offset \(r.lowerBound): record \(i + 1) of Records is not an object")
            }
            if contains(bytes[r], lambdaService) {
                try visit(.record(try JSON.parse(bytes[r])))
            } else {
                try visit(.skipped)
            }
        }
        return true
    }

    static func contains(_ hay: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, hay.count >= needle.count else { return false }
        var i = hay.startIndex
        let last = hay.endIndex - needle.count
        while i <= last {
            if hay[i] == first, hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// An Athena row as the record it came from: column names back to CloudTrail's, and the
    /// columns Athena keeps as JSON text parsed.
    static func athena(_ o: JSONObject) -> JSON {
        let names = ["eventversion": "eventVersion", "useridentity": "userIdentity", "eventtime": "eventTime", "eventsource": "eventSource",
                     "eventname": "eventName", "awsregion": "awsRegion", "sourceipaddress": "sourceIPAddress", "useragent": "userAgent",
                     "errorcode": "errorCode", "errormessage": "errorMessage", "requestparameters": "requestParameters",
                     "responseelements": "responseElements", "additionaleventdata": "additionalEventData", "requestid": "requestID",
                     "eventid": "eventID", "resources": "resources", "eventtype": "eventType", "recipientaccountid": "recipientAccountId",
                     "serviceeventdetails": "serviceEventDetails", "readonly": "readOnly", "sessioncredentialfromconsole": "sessionCredentialFromConsole"]
        var out = JSONObject()
        for m in o {
            let key = names[m.key] ?? m.key
            if case .string(let text) = m.value, ["requestParameters", "responseElements", "userIdentity", "serviceEventDetails",
                                                    "additionalEventData", "resources"].contains(key),
               let parsed = try? JSON.parse(text) {
                out[key] = parsed
            } else {
                out[key] = m.value
            }
        }
        return .object(out)
    }

    /// `CreateEventSourceMapping20150331`, `TagResource20170331v2` → the API action's name.
    public static func baseName(_ name: String) -> String {
        var s = Substring(name)
        if let v = s.lastIndex(of: "v"), s[s.index(after: v)...].allSatisfy(\.isNumber), !s[s.index(after: v)...].isEmpty,
           s[..<v].suffix(8).count == 8, s[..<v].suffix(8).allSatisfy(\.isNumber) {
            s = s[..<v]
        }
        if s.count > 8, s.suffix(8).allSatisfy(\.isNumber) { s = s.dropLast(8) }
        return String(s)
    }

    /// The API's member names from CloudTrail's (only the first character lower-cased:
    /// `uUID`, `kMSKeyArn`, `batchSize`); tag keys are the caller's and stay as they are.
    public static func apiNames(_ v: JSON) -> JSON {
        switch v {
        case .object(let o):
            var out = JSONObject()
            for m in o {
                let key = m.key.prefix(1).uppercased() + m.key.dropFirst()
                out[key] = key == "Tags" ? m.value : apiNames(m.value)
            }
            return .object(out)
        case .array(let a): return .array(a.map(apiNames))
        default: return v
        }
    }

    static let mappingMarker = ":event-source-mapping:"

    /// Reads one record.
    public static func record(_ r: JSON) throws -> Outcome {
        guard r["eventSource"]?.stringValue == "lambda.amazonaws.com", let rawName = r["eventName"]?.stringValue else { return .other }
        let name = baseName(rawName)
        let action: ImportedRecord.Action
        switch name {
        case "CreateEventSourceMapping": action = .create
        case "UpdateEventSourceMapping": action = .update
        case "DeleteEventSourceMapping": action = .delete
        case "TagResource": action = .tag
        case "UntagResource": action = .untag
        case "LambdaESMDisabled": action = .disabled
        case "EventSourceMappingStateChange": action = .stateChange
        default: return .other
        }
        guard let eventID = r["eventID"]?.stringValue, !eventID.isEmpty else { throw CloudTrailReadError(reason: "a \(rawName) record has no eventID") }
        let extra = r["additionalEventData"]
        var time: EventTime
        if let ms = extra?["esmlogTimeMilliseconds"]?.intValue {
            time = EventTime(milliseconds: Int64(ms))
        } else {
            guard let text = r["eventTime"]?.stringValue, let t = EventTime(rfc3339: text) else {
                throw CloudTrailReadError(reason: "record \(eventID) has no eventTime in ISO 8601")
            }
            time = t
        }
        let identity = r["userIdentity"]?.objectValue ?? JSONObject()
        let region = r["awsRegion"]?.stringValue ?? ""
        let request = apiNames(r["requestParameters"] ?? .object(JSONObject())).objectValue ?? JSONObject()
        let response = apiNames(r["responseElements"] ?? .null).objectValue
        let details = apiNames(r["serviceEventDetails"] ?? .null).objectValue
        let errorCode = r["errorCode"]?.stringValue

        // Which mapping: the answer's ARN, else the resource or UUID the call named.
        var arn = response?["EventSourceMappingArn"]?.stringValue
        if arn == nil, action == .tag || action == .untag { arn = request["Resource"]?.stringValue }
        if arn == nil, action == .disabled {
            arn = r["resources"]?.arrayValue?.compactMap { $0["ARN"]?.stringValue }.first { $0.contains(mappingMarker) }
                ?? details?["EventSourceMappingArn"]?.stringValue
        }
        let account = r["recipientAccountId"]?.stringValue ?? identity["accountId"]?.stringValue ?? ""
        if arn == nil, let uuid = request["UUID"]?.stringValue ?? details?["UUID"]?.stringValue {
            let partition = identity["arn"]?.stringValue?.split(separator: ":").dropFirst().first.map(String.init) ?? "aws"
            arn = "arn:\(partition):lambda:\(region):\(account):event-source-mapping:\(uuid)"
        }
        guard let arn, arn.contains(mappingMarker) else {
            // A tag call on a function, or a refused call that names no mapping.
            if action == .tag || action == .untag { return .other }
            throw CloudTrailReadError(reason: "record \(eventID) (\(rawName)) names no event source mapping")
        }
        let uuid = String(arn.split(separator: ":").last!)

        var configuration: JSONObject?
        var state: MappingState?
        var removed = false
        var reason: String?
        var redacted: [String] = []
        if let response, errorCode == nil {
            var c = response
            state = c["State"]?.stringValue.flatMap(MappingState.init(rawValue:))
            reason = c["StateTransitionReason"]?.stringValue
            for k in ["UUID", "State", "StateTransitionReason", "LastModified"] { c[k] = nil }
            // CloudTrail shows a mapping's filter as {} (encrypted filters, and every filter since
            // 2024-08-06); a real FilterCriteria is never empty (an empty one is left out).
            // (An esmlog export of imported history carries the redacted marker itself.)
            if let f = c["FilterCriteria"], f == .object(JSONObject()) || f == ImportedRecord.redactedValue {
                c["FilterCriteria"] = ImportedRecord.redactedValue
                redacted.append("FilterCriteria")
            }
            if !c.isEmpty { configuration = c }
        }
        switch action {
        case .disabled:
            state = .disabled
            reason = details?["ESMDisableReason"]?.stringValue ?? details.map { JSON.object($0).canonicalString }
        case .stateChange:
            let to = details?["ToState"]?.stringValue
            removed = to == "Deleted"
            state = to.flatMap(MappingState.init(rawValue:))
        default: break
        }
        var tags: JSONObject?
        var tagKeys: [String]?
        switch action {
        case .create: tags = request["Tags"]?.objectValue
        case .tag: tags = request["Tags"]?.objectValue ?? JSONObject()
        case .untag: tagKeys = (request["TagKeys"]?.arrayValue ?? []).compactMap(\.stringValue)
        default: break
        }
        var cleanRequest = request
        if case .object(let f)? = cleanRequest["FilterCriteria"], f.isEmpty {
            cleanRequest["FilterCriteria"] = ImportedRecord.redactedValue
        }
        let record = ImportedRecord(
            action: action, eventName: rawName, eventID: eventID, requestID: r["requestID"]?.stringValue,
            account: account.isEmpty ? String(arn.split(separator: ":", omittingEmptySubsequences: false).dropFirst(4).first ?? "") : account,
            region: region, arn: arn, configuration: configuration, state: state, removed: removed, stateTransitionReason: reason,
            request: cleanRequest, tags: tags, tagKeys: tagKeys, errorCode: errorCode, errorMessage: r["errorMessage"]?.stringValue,
            redacted: redacted, order: extra?["esmlogSequence"]?.intValue.map { UInt64($0) },
            corrects: r["addendum"]?["reason"]?.stringValue == "UPDATED_DATA" ? r["addendum"]?["originalEventID"]?.stringValue : nil)
        return .mapping(ImportedEvent(time: time, uuid: uuid, actor: actor(r, identity), record: record))
    }

    /// The caller, from `userIdentity`; nil for Lambda itself.
    static func actor(_ r: JSON, _ u: JSONObject) -> Actor? {
        let type = u["type"]?.stringValue ?? ""
        if type == "AWSService" || (u.isEmpty && r["eventType"]?.stringValue == "AwsServiceEvent") { return nil }
        var identity = JSONObject()
        identity["Type"] = .string(type)
        if let v = u["arn"]?.stringValue { identity["PrincipalArn"] = .string(v) }
        if let v = u["principalId"]?.stringValue { identity["PrincipalId"] = .string(v) }
        if let v = u["userName"]?.stringValue { identity["UserName"] = .string(v) }
        if let v = u["sessionContext"]?["sessionIssuer"]?["arn"]?.stringValue { identity["SessionIssuerArn"] = .string(v) }
        if let v = u["invokedBy"]?.stringValue { identity["InvokedBy"] = .string(v) }
        if r["sessionCredentialFromConsole"]?.stringValue == "true" { identity["Console"] = true }
        return Actor(accessKeyId: u["accessKeyId"]?.stringValue ?? "", sourceIp: r["sourceIPAddress"]?.stringValue ?? "",
                     userAgent: r["userAgent"]?.stringValue ?? "", requestId: r["requestID"]?.stringValue ?? "",
                     region: r["awsRegion"]?.stringValue ?? "", verified: false, account: u["accountId"]?.stringValue,
                     identity: identity)
    }
}
