/// A configuration in the form a mapping stores it: `Mapping.members` and `Mapping.insertAt`.
public struct StoredConfiguration: Sendable, Equatable {
    var members: [UInt8]
    var insertAt: (UInt32, UInt32, UInt32, UInt32)

    init(members: [UInt8], insertAt: (UInt32, UInt32, UInt32, UInt32)) {
        self.members = members
        self.insertAt = insertAt
    }

    /// The stored form of a configuration object.
    public init(_ configuration: JSONObject) {
        (members, insertAt) = Mapping.encode(configuration)
    }

    public static func == (a: StoredConfiguration, b: StoredConfiguration) -> Bool {
        a.members == b.members && a.insertAt == b.insertAt
    }
}

/// One event source mapping as the projection holds it.
///
/// The configuration is kept as its canonical JSON bytes, not as a tree: a projection holds
/// every mapping in memory, and a tree of small strings and arrays costs several times the
/// bytes it describes. Responses are written from these bytes with the four members the
/// response adds merged in at offsets found once, when the configuration is set.
public struct Mapping: Sendable, Equatable {
    public var uuid: String
    public var state: MappingState
    public var stateTransitionReason: String
    public var lastModified: EventTime
    /// Where the mapping settles after a transition: Enabled when true, Disabled when false.
    public var enabled: Bool
    /// Tags given at create; not part of any ESM response.
    public var tags: JSONObject
    /// The sequence of the Created event: the mapping's place in list order, never reused.
    public var createdSequence: UInt64
    /// The sequence of the last event applied to this mapping.
    public var sequence: UInt64

    /// The configuration's members in canonical form, comma-separated, without the braces.
    /// Written only by `configuration`'s setter and `updateConfiguration`.
    var members: [UInt8]
    /// For each of `responseKeys`: where in `members` the first member that sorts after it starts
    /// (just after its comma), or `members.count` when none does.
    var insertAt: (UInt32, UInt32, UInt32, UInt32)

    public init(uuid: String, configuration: JSONObject, state: MappingState, stateTransitionReason: String,
                lastModified: EventTime, enabled: Bool, tags: JSONObject, createdSequence: UInt64, sequence: UInt64) {
        self.init(uuid: uuid, configuration: StoredConfiguration(configuration), state: state, stateTransitionReason: stateTransitionReason,
                  lastModified: lastModified, enabled: enabled, tags: tags, createdSequence: createdSequence, sequence: sequence)
    }

    /// A mapping whose configuration is given in its stored form.
    public init(uuid: String, configuration: StoredConfiguration, state: MappingState, stateTransitionReason: String,
                lastModified: EventTime, enabled: Bool, tags: JSONObject, createdSequence: UInt64, sequence: UInt64) {
        self.uuid = uuid
        self.state = state
        self.stateTransitionReason = stateTransitionReason
        self.lastModified = lastModified
        self.enabled = enabled
        self.tags = tags
        self.createdSequence = createdSequence
        self.sequence = sequence
        members = configuration.members
        insertAt = configuration.insertAt
    }

    public static func == (a: Mapping, b: Mapping) -> Bool {
        a.uuid == b.uuid && a.state == b.state && a.stateTransitionReason == b.stateTransitionReason
            && a.lastModified == b.lastModified && a.enabled == b.enabled && a.tags == b.tags
            && a.createdSequence == b.createdSequence && a.sequence == b.sequence && a.members == b.members
    }

    /// The members of the AWS response other than UUID, State, StateTransitionReason and
    /// LastModified, exactly as they are returned. Reading it parses the stored bytes; setting it
    /// encodes them again.
    public var configuration: JSONObject {
        get {
            var bytes: [UInt8] = [UInt8(ascii: "{")]
            bytes.reserveCapacity(members.count + 2)
            bytes += members
            bytes.append(UInt8(ascii: "}"))
            // The bytes were written by the canonical writer from a valid object.
            guard let o = try? JSON.parse(bytes).objectValue else { preconditionFailure("stored configuration does not parse") }
            return o
        }
        set { (members, insertAt) = Mapping.encode(newValue) }
    }

