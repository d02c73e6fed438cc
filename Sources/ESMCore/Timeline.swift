/// One changed field of a mapping, by path (`BatchSize`, `ProvisionedPollerConfig.MaximumPollers`).
public struct FieldChange: Sendable, Equatable {
    public var path: String
    /// nil when the field was absent before.
    public var before: JSON?
    /// nil when the field is absent after.
    public var after: JSON?

    public init(path: String, before: JSON?, after: JSON?) {
        self.path = path
        self.before = before
        self.after = after
    }
}

/// One event of the log as an auditor reads it: who did what to which mapping, and what changed.
public struct TimelineEntry: Sendable, Equatable {
    public var event: Event
    /// The API operation for user events (`UpdateEventSourceMapping`), or the transition for
    /// the system's (`Creating → Enabled`, `Deleting → removed`).
    public var operation: String
    public var stateBefore: MappingState?
    /// nil when the event removed the mapping.
    public var stateAfter: MappingState?
    /// Every field that differs between the mapping's response before and after the event
    /// (LastModified left out), State included.
    public var changes: [FieldChange]
    /// The mapping as GetEventSourceMapping showed it after the event (nil when removed).
    public var after: Mapping?
    /// The mapping before the event (nil for a create).
    public var before: Mapping?
    /// What the entry cannot show, said in words (imported history: a refused call, a
    /// transition CloudTrail did not record, a redacted field).
    public var notes: [String] = []
}

/// Folds events into timeline entries. Pure: it keeps the state it needs to diff.
public struct TimelineBuilder {
    private var projection = Projection()
    private let oneMapping: Bool

    /// - Parameter oneMapping: the events are those of one mapping alone, whose sequences skip
    ///   the other mappings' events (an entry depends on its own mapping's events only).
    public init(oneMapping: Bool = false) { self.oneMapping = oneMapping }

    /// The entry for the next event of the log.
    /// - Throws: `ProjectionError` when the event does not fit the log before it.
    public mutating func next(_ event: Event) throws(ProjectionError) -> TimelineEntry {
        if oneMapping, event.sequence > projection.lastSequence { projection.skip(to: event.sequence - 1) }
        let before = projection.mappings[event.uuid]
        try projection.apply(event)
        let after = projection.mappings[event.uuid]
        let changes = TimelineBuilder.diff(before.map(TimelineBuilder.auditView) ?? JSONObject(), after.map(TimelineBuilder.auditView) ?? JSONObject())
        var entry = TimelineEntry(event: event, operation: TimelineBuilder.operation(event, before: before), stateBefore: before?.state,
                                  stateAfter: after?.state, changes: changes, after: after, before: before)
        if case .imported(let r) = event.change { entry.notes = TimelineBuilder.notes(r, before: before) }
        return entry
    }

    /// What an imported record's entry says it cannot show.
    static func notes(_ r: ImportedRecord, before: Mapping?) -> [String] {
        var notes: [String] = []
        if let code = r.errorCode {
            notes.append("refused: \(code)\(r.errorMessage.map { ": " + $0 } ?? "") (nothing changed)")
            return notes
        }
        if let b = before, b.state.isTransitional, r.action != .tag, r.action != .untag {
            notes.append("\(b.state.rawValue) → ? not observed: CloudTrail does not record Lambda's own transitions")
        }
        if before == nil, r.action != .create, r.action != .tag, r.action != .untag {
            notes.append("first record of this mapping: its history before is not in the imported records")
        }
        if before == nil, r.action == .tag || r.action == .untag {
            notes.append("the mapping's configuration is not in the imported records: its tags cannot be followed")
        }
        for path in r.redacted { notes.append("\(path) redacted by CloudTrail: its value is unknown") }
        if let id = r.corrects { notes.append("corrects CloudTrail record \(id), which is left out (addendum UPDATED_DATA)") }
        return notes
    }

    /// The members an auditor compares: the response without LastModified, which moves on
    /// every event and is the event's time, plus the mapping's tags (which ListTags shows).
    public static func auditView(_ m: Mapping) -> JSONObject {
        var o = m.response.objectValue!
        o["LastModified"] = nil
        if !m.tags.isEmpty { o["Tags"] = .object(m.tags) }
        return o
    }

    static func operation(_ event: Event, before: Mapping?) -> String {
        switch event.change {
        case .created: "CreateEventSourceMapping"
        case .updated: "UpdateEventSourceMapping"
        case .deleteRequested: "DeleteEventSourceMapping"
        case .stateChanged(let from, let to): "\(from.rawValue) → \(to.rawValue)"
        case .removed: "\(before?.state.rawValue ?? "Deleting") → removed"
        case .tagged: "TagResource"
        case .untagged: "UntagResource"
        case .imported(let r):
            switch r.action {
            case .stateChange: "\(before?.state.rawValue ?? "?") → \(r.removed ? "removed" : r.state?.rawValue ?? "?")"
            default: r.errorCode == nil ? r.operation : "\(r.operation) (refused)"
            }
        }
    }

    /// Field-level differences between two objects: nested objects by dotted path, anything
    /// else (numbers, strings, lists) compared as a whole value.
    public static func diff(_ a: JSONObject, _ b: JSONObject, prefix: String = "") -> [FieldChange] {
        var out: [FieldChange] = []
        var keys = Set(a.keys)
        keys.formUnion(b.keys)
        for key in keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let path = prefix.isEmpty ? key : prefix + "." + key
            let x = a[key], y = b[key]
            if x == y { continue }
            if case .object(let xo)? = x, case .object(let yo)? = y, !xo.isEmpty || !yo.isEmpty {
                out += diff(xo, yo, prefix: path)
            } else if case .object(let yo)? = y, x == nil, !yo.isEmpty {
                out += diff(JSONObject(), yo, prefix: path)
            } else if case .object(let xo)? = x, y == nil, !xo.isEmpty {
                out += diff(xo, JSONObject(), prefix: path)
            } else {
                out.append(FieldChange(path: path, before: x, after: y))
            }
        }
        return out
    }
}

/// Which events an audit view covers.
public struct TimelineFilter: Sendable {
    public var mapping: String?
    public var since: EventTime?
    public var until: EventTime?

    public init(mapping: String? = nil, since: EventTime? = nil, until: EventTime? = nil) {
        self.mapping = mapping
        self.since = since
        self.until = until
    }

    public func includes(_ e: Event) -> Bool {
        if let mapping, e.uuid != mapping { return false }
        if let since, e.time < since { return false }
        if let until, e.time > until { return false }
        return true
    }
}
