extension Mapping {
    /// Every field of the mapping, as a snapshot stores it.
    public var snapshotJSON: JSON {
        [
            "UUID": .string(uuid), "Configuration": .object(configuration), "State": .string(state.rawValue),
            "StateTransitionReason": .string(stateTransitionReason), "LastModified": .number(Double(lastModified.milliseconds)),
            "Enabled": .bool(enabled), "Tags": .object(tags), "CreatedSequence": .number(Double(createdSequence)),
            "Sequence": .number(Double(sequence)),
        ]
    }

    /// Reads a mapping from a snapshot.
    public init(snapshotJSON j: JSON) throws(EventDecodingError) {
        guard let uuid = j["UUID"]?.stringValue, let configuration = j["Configuration"]?.objectValue,
            let state = j["State"]?.stringValue.flatMap(MappingState.init(rawValue:)),
            let reason = j["StateTransitionReason"]?.stringValue, let modified = j["LastModified"]?.intValue,
            let enabled = j["Enabled"]?.boolValue, let tags = j["Tags"]?.objectValue,
            let created = j["CreatedSequence"]?.intValue, created > 0, let sequence = j["Sequence"]?.intValue, sequence >= created
        else { throw EventDecodingError(reason: "snapshot mapping record is incomplete") }
        self.init(uuid: uuid, configuration: configuration, state: state, stateTransitionReason: reason,
                  lastModified: EventTime(milliseconds: Int64(modified)), enabled: enabled, tags: tags,
                  createdSequence: UInt64(created), sequence: UInt64(sequence))
    }
}

extension Projection {
    /// A projection rebuilt from a snapshot's mappings, indexes included.
    /// - Throws: `ProjectionError` when two mappings share a UUID or a creation sequence, or a
    ///   mapping claims an event after the snapshot's sequence.
    public init(restoring mappings: [Mapping], lastSequence: UInt64, lastTime: EventTime) throws(ProjectionError) {
        self.init()
        reserve(mappings.count)
        var created = Set<UInt64>()
        created.reserveCapacity(mappings.count)
        for m in mappings {
            guard self.mappings[m.uuid] == nil, created.insert(m.createdSequence).inserted, m.sequence <= lastSequence else {
                throw ProjectionError(sequence: lastSequence, reason: "snapshot mapping \(m.uuid) does not fit")
            }
            insertRestored(m)
        }
        setPosition(lastSequence: lastSequence, lastTime: lastTime)
    }

    /// The state as canonical bytes: equal bytes mean equal state, whatever the path to it.
    public var canonicalBytes: [UInt8] {
        let records = all.map(\.snapshotJSON)
        let doc: JSON = ["LastSequence": .number(Double(lastSequence)), "LastTime": .number(Double(lastTime.milliseconds)),
                         "Mappings": .array(records)]
        return doc.canonicalBytes
    }
}
