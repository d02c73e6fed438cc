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
        try self.init(restoring: [mappings], indexKeys: [], lastSequence: lastSequence, lastTime: lastTime)
    }

    /// `init(restoring:lastSequence:lastTime:)` from the mappings in parts, in order, as the
    /// threads that read a snapshot's records hand them over, with each mapping's `indexKeys`
    /// read already by those threads (reading them was a quarter of the rest), or `indexKeys`
    /// empty to read them here.
    public init(restoring parts: [[Mapping]], indexKeys: [[Mapping.IndexKeys]], lastSequence: UInt64,
                lastTime: EventTime) throws(ProjectionError)
    {
        self.init(restoring: try RestoredTable(parts, lastSequence: lastSequence),
                  try RestoredIndexes(parts, indexKeys: indexKeys, lastSequence: lastSequence), lastSequence: lastSequence, lastTime: lastTime)
    }

    /// A projection from the two halves of a restore, built from the same parts (at the same
    /// time, on two threads, if the caller likes: they share nothing).
    /// The projection keeps indexes when `indexes` built them (see `isIndexed`).
    public init(restoring table: consuming RestoredTable, _ indexes: consuming RestoredIndexes, lastSequence: UInt64, lastTime: EventTime) {
        self.init(mappings: table.mappings, ix: indexes.ix, lastSequence: lastSequence, lastTime: lastTime)
    }

    /// One half of a restore: the mappings by UUID.
    public struct RestoredTable: Sendable {
        let mappings: [String: Mapping]

        /// - Throws: `ProjectionError` when two mappings share a UUID.
        public init(_ parts: [[Mapping]], lastSequence: UInt64) throws(ProjectionError) {
            var table: [String: Mapping] = [:]
            table.reserveCapacity(parts.reduce(0) { $0 + $1.count })
            for part in parts {
                for m in part where table.updateValue(m, forKey: m.uuid) != nil {
                    throw ProjectionError(sequence: lastSequence, reason: "snapshot mapping \(m.uuid) does not fit: its UUID is taken")
                }
            }
            mappings = table
        }
    }

    /// The other half: the indexes over the same mappings.
    public struct RestoredIndexes: Sendable {
        /// nil when they were only checked, not built.
        let ix: ProjectionIndexes?

        /// - Parameters:
        ///   - indexKeys: each mapping's `indexKeys`, in the shape of `parts`; or empty, to read
        ///     them here (or when `build` is false).
        ///   - build: false to make the checks alone, for a projection without indexes: a
        ///     snapshot is refused for the same mappings whether its indexes are built or not.
        /// - Throws: `ProjectionError` when two mappings share a creation sequence, or a mapping
        ///   claims an event after `lastSequence`.
        public init(_ parts: [[Mapping]], indexKeys: [[Mapping.IndexKeys]], lastSequence: UInt64, build: Bool = true) throws(ProjectionError) {
            precondition(indexKeys.isEmpty || indexKeys.map(\.count) == parts.map(\.count))
            let n = parts.reduce(0) { $0 + $1.count }
            var ix = ProjectionIndexes(), created = Set<UInt64>()
            if build { ix.reserve(n) } else { created.reserveCapacity(n) }
            for i in parts.indices {
                for j in parts[i].indices {
                    let (c, sequence) = (parts[i][j].createdSequence, parts[i][j].sequence)
                    guard sequence <= lastSequence, build ? ix.byCreated[c] == nil : created.insert(c).inserted else {
                        throw ProjectionError(sequence: lastSequence, reason: "snapshot mapping \(parts[i][j].uuid) does not fit: "
                                              + (sequence > lastSequence ? "its sequence is after the snapshot's" : "its creation sequence is taken"))
                    }
                    if build { ix.insert(parts[i][j], keys: indexKeys.isEmpty ? nil : indexKeys[i][j]) }
                }
            }
            self.ix = build ? ix : nil
        }
    }

    /// The state as canonical bytes: equal bytes mean equal state, whatever the path to it.
    public var canonicalBytes: [UInt8] {
        let records = all.map(\.snapshotJSON)
        let doc: JSON = ["LastSequence": .number(Double(lastSequence)), "LastTime": .number(Double(lastTime.milliseconds)),
                         "Mappings": .array(records)]
        return doc.canonicalBytes
    }
}

