/// The projection's indexes over its mappings, each by creation sequence: list order, by event
/// source, by function, the transitional ones, and how many are in each state. They hold no
/// mapping, only UUIDs and sequences, so a snapshot's restore builds them apart from (and at the
/// same time as) the table of mappings.
struct ProjectionIndexes: Sendable {
    var order = SortedSequences()
    var byCreated: [UInt64: String] = [:]
    var bySource: [String: SortedSequences] = [:]
    var byFunction: [String: SortedSequences] = [:]
    /// The creation sequences of the mappings in a transitional state, which the system owes
    /// an event. (Sequences rather than UUIDs: a replay changes this set at almost every event.)
    var transitionalSequences: Set<UInt64> = []
    /// How many mappings are in each state, kept as events apply so that operators can read it
    /// without walking every mapping; indexed by `MappingState.ordinal`.
    var counts = [Int](repeating: 0, count: MappingState.allCases.count)

    mutating func reserve(_ n: Int) {
        byCreated.reserveCapacity(n)
        // Most sources have one mapping: growing this one dictionary by doubling was a tenth of
        // a start-up from a snapshot.
        bySource.reserveCapacity(n)
    }

    /// Adds a mapping's entries (`keys`: its index keys, when read already).
    mutating func insert(_ m: borrowing Mapping, keys: Mapping.IndexKeys? = nil) {
        let s = m.createdSequence
        order.insert(s)
        byCreated[s] = m.uuid
        let (source, function) = keys ?? m.indexKeys
        if let arn = source { bySource[arn, default: SortedSequences()].insert(s) }
        byFunction[function, default: SortedSequences()].insert(s)
        if m.state.isTransitional { transitionalSequences.insert(s) }
        counts[m.state.ordinal] += 1
    }

    /// Moves a mapping that stays from its old entries to its new ones, touching only what
    /// changed: list order never changes, and only an update can change the function.
    mutating func move(_ b: Projection.IndexEntries, _ a: Projection.IndexEntries) {
        let s = a.createdSequence
        if let (sourceBefore, functionBefore) = b.keys, let (sourceAfter, functionAfter) = a.keys {
            if sourceBefore != sourceAfter {
                if let arn = sourceBefore { ProjectionIndexes.remove(s, from: &bySource, arn) }
                if let arn = sourceAfter { bySource[arn, default: SortedSequences()].insert(s) }
            }
            if functionBefore != functionAfter {
                ProjectionIndexes.remove(s, from: &byFunction, functionBefore)
                byFunction[functionAfter, default: SortedSequences()].insert(s)
            }
        }
        if a.state.isTransitional != b.state.isTransitional {
            if a.state.isTransitional { transitionalSequences.insert(s) } else { transitionalSequences.remove(s) }
        }
        counts[b.state.ordinal] -= 1
        counts[a.state.ordinal] += 1
    }

    /// Removes a mapping's entries.
    mutating func remove(_ m: borrowing Mapping) {
        let s = m.createdSequence
        order.remove(s)
        byCreated[s] = nil
        let (source, function) = m.indexKeys
        if let arn = source { ProjectionIndexes.remove(s, from: &bySource, arn) }
        ProjectionIndexes.remove(s, from: &byFunction, function)
        transitionalSequences.remove(s)
        counts[m.state.ordinal] -= 1
    }

    private static func remove(_ s: UInt64, from index: inout [String: SortedSequences], _ key: String) {
        index[key]?.remove(s)
        if index[key]?.isEmpty == true { index[key] = nil }
    }
}
