extension Mapping {
    /// Sets and removes top-level members of the configuration, as `configuration[key] = value`
    /// for each of `set` and then `= nil` for each of `unset` would, and leaves the same bytes.
    ///
    /// It does not parse and re-encode the whole configuration: the stored members are already
    /// canonical and sorted, so the changes are merged into them in one pass, and the members
    /// they do not touch are copied as they are. A replay applies one update per few events.
    public mutating func updateConfiguration(set: JSONObject, unset: [String]) {
        if let (merged, offsets) = Mapping.merge(members, set: set, unset: unset) {
            members = merged
            insertAt = offsets
            return
        }
        var c = configuration
        for member in set { c[member.key] = member.value }
        for key in unset { c[key] = nil }
        configuration = c
    }

    /// The merge of `updateConfiguration`; nil when a stored key is escaped (it is then done by
    /// parsing, which compares keys unescaped).
    static func merge(_ members: [UInt8], set: JSONObject, unset: [String]) -> ([UInt8], (UInt32, UInt32, UInt32, UInt32))? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        let removed = Swift.Set(unset)
        let changes = set.members.filter { !removed.contains($0.key) }
        let keys = Mapping.responseKeys
        var out: [UInt8] = []
        out.reserveCapacity(members.count + 64)
        var offsets: [UInt32] = []
        func start(_ key: String) {
            if !out.isEmpty { out.append(UInt8(ascii: ",")) }
            while offsets.count < keys.count && JSONObject.less(keys[offsets.count], key) { offsets.append(UInt32(out.count)) }
        }
        var next = 0
        func emitChanges(before key: String?) {
            while next < changes.count, key.map({ JSONObject.less(changes[next].key, $0) }) ?? true {
                start(changes[next].key)
                JSON.writeKey(changes[next].key, to: &out)
                changes[next].value.write(to: &out)
                next += 1
            }
        }
        let ok: Bool = members.withUnsafeBufferPointer { b in
            var i = 0
            while i < b.count {
                guard b[i] == quote else { return false }
                var keyEnd = i + 1
                while keyEnd < b.count && b[keyEnd] != quote {
                    if b[keyEnd] == backslash { return false }
                    keyEnd += 1
                }
                let key = String(decoding: UnsafeBufferPointer(rebasing: b[(i + 1)..<keyEnd]), as: UTF8.self)
                let valueEnd = JSON.endOfValue(in: b, from: keyEnd + 2)
                emitChanges(before: key)
                if next < changes.count, changes[next].key == key {
                    // Replaced: the new value in the old one's place.
                    start(key)
                    JSON.writeKey(key, to: &out)
                    changes[next].value.write(to: &out)
                    next += 1
                } else if !removed.contains(key) {
                    start(key)
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<valueEnd]))
                }
                i = valueEnd + 1  // past the comma
            }
            return true
        }
        guard ok else { return nil }
        emitChanges(before: nil)
        while offsets.count < keys.count { offsets.append(UInt32(out.count)) }
        return (out, (offsets[0], offsets[1], offsets[2], offsets[3]))
    }
}
