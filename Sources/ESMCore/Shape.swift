/// The request shapes of the Lambda API model, and the checks AWS applies before its own logic.
///
/// Lambda's front end reports a member of the wrong JSON type as a body it cannot parse, and a
/// value outside the model's constraints (range, length, pattern, enum) as a `ValidationException`
/// listing every violation, e.g. `1 validation error detected: Value '0' at 'batchSize' failed to
/// satisfy constraint: Member must have value greater than or equal to 1`. This file is that front
/// end: a shape tree and a walk over a request body that returns the cleaned body or the error.
public indirect enum Shape: Sendable {
    case integer(min: Int? = nil, max: Int? = nil)
    case boolean
    /// `pattern` is matched against the whole string.
    case string(min: Int? = nil, max: Int? = nil, pattern: Pattern? = nil)
    /// `shown` is the order AWS prints the value set in its message.
    case enumeration(shown: [String])
    /// Epoch seconds as a JSON number (REST-JSON's timestamp format).
    case timestamp
    case list(of: Shape, min: Int? = nil, max: Int? = nil)
    case map(key: Shape, value: Shape, min: Int? = nil, max: Int? = nil)
    case structure([Member])

    /// One member of a structure.
    public struct Member: Sendable {
        public var name: String
        public var shape: Shape
        public init(_ name: String, _ shape: Shape) {
            self.name = name
            self.shape = shape
        }
    }
}

extension Shape {
    /// Whether the shape is a single value (reported inside its list or map's message).
    var isScalar: Bool {
        switch self {
        case .integer, .boolean, .string, .enumeration, .timestamp: true
        case .list, .map, .structure: false
        }
    }
}

/// A whole-string pattern from the model, with the text AWS prints for it.
public struct Pattern: Sendable {
    public var text: String
    let matches: @Sendable (Substring) -> Bool

    public init(_ text: String, _ matches: @escaping @Sendable (Substring) -> Bool) {
        self.text = text
        self.matches = matches
    }
}

/// A request member of the wrong JSON type: the body is refused before any constraint is read.
public struct ShapeTypeMismatch: Error, Sendable {
    public var path: String
    public var expected: String
    public var found: String
}

/// Walks a request body against a shape.
public struct ShapeChecker {
    /// The constraint violations found, in member order, in AWS's wording.
    public private(set) var violations: [String] = []

    public init() {}

    /// Checks `value` and returns it with unknown members removed and nulls dropped.
    /// - Throws: `ShapeTypeMismatch` for a value of the wrong JSON type.
    public mutating func check(_ value: JSON, _ shape: Shape, path: String) throws(ShapeTypeMismatch) -> JSON? {
        if case .null = value { return nil }
        switch shape {
        case .integer(let lo, let hi):
            guard let n = value.intValue else { throw mismatch(path, "integer", value) }
            if let lo, n < lo { violate(path, "\(n)", "Member must have value greater than or equal to \(lo)") }
            if let hi, n > hi { violate(path, "\(n)", "Member must have value less than or equal to \(hi)") }
            return value
        case .boolean:
            guard value.boolValue != nil else { throw mismatch(path, "boolean", value) }
            return value
        case .timestamp:
            guard value.numberValue != nil else { throw mismatch(path, "timestamp", value) }
            return value
        case .string(let lo, let hi, let pattern):
            guard let s = value.stringValue else { throw mismatch(path, "string", value) }
            let count = s.count
            if let lo, count < lo { violate(path, s, "Member must have length greater than or equal to \(lo)") }
            if let hi, count > hi { violate(path, s, "Member must have length less than or equal to \(hi)") }
            if let pattern, !pattern.matches(Substring(s)) {
                violate(path, s, "Member must satisfy regular expression pattern: \(pattern.text)")
            }
            return value
        case .enumeration(let shown):
            guard let s = value.stringValue else { throw mismatch(path, "string", value) }
            if !shown.contains(s) {
                violate(path, s, "Member must satisfy enum value set: [\(shown.joined(separator: ", "))]")
            }
            return value
        case .list(let item, let lo, let hi):
            guard let a = value.arrayValue else { throw mismatch(path, "list", value) }
            var out: [JSON] = []
            out.reserveCapacity(a.count)
            if item.isScalar {
                // AWS reports a bad item of a scalar list once, on the list, with the item's rules
                // nested: "Member must satisfy constraint: [Member must satisfy enum value set: ...]".
                var items = ShapeChecker()
                for (i, v) in a.enumerated() {
                    out.append(try items.check(v, item, path: "\(path).\(i + 1).member") ?? .null)
                }
                if !items.rules.isEmpty {
                    violate(path, ShapeChecker.show(value), "Member must satisfy constraint: [\(items.rules.joined(separator: ", "))]")
                }
            } else {
                for (i, v) in a.enumerated() {
                    // Null list items are kept as null so that the service rules can refuse them.
                    out.append(try check(v, item, path: "\(path).\(i + 1).member") ?? .null)
                }
            }
            if let lo, a.count < lo { violate(path, ShapeChecker.show(value), "Member must have length greater than or equal to \(lo)") }
            if let hi, a.count > hi { violate(path, ShapeChecker.show(value), "Member must have length less than or equal to \(hi)") }
            return .array(out)
        case .map(let keyShape, let valueShape, let lo, let hi):
            guard let o = value.objectValue else { throw mismatch(path, "map", value) }
            var out = JSONObject()
            var keys = ShapeChecker(), values = ShapeChecker()
            for m in o {
                _ = try keys.check(.string(m.key), keyShape, path: "\(path).key")
                out[m.key] = try values.check(m.value, valueShape, path: "\(path).\(m.key).member") ?? .null
            }
            if !keys.rules.isEmpty {
                violate(path, ShapeChecker.show(value), "Map keys must satisfy constraint: [\(keys.rules.joined(separator: ", "))]")
            }
            if !values.rules.isEmpty {
                violate(path, ShapeChecker.show(value), "Map value must satisfy constraint: [\(values.rules.joined(separator: ", "))]")
            }
            if let lo, o.count < lo { violate(path, ShapeChecker.show(value), "Member must have length greater than or equal to \(lo)") }
            if let hi, o.count > hi { violate(path, ShapeChecker.show(value), "Member must have length less than or equal to \(hi)") }
            return .object(out)
        case .structure(let members):
            guard let o = value.objectValue else { throw mismatch(path, "structure", value) }
            var out = JSONObject()
            for member in members {
                guard let v = o[member.name] else { continue }
                let childPath = path.isEmpty ? ShapeChecker.camel(member.name) : "\(path).\(ShapeChecker.camel(member.name))"
                if let cleaned = try check(v, member.shape, path: childPath) { out[member.name] = cleaned }
            }
            return .object(out)
        }
    }

