/// An event that does not fit the state it is applied to: the log is damaged or out of order.
public struct ProjectionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var sequence: UInt64
    public var reason: String
    public var description: String { "event \(sequence): \(reason)" }
}

/// The pure step from one mapping's state and one event to its next state.
public enum Projector {
    /// Applies `event` to `mapping` (nil when it does not exist).
    /// - Returns: the mapping after the event, or nil when the event removed it.
    /// - Throws: `ProjectionError` when the event does not fit (e.g. an update of a missing mapping).
    public static func next(_ mapping: Mapping?, _ event: Event) throws(ProjectionError) -> Mapping? {
        try next(mapping, StateEvent(event))
    }

    /// `next(_:_:)` for an event read for state.
    public static func next(_ mapping: Mapping?, _ event: StateEvent) throws(ProjectionError) -> Mapping? {
        guard var m = mapping else { return try first(event) }
        return try update(&m, event) ? m : nil
    }

    /// The mapping an event brings into being when no mapping of its UUID exists.
    static func first(_ event: StateEvent) throws(ProjectionError) -> Mapping? {
        func unknown(_ what: String) -> ProjectionError {
            ProjectionError(sequence: event.sequence, reason: "\(what) unknown mapping \(event.uuid)")
        }
        switch event.change {
        case .created(let configuration, let enabled, let state, let reason, let tags):
            return Mapping(
                uuid: event.uuid, configuration: configuration, state: state, stateTransitionReason: reason,
                lastModified: event.time, enabled: enabled, tags: tags, createdSequence: event.sequence,
                sequence: event.sequence)
        case .updated: throw unknown("update of")
        case .deleteRequested: throw unknown("delete of")
        case .stateChanged: throw unknown("state change of")
        case .removed: throw unknown("removal of")
        case .tagged: throw unknown("tags for")
        case .untagged: throw unknown("untag of")
        case .imported(let record): return record.apply(to: nil, event)
        }
    }

    /// Applies `event` to a mapping that exists, in place (so that a replay does not copy it).
    /// - Returns: false when the event removed the mapping.
    /// - Throws: `ProjectionError` when the event does not fit; `m` is then as it was.
    static func update(_ m: inout Mapping, _ event: StateEvent) throws(ProjectionError) -> Bool {
        func fail(_ reason: String) -> ProjectionError { ProjectionError(sequence: event.sequence, reason: reason) }
        switch event.change {
        case .created:
            throw fail("mapping \(event.uuid) is created twice")
        case .updated(let set, let unset, let enabled, let state):
            m.updateConfiguration(set: set, unset: unset)
            m.enabled = enabled
            m.state = state
            m.lastModified = event.time
            m.sequence = event.sequence
        case .deleteRequested:
            m.state = .deleting
            m.lastModified = event.time
            m.sequence = event.sequence
        case .stateChanged(let from, let to):
            guard m.state == from else { throw fail("state change from \(from.rawValue) but mapping is \(m.state.rawValue)") }
            m.state = to
            m.lastModified = event.time
            m.sequence = event.sequence
        case .removed:
            guard m.state == .deleting else { throw fail("removal of a mapping that is \(m.state.rawValue)") }
            return false
        case .tagged(let tags):
            m.retag(set: tags, removing: [], sequence: event.sequence)
        case .untagged(let keys):
            m.retag(set: JSONObject(), removing: keys, sequence: event.sequence)
        case .imported(let record):
            guard let after = record.apply(to: m, event) else { return false }
            m = after
        }
        return true
    }
}

extension Mapping {
    /// The mapping after a tag change. Tags are not part of the ESM configuration: LastModified
    /// and the state stay.
    func retagged(set: JSONObject, removing keys: [String], sequence: UInt64) -> Mapping {
        var m = self
        m.retag(set: set, removing: keys, sequence: sequence)
        return m
    }

    mutating func retag(set: JSONObject, removing keys: [String], sequence: UInt64) {
        for tag in set { tags[tag.key] = tag.value }
        for key in keys { tags[key] = nil }
        self.sequence = sequence
    }
}

/// The set of mappings after a prefix of the log, with the indexes that get and list use.
///
/// List order is creation order (the sequence of each mapping's Created event). That order never
/// changes for a mapping and new mappings go to the end, so a Marker naming the last sequence
/// returned lets a client page through every mapping exactly once while writes go on.
public struct Projection: Sendable {
    public private(set) var mappings: [String: Mapping] = [:]
    /// The sequence of the last event applied; 0 for an empty log.
    public private(set) var lastSequence: UInt64 = 0
    /// The time of the last event applied.
    public private(set) var lastTime = EventTime(milliseconds: 0)

