/// ListTags, TagResource and UntagResource on event source mapping ARNs (Lambda API 2017-03-31).
///
/// Tags belong to the mapping but are not part of its ESM configuration: they never appear in
/// an ESM response, and changing them leaves LastModified and the state as they are. A change
/// is an event like any other (`Tagged`, `Untagged`); a request that changes nothing (a tag set
/// to the value it has, a key the mapping does not have) writes none.
extension Decider {
    /// Lambda's limit of tags on one resource.
    public static let tagsMax = 50

    /// The model's `TaggableResource` pattern.
    static let taggableResourcePattern = Pattern(
        #"arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"#,
        { s in (try? taggableResourceRegex.wholeMatch(in: s)) != nil })
    nonisolated(unsafe) static let taggableResourceRegex = try! Regex(
        #"arn:(aws[a-zA-Z\-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9\-_]+(:(\$LATEST|[a-zA-Z0-9\-_]+))?|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9\-_]+)"#)

    static let tagsShape: Shape = .map(key: .string(min: 1, max: 128), value: .string(min: 0, max: 256))

    /// The mapping a tag request's resource ARN names (its UUID), as the caller sees the state.
    /// - Returns: `ValidationException` for an ARN outside the model's pattern;
    ///   `ResourceNotFoundException` for a mapping that does not exist (or is another account's),
    ///   and for the other taggable resources, which esmlog does not hold.
    public static func taggedMapping(_ resource: String, state: some MappingLookup) -> Result<String, AWSError> {
        var checker = ShapeChecker()
        _ = try? checker.check(.string(resource), .string(min: 1, max: 256, pattern: taggableResourcePattern), path: "resource")
        if let message = checker.message { return .failure(.validation(message)) }
        let parts = resource.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 7, parts[5] == "event-source-mapping" else {
            let what = parts.count > 5 && parts[5] == "function" ? "Function" : "Resource"
            return .failure(AWSError(code: "ResourceNotFoundException", status: 404, message: "\(what) not found: \(resource)",
                                     messageMember: "Message", type: "User"))
        }
        let uuid = String(parts[6])
        guard let mapping = state.mapping(uuid), mapping.configuration["EventSourceMappingArn"]?.stringValue == resource else {
            return .failure(mappingNotFound(resource))
        }
        return .success(uuid)
    }

    /// The UUID part of a mapping ARN, read without checking anything (the decision checks):
    /// what a tag request's change is queued under.
    public static func mappingUUID(inResource resource: String) -> String {
        let parts = resource.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count >= 7 ? String(parts[6]) : resource
    }

    static func mappingNotFound(_ resource: String) -> AWSError {
        AWSError(code: "ResourceNotFoundException", status: 404, message: "Event source mapping not found: \(resource)",
                 messageMember: "Message", type: "User")
    }

    /// ListTags: the mapping's tags.
    public static func listTags(_ resource: String, state: some MappingLookup) -> Result<JSONObject, AWSError> {
        taggedMapping(resource, state: state).map { state.mapping($0)!.tags }
    }

    /// TagResource: `body` is `{"Tags": {...}}`, merged into the mapping's tags.
    /// - Returns: the decision, or nil when every tag already has that value.
    public static func tag(_ resource: String, body: JSON, context: CommandContext, state: some MappingLookup) -> Result<Decision?, AWSError> {
        let request: JSONObject
        switch checkShape(body, .structure([.init("Tags", tagsShape)]), required: ["Tags"]) {
        case .success(let r): request = r
        case .failure(let e): return .failure(e)
        }
        let uuid: String
        switch taggedMapping(resource, state: state) {
        case .success(let u): uuid = u
        case .failure(let e): return .failure(e)
        }
        let tags = request["Tags"]?.objectValue ?? JSONObject()
        let current = state.mapping(uuid)!.tags
        var merged = current
        for t in tags { merged[t.key] = t.value }
        if let e = checkTagRules(tags, total: merged.count) { return .failure(e) }
        var changed = JSONObject()
        for t in tags where current[t.key] != t.value { changed[t.key] = t.value }
        guard !changed.isEmpty else { return .success(nil) }
        return .success(Decision(uuid: uuid, time: context.time, actor: context.actor, change: .tagged(changed)))
    }

    /// UntagResource: `keys` from the `tagKeys` query parameters.
    /// - Returns: the decision, or nil when the mapping has none of the keys.
    public static func untag(_ resource: String, keys: [String], context: CommandContext, state: some MappingLookup) -> Result<Decision?, AWSError> {
        var checker = ShapeChecker()
        _ = try? checker.check(.array(keys.map { .string($0) }), .list(of: .string(min: 1, max: 128)), path: "tagKeys")
        if let message = checker.message { return .failure(.validation(message)) }
        let uuid: String
        switch taggedMapping(resource, state: state) {
        case .success(let u): uuid = u
        case .failure(let e): return .failure(e)
        }
        let current = state.mapping(uuid)!.tags
        var removed: [String] = []
        for key in keys where current[key] != nil && !removed.contains(key) { removed.append(key) }
        guard !removed.isEmpty else { return .success(nil) }
        return .success(Decision(uuid: uuid, time: context.time, actor: context.actor, change: .untagged(removed)))
    }

    /// The tag rules past the model's lengths, on create and on TagResource: keys starting with
    /// `aws:` are AWS's, and a resource holds at most `tagsMax` tags.
    static func checkTagRules(_ tags: JSONObject, total: Int) -> AWSError? {
        if let reserved = tags.keys.first(where: { $0.lowercased().hasPrefix("aws:") }) {
            return .invalidParameter("Tag keys starting with 'aws:' are reserved for AWS use: \(reserved)")
        }
        if total > tagsMax {
            return .invalidParameter("Number of tags exceeds resource tag limit. A resource can have at most \(tagsMax) tags.")
        }
        return nil
    }
}
