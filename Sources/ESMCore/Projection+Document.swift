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
        let order: [Dictionary<String, Mapping>.Index]
        if let mapping {
            order = mappings.index(forKey: mapping).map { [$0] } ?? []
        } else {
            order = uuidOrder()
        }
        var out: [UInt8] = []
        out.reserveCapacity(order.count * 900 + 64)
        out.append(contentsOf: #"{"EventSourceMappings":["#.utf8)
        var tags = JSONObject()
        for (k, i) in order.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            mappings.values[i].writeResponse(to: &out)
            if !mappings.values[i].tags.isEmpty { tags[mappings.keys[i]] = .object(mappings.values[i].tags) }
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

    /// Where each mapping is held, in the order of their UUIDs as `String`'s `<` orders them.
    ///
    /// When every UUID is ASCII, that order is the order of their bytes, so each is sorted by its
    /// first sixteen bytes as two integers, and by the whole string only when those are equal:
    /// at 100,000 mappings, sorting the strings themselves took a twentieth of a replay at a
    /// point. Any other UUID (imported history may hold anything) sorts the strings.
    func uuidOrder() -> [Dictionary<String, Mapping>.Index] {
        var keyed: [(a: UInt64, b: UInt64, index: Dictionary<String, Mapping>.Index)] = []
        keyed.reserveCapacity(mappings.count)
        for i in mappings.indices {
            var uuid = mappings.keys[i]
            guard let (a, b) = uuid.withUTF8(Projection.asciiPrefix) else {
                return mappings.indices.sorted { mappings.keys[$0] < mappings.keys[$1] }
            }
            keyed.append((a, b, i))
        }
        keyed.sort { x, y in
            if x.a != y.a { return x.a < y.a }
            if x.b != y.b { return x.b < y.b }
            return mappings.keys[x.index] < mappings.keys[y.index]
        }
        return keyed.map(\.index)
    }

    /// The first sixteen bytes as two big-endian integers (zero-padded, so a shorter string sorts
    /// first), or nil when a byte is not ASCII.
    private static func asciiPrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        var words: (UInt64, UInt64) = (0, 0)
        for (k, byte) in bytes.enumerated() {
            guard byte < 0x80 else { return nil }
            guard k < 16 else { continue }
            let shift = UInt64(8 * (7 - k % 8))
            if k < 8 { words.0 |= UInt64(byte) << shift } else { words.1 |= UInt64(byte) << shift }
        }
        return words
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