    private var ix = ProjectionIndexes()
    /// Whether the indexes are kept. A projection without them holds the table of mappings
    /// alone, for a document of every mapping (`replay`): an event applied to it changes no
    /// index. Lists, the transitional mappings, the state counts and `all` need them.
    public let isIndexed: Bool

    /// How many mappings are in each state.
    public var stateCounts: [MappingState: Int] {
        precondition(isIndexed, Projection.unindexed)
        return Dictionary(uniqueKeysWithValues: MappingState.allCases.map { ($0, ix.counts[$0.ordinal]) })
    }

    /// - Parameter indexed: whether the indexes are kept (see `isIndexed`).
    public init(indexed: Bool = true) { isIndexed = indexed }

    static let unindexed = "the projection keeps no indexes"

    /// Applies the next event of the log.
    /// - Throws: `ProjectionError` when the event is out of sequence or does not fit.
    public mutating func apply(_ event: Event) throws(ProjectionError) {
        try apply(StateEvent(event))
    }

    /// `apply(_:)` for an event read for state.
    public mutating func apply(_ event: StateEvent) throws(ProjectionError) {
        guard event.sequence == lastSequence + 1 else {
            throw ProjectionError(sequence: event.sequence, reason: "expected sequence \(lastSequence + 1)")
        }
        if let i = mappings.index(forKey: event.uuid) {
            // Changed where it is stored: one lookup, and no copy of the mapping.
            let moves = isIndexed && event.change.movesIndexEntries
            if let (before, after) = try Projection.change(&mappings.values[i], by: event, keys: moves) {
                if isIndexed { ix.move(before, after) }
            } else {
                let removed = mappings.remove(at: i).value
                if isIndexed { ix.remove(removed) }
            }
        } else if let a = try Projector.first(event) {
            if isIndexed { ix.insert(a) }
            mappings[event.uuid] = a
        }
        lastSequence = event.sequence
        lastTime = max(lastTime, event.time)
    }

    /// Moves past events that are not applied: for a projection of one mapping's events alone,
    /// whose sequences skip the other mappings' (a mapping's state depends on its own events only).
    /// `lastTime` stays that of the last event applied.
    public mutating func skip(to sequence: UInt64) {
        if sequence > lastSequence { lastSequence = sequence }
    }

    /// A projection of these mappings, indexed by `ix` (or not at all), after event `lastSequence`.
    init(mappings: [String: Mapping], ix: ProjectionIndexes?, lastSequence: UInt64, lastTime: EventTime) {
        self.mappings = mappings
        self.ix = ix ?? ProjectionIndexes()
        isIndexed = ix != nil
        self.lastSequence = lastSequence
        self.lastTime = lastTime
    }

    /// What `ProjectionIndexes.move` needs of a mapping before and after an event: its place
    /// and state, and its index keys when the event may move them.
    struct IndexEntries {
        var createdSequence: UInt64
        var state: MappingState
        var keys: (eventSourceArn: String?, functionArn: String)?

        init(_ m: borrowing Mapping, keys: Bool) {
            createdSequence = m.createdSequence
            state = m.state
            self.keys = keys ? m.indexKeys : nil
        }
    }

    /// Applies an event to a mapping where the projection holds it, reading from it only what
    /// `ProjectionIndexes.move` needs (a read of the whole stored value would copy it).
    /// - Returns: the index entries before and after, or nil when the event removed the mapping.
    private static func change(_ m: inout Mapping, by event: StateEvent, keys: Bool) throws(ProjectionError)
        -> (IndexEntries, IndexEntries)?
    {
        let before = IndexEntries(m, keys: keys)
        guard try Projector.update(&m, event) else { return nil }
        return (before, IndexEntries(m, keys: keys))
    }

    /// The mappings in a transitional state since at least `delayMilliseconds` before `now`,
    /// in creation order.
    public func transitional(dueAt now: EventTime, delayMilliseconds: Int64) -> [String] {
        precondition(isIndexed, Projection.unindexed)
        return ix.transitionalSequences.compactMap { ix.byCreated[$0].flatMap { mappings[$0] } }
            .filter { $0.lastModified.milliseconds + delayMilliseconds <= now.milliseconds }
            .sorted { $0.createdSequence < $1.createdSequence }
            .map(\.uuid)
    }

    /// The mappings whose EventSourceArn is `arn`, in creation order.
    public func mappings(eventSourceArn arn: String) -> [Mapping] {
        precondition(isIndexed, Projection.unindexed)
        return (ix.bySource[arn]?.values ?? []).compactMap { ix.byCreated[$0].flatMap { mappings[$0] } }
    }