    /// The stored form of a configuration: its members merged into none (see `merge`).
    static func encode(_ configuration: JSONObject) -> ([UInt8], (UInt32, UInt32, UInt32, UInt32)) {
        assert(!configuration.keys.contains(where: Mapping.responseKeys.contains), "the response sets those members itself")
        // Merging into no stored members never meets an escaped stored key.
        return merge([], set: configuration, unset: [])!
    }

    /// A top-level string member of the configuration, read from the bytes without parsing them.
    func string(_ key: String) -> String? {
        members.withUnsafeBufferPointer { JSON.topLevelString(key, inMembers: $0) }
    }

    public var functionArn: String { string("FunctionArn") ?? "" }
    public var eventSourceArn: String? { string("EventSourceArn") }

    public typealias IndexKeys = (eventSourceArn: String?, functionArn: String)

    /// `eventSourceArn` and `functionArn`, read in one walk over the bytes (the projection's
    /// indexes are keyed by both: a start-up from a snapshot reads them for every mapping).
    public var indexKeys: IndexKeys {
        var source: String?, function: String?
        members.withUnsafeBufferPointer { b in
            JSON.topLevelStrings(Mapping.indexKeyNames, inMembers: b) { k, value in
                if k == 0 { source = value } else { function = value }
            }
        }
        return (source, function ?? "")
    }
    /// The names `indexKeys` reads, built once: a start-up reads them for every mapping.
    /// (Pointers into the binary's constant strings: never written, so safe to share.)
    nonisolated(unsafe) private static let indexKeyNames: [UnsafeBufferPointer<UInt8>] = [
        UnsafeBufferPointer(start: ("EventSourceArn" as StaticString).utf8Start, count: 14),
        UnsafeBufferPointer(start: ("FunctionArn" as StaticString).utf8Start, count: 11),
    ]
    /// The configuration members `functionArn` and `eventSourceArn` read.
    static let indexedKeys = ["FunctionArn", "EventSourceArn"]
    /// The account that owns the mapping: the one in its EventSourceMappingArn.
    public var account: String {
        guard let arn = string("EventSourceMappingArn") else { return "" }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return parts.count > 4 ? String(parts[4]) : ""
    }

    /// The mapping as GetEventSourceMapping returns it.
    public var response: JSON {
        var o = configuration
        o["UUID"] = .string(uuid)
        o["State"] = .string(state.rawValue)
        o["StateTransitionReason"] = .string(stateTransitionReason)
        o["LastModified"] = .number(lastModified.epochSeconds)
        return .object(o)
    }

    /// The members `response` adds to the configuration, in canonical key order.
    static let responseKeys = ["LastModified", "State", "StateTransitionReason", "UUID"]

    /// Writes `response.canonicalBytes` without building the object: the stored members copied
    /// in runs, with the four the response adds written at their offsets. Lists write a hundred
    /// of these per page.
    public func writeResponse(to out: inout [UInt8]) {
        out.reserveCapacity(out.count + members.count + 160)
        out.append(UInt8(ascii: "{"))
        var wrote = false
        members.withUnsafeBufferPointer { bytes in
            var from = 0
            func copy(_ to: Int) {
                var run = UnsafeBufferPointer(rebasing: bytes[from..<to])
                from = to
                if run.last == UInt8(ascii: ",") { run = UnsafeBufferPointer(rebasing: run.dropLast()) }
                guard !run.isEmpty else { return }
                if wrote { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: run)
                wrote = true
            }
            func write(_ text: StaticString) {
                out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
            }
            // The keys (`responseKeys`) and states as constants of the binary: a shared array's reference count,
            // touched from every thread that writes a response, would be contended.
            func key(_ text: StaticString) {
                if wrote { out.append(UInt8(ascii: ",")) }
                wrote = true
                write(text)
            }
            copy(Int(insertAt.0))
            key(#""LastModified":"#)
            lastModified.writeEpochSeconds(to: &out)
            copy(Int(insertAt.1))
            key(#""State":"#)
            write(state.quoted)
            copy(Int(insertAt.2))
            key(#""StateTransitionReason":"#)
            JSON.writeString(stateTransitionReason, to: &out)
            copy(Int(insertAt.3))
            key(#""UUID":"#)
            JSON.writeString(uuid, to: &out)
            copy(bytes.count)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The state a finished transition leads to, or nil when removal or nothing is owed.
    public var settledState: MappingState { enabled ? .enabled : .disabled }
}
