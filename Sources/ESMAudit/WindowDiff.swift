import ESMCore

/// A point of the log that an audit view starts or ends at: after an event's sequence, or after
/// the last event at or before a time.
public enum LogPoint: Sendable, Equatable {
    case sequence(UInt64)
    case time(EventTime)

    /// Whether `event` is at or before the point.
    public func covers(_ event: Event) -> Bool {
        switch self {
        case .sequence(let s): event.sequence <= s
        case .time(let t): event.time <= t
        }
    }

    public var json: JSON {
        switch self {
        case .sequence(let s): ["Sequence": .number(Double(s))]
        case .time(let t): ["Time": .string(t.description)]
        }
    }

    public var description: String {
        switch self {
        case .sequence(let s): "after sequence \(s)"
        case .time(let t): "at \(t)"
        }
    }
}

/// One change of one field, and who made it.
public struct FieldEdit: Sendable, Equatable {
    public var sequence: UInt64
    public var time: EventTime
    public var operation: String
    public var actor: Actor?
    public var before: JSON?
    public var after: JSON?

    init(_ e: TimelineEntry, _ c: FieldChange) {
        sequence = e.event.sequence
        time = e.event.time
        operation = e.operation
        actor = e.event.actor
        before = c.before
        after = c.after
    }

    public var json: JSON {
        var o = JSONObject()
        o["Sequence"] = .number(Double(sequence))
        o["Time"] = .string(time.description)
        o["Operation"] = .string(operation)
        o["Actor"] = actor?.json ?? .null
        o["Before"] = before ?? .null
        o["After"] = after ?? .null
        return .object(o)
    }

    /// `AKIDALICE` / `system`, as the text views show who.
    public var who: String { actor?.principal ?? "system" }
}

/// What changed between two points of the log: the mappings created and deleted in between,
/// and for each mapping that changed, each field's value at the start and at the end with every
/// change between them. State is given as the mapping's state at each end, not as a field, and
/// a mapping removed in the window ends "(removed)" rather than with every field gone.
public struct WindowDiff: Sendable {
    public struct Field: Sendable {
        public var path: String
        /// nil: absent at the start (or the mapping did not exist).
        public var start: JSON?
        public var end: JSON?
        public var edits: [FieldEdit]
    }

    public struct MappingChanges: Sendable {
        public var uuid: String
        public var stateAtStart: MappingState?
        public var stateAtEnd: MappingState?
        public var created: Bool
        public var deleted: Bool
        public var fields: [Field]
    }

    public var from: LogPoint
    public var to: LogPoint
    /// In the order of each mapping's first event in the window.
    public var mappings: [MappingChanges]

    public var created: [String] { mappings.filter(\.created).map(\.uuid) }
    public var deleted: [String] { mappings.filter(\.deleted).map(\.uuid) }

    public var json: JSON {
        var o = JSONObject()
        o["From"] = from.json
        o["To"] = to.json
        o["Created"] = .array(created.map { .string($0) })
        o["Deleted"] = .array(deleted.map { .string($0) })
        o["Mappings"] = .array(mappings.map { m in
            var j = JSONObject()
            j["UUID"] = .string(m.uuid)
            j["Created"] = .bool(m.created)
            j["Deleted"] = .bool(m.deleted)
            j["StateAtStart"] = m.stateAtStart.map { .string($0.rawValue) } ?? .null
            j["StateAtEnd"] = m.stateAtEnd.map { .string($0.rawValue) } ?? .null
            j["Fields"] = .array(m.fields.map { f in
                ["Field": .string(f.path), "Start": f.start ?? .null, "End": f.end ?? .null, "Changes": .array(f.edits.map(\.json))]
            })
            return .object(j)
        })
        return .object(o)
    }

