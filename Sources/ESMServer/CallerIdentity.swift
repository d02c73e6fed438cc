/// What the `Authorization` header says about the caller, read without checking the signature.
///
/// `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/lambda/aws4_request, ...`
/// gives the access key id and the region of the credential scope.
public struct CallerIdentity: Sendable, Equatable {
    public static let regionDefault = "us-east-1"

    public var accessKeyId: String
    public var region: String

    public init(accessKeyId: String, region: String) {
        self.accessKeyId = accessKeyId
        self.region = region
    }

    public init(authorization: String?) {
        accessKeyId = ""
        region = CallerIdentity.regionDefault
        guard let header = authorization, header.hasPrefix("AWS4-HMAC-SHA256") else { return }
        // Every request carries this header: read it as bytes, not as Characters.
        let bytes = Array(header.utf8)
        guard let start = bytes.firstRange(of: Array("Credential=".utf8))?.upperBound else { return }
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
        let scope = bytes[start..<end].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard scope.count >= 5 else { return }
        accessKeyId = String(decoding: scope[0], as: UTF8.self)
        let candidate = String(decoding: scope[2], as: UTF8.self)
        if CallerIdentity.isRegion(candidate[...]) { region = candidate }
    }

    /// A region name as ARNs accept it: `us-east-1`, `us-gov-west-1`: two lower-case letters,
    /// then one or two lower-case or digit parts, then a number, joined by `-`.
    static func isRegion(_ s: Substring) -> Bool {
        let parts = s.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        func lowerOrDigit(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        return parts.count >= 3 && parts.count <= 4 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(lowerOrDigit) }
            && parts.last!.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && parts.first!.count == 2
    }
}
