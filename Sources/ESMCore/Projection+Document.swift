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
    ///   - sortParts: the UUID order is sorted in this many parts of the table, through `map`,
    ///     then merged.
    ///   - map: runs its body for each part, perhaps at the same time on several threads, and
    ///     returns their results in order (the storage layer runs it on every core).
    public func documentPieces(mapping: String? = nil, count: Int, sortParts: Int = 1,
                               map: ParallelMap = { n, body in (0..<n).map(body) }) -> DocumentPieces {
        let order: [Dictionary<String, Mapping>.Index]
        if let mapping {
            order = mappings.index(forKey: mapping).map { [$0] } ?? []
        } else {
            order = uuidOrder(parts: sortParts, map: map)
        }
        return DocumentPieces(projection: self, order: order, runs: max(1, min(count, order.count)))
    }

    /// A mapping's place in the UUID order: its UUID's first sixteen bytes as two integers, and
    /// where the table holds it.
    public struct OrderKey: Sendable {
        let a: UInt64, b: UInt64
        let index: Dictionary<String, Mapping>.Index
    }

    /// Runs `body` for each of `0..<count`, perhaps at the same time, and returns its results in
    /// order.
    public typealias ParallelMap = (_ count: Int, _ body: @Sendable (Int) -> [OrderKey]?) -> [[OrderKey]?]

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
    /// point. The table is cut into `parts`, each read and sorted in its own call of `map`'s body
    /// (reading each UUID is mostly waiting for memory), and the sorted parts are merged. Any
    /// other UUID (imported history may hold anything) sorts the strings.
    func uuidOrder(parts: Int = 1, map: ParallelMap = { n, body in (0..<n).map(body) }) -> [Dictionary<String, Mapping>.Index] {
        let positions = Array(mappings.indices)
        let n = max(1, min(parts, positions.count))
        let table = mappings
        let precedes = { @Sendable (x: OrderKey, y: OrderKey) -> Bool in
            if x.a != y.a { return x.a < y.a }
            if x.b != y.b { return x.b < y.b }
            return table.keys[x.index] < table.keys[y.index]
        }
        let sorted = map(n) { k in
            var keyed: [OrderKey] = []
            let run = positions[(positions.count * k / n)..<(positions.count * (k + 1) / n)]
            keyed.reserveCapacity(run.count)
            for i in run {
                var uuid = table.keys[i]
                guard let (a, b) = uuid.withUTF8(Projection.asciiPrefix) else { return nil }
                keyed.append(OrderKey(a: a, b: b, index: i))
            }
            keyed.sort(by: precedes)
            return keyed
        }
        var runs: [[OrderKey]] = []
        for run in sorted {
            guard let run else { return positions.sorted { table.keys[$0] < table.keys[$1] } }
            runs.append(run)
        }
        while runs.count > 1 {
            var merged: [[OrderKey]] = []
            for k in stride(from: 0, to: runs.count, by: 2) {
                merged.append(k + 1 < runs.count ? Projection.merge(runs[k], runs[k + 1], by: precedes) : runs[k])
            }
            runs = merged
        }
        return runs.first?.map(\.index) ?? []
    }

    /// Two sorted runs as one; on a tie, `x`'s element first.
    private static func merge(_ x: [OrderKey], _ y: [OrderKey], by precedes: (OrderKey, OrderKey) -> Bool) -> [OrderKey] {
        var out: [OrderKey] = []
        out.reserveCapacity(x.count + y.count)
        var i = 0, j = 0
        while i < x.count && j < y.count {
            if precedes(y[j], x[i]) {
                out.append(y[j])
                j += 1
            } else {
                out.append(x[i])
                i += 1
            }
        }
        out += x[i...]
        out += y[j...]
        return out
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
