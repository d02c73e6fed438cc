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
        guard var header = authorization, header.hasPrefix("AWS4-HMAC-SHA256") else { return }
        // Every request carries this header: read it as bytes, with no copy and no generic search.
        let scope: (key: String, region: String)? = header.withUTF8 { bytes in
            let name = CallerIdentity.credentialName
            guard bytes.count >= name.count else { return nil }
            var start = -1
            for i in 0...(bytes.count - name.count) where bytes[i] == name[0] {
                if UnsafeBufferPointer(rebasing: bytes[i..<(i + name.count)]).elementsEqual(name) {
                    start = i + name.count
                    break
                }
            }
            guard start >= 0 else { return nil }
            // KEY/DATE/REGION/SERVICE/aws4_request: the slashes before the comma that ends it.
            var slashes: [Int] = []
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ",") {
                if bytes[end] == UInt8(ascii: "/") { slashes.append(end) }
                end += 1
            }
            guard slashes.count >= 4 else { return nil }
            func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
            return (text(start..<slashes[0]), text((slashes[1] + 1)..<slashes[2]))
        }
        guard let scope else { return }
        accessKeyId = scope.key
        if CallerIdentity.isRegion(scope.region[...]) { region = scope.region }
    }

    static let credentialName = Array("Credential=".utf8)

    /// A region name as ARNs accept it: `us-east-1`, `us-gov-west-1`: two lower-case letters,
    /// then one or two lower-case or digit parts, then a number, joined by `-`.
    static func isRegion(_ s: Substring) -> Bool {
        var parts = 0, length = 0, firstLength = 0, digitsOnly = true
        for b in s.utf8 {
            if b == UInt8(ascii: "-") {
                guard length > 0 else { return false }
                parts += 1
                if parts == 1 { firstLength = length }
                length = 0
                digitsOnly = true
                continue
            }
            let digit = b >= 0x30 && b <= 0x39
            guard digit || (b >= 0x61 && b <= 0x7A) else { return false }
            if !digit { digitsOnly = false }
            length += 1
        }
        guard length > 0 else { return false }
        parts += 1
        if parts == 1 { firstLength = length }
        return parts >= 3 && parts <= 4 && digitsOnly && firstLength == 2
    }
}
