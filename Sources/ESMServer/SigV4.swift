import Crypto
import ESMCore
import ESMStorage
import Foundation

/// The keys a server started with `--auth sigv4` accepts, read from a file in the layout of the
/// AWS shared credentials file:
///
///     [team-a]
///     aws_access_key_id = AKIAIOSFODNN7EXAMPLE
///     aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
///     aws_account_id = 111122223333      ; optional: the account of this key's mappings
///
/// Lines starting with `#` or `;` are comments. Every section must name both the key id and
/// the secret; a key id may appear once only.
public struct CredentialsFile: Sendable, Equatable {
    public struct Key: Sendable, Equatable {
        public var secret: String
        /// The account this key acts in; nil: the server's `--account`.
        public var account: String?
    }

    public var keys: [String: Key]

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public init(keys: [String: Key]) { self.keys = keys }

    public init(text: String) throws(ParseError) {
        keys = [:]
        var section: (name: String, line: Int, values: [String: String])?
        func finish() throws(ParseError) {
            guard let s = section else { return }
            guard let id = s.values["aws_access_key_id"], !id.isEmpty else {
                throw ParseError(description: "line \(s.line): section [\(s.name)] has no aws_access_key_id")
            }
            guard let secret = s.values["aws_secret_access_key"], !secret.isEmpty else {
                throw ParseError(description: "line \(s.line): section [\(s.name)] has no aws_secret_access_key")
            }
            let account = s.values["aws_account_id"]
            if let account, account.count != 12 || !account.allSatisfy(\.isASCIIDigit) {
                throw ParseError(description: "line \(s.line): aws_account_id must be 12 digits")
            }
            guard keys[id] == nil else { throw ParseError(description: "line \(s.line): key \(id) appears twice") }
            keys[id] = Key(secret: secret, account: account)
        }
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw ParseError(description: "line \(index + 1): unclosed section name") }
                try finish()
                section = (String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces), index + 1, [:])
                continue
            }
            guard section != nil else { throw ParseError(description: "line \(index + 1): setting outside a [section]") }
            guard let eq = line.firstIndex(of: "=") else { throw ParseError(description: "line \(index + 1): expected name = value") }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            section!.values[name] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        try finish()
        guard !keys.isEmpty else { throw ParseError(description: "no keys") }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A request as the signature covers it.
public struct SignedRequest: Sendable {
    public var method: String
    /// The path as sent, still percent-encoded.
    public var path: String
    /// The query as sent, still percent-encoded, without the `?`.
    public var query: String?
    /// Header names (any case) and values; `host` included.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String, query: String?, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Every value of a header, in the order sent.
    func values(_ name: String) -> [String] { headers.filter { $0.name.lowercased() == name }.map(\.value) }

    func header(_ name: String) -> String? {
        let values = values(name)
        return values.isEmpty ? nil : values.joined(separator: ",")
    }
}

/// Who signed a request, once the signature is verified.
public struct VerifiedCaller: Sendable, Equatable {
    public var accessKeyId: String
    public var region: String
    /// The key's account, or nil for the server's default.
    public var account: String?
}