    /// Aligned for a terminal.
    public func text() -> String {
        var lines = ["diff \(from.description) → \(to.description): \(mappings.count) mapping(s) changed, \(created.count) created, \(deleted.count) deleted"]
        for m in mappings {
            var marks: [String] = []
            if m.created { marks.append("created") }
            if m.deleted { marks.append("deleted") }
            let state = "state \(m.stateAtStart?.rawValue ?? "(none)") → \(m.stateAtEnd?.rawValue ?? "(removed)")"
            lines.append("")
            lines.append("mapping \(m.uuid)  \(state)\(marks.isEmpty ? "" : "  (" + marks.joined(separator: ", ") + ")")")
            let width = m.fields.map(\.path.count).max() ?? 0
            for f in m.fields {
                lines.append("  \(TextTimeline.pad(f.path, width))  \(TextTimeline.oneLine(f.start)) → \(TextTimeline.oneLine(f.end))")
                for e in f.edits {
                    lines.append("  \(String(repeating: " ", count: width))    #\(e.sequence) \(e.time)  \(TextTimeline.pad(e.operation, 24)) \(TextTimeline.pad(e.who, 20)) \(TextTimeline.oneLine(e.before)) → \(TextTimeline.oneLine(e.after))")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Folds timeline entries, in log order, into the diff between two points. Pure.
public struct WindowDiffBuilder {
    let from: LogPoint
    let to: LogPoint
    let mapping: String?
    private var order: [String] = []
    private var stateAtStart: [String: MappingState?] = [:]
    private var current: [String: MappingState] = [:]
    private var changes: [String: WindowDiff.MappingChanges] = [:]
    private var edits: [String: [String: [FieldEdit]]] = [:]

    public init(from: LogPoint, to: LogPoint, mapping: String? = nil) {
        self.from = from
        self.to = to
        self.mapping = mapping
    }

    public mutating func add(_ e: TimelineEntry) {
        let uuid = e.event.uuid
        if let mapping, uuid != mapping { return }
        if from.covers(e.event) {
            current[uuid] = e.stateAfter
            return
        }
        guard to.covers(e.event) else { return }
        if changes[uuid] == nil {
            order.append(uuid)
            changes[uuid] = WindowDiff.MappingChanges(uuid: uuid, stateAtStart: current[uuid], stateAtEnd: nil, created: false,
                                                      deleted: false, fields: [])
        }
        switch e.event.change.request {
        case .create: changes[uuid]!.created = true
        case .delete: changes[uuid]!.deleted = true
        default: break
        }
        changes[uuid]!.stateAtEnd = e.stateAfter
        current[uuid] = e.stateAfter
        // A removal takes every field away; "(removed)" says that once, so its field changes
        // are not repeated as edits.
        if case .removed = e.event.change { return }
        for c in e.changes where c.path != "State" {
            edits[uuid, default: [:]][c.path, default: []].append(FieldEdit(e, c))
        }
    }

    public func result() -> WindowDiff {
        let mappings = order.map { uuid -> WindowDiff.MappingChanges in
            var m = changes[uuid]!
            let byField = edits[uuid] ?? [:]
            m.fields = byField.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { path in
                let list = byField[path]!
                return WindowDiff.Field(path: path, start: list.first!.before, end: list.last!.after, edits: list)
            }
            return m
        }
        return WindowDiff(from: from, to: to, mappings: mappings)
    }
}

/// Every field of one mapping (as GetEventSourceMapping shows it, plus its tags) with the event
/// that last set it.
public struct Blame: Sendable {
    public struct Line: Sendable {
        public var path: String
        public var value: JSON
        public var setBy: FieldEdit
    }

    public var uuid: String
    public var at: LogPoint?
    public var lines: [Line]

    public var json: JSON {
        ["UUID": .string(uuid), "At": at?.json ?? .null,
         "Fields": .array(lines.map { l in
             var o = l.setBy.json.objectValue!
             o["Field"] = .string(l.path)
             o["Value"] = l.value
             o["Before"] = nil
             o["After"] = nil
             return .object(o)
         })]
    }

    public func text() -> String {
        let width = lines.map(\.path.count).max() ?? 0
        let valueWidth = min(40, lines.map { TextTimeline.oneLine($0.value).count }.max() ?? 0)
        var out = ["blame \(uuid)\(at.map { " " + $0.description } ?? "")"]
        for l in lines {
            let e = l.setBy
            out.append("\(TextTimeline.pad(l.path, width))  \(TextTimeline.pad(TextTimeline.oneLine(l.value), valueWidth))  #\(e.sequence) \(e.time)  \(TextTimeline.pad(e.operation, 24)) \(e.who)")
        }
        return out.joined(separator: "\n")
    }
}

/// Folds timeline entries, in log order, into the blame of one mapping at a point. Pure.
public struct BlameBuilder {
    let uuid: String
    let at: LogPoint?
    private var lastSet: [String: FieldEdit] = [:]
    private var mapping: Mapping?

    public init(uuid: String, at: LogPoint? = nil) {
        self.uuid = uuid
        self.at = at
    }

    public mutating func add(_ e: TimelineEntry) {
        guard e.event.uuid == uuid, at?.covers(e.event) ?? true else { return }
        if e.event.change.request == .create { lastSet = [:] }
        for c in e.changes { lastSet[c.path] = FieldEdit(e, c) }
        mapping = e.after
    }

    /// nil when the mapping does not exist at the point.
    public func result() -> Blame? {
        guard let mapping else { return nil }
        let fields = TimelineBuilder.diff(JSONObject(), TimelineBuilder.auditView(mapping))
        let lines = fields.compactMap { f -> Blame.Line? in
            guard let value = f.after, let edit = lastSet[f.path] else { return nil }
            return Blame.Line(path: f.path, value: value, setBy: edit)
        }
        return Blame(uuid: uuid, at: at, lines: lines)
    }
}
