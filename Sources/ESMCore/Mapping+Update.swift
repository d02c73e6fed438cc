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
        var m = Merge(members: members.count, changes: unset.isEmpty ? set.members : set.members.filter { !unset.contains($0.key) })
        // Keys are compared as UTF-8 bytes, which is canonical order, without building a String
        // for each stored member.
        let removed = unset.map { Array($0.utf8) }
        let ok: Bool = members.withUnsafeBufferPointer { b in
            var i = 0
            while i < b.count {
                guard b[i] == quote else { return false }
                var keyEnd = i + 1
                while keyEnd < b.count && b[keyEnd] != quote {
                    if b[keyEnd] == backslash { return false }
                    keyEnd += 1
                }
                let key = UnsafeBufferPointer(rebasing: b[(i + 1)..<keyEnd])
                let valueEnd = JSON.endOfValue(in: b, from: keyEnd + 2)
                m.emitChanges(before: key)
                if m.next < m.changes.count, m.changeKeys[m.next].elementsEqual(key) {
                    // Replaced: the new value in the old one's place.
                    m.start(key)
                    m.out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<(keyEnd + 2)]))
                    m.changes[m.next].value.write(to: &m.out)
                    m.next += 1
                } else if !removed.contains(where: { $0.elementsEqual(key) }) {
                    m.start(key)
                    m.out.append(contentsOf: UnsafeBufferPointer(rebasing: b[i..<valueEnd]))
                }
                i = valueEnd + 1  // past the comma
            }
            return true
        }
        guard ok else { return nil }
        m.emitChanges(before: nil)
        let keys = Mapping.responseKeysUTF8
        while m.offsets.count < keys.count { m.offsets.append(UInt32(m.out.count)) }
        return (m.out, (m.offsets[0], m.offsets[1], m.offsets[2], m.offsets[3]))
    }

    /// The output of `merge` as it is written: a struct rather than closures over local
    /// variables, which the compiler boxes and checks for exclusive access on every use.
    private struct Merge {
        var out: [UInt8] = []
        /// Where each of `responseKeys` goes, as the members before it are written.
        var offsets: [UInt32] = []
        let changes: [(key: String, value: JSON)]
        let changeKeys: [[UInt8]]
        /// The next change to write.
        var next = 0

        init(members: Int, changes: [(key: String, value: JSON)]) {
            out.reserveCapacity(members + 64)
            offsets.reserveCapacity(4)
            self.changes = changes
            changeKeys = changes.map { Array($0.key.utf8) }
        }

        mutating func start<K: Collection<UInt8>>(_ key: K) {
            if !out.isEmpty { out.append(UInt8(ascii: ",")) }
            let keys = Mapping.responseKeysUTF8
            while offsets.count < keys.count && keys[offsets.count].lexicographicallyPrecedes(key) { offsets.append(UInt32(out.count)) }
        }

        /// Writes the changes whose keys sort before `key` (all that are left, for nil).
        mutating func emitChanges(before key: UnsafeBufferPointer<UInt8>?) {
            while next < changes.count, key.map({ changeKeys[next].lexicographicallyPrecedes($0) }) ?? true {
                start(changeKeys[next])
                JSON.writeKey(changes[next].key, to: &out)
                changes[next].value.write(to: &out)
                next += 1
            }
        }
    }

    /// `responseKeys` as UTF-8.
    static let responseKeysUTF8 = Mapping.responseKeys.map { Array($0.utf8) }
}