/// AWS Signature Version 4, checked as AWS checks it for the Lambda API: the `Authorization`
/// header's credential scope (date, region, service `lambda`, `aws4_request`), the signed
/// headers (which must include `host`), `x-amz-date` within 15 minutes of the server's clock,
/// the SHA-256 of the body, and the HMAC chain from the key's secret.
public struct SigV4Verifier: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// How far a request's `x-amz-date` may be from the server's clock.
    public static let skewSeconds = 15 * 60

    public let credentials: CredentialsFile
    public let service: String

    public init(credentials: CredentialsFile, service: String = "lambda") {
        self.credentials = credentials
        self.service = service
    }

    public func verify(_ request: SignedRequest, now: Date) throws(AWSError) -> VerifiedCaller {
        guard let authorization = request.header("authorization") else {
            throw SigV4Verifier.error("MissingAuthenticationTokenException", "Missing Authentication Token")
        }
        let amzDate = request.header("x-amz-date") ?? ""
        guard let auth = Authorization(authorization), !amzDate.isEmpty else {
            var missing = ""
            let parsed = Authorization.parameters(authorization)
            for name in ["Credential", "Signature", "SignedHeaders"] where parsed[name] == nil {
                missing += "Authorization header requires '\(name)' parameter. "
            }
            if amzDate.isEmpty { missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " }
            if !authorization.hasPrefix(SigV4Verifier.algorithm + " ") && missing.isEmpty {
                missing = "Unsupported AWS 'algorithm': '\(authorization.prefix { $0 != " " })'. "
            }
            throw SigV4Verifier.error("IncompleteSignatureException", missing + "Authorization=" + authorization)
        }
        let scope = auth.credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5 else {
            throw SigV4Verifier.error(
                "IncompleteSignatureException",
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '\(auth.credential)'")
        }
        let (keyId, day, region, service, terminator) = (scope[0], scope[1], scope[2], scope[3], scope[4])
        guard terminator == "aws4_request" else {
            throw SigV4Verifier.signatureError("Credential should be scoped with a valid terminator: 'aws4_request', not '\(terminator)'. ")
        }
        guard service == self.service else {
            throw SigV4Verifier.signatureError("Credential should be scoped to correct service: '\(self.service)'. ")
        }
        guard CallerIdentity.isRegion(region[...]) else {
            throw SigV4Verifier.signatureError("Credential should be scoped to a valid region. ")
        }
        guard auth.signedHeaders.contains("host") else {
            throw SigV4Verifier.error(
                "IncompleteSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        }
        guard let key = credentials.keys[keyId] else {
            throw SigV4Verifier.error("UnrecognizedClientException", "The security token included in the request is invalid.")
        }
        guard let signedAt = SigV4Verifier.parseAmzDate(amzDate) else {
            throw SigV4Verifier.signatureError(
                "Date must be in ISO-8601 'basic format'. Got '\(amzDate)'. See http://en.wikipedia.org/wiki/ISO_8601")
        }
        guard day == String(amzDate.prefix(8)) else {
            throw SigV4Verifier.signatureError(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '\(day)' != '\(amzDate.prefix(8))', from '\(amzDate)'.")
        }
        let skew = TimeInterval(SigV4Verifier.skewSeconds)
        let nowText = SigV4Verifier.formatAmzDate(now)
        if signedAt < now.addingTimeInterval(-skew) {
            throw SigV4Verifier.signatureError(
                "Signature expired: \(amzDate) is now earlier than \(SigV4Verifier.formatAmzDate(now.addingTimeInterval(-skew))) (\(nowText) - 15 min.)")
        }
        if signedAt > now.addingTimeInterval(skew) {
            throw SigV4Verifier.signatureError(
                "Signature not yet current: \(amzDate) is still later than \(SigV4Verifier.formatAmzDate(now.addingTimeInterval(skew))) (\(nowText) + 15 min.)")
        }
        let expected = signature(request, auth: auth, amzDate: amzDate, scope: scope, secret: key.secret)
        guard constantTimeEqual(expected, auth.signature.lowercased()) else {
            throw SigV4Verifier.signatureError(
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
        }
        return VerifiedCaller(accessKeyId: keyId, region: region, account: key.account)
    }

    /// The hex signature AWS would compute for the request.
    func signature(_ request: SignedRequest, auth: Authorization, amzDate: String, scope: [String], secret: String) -> String {
        let canonical = SigV4Verifier.canonicalRequest(request, signedHeaders: auth.signedHeaders)
        let stringToSign = [
            SigV4Verifier.algorithm, amzDate, scope[1...].joined(separator: "/"), SHA256.hash(data: Array(canonical.utf8)).hexString,
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in scope[1...] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key).hexString
    }

    /// The canonical request: method, canonical URI, canonical query, the signed headers with
    /// their trimmed values, the signed header list, and the hex SHA-256 of the body.
    static func canonicalRequest(_ request: SignedRequest, signedHeaders: [String]) -> String {
        var lines = [request.method, canonicalURI(request.path), canonicalQuery(request.query)]
        for name in signedHeaders {
            lines.append(name + ":" + canonicalHeaderValue(request.values(name)))
        }
        lines.append("")
        lines.append(signedHeaders.joined(separator: ";"))
        lines.append(SHA256.hash(data: request.body).hexString)
        return lines.joined(separator: "\n")
    }

    /// A header's canonical value, as the specification gives it: each value trimmed and every
    /// run of spaces inside it made one space (commas and what follows them are kept as sent:
    /// `a, b` stays `a, b`); the lines of a value folded over several lines, and the values of
    /// a header sent several times, joined by commas in the order sent.
    static func canonicalHeaderValue(_ values: [String]) -> String {
        values.flatMap { $0.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) }
            .map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
            .joined(separator: ",")
    }

    /// The path with `.` and `..` segments and empty segments removed, each byte outside the
    /// unreserved set and `/` percent-encoded once more (so `%` in the sent path becomes `%25`).
    static func canonicalURI(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        var normalized = "/" + segments.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { normalized += "/" }
        return PercentEncoding.encode(normalized, keepSlash: true)
    }

    /// The query's pairs decoded, encoded again the one way AWS does, and sorted.
    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { pair -> (String, String) in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = PercentEncoding.encode(PercentEncoding.decode(kv[0]), keepSlash: false)
            let value = kv.count > 1 ? PercentEncoding.encode(PercentEncoding.decode(kv[1]), keepSlash: false) : ""
            return (key, value)
        }
        return pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { $0.0 + "=" + $0.1 }.joined(separator: "&")
    }

    /// `20261129T084500Z` (UTC, basic ISO 8601), read through the RFC 3339 parser.
    static func parseAmzDate(_ s: String) -> Date? {
        let c = Array(s)
        guard c.count == 16, c[8] == "T", c[15] == "Z", !s.contains("-"), !s.contains(":") else { return nil }
        let text = "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))T\(String(c[9..<11])):\(String(c[11..<13])):\(String(c[13..<15]))Z"
        guard let t = EventTime(rfc3339: text) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(t.milliseconds / 1000))
    }

    static func formatAmzDate(_ date: Date) -> String {
        // 2026-11-29T08:45:00.000Z → 20261129T084500Z
        let text = EventTime(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down))).description
        return text.prefix(19).filter { $0 != "-" && $0 != ":" } + "Z"
    }

    static func error(_ code: String, _ message: String) -> AWSError {
        AWSError(code: code, status: 403, message: message, messageMember: "message", type: nil)
    }

    static func signatureError(_ message: String) -> AWSError { error("InvalidSignatureException", message) }
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header.
struct Authorization {
    var credential: String
    var signedHeaders: [String]
    var signature: String

    init?(_ header: String) {
        guard header.hasPrefix(SigV4Verifier.algorithm + " ") else { return nil }
        let p = Authorization.parameters(header)
        guard let credential = p["Credential"], let signed = p["SignedHeaders"], let signature = p["Signature"] else { return nil }
        self.credential = credential
        self.signedHeaders = signed.split(separator: ";").map { $0.lowercased() }
        self.signature = signature
    }

    static func parameters(_ header: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in header.drop(while: { $0 != " " }).split(separator: ",") {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let eq = item.firstIndex(of: "=") else { continue }
            out[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        return out
    }
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in x.indices { diff |= x[i] ^ y[i] }
    return diff == 0
}
