/// Hand-written matchers for the two patterns every create checks, the ARN pattern of
/// EventSourceArn and the FunctionName pattern. They accept exactly what the model's regular
/// expressions accept (a test compares them with the expressions on generated input), with
/// digits and letters read as ASCII, as AWS's Java patterns read them; a general regular
/// expression engine costs several microseconds per match.
enum PatternMatchers {
    typealias Bytes = ArraySlice<UInt8>

    static func lower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
    static func letter(_ b: UInt8) -> Bool { lower(b) || (b >= 0x41 && b <= 0x5A) }
    static func digit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func equals(_ s: Bytes, _ text: String) -> Bool { s.elementsEqual(text.utf8) }

    /// `aws[a-zA-Z0-9\-]*` (digits allowed when `digits`).
    static func partition(_ s: Bytes, digits: Bool) -> Bool {
        equals(s.prefix(3), "aws") && s.dropFirst(3).allSatisfy { letter($0) || $0 == 0x2D || (digits && digit($0)) }
    }

    /// `[a-z]{2}M-[a-z]+-\d`, where M is `(-gov)?` or, when `iso`, `((-gov)|(-iso([a-z]?)))?`.
    static func region(_ s: Bytes, iso: Bool) -> Bool {
        let parts = s.split(separator: 0x2D, omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, parts[0].count == 2, parts[0].allSatisfy(lower),
              let last = parts.last, last.count == 1, digit(last.first!),
              !parts[parts.count - 2].isEmpty, parts[parts.count - 2].allSatisfy(lower)
        else { return false }
        guard parts.count == 4 else { return true }
        let middle = parts[1]
        if equals(middle, "gov") { return true }
        return iso && equals(middle.prefix(3), "iso") && middle.count <= 4 && middle.dropFirst(3).allSatisfy(lower)
    }

    /// Whether `s` holds a character that `.` does not match (Swift's newline characters).
    static func hasNewline(_ s: Bytes) -> Bool {
        var i = s.startIndex
        while i < s.endIndex {
            let b = s[i]
            if b >= 0x0A && b <= 0x0D { return true }
            if b == 0xC2, i + 1 < s.endIndex, s[i + 1] == 0x85 { return true }
            if b == 0xE2, i + 2 < s.endIndex, s[i + 1] == 0x80, s[i + 2] == 0xA8 || s[i + 2] == 0xA9 { return true }
            i += 1
        }
        return false
    }

    /// `arn:(aws[a-zA-Z0-9\-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d)?:(\d{12})?:(.*)`
    static func arn(_ text: Substring) -> Bool {
        let s = Bytes(text.utf8)
        let parts = s.split(separator: 0x3A, maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, equals(parts[0], "arn"), partition(parts[1], digits: true),
              !parts[2].isEmpty, parts[2].allSatisfy({ letter($0) || digit($0) || $0 == 0x2D }),
              parts[3].isEmpty || region(parts[3], iso: false),
              parts[4].isEmpty || (parts[4].count == 12 && parts[4].allSatisfy(digit))
        else { return false }
        return !hasNewline(parts[5])
    }

    /// The groups of a FunctionName the model's pattern matched, as the pattern's own
    /// backtracking finds them.
    struct FunctionNameParts: Equatable {
        /// nil when the `arn:...:lambda:` prefix is absent; "" when it is there without a partition.
        var partition: String?
        var region: String?
        var account: String?
        var name: String
        var qualifier: String?
    }

    /// `(arn:(aws[a-zA-Z\-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d:)?(\d{12}:)?(function:)?([a-zA-Z0-9\-_.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9\-_]+))?`
    static func functionName(_ text: Substring) -> Bool { functionNameParts(text) != nil }

    /// Matches the FunctionName pattern and returns its groups.
    ///
    /// Every optional group but the qualifier ends with `:`, and no group has a `:` inside
    /// another place, so the text splits at `:` into whole groups. A regular expression engine
    /// tries each optional group present before absent, leftmost first, and takes the first
    /// combination that matches the whole text; the combinations are tried here in that same
    /// order, so an ambiguous text (`function`, `fn:function`) gets the groups AWS's pattern gives it.
    static func functionNameParts(_ text: Substring) -> FunctionNameParts? {
        let parts = Bytes(text.utf8).split(separator: 0x3A, omittingEmptySubsequences: false)
        func name(_ s: Bytes) -> Bool { !s.isEmpty && s.allSatisfy { letter($0) || digit($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E } }
        func qualifier(_ s: Bytes) -> Bool {
            equals(s, "$LATEST") || equals(s, "$LATEST.PUBLISHED")
                || (!s.isEmpty && s.allSatisfy { letter($0) || digit($0) || $0 == 0x2D || $0 == 0x5F })
        }
        func sub(_ s: Bytes) -> String { String(decoding: s, as: UTF8.self) }
        for combination in (0..<32).reversed() {
            let (prefix, hasRegion, account, function, qualified) =
                (combination & 16 != 0, combination & 8 != 0, combination & 4 != 0, combination & 2 != 0, combination & 1 != 0)
            let count = (prefix ? 3 : 0) + (hasRegion ? 1 : 0) + (account ? 1 : 0) + (function ? 1 : 0) + 1 + (qualified ? 1 : 0)
            guard count == parts.count else { continue }
            var found = FunctionNameParts(name: "")
            var i = 0
            if prefix {
                guard equals(parts[0], "arn"), parts[1].isEmpty || partition(parts[1], digits: false),
                      equals(parts[2], "lambda") else { continue }
                found.partition = sub(parts[1])
                i = 3
            }
            if hasRegion {
                guard region(parts[i], iso: true) else { continue }
                found.region = sub(parts[i])
                i += 1
            }
            if account {
                guard parts[i].count == 12, parts[i].allSatisfy(digit) else { continue }
                found.account = sub(parts[i])
                i += 1
            }
            if function {
                guard equals(parts[i], "function") else { continue }
                i += 1
            }
            guard name(parts[i]) else { continue }
            found.name = sub(parts[i])
            if qualified {
                guard qualifier(parts[i + 1]) else { continue }
                found.qualifier = sub(parts[i + 1])
            }
            return found
        }
        return nil
    }
}