extension Mapping {
    /// The mapping as a snapshot record of version 2, appended to `out`. The configuration goes
    /// in as the canonical bytes the mapping keeps, so neither writing nor reading a snapshot
    /// parses or encodes it. Little-endian: created sequence (8), sequence (8), LastModified in
    /// ms (8), Enabled (1), then UUID, State, StateTransitionReason, the tags' canonical JSON and
    /// the configuration's members, each behind a 4-byte length, then the four response
    /// insertion points (4 each).
    public func writeSnapshotRecord(to out: inout [UInt8]) {
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func append(bytes: some Collection<UInt8>) {
            append(UInt32(bytes.count))
            out.append(contentsOf: bytes)
        }
        append(createdSequence)
        append(sequence)
        append(lastModified.milliseconds)
        out.append(enabled ? 1 : 0)
        append(bytes: uuid.utf8)
        append(bytes: state.rawValue.utf8)
        append(bytes: stateTransitionReason.utf8)
        append(bytes: JSON.object(tags).canonicalBytes)
        append(bytes: members)
        append(insertAt.0)
        append(insertAt.1)
        append(insertAt.2)
        append(insertAt.3)
    }

    /// Reads a snapshot record of version 2 that fills `b` exactly.
    public init(snapshotRecord b: ArraySlice<UInt8>) throws(EventDecodingError) {
        var i = b.startIndex
        func fail() -> EventDecodingError { EventDecodingError(reason: "snapshot mapping record is malformed") }
        func integer<T: FixedWidthInteger>(_: T.Type) throws(EventDecodingError) -> T {
            guard b.endIndex - i >= MemoryLayout<T>.size else { throw fail() }
            var v: T = 0
            withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: b[i..<(i + MemoryLayout<T>.size)]) }
            i += MemoryLayout<T>.size
            return T(littleEndian: v)
        }
        func bytes() throws(EventDecodingError) -> ArraySlice<UInt8> {
            let n = Int(try integer(UInt32.self))
            guard b.endIndex - i >= n else { throw fail() }
            defer { i += n }
            return b[i..<(i + n)]
        }
        func string() throws(EventDecodingError) -> String {
            let s = try bytes()
            // ASCII (UUIDs, states, reasons) needs no validation; the validating initializer is generic.
            if s.allSatisfy({ $0 < 0x80 }) { return String(decoding: s, as: UTF8.self) }
            guard let text = s.withUnsafeBufferPointer({ String(validating: $0, as: UTF8.self) }) else { throw fail() }
            return text
        }
        let created = try integer(UInt64.self), sequence = try integer(UInt64.self), modified = try integer(Int64.self)
        guard b.endIndex - i >= 1, b[i] <= 1 else { throw fail() }
        let enabled = b[i] == 1
        i += 1
        let uuid = try string()
        guard let state = MappingState(rawValue: try string()) else { throw fail() }
        let reason = try string()
        guard let tags = (try? JSON.parse(try bytes()))?.objectValue else { throw fail() }
        let members = Array(try bytes())
        let offsets = (try integer(UInt32.self), try integer(UInt32.self), try integer(UInt32.self), try integer(UInt32.self))
        guard i == b.endIndex, created > 0, sequence >= created,
            offsets.0 <= offsets.1, offsets.1 <= offsets.2, offsets.2 <= offsets.3, Int(offsets.3) <= members.count
        else { throw fail() }
        self.init(uuid: uuid, configuration: JSONObject(), state: state, stateTransitionReason: reason,
                  lastModified: EventTime(milliseconds: modified), enabled: enabled, tags: tags, createdSequence: created, sequence: sequence)
        self.members = members
        insertAt = offsets
    }
}