    /// The distinct rules broken, in order: what a nested "[...]" message lists.
    var rules: [String] = []

    mutating func violate(_ path: String, _ shown: String, _ rule: String) {
        violations.append("Value '\(shown)' at '\(path)' failed to satisfy constraint: \(rule)")
        if !rules.contains(rule) { rules.append(rule) }
    }

    /// Adds a violation for a required member that is absent.
    public mutating func violateNull(_ path: String) {
        violations.append("Value null at '\(path)' failed to satisfy constraint: Member must not be null")
    }

    func mismatch(_ path: String, _ expected: String, _ found: JSON) -> ShapeTypeMismatch {
        ShapeTypeMismatch(path: path, expected: expected, found: found.typeName)
    }

    /// AWS's message for the violations: "N validation error(s) detected: a; b".
    public var message: String? {
        guard !violations.isEmpty else { return nil }
        let noun = violations.count == 1 ? "error" : "errors"
        return "\(violations.count) validation \(noun) detected: " + violations.joined(separator: "; ")
    }

    /// The member name as AWS writes it in a path: first letter lower-cased.
    public static func camel(_ name: String) -> String {
        guard let first = name.first else { return name }
        return first.lowercased() + name.dropFirst()
    }

    /// A value as AWS's messages show a list or map (Java's toString form).
    static func show(_ value: JSON) -> String {
        switch value {
        case .string(let s): s
        case .array(let a): "[" + a.map(show).joined(separator: ", ") + "]"
        case .object(let o): "{" + o.map { "\($0.key)=\(show($0.value))" }.joined(separator: ", ") + "}"
        case .number(let n): JSON.format(n)
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        }
    }
}

extension Shape {
    /// Every member path below the shape (`SelfManagedKafkaEventSourceConfig.SchemaRegistryConfig.AccessConfigs[].Type`)
    /// with its enum values (empty for other members): what the model check compares with
    /// the model the SDKs ship.
    public func memberPaths(prefix: String = "") -> [String: [String]] {
        var out: [String: [String]] = [:]
        switch self {
        case .structure(let members):
            for m in members {
                let path = prefix.isEmpty ? m.name : prefix + "." + m.name
                if case .enumeration(let shown) = m.shape { out[path] = shown.sorted() } else { out[path] = [] }
                out.merge(m.shape.memberPaths(prefix: path)) { a, _ in a }
            }
        case .list(let item, _, _):
            if case .enumeration(let shown) = item { out[prefix + "[]"] = shown.sorted() }
            out.merge(item.memberPaths(prefix: prefix + "[]")) { a, _ in a }
        case .map(_, let value, _, _):
            out.merge(value.memberPaths(prefix: prefix + "{}")) { a, _ in a }
        default: break
        }
        return out
    }
}