    /// The mappings whose FunctionArn is `arn`, in creation order.
    public func mappings(functionArn arn: String) -> [Mapping] {
        precondition(isIndexed, Projection.unindexed)
        return (ix.byFunction[arn]?.values ?? []).compactMap { ix.byCreated[$0].flatMap { mappings[$0] } }
    }

    /// Every mapping in creation order.
    public var all: [Mapping] {
        precondition(isIndexed, Projection.unindexed)
        return ix.order.values.compactMap { ix.byCreated[$0].flatMap { mappings[$0] } }
    }

    /// One page of ListEventSourceMappings.
    /// - Parameters:
    ///   - eventSourceArn: keep only mappings with this EventSourceArn.
    ///   - functionArn: keep only mappings with this resolved FunctionArn.
    ///   - after: the creation sequence of the last mapping of the previous page.
    ///   - account: keep only mappings this account owns (a caller verified by signature sees
    ///     its own account's mappings, as in AWS).
    ///   - limit: the page size, 1 or more.
    /// - Returns: the page and, when more mappings match, the creation sequence to continue after.
    public func page(eventSourceArn: String?, functionArn: String?, account: String? = nil, after: UInt64?, limit: Int)
        -> (mappings: [Mapping], next: UInt64?)
    {
        precondition(limit >= 1)
        precondition(isIndexed, Projection.unindexed)
        let candidates: SortedSequences
        var check: ((Mapping) -> Bool)? = nil
        switch (eventSourceArn, functionArn) {
        case (nil, nil): candidates = ix.order
        case (let s?, nil): candidates = ix.bySource[s] ?? SortedSequences()
        case (nil, let f?): candidates = ix.byFunction[f] ?? SortedSequences()
        case (let s?, let f?):
            let a = ix.bySource[s] ?? SortedSequences(), b = ix.byFunction[f] ?? SortedSequences()
            if a.count <= b.count {
                candidates = a
                check = { $0.functionArn == f }
            } else {
                candidates = b
                check = { $0.eventSourceArn == s }
            }
        }
        var page: [Mapping] = []
        var i = after.map { candidates.firstIndex(after: $0) } ?? 0
        while i < candidates.count {
            let s = candidates[i]
            i += 1
            guard let m = ix.byCreated[s].flatMap({ mappings[$0] }), check?(m) ?? true,
                  account == nil || m.account == account else { continue }
            if page.count == limit { return (page, page.last!.createdSequence) }
            page.append(m)
        }
        return (page, nil)
    }
}

/// A sorted set of distinct sequence numbers. Inserts are almost always at the end, since
/// sequences grow; removal is a binary search and one move. Most event sources have one mapping,
/// so one value is kept inline, without an array.
struct SortedSequences: Sendable {
    private enum Storage: Sendable {
        case empty
        case one(UInt64)
        case many([UInt64])
    }

    private var storage = Storage.empty

    var count: Int {
        switch storage {
        case .empty: 0
        case .one: 1
        case .many(let a): a.count
        }
    }

    var isEmpty: Bool { count == 0 }

    var values: [UInt64] {
        switch storage {
        case .empty: []
        case .one(let v): [v]
        case .many(let a): a
        }
    }

    subscript(i: Int) -> UInt64 {
        switch storage {
        case .empty: preconditionFailure("index out of range")
        case .one(let v):
            precondition(i == 0)
            return v
        case .many(let a): return a[i]
        }
    }

    /// The index of the first value greater than `s`.
    func firstIndex(after s: UInt64) -> Int {
        switch storage {
        case .empty: return 0
        case .one(let v): return v <= s ? 1 : 0
        case .many(let a):
            var lo = 0, hi = a.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if a[mid] <= s { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
    }

    mutating func insert(_ s: UInt64) {
        switch storage {
        case .empty: storage = .one(s)
        case .one(let v):
            if v != s { storage = .many(v < s ? [v, s] : [s, v]) }
        case .many(var a):
            storage = .empty  // keep the array uniquely referenced while it changes
            if let last = a.last, last >= s {
                let i = SortedSequences.firstIndex(a, after: s)
                if !(i > 0 && a[i - 1] == s) { a.insert(s, at: i) }
            } else {
                a.append(s)
            }
            storage = .many(a)
        }
    }

    mutating func remove(_ s: UInt64) {
        switch storage {
        case .empty: break
        case .one(let v): if v == s { storage = .empty }
        case .many(var a):
            storage = .empty
            let i = SortedSequences.firstIndex(a, after: s)
            if i > 0, a[i - 1] == s { a.remove(at: i - 1) }
            storage = a.count == 1 ? .one(a[0]) : a.isEmpty ? .empty : .many(a)
        }
    }

    static func firstIndex(_ a: [UInt64], after s: UInt64) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] <= s { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
