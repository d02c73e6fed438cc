extension Projection {
    /// The state as `esmlog replay` prints it, as canonical JSON: `Sequence`, the mappings'
    /// responses in UUID order (`EventSourceMappings`), and the tags of those that have any
    /// (`Tags`, by UUID: tags are not part of a response, so they are shown beside it, as
    /// ListTags would). With `mapping`, only that mapping.
    ///
    /// The same bytes as `documentJSON(mapping:).canonicalBytes`, written straight from each
    /// mapping's stored configuration bytes (`Mapping.writeResponse`) instead of through a tree:
    /// at 100,000 mappings the tree took more of a replay than reading the snapshot.
    public func document(mapping: String? = nil) -> [UInt8] {
        let uuids = mapping.map { mappings[$0] == nil ? [] : [$0] } ?? mappings.keys.sorted()
        var out: [UInt8] = []
        out.reserveCapacity(uuids.count * 900 + 64)
        out.append(contentsOf: #"{"EventSourceMappings":["#.utf8)
        var tags = JSONObject()
        for (k, uuid) in uuids.enumerated() {
            let m = mappings[uuid]!
            if k > 0 { out.append(UInt8(ascii: ",")) }
            m.writeResponse(to: &out)
            if !m.tags.isEmpty { tags[uuid] = .object(m.tags) }
        }
        out.append(contentsOf: #"],"Sequence":"#.utf8)
        JSON.number(Double(lastSequence)).write(to: &out)
        if !tags.isEmpty {
            out.append(contentsOf: #","Tags":"#.utf8)
            JSON.object(tags).write(to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `document(mapping:)` as a JSON value, built the plain way (the tests compare the two).
    public func documentJSON(mapping: String? = nil) -> JSON {
        let shown = mappings.values.filter { mapping == nil || $0.uuid == mapping }
        var tags = JSONObject()
        for m in shown where !m.tags.isEmpty { tags[m.uuid] = .object(m.tags) }
        var out = JSONObject([("Sequence", .number(Double(lastSequence))),
                              ("EventSourceMappings", .array(shown.sorted { $0.uuid < $1.uuid }.map(\.response)))])
        if !tags.isEmpty { out["Tags"] = .object(tags) }
        return .object(out)
    }
}
