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
        let pieces = documentPieces(mapping: mapping, count: 1)
        var out: [UInt8] = []
        for k in 0..<pieces.count { out += pieces.write(k) }
        return out
    }

    /// `document(mapping:)` cut into `count` runs of mappings and the members after them: the
    /// bytes of `write(0)`, `write(1)`, ... one after another are the document. Each piece only
    /// reads the projection, so the pieces can be written at the same time, each on a thread of
    /// its own (at 100,000 mappings the document is 64 MB).
    public func documentPieces(mapping: String? = nil, count: Int) -> DocumentPieces {
        let order: [Dictionary<String, Mapping>.Index]
        if let mapping {
            order = mappings.index(forKey: mapping).map { [$0] } ?? []
        } else {
            order = uuidOrder()
        }
        return DocumentPieces(projection: self, order: order, runs: max(1, min(count, order.count)))
    }

    /// The pieces of a replay document (`Projection.documentPieces`): `count - 1` runs of
    /// mappings, then `Sequence` and `Tags`.
    public struct DocumentPieces: @unchecked Sendable {  // read only once made; the indexes are into `projection`, which it holds
        let projection: Projection
        let order: [Dictionary<String, Mapping>.Index]
        let runs: Int

        /// How many pieces there are: the runs, and the members after them.
        public var count: Int { runs + 1 }

        /// The bytes of piece `k`.
        public func write(_ k: Int) -> [UInt8] {
            var out: [UInt8] = []
            write(k, to: &out)
            return out
        }

        /// Appends the bytes of piece `k` to `out` (a buffer used again keeps its pages).
        public func write(_ k: Int, to out: inout [UInt8]) {
            precondition(k >= 0 && k < count)
            let mappings = projection.mappings
            guard k < runs else {
                out.append(contentsOf: #"],"Sequence":"#.utf8)
                JSON.number(Double(projection.lastSequence)).write(to: &out)
                var tags = JSONObject()
                for i in order where !mappings.values[i].tags.isEmpty { tags[mappings.keys[i]] = .object(mappings.values[i].tags) }
                if !tags.isEmpty {
                    out.append(contentsOf: #","Tags":"#.utf8)
                    JSON.object(tags).write(to: &out)
                }
                out.append(UInt8(ascii: "}"))
                return
            }
            let run = (order.count * k / runs)..<(order.count * (k + 1) / runs)
            out.reserveCapacity(out.count + run.count * 900 + 64)
            if k == 0 { out.append(contentsOf: #"{"EventSourceMappings":["#.utf8) }
            for n in run {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                mappings.values[order[n]].writeResponse(to: &out)
            }
        }
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
